#include "agent/daemon/leader_election.h"

#include <unistd.h>

#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "renderers/manifest/json.h"

namespace keelson::daemon {

namespace {

// metav1.MicroTime: RFC 3339 with microseconds, UTC.
std::string MicroTimeNow() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1'000'000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

std::string Text(const manifest::Node* n) { return n != nullptr && n->IsScalar() ? n->ScalarText() : ""; }

}  // namespace

std::string DefaultLeaderIdentity() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "_" + std::to_string(getpid());
}

LeaderElector::LeaderElector(cluster::ClusterClient& client, LeaderElectionOptions options)
    : client_(client), options_(std::move(options)) {
  if (options_.identity.empty()) options_.identity = DefaultLeaderIdentity();
}

LeaderElector::~LeaderElector() { StopRenewing(); }

Result<bool> LeaderElector::TryAcquireOrRenew() {
  manifest::ResourceId id{"coordination.k8s.io", "v1", "Lease", options_.lease_namespace, options_.lease_name};
  Result<manifest::Node> live = client_.Get(id);
  auto now = std::chrono::steady_clock::now();
  std::string resource_version, holder, acquire_time;
  std::int64_t transitions = 0;
  if (!live.ok()) {
    if (live.error().code != ErrorCode::kNotFound) return std::move(live).error();
  } else {
    const manifest::Node* metadata = live->Find("metadata");
    const manifest::Node* spec = live->Find("spec");
    resource_version = Text(metadata ? metadata->Find("resourceVersion") : nullptr);
    holder = Text(spec ? spec->Find("holderIdentity") : nullptr);
    acquire_time = Text(spec ? spec->Find("acquireTime") : nullptr);
    std::string renew_time = Text(spec ? spec->Find("renewTime") : nullptr);
    const manifest::Node* t = spec ? spec->Find("leaseTransitions") : nullptr;
    if (t != nullptr && t->IsInt()) transitions = t->AsInt();
    std::string record = holder + "\n" + renew_time;
    if (record != observed_record_) {
      observed_record_ = record;
      observed_at_ = now;
    }
    // Someone else holds a lease that is still fresh by our own clock.
    if (!holder.empty() && holder != options_.identity && now < observed_at_ + options_.lease_duration) {
      leader_ = false;
      return false;
    }
  }
  std::string now_text = MicroTimeNow();
  nlohmann::json metadata = {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}};
  if (!resource_version.empty()) metadata["resourceVersion"] = resource_version;
  bool taking_over = holder != options_.identity;
  nlohmann::json lease = {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", metadata},
      {"spec",
       {{"holderIdentity", options_.identity},
        {"leaseDurationSeconds",
         std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count()},
        {"acquireTime", taking_over || acquire_time.empty() ? now_text : acquire_time},
        {"renewTime", now_text},
        {"leaseTransitions", taking_over && !holder.empty() ? transitions + 1 : transitions}}}};
  Result<manifest::Node> object = manifest::ParseJson(lease.dump(), "lease");
  if (!object.ok()) return std::move(object).error();
  cluster::ApplyOptions apply;
  // Creating, there is no version to give as a precondition: a field manager
  // per candidate and no force make a second creator's write conflict.
  // Afterwards the resourceVersion precondition decides races and force only
  // moves field ownership to the new holder.
  apply.field_manager = ("keelson-leader/" + options_.identity).substr(0, 128);
  apply.force = !resource_version.empty();
  Result<manifest::Node> applied = client_.Apply(*object, apply);
  if (!applied.ok()) {
    // 409: another candidate wrote first.
    if (applied.error().code == ErrorCode::kCheckFailed) {
      leader_ = false;
      return false;
    }
    return std::move(applied).error();
  }
  observed_record_ = options_.identity + "\n" + now_text;
  observed_at_ = now;
  if (!leader_) spdlog::info("leader election: {} holds lease {}/{}", options_.identity, options_.lease_namespace,
                             options_.lease_name);
  leader_ = true;
  return true;
}

bool LeaderElector::Acquire(const std::function<bool()>& stop) {
  while (!stop()) {
    Result<bool> won = TryAcquireOrRenew();
    if (won.ok() && *won) return true;
    if (!won.ok()) spdlog::warn("leader election: {}", won.error().ToString());
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.retry_period, [this] { return stopping_; });
    if (stopping_) return false;
  }
  return false;
}

void LeaderElector::StartRenewing(std::function<void()> on_lost) {
  on_lost_ = std::move(on_lost);
  renewer_ = std::thread([this] { RenewLoop(); });
}

void LeaderElector::StopRenewing() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

void LeaderElector::RenewLoop() {
  auto last_renewed = std::chrono::steady_clock::now();
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, options_.retry_period, [this] { return stopping_; })) return;
    }
    Result<bool> renewed = TryAcquireOrRenew();
    if (renewed.ok() && *renewed) {
      last_renewed = std::chrono::steady_clock::now();
      continue;
    }
    bool lost = renewed.ok() || std::chrono::steady_clock::now() - last_renewed >= options_.renew_deadline;
    if (!renewed.ok()) spdlog::warn("leader election: renewing failed: {}", renewed.error().ToString());
    if (lost) {
      leader_ = false;
      spdlog::error("leader election: {} lost lease {}/{}", options_.identity, options_.lease_namespace,
                    options_.lease_name);
      if (on_lost_) on_lost_();
      return;
    }
  }
}

}  // namespace keelson::daemon
