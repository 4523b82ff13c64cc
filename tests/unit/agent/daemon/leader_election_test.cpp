#include "agent/daemon/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "agent/cluster/kube_client.h"
#include "sandbox/api.h"
#include "sandbox/server.h"

namespace keelson::daemon {
namespace {

using namespace std::chrono_literals;

// An in-process sandbox API server on its own thread.
class Sandbox {
 public:
  Sandbox() : api_(sandbox::SandboxOptions{}), server_(io_, api_, sandbox::ServerOptions{}) {
    EXPECT_TRUE(api_.Open("").ok());
    EXPECT_TRUE(server_.Start().ok());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Sandbox() {
    server_.Stop();
    io_.stop();
    thread_.join();
  }
  std::unique_ptr<cluster::KubeClient> Client() {
    cluster::ConnectionConfig c;
    c.server = "http://" + server_.address();
    c.source = "test";
    Result<std::unique_ptr<cluster::KubeClient>> client = cluster::KubeClient::Connect(c, {});
    EXPECT_TRUE(client.ok()) << client.error().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

 private:
  boost::asio::io_context io_;
  sandbox::SandboxApi api_;
  sandbox::SandboxServer server_;
  std::thread thread_;
};

// Serves a lease read earlier instead of the live one: a candidate that read
// just before another one wrote.
class StaleReadClient final : public cluster::ClusterClient {
 public:
  explicit StaleReadClient(cluster::ClusterClient& inner) : inner_(inner) {}
  void Freeze(manifest::Node lease) { frozen_ = std::move(lease); }
  Result<cluster::ResourceMapping> Mapping(const cluster::GroupVersionKind& gvk) override { return inner_.Mapping(gvk); }
  Result<manifest::Node> Apply(const manifest::Node& o, const cluster::ApplyOptions& a) override {
    return inner_.Apply(o, a);
  }
  Result<manifest::Node> Get(const manifest::ResourceId& id) override {
    if (frozen_) return *frozen_;
    return inner_.Get(id);
  }
  Result<manifest::Node> GetStatus(const manifest::ResourceId& id) override { return inner_.GetStatus(id); }
  Result<cluster::ListResult> List(const cluster::GroupVersionKind& g, const cluster::ListOptions& o) override {
    return inner_.List(g, o);
  }
  Status Watch(const cluster::GroupVersionKind& g, const cluster::WatchOptions& o,
               const cluster::WatchHandler& h) override {
    return inner_.Watch(g, o, h);
  }
  Result<bool> Delete(const manifest::ResourceId& id, cluster::DeletePropagation p) override {
    return inner_.Delete(id, p);
  }

 private:
  cluster::ClusterClient& inner_;
  std::optional<manifest::Node> frozen_;
};

LeaderElectionOptions Options(const std::string& identity, std::chrono::milliseconds lease = 15s) {
  LeaderElectionOptions o;
  o.identity = identity;
  o.lease_name = "keelson";
  o.lease_namespace = "default";
  o.lease_duration = lease;
  o.renew_deadline = lease * 2 / 3;
  o.retry_period = 50ms;
  return o;
}

bool Won(const Result<bool>& r) { return r.ok() && *r; }
// Not the holder, without an error (lost a race or someone else's lease).
bool Lost(const Result<bool>& r) { return r.ok() && !*r; }

std::string Holder(cluster::ClusterClient& c) {
  Result<manifest::Node> lease = c.Get({"coordination.k8s.io", "v1", "Lease", "default", "keelson"});
  if (!lease.ok()) return "";
  return lease->Find("spec")->GetString("holderIdentity");
}

TEST(LeaderElectionTest, DefaultsAreClientGos) {
  LeaderElectionOptions o;
  EXPECT_EQ(o.lease_duration, 15s);
  EXPECT_EQ(o.renew_deadline, 10s);
  EXPECT_EQ(o.retry_period, 2s);
}

TEST(LeaderElectionTest, OneHolderUntilTheLeaseExpires) {
  Sandbox sandbox;
  auto ca = sandbox.Client();
  auto cb = sandbox.Client();
  ASSERT_TRUE(ca && cb);
  LeaderElector a(*ca, Options("a", 600ms));
  LeaderElector b(*cb, Options("b", 600ms));
  ASSERT_TRUE(Won(a.TryAcquireOrRenew()));
  EXPECT_EQ(Holder(*ca), "a");
  EXPECT_TRUE(Lost(b.TryAcquireOrRenew()));
  EXPECT_TRUE(Won(a.TryAcquireOrRenew()));  // renewal
  EXPECT_TRUE(Lost(b.TryAcquireOrRenew()));
  // `a` stops renewing: `b` waits a whole lease duration from when it last
  // saw the record change, then takes over.
  auto seen = std::chrono::steady_clock::now();
  bool taken = false;
  while (!taken && std::chrono::steady_clock::now() < seen + 5s) {
    taken = Won(b.TryAcquireOrRenew());
    if (!taken) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(taken);
  EXPECT_GE(std::chrono::steady_clock::now() - seen, 600ms);
  EXPECT_EQ(Holder(*cb), "b");
  Result<manifest::Node> lease = cb->Get({"coordination.k8s.io", "v1", "Lease", "default", "keelson"});
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->Find("spec")->Find("leaseTransitions")->AsInt(), 1);
  EXPECT_TRUE(Lost(a.TryAcquireOrRenew()));
  EXPECT_FALSE(a.IsLeader());
}

TEST(LeaderElectionTest, StaleResourceVersionLosesTheRace) {
  Sandbox sandbox;
  auto ca = sandbox.Client();
  auto cb = sandbox.Client();
  ASSERT_TRUE(ca && cb);
  LeaderElector a(*ca, Options("a"));
  ASSERT_TRUE(Won(a.TryAcquireOrRenew()));
  // `b` read the lease, then `a` renewed; `b` believes it expired (a lease
  // duration of zero) and tries to take it with the old resourceVersion.
  StaleReadClient stale(*cb);
  Result<manifest::Node> before = cb->Get({"coordination.k8s.io", "v1", "Lease", "default", "keelson"});
  ASSERT_TRUE(before.ok());
  stale.Freeze(*before);
  std::this_thread::sleep_for(2ms);  // renewTime has microseconds: the renewal changes the object
  ASSERT_TRUE(Won(a.TryAcquireOrRenew()));
  LeaderElector b(stale, Options("b", 0ms));
  EXPECT_TRUE(Lost(b.TryAcquireOrRenew()));
  EXPECT_EQ(Holder(*ca), "a");
}

TEST(LeaderElectionTest, SecondCreatorConflicts) {
  Sandbox sandbox;
  auto ca = sandbox.Client();
  auto cb = sandbox.Client();
  ASSERT_TRUE(ca && cb);
  // Both saw no lease; `a` creates it first.
  LeaderElector a(*ca, Options("a"));
  ASSERT_TRUE(Won(a.TryAcquireOrRenew()));
  class NotFoundClient final : public cluster::ClusterClient {
   public:
    explicit NotFoundClient(cluster::ClusterClient& inner) : inner_(inner) {}
    Result<cluster::ResourceMapping> Mapping(const cluster::GroupVersionKind& g) override { return inner_.Mapping(g); }
    Result<manifest::Node> Apply(const manifest::Node& o, const cluster::ApplyOptions& a) override {
      return inner_.Apply(o, a);
    }
    Result<manifest::Node> Get(const manifest::ResourceId&) override {
      return MakeError(ErrorCode::kNotFound, "leases \"keelson\" not found");
    }
    Result<manifest::Node> GetStatus(const manifest::ResourceId& id) override { return inner_.GetStatus(id); }
    Result<cluster::ListResult> List(const cluster::GroupVersionKind& g, const cluster::ListOptions& o) override {
      return inner_.List(g, o);
    }
    Status Watch(const cluster::GroupVersionKind& g, const cluster::WatchOptions& o,
                 const cluster::WatchHandler& h) override {
      return inner_.Watch(g, o, h);
    }
    Result<bool> Delete(const manifest::ResourceId& id, cluster::DeletePropagation p) override {
      return inner_.Delete(id, p);
    }

   private:
    cluster::ClusterClient& inner_;
  };
  NotFoundClient blind(*cb);
  LeaderElector b(blind, Options("b"));
  EXPECT_TRUE(Lost(b.TryAcquireOrRenew()));
  EXPECT_EQ(Holder(*ca), "a");
}

TEST(LeaderElectionTest, RenewalNoticesTheLossAndCallsBack) {
  Sandbox sandbox;
  auto ca = sandbox.Client();
  auto cb = sandbox.Client();
  ASSERT_TRUE(ca && cb);
  LeaderElector a(*ca, Options("a", 15s));
  ASSERT_TRUE(a.Acquire([] { return false; }));
  std::atomic<bool> lost{false};
  a.StartRenewing([&] { lost = true; });
  // A candidate that thinks every lease has expired takes it over (as after
  // a partition); `a`'s next renewal sees another holder.
  LeaderElector b(*cb, Options("b", 0ms));
  bool taken = false;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!taken && std::chrono::steady_clock::now() < deadline) taken = Won(b.TryAcquireOrRenew());
  ASSERT_TRUE(taken);
  while (!lost && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(lost);
  EXPECT_FALSE(a.IsLeader());
}

}  // namespace
}  // namespace keelson::daemon
