#include "agent/audit/audit_pusher.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "agent/audit/audit_repository.h"

namespace keelson::audit {

struct AuditPusher::Shared {
  AuditPusherOptions options;
  mutable std::mutex mu;
  std::condition_variable cv;
  bool wanted = true;  // a push is needed (at start: the remote's state is unknown)
  bool stopping = false;
  bool busy = false;
  bool thread_done = false;
  bool up_to_date = false;
  Status last = Status::Ok();
  int failures = 0;
  std::chrono::steady_clock::time_point next_try{};
  std::chrono::milliseconds backoff{0};

  void Run() {
    std::optional<AuditRepository> repo;
    std::optional<std::string> pushed_tip;
    std::unique_lock lock(mu);
    while (true) {
      auto due = [&] { return wanted && std::chrono::steady_clock::now() >= next_try; };
      if (wanted) {
        cv.wait_until(lock, next_try, [&] { return stopping || due(); });
      } else {
        cv.wait(lock, [&] { return stopping || wanted; });
      }
      if (stopping) {
        if (!wanted) break;                                                 // everything is out
        if (failures > 0 && std::chrono::steady_clock::now() < next_try) break;  // down: no last hammering
      } else if (!due()) {
        continue;
      }
      wanted = false;
      busy = true;
      lock.unlock();
      Status s = Status::Ok();
      std::optional<std::string> tip;
      if (!repo) {
        Result<AuditRepository> opened = AuditRepository::Open(options.repository);
        if (opened.ok()) {
          repo.emplace(std::move(opened).value());
          repo->set_remote_access(options.remote_access);
        } else {
          s = opened.error();
        }
      }
      if (repo) {
        Result<std::optional<std::string>> t = repo->BranchTip(options.branch);
        if (!t.ok()) {
          s = t.error();
        } else {
          tip = *t;
          if (tip && tip != pushed_tip) s = repo->Push(options.remote_url, options.branch);
        }
      }
      lock.lock();
      busy = false;
      last = s;
      if (s.ok()) {
        if (tip) pushed_tip = tip;
        up_to_date = true;
        failures = 0;
        backoff = std::chrono::milliseconds(0);
      } else {
        wanted = true;
        up_to_date = false;
        ++failures;
        backoff = backoff.count() == 0 ? options.initial_backoff : std::min(backoff * 2, options.max_backoff);
        next_try = std::chrono::steady_clock::now() + backoff;
        if (s.error().code == ErrorCode::kCheckFailed) {
          spdlog::error("audit push: {}", s.error().ToString());
        } else {
          spdlog::warn("audit push: {} (records wait locally; next try in {} ms)", s.error().ToString(),
                       backoff.count());
        }
      }
      cv.notify_all();
    }
    thread_done = true;
    cv.notify_all();
  }
};

AuditPusher::AuditPusher(AuditPusherOptions options) : shared_(std::make_shared<Shared>()) {
  shared_->options = std::move(options);
  std::thread([shared = shared_] { shared->Run(); }).detach();
}

AuditPusher::~AuditPusher() { Stop(std::chrono::milliseconds(0)); }

void AuditPusher::Notify() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->wanted = true;
    shared_->up_to_date = false;
  }
  shared_->cv.notify_all();
}

bool AuditPusher::Stop(std::chrono::milliseconds grace) {
  std::unique_lock lock(shared_->mu);
  if (!shared_->stopping) {
    shared_->stopping = true;
    // One last attempt right away, even within a backoff, when the remote
    // last answered: a clean shutdown should leave nothing behind.
    if (shared_->wanted && shared_->failures == 0) shared_->next_try = std::chrono::steady_clock::now();
  }
  shared_->cv.notify_all();
  bool ended = shared_->cv.wait_for(lock, grace, [&] { return shared_->thread_done; });
  if (!ended && shared_->busy) {
    spdlog::warn("audit push to {} did not finish within {} ms; abandoned (the records stay in the local trail "
                 "and go out with the next start)",
                 shared_->options.remote_url, grace.count());
  }
  return shared_->up_to_date && !shared_->wanted;
}

Status AuditPusher::last_status() const {
  std::lock_guard lock(shared_->mu);
  return shared_->last;
}

int AuditPusher::consecutive_failures() const {
  std::lock_guard lock(shared_->mu);
  return shared_->failures;
}

bool AuditPusher::up_to_date() const {
  std::lock_guard lock(shared_->mu);
  return shared_->up_to_date && !shared_->wanted;
}

}  // namespace keelson::audit
