#include "agent/source/poller.h"

namespace keelson::source {

Poller::Poller(Listener listener, Clock& clock, std::uint64_t seed)
    : listener_(std::move(listener)), clock_(clock), rng_(seed) {}

Poller::~Poller() { Stop(); }

Status Poller::Add(std::shared_ptr<Mirror> mirror, std::chrono::milliseconds interval, double jitter) {
  const std::string& name = mirror->spec().name;
  Location where{name, 0, 0, "interval"};
  if (started_) return MakeError(ErrorCode::kInternal, "sources must be added before the poller starts", where);
  if (interval < std::chrono::seconds(1)) {
    return MakeError(ErrorCode::kInvalidInput, "poll interval must be at least 1s", where);
  }
  if (!(jitter >= 0 && jitter <= 0.5)) {
    where.field = "jitter";
    return MakeError(ErrorCode::kInvalidInput, "jitter must be between 0 and 0.5", where);
  }
  if (workers_.count(name) != 0) {
    where.field = "name";
    return MakeError(ErrorCode::kInvalidInput, "source " + name + " is listed twice", where);
  }
  auto worker = std::make_unique<Worker>();
  worker->mirror = std::move(mirror);
  worker->interval = interval;
  worker->jitter = jitter;
  workers_[name] = std::move(worker);
  return Status::Ok();
}

std::chrono::milliseconds Poller::NextWait(std::chrono::milliseconds interval, double jitter) {
  std::lock_guard<std::mutex> lock(rng_mu_);
  std::uniform_real_distribution<double> spread(-jitter, jitter);
  double factor = 1.0 + spread(rng_);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(interval.count()) * factor));
}

void Poller::Start() {
  if (started_) return;
  started_ = true;
  for (auto& [name, worker] : workers_) {
    Worker* w = worker.get();
    w->thread = std::thread([this, w] { Run(*w); });
  }
}

void Poller::Stop() {
  stop_.Stop();
  for (auto& [name, worker] : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

bool Poller::Trigger(const std::string& source) {
  auto it = workers_.find(source);
  if (it == workers_.end() || stop_.stopped()) return false;
  it->second->triggers++;
  it->second->triggered = true;
  stop_.Notify();
  return true;
}

Poller::Stats Poller::stats(const std::string& source) const {
  Stats s;
  auto it = workers_.find(source);
  if (it == workers_.end()) return s;
  s.syncs = it->second->syncs;
  s.failures = it->second->failures;
  s.triggers = it->second->triggers;
  return s;
}

void Poller::Run(Worker& worker) {
  auto next = clock_.Now();  // the first sync runs straight away
  while (!stop_.stopped()) {
    // Read the generation before the trigger flag, so that a trigger that
    // lands between the two still wakes the wait below.
    unsigned long seen = stop_.generation();
    if (!worker.triggered.exchange(false) && clock_.Now() < next) {
      clock_.SleepUntil(next, stop_, seen);
      continue;
    }
    Result<SyncResult> result = worker.mirror->Sync(&stop_);
    if (stop_.stopped()) break;
    worker.syncs++;
    if (!result.ok()) worker.failures++;
    if (listener_) listener_(worker.mirror->spec().name, result);
    next = clock_.Now() + NextWait(worker.interval, worker.jitter);
  }
}

}  // namespace keelson::source
