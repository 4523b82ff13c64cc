// A FakeClusterClient whose status reads behave like a cluster with
// controllers: workloads report themselves rolled out once polled
// `ready_after_polls` times, except those whose image contains "broken",
// which report ProgressDeadlineExceeded.
#pragma once

#include <map>
#include <string>

#include "agent/cluster/fake_client.h"

namespace keelson::reconcile::testing {

class SimulatedCluster final : public cluster::ClusterClient {
 public:
  int ready_after_polls = 1;
  cluster::FakeClusterClient fake;  // the store and call log underneath

  Result<cluster::ResourceMapping> Mapping(const cluster::GroupVersionKind& gvk) override { return fake.Mapping(gvk); }
  Result<manifest::Node> Apply(const manifest::Node& object, const cluster::ApplyOptions& options) override {
    return fake.Apply(object, options);
  }
  Result<manifest::Node> Get(const manifest::ResourceId& id) override { return fake.Get(id); }
  Result<cluster::ListResult> List(const cluster::GroupVersionKind& gvk, const cluster::ListOptions& options) override {
    return fake.List(gvk, options);
  }
  Status Watch(const cluster::GroupVersionKind& gvk, const cluster::WatchOptions& options,
               const cluster::WatchHandler& handler) override {
    return fake.Watch(gvk, options, handler);
  }
  Result<bool> Delete(const manifest::ResourceId& id, cluster::DeletePropagation propagation) override {
    return fake.Delete(id, propagation);
  }

  Result<manifest::Node> GetStatus(const manifest::ResourceId& id) override {
    Result<manifest::Node> r = fake.GetStatus(id);
    if (!r.ok() || (id.kind != "Deployment" && id.kind != "StatefulSet")) return r;
    manifest::Node& obj = *r;
    int polls = ++polls_[id.ToString()];
    std::int64_t want = 1;
    if (const manifest::Node* rep = obj.FindPath({"spec", "replicas"}); rep && rep->IsInt()) want = rep->AsInt();
    std::int64_t gen = 1;
    if (const manifest::Node* g = obj.FindPath({"metadata", "generation"}); g && g->IsInt()) gen = g->AsInt();
    manifest::Node status = manifest::Node::Mapping();
    status.Set("observedGeneration", manifest::Node::Int(gen));
    bool broken = false;
    if (const manifest::Node* cs = obj.FindPath({"spec", "template", "spec", "containers"}); cs && cs->IsSequence()) {
      for (const manifest::Node& c : cs->items()) broken = broken || c.GetString("image").find("broken") != std::string::npos;
    }
    bool ready = !broken && polls >= ready_after_polls;
    std::int64_t n = ready ? want : 0;
    for (const char* f : {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "currentReplicas"}) {
      status.Set(f, manifest::Node::Int(n));
    }
    if (broken) {
      manifest::Node cond = manifest::Node::Mapping();
      cond.Set("type", manifest::Node::String("Progressing"));
      cond.Set("status", manifest::Node::String("False"));
      cond.Set("reason", manifest::Node::String("ProgressDeadlineExceeded"));
      status["conditions"] = manifest::Node::Sequence();
      status["conditions"].Append(std::move(cond));
    }
    obj.Set("status", std::move(status));
    return r;
  }

 private:
  std::map<std::string, int> polls_;
};

}  // namespace keelson::reconcile::testing
