// Benchmark driver for bench/cluster/run: applies a multi-document manifest
// through the cluster client (server-side apply), then diffs every object
// against the live state (dry-run apply vs get), and prints the figures.
//
// Usage: cluster_bench --kubeconfig FILE --objects FILE [--parallel N] [--qps Q]
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/cluster/kube_client.h"
#include "renderers/manifest/json.h"
#include "renderers/manifest/object.h"

namespace {

using keelson::manifest::Node;

// What a diff compares: the object without the fields the server rewrites
// on every write.
Node Comparable(Node object) {
  if (Node* meta = object.Find("metadata"); meta != nullptr && meta->IsMapping()) {
    meta->Erase("managedFields");
    meta->Erase("resourceVersion");
  }
  object.Erase("status");
  return object;
}

template <typename Work>
double RunParallel(std::size_t count, int parallel, Work work) {
  std::atomic<std::size_t> next{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < count;) work(i);
    });
  }
  for (std::thread& t : threads) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig;
  std::string objects_file;
  int parallel = 4;
  double qps = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--kubeconfig") kubeconfig = argv[i + 1];
    else if (flag == "--objects") objects_file = argv[i + 1];
    else if (flag == "--parallel") parallel = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--qps") qps = std::atof(argv[i + 1]);
    else {
      std::cerr << "cluster_bench: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (kubeconfig.empty() || objects_file.empty()) {
    std::cerr << "usage: cluster_bench --kubeconfig FILE --objects FILE [--parallel N] [--qps Q]\n";
    return 2;
  }
  std::ifstream in(objects_file);
  std::stringstream text;
  text << in.rdbuf();
  auto objects = keelson::manifest::ParseObjects(text.str(), objects_file);
  if (!objects.ok()) {
    std::cerr << "cluster_bench: " << objects.error().ToString() << "\n";
    return 2;
  }
  auto config = keelson::cluster::LoadKubeconfig(kubeconfig);
  if (!config.ok()) {
    std::cerr << "cluster_bench: " << config.error().ToString() << "\n";
    return 2;
  }
  keelson::cluster::ClientOptions options;
  options.rate_limit.qps = qps;
  auto client = keelson::cluster::KubeClient::Connect(*config, options);
  if (!client.ok()) {
    std::cerr << "cluster_bench: " << client.error().ToString() << "\n";
    return 2;
  }
  keelson::cluster::KubeClient& kube = **client;
  const auto& list = *objects;

  // Namespaces first, as a reconcile's first wave would.
  std::vector<std::size_t> namespaces, rest;
  for (std::size_t i = 0; i < list.size(); ++i) {
    (list[i].id.kind == "Namespace" && list[i].id.group.empty() ? namespaces : rest).push_back(i);
  }
  std::atomic<int> errors{0};
  std::mutex err_mu;
  auto report = [&](const keelson::Error& e) {
    if (errors.fetch_add(1) < 5) {
      std::lock_guard<std::mutex> lock(err_mu);
      std::cerr << "cluster_bench: " << e.ToString() << "\n";
    }
  };
  keelson::cluster::ApplyOptions apply;
  apply.force = true;
  auto apply_one = [&](std::size_t index) {
    auto r = kube.Apply(list[index].node, apply);
    if (!r.ok()) report(r.error());
  };
  double apply_seconds = RunParallel(namespaces.size(), parallel, [&](std::size_t i) { apply_one(namespaces[i]); });
  apply_seconds += RunParallel(rest.size(), parallel, [&](std::size_t i) { apply_one(rest[i]); });
  std::uint64_t apply_requests = kube.metrics().Total();

  std::atomic<int> drifted{0};
  keelson::cluster::ApplyOptions dry = apply;
  dry.dry_run = true;
  double diff_seconds = RunParallel(list.size(), parallel, [&](std::size_t i) {
    auto live = kube.Get(list[i].id);
    if (!live.ok()) return report(live.error());
    auto desired = kube.Apply(list[i].node, dry);
    if (!desired.ok()) return report(desired.error());
    if (!(Comparable(*live) == Comparable(*desired))) ++drifted;
  });
  std::uint64_t total_requests = kube.metrics().Total();

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("objects=%zu parallel=%d apply_seconds=%.3f diff_seconds=%.3f apply_objects_per_second=%.0f "
              "diff_objects_per_second=%.0f requests=%llu apply_requests=%llu peak_rss_kb=%ld drifted=%d errors=%d\n",
              list.size(), parallel, apply_seconds, diff_seconds, list.size() / apply_seconds,
              list.size() / diff_seconds, static_cast<unsigned long long>(total_requests),
              static_cast<unsigned long long>(apply_requests), usage.ru_maxrss, drifted.load(), errors.load());
  return errors.load() == 0 && drifted.load() == 0 ? 0 : 1;
}
