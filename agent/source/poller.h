// Keeps every source's mirror fresh: one named, interruptible service that
// syncs each source on its own interval (with jitter, so that many agents
// do not hit a forge at the same moment) and at once when triggered (by a
// webhook).
//
// Each source has its own worker thread, so a slow remote delays only its
// own source. Triggers that arrive while a sync runs are coalesced into one
// more sync. Stop() cancels running fetches (see Mirror::Sync) and backoff
// waits and joins the workers; it returns within tens of milliseconds even
// when a remote hangs. Thread safety: Trigger, stats and Stop may be called
// from any thread; Add only before Start.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/source/clock.h"
#include "agent/source/mirror.h"

namespace keelson::source {

class Poller {
 public:
  // Called on the source's worker thread after every sync.
  using Listener = std::function<void(const std::string& source, const Result<SyncResult>& result)>;

  Poller(Listener listener, Clock& clock = SteadyClock::Instance(), std::uint64_t seed = std::random_device{}());
  ~Poller();  // Stop()s
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // `interval` between syncs; each wait is interval * (1 + u), u uniform in
  // [-jitter, +jitter], jitter in [0, 0.5]. The first sync runs at Start.
  Status Add(std::shared_ptr<Mirror> mirror, std::chrono::milliseconds interval, double jitter = 0.1);

  void Start();
  void Stop();

  // Asks for an immediate sync of `source`; false when there is no such
  // source (or the poller is stopped).
  bool Trigger(const std::string& source);

  struct Stats {
    std::uint64_t syncs = 0;
    std::uint64_t failures = 0;
    std::uint64_t triggers = 0;
  };
  Stats stats(const std::string& source) const;

  // The wait before the next sync: exposed for tests of the jitter bounds.
  std::chrono::milliseconds NextWait(std::chrono::milliseconds interval, double jitter);

 private:
  struct Worker {
    std::shared_ptr<Mirror> mirror;
    std::chrono::milliseconds interval{};
    double jitter = 0;
    std::atomic<bool> triggered{false};
    std::atomic<std::uint64_t> syncs{0}, failures{0}, triggers{0};
    std::thread thread;
  };
  void Run(Worker& worker);

  Listener listener_;
  Clock& clock_;
  StopSignal stop_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;
  bool started_ = false;
};

}  // namespace keelson::source
