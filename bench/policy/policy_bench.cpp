// The whole built-in policy library over a generated rendered set of 10,000
// objects: checks the violations are exactly the planted ones, then times
// repeated checks and prints object-policy evaluations per second.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>

#include "policies/engine/evaluate.h"
#include "policies/engine/policy.h"
#include "policies/library/builtin.h"
#include "renderers/manifest/object.h"

namespace {

using namespace keelson;

// One workload in the shape the built-in policies want, with every 10th one
// using :latest and every 25th one missing its probes.
std::string Workload(int i, const std::string& ns, const char* kind) {
  std::string name = "app-" + std::to_string(i);
  std::string image = (i % 10 == 0) ? "registry.example.com/team/app:latest"
                                    : "registry.example.com/team/app:1." + std::to_string(i % 7) +
                                          "@sha256:" + std::string(64, "0123456789abcdef"[i % 16]);
  std::string probes = (i % 25 == 0) ? "" :
      "        livenessProbe: {httpGet: {path: /healthz, port: 8080}}\n"
      "        readinessProbe: {httpGet: {path: /ready, port: 8080}}\n";
  return std::string("apiVersion: apps/v1\nkind: ") + kind + "\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\n  labels: {team: t" + std::to_string(i % 13) + ", owner: o" + std::to_string(i % 7) +
         "}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: " + name +
         "}\n  template:\n    metadata:\n      labels: {app: " + name +
         "}\n    spec:\n      securityContext: {runAsNonRoot: true}\n      containers:\n      - name: app\n        image: " +
         image + "\n        resources:\n          requests: {cpu: 100m, memory: 128Mi}\n"
         "          limits: {cpu: 500m, memory: 256Mi}\n        securityContext: {allowPrivilegeEscalation: false}\n" +
         probes + "---\n";
}

// Workloads each with a PodDisruptionBudget, a Service and a ConfigMap;
// every 40th also commits a plain Secret. Returns the YAML and, in planted,
// the violations each policy must report.
std::string Generate(int count, std::map<std::string, int>* planted) {
  std::string yaml;
  int objects = 0;
  for (int w = 0; objects < count; ++w) {
    std::string ns = "ns-" + std::to_string(w % 50);
    std::string name = "app-" + std::to_string(w);
    const char* kind = (w % 5 == 4) ? "StatefulSet" : "Deployment";
    yaml += Workload(w, ns, kind);
    if (w % 10 == 0) {
      ++(*planted)["no-latest-tag"];
      ++(*planted)["prod-images-pinned-by-digest"];
    }
    if (w % 25 == 0) ++(*planted)["probes-set"];
    yaml += "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: " + name + ", namespace: " + ns +
            "}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels: {app: " + name + "}\n---\n";
    yaml += "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
            "\n  labels: {team: t1, owner: o1}\nspec:\n  type: ClusterIP\n  selector: {app: " + name +
            "}\n  ports: [{port: 80}]\n---\n";
    yaml += "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns +
            "}\ndata: {key: value}\n---\n";
    objects += 4;
    if (w % 40 == 0 && objects < count) {
      yaml += "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: " + ns +
              "}\ntype: Opaque\ndata: {password: aHVudGVyMg==}\n---\n";
      ++(*planted)["no-plain-secrets"];
      ++objects;
    }
  }
  return yaml;
}

}  // namespace

int main(int argc, char** argv) {
  double min_seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  std::map<std::string, int> planted;
  std::string yaml = Generate(10'000, &planted);
  Result<manifest::ObjectList> objects = manifest::ParseObjects(yaml, "generated.yaml");
  if (!objects.ok()) {
    std::fprintf(stderr, "generate: %s\n", objects.error().ToString().c_str());
    return 2;
  }
  policy::PolicySet policies;
  if (Status s = policy::AddBuiltinPolicies(policies); !s) {
    std::fprintf(stderr, "library: %s\n", s.error().ToString().c_str());
    return 2;
  }
  // Turn on the policy that ships disabled so the whole library runs.
  if (Status s = policies.AddFile("name: allowed-registries\nenabled: true\nparameters: {registries: [registry.example.com]}\n",
                                  "bench.yaml");
      !s) {
    std::fprintf(stderr, "adjust: %s\n", s.error().ToString().c_str());
    return 2;
  }
  policy::CheckContext context;
  context.environment = "prod";

  // Correctness first: exactly the planted violations, nothing else.
  policy::CheckResult first = policy::CheckObjects(policies, *objects, context);
  std::map<std::string, int> seen;
  for (const policy::Violation& v : first.violations) {
    if (v.error) {
      std::fprintf(stderr, "unexpected evaluation error: %s: %s\n", v.policy.c_str(), v.message.c_str());
      return 1;
    }
    ++seen[v.policy];
  }
  if (seen != planted) {
    std::fprintf(stderr, "violations differ from the planted ones:\n");
    for (const auto& [name, n] : seen) std::fprintf(stderr, "  seen %s: %d (planted %d)\n", name.c_str(), n, planted[name]);
    return 1;
  }

  // The target is per core, and the machine may be shared: time with the
  // thread's CPU clock, and show wall-clock time beside it.
  auto cpu_seconds = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  using Clock = std::chrono::steady_clock;
  std::size_t evaluations = 0, rounds = 0;
  Clock::time_point wall_start = Clock::now();
  double cpu_start = cpu_seconds(), cpu = 0;
  while (cpu < min_seconds) {
    policy::CheckResult r = policy::CheckObjects(policies, *objects, context);
    evaluations += r.evaluations;
    ++rounds;
    cpu = cpu_seconds() - cpu_start;
  }
  double wall = std::chrono::duration<double>(Clock::now() - wall_start).count();
  double per_second = static_cast<double>(evaluations) / cpu;
  std::printf("objects:               %zu\n", objects->size());
  std::printf("policies:              %zu\n", policies.policies().size());
  std::printf("violations per round:  %zu (as planted)\n", first.violations.size());
  std::printf("evaluations per round: %zu object-policy pairs\n", first.evaluations);
  std::printf("rounds:                %zu in %.2f s CPU (%.2f s wall)\n", rounds, cpu, wall);
  std::printf("objects/s:             %.0f per core\n", static_cast<double>(objects->size() * rounds) / cpu);
  std::printf("evaluations/s:         %.0f per core (%.0f by wall clock)\n", per_second,
              static_cast<double>(evaluations) / wall);
  std::printf("target 100000 evaluations/s: ratio %.2f\n", per_second / 100000.0);
  return 0;
}
