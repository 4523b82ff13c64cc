#include "agent/cluster/health.h"

#include <gtest/gtest.h>

#include "renderers/manifest/yaml.h"

namespace keelson::cluster {
namespace {

Health Of(const std::string& yaml) {
  Result<manifest::Node> n = manifest::ParseYaml(yaml, {});
  EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().ToString());
  return AssessHealth(n.ok() ? *n : manifest::Node());
}

struct Case {
  const char* name;
  std::string yaml;
  HealthState state;
  std::string reason_part;
};

void Check(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Health h = Of(c.yaml);
    EXPECT_EQ(HealthStateName(h.state), std::string(HealthStateName(c.state)));
    EXPECT_NE(h.reason.find(c.reason_part), std::string::npos) << h.reason;
  }
}

const std::string kDeploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, generation: 2}\n";

TEST(Health, Deployments) {
  Check({
      {"no status yet", kDeploy + "spec: {replicas: 3}\n", HealthState::kProgressing, "waiting for the controller"},
      {"old generation", kDeploy + "spec: {replicas: 3}\nstatus: {observedGeneration: 1}\n", HealthState::kProgressing,
       "generation 2"},
      {"updating", kDeploy + "spec: {replicas: 3}\nstatus: {observedGeneration: 2, replicas: 3, updatedReplicas: 1}\n",
       HealthState::kProgressing, "1 of 3 replicas updated"},
      {"old pods left",
       kDeploy + "spec: {replicas: 2}\nstatus: {observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 2, "
                 "availableReplicas: 2}\n",
       HealthState::kProgressing, "1 old replicas"},
      {"not available",
       kDeploy + "spec: {replicas: 2}\nstatus: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, "
                 "availableReplicas: 1}\n",
       HealthState::kProgressing, "1 of 2 replicas available"},
      {"rolled out",
       kDeploy + "spec: {replicas: 2}\nstatus: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, "
                 "availableReplicas: 2}\n",
       HealthState::kHealthy, "rolled out"},
      {"default one replica",
       kDeploy + "spec: {}\nstatus: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, "
                 "availableReplicas: 1}\n",
       HealthState::kHealthy, "1 of 1"},
      {"deadline exceeded",
       kDeploy + "spec: {replicas: 1}\nstatus:\n  observedGeneration: 2\n  conditions:\n  - {type: Progressing, status: "
                 "'False', reason: ProgressDeadlineExceeded, message: 'ReplicaSet web-1 has timed out'}\n",
       HealthState::kFailed, "ProgressDeadlineExceeded: ReplicaSet web-1"},
      // Counts that are floats an int64 cannot hold (a fuzz finding: the
      // conversion was undefined) are no counts: the default of 1 replica.
      {"replicas beyond int64",
       kDeploy + "spec: {replicas: 8.9e86}\nstatus: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, "
                 "readyReplicas: 1, availableReplicas: 1}\n",
       HealthState::kHealthy, "1 of 1"},
      {"whole float counts",
       kDeploy + "spec: {replicas: 2.0}\nstatus: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, "
                 "readyReplicas: 2, availableReplicas: .nan}\n",
       HealthState::kProgressing, "of 2 replicas available"},
  });
}

TEST(Health, StatefulSetsAndDaemonSets) {
  const std::string sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, generation: 1}\n";
  const std::string ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, generation: 1}\n";
  Check({
      {"sts not ready", sts + "spec: {replicas: 3}\nstatus: {observedGeneration: 1, readyReplicas: 2}\n",
       HealthState::kProgressing, "2 of 3 replicas ready"},
      {"sts revision", sts + "spec: {replicas: 1}\nstatus: {observedGeneration: 1, readyReplicas: 1, updatedReplicas: 1, "
                             "currentRevision: a, updateRevision: b}\n",
       HealthState::kProgressing, "revision b"},
      {"sts partition", sts + "spec: {replicas: 4, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}}\n"
                              "status: {observedGeneration: 1, readyReplicas: 4, updatedReplicas: 2}\n",
       HealthState::kHealthy, "partitioned"},
      {"sts done", sts + "spec: {replicas: 1}\nstatus: {observedGeneration: 1, readyReplicas: 1, updatedReplicas: 1, "
                         "currentRevision: b, updateRevision: b}\n",
       HealthState::kHealthy, "rolled out"},
      {"ds unscheduled", ds + "status: {observedGeneration: 1}\n", HealthState::kProgressing, "schedule"},
      {"ds updating", ds + "status: {observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3, "
                           "updatedNumberScheduled: 2}\n",
       HealthState::kProgressing, "2 of 3 pods updated"},
      {"ds done", ds + "status: {observedGeneration: 1, desiredNumberScheduled: 2, currentNumberScheduled: 2, "
                       "updatedNumberScheduled: 2, numberAvailable: 2, numberReady: 2}\n",
       HealthState::kHealthy, "2 pods ready"},
  });
}

TEST(Health, JobsCrdsClaimsServicesPods) {
  const std::string job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\n";
  const std::string crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: w}\n";
  const std::string lb = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\n";
  Check({
      {"job running", job + "status: {active: 1}\n", HealthState::kProgressing, "1 active"},
      {"job complete", job + "status:\n  conditions: [{type: Complete, status: 'True'}]\n", HealthState::kHealthy,
       "complete"},
      {"job failed", job + "status:\n  conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded}]\n",
       HealthState::kFailed, "BackoffLimitExceeded"},
      {"crd pending", crd, HealthState::kProgressing, "not established"},
      {"crd established", crd + "status:\n  conditions: [{type: Established, status: 'True'}]\n", HealthState::kHealthy,
       "established"},
      {"crd names clash", crd + "status:\n  conditions: [{type: NamesAccepted, status: 'False', reason: "
                                "PluralConflict}]\n",
       HealthState::kFailed, "PluralConflict"},
      {"pvc pending", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nstatus: {phase: Pending}\n",
       HealthState::kProgressing, "Pending"},
      {"pvc bound", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nstatus: {phase: Bound}\n",
       HealthState::kHealthy, "bound"},
      {"pvc lost", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nstatus: {phase: Lost}\n",
       HealthState::kFailed, "lost"},
      {"lb waiting", lb + "status: {loadBalancer: {}}\n", HealthState::kProgressing, "load balancer"},
      {"lb ready", lb + "status: {loadBalancer: {ingress: [{ip: 10.0.0.9}]}}\n", HealthState::kHealthy, "ready"},
      {"cluster ip service", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ClusterIP}\n",
       HealthState::kHealthy, "present"},
      {"pod running not ready", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {phase: Running}\n",
       HealthState::kProgressing, "Running"},
      {"pod failed", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {phase: Failed, reason: Evicted}\n",
       HealthState::kFailed, "Evicted"},
  });
}

TEST(Health, GenericConditionsAndFallbacks) {
  const std::string cr = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, generation: 3}\n";
  Check({
      {"ready true", cr + "status:\n  observedGeneration: 3\n  conditions: [{type: Ready, status: 'True'}]\n",
       HealthState::kHealthy, "ready"},
      {"ready false", cr + "status:\n  conditions: [{type: Ready, status: 'False', reason: Waiting, message: dep}]\n",
       HealthState::kProgressing, "Waiting: dep"},
      {"stalled", cr + "status:\n  conditions: [{type: Stalled, status: 'True', reason: Broken}]\n",
       HealthState::kFailed, "Broken"},
      {"reconciling", cr + "status:\n  conditions: [{type: Reconciling, status: 'True'}]\n", HealthState::kProgressing,
       "reconciling"},
      {"stale generation", cr + "status: {observedGeneration: 2}\n", HealthState::kProgressing, "generation 3"},
      {"plain configmap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", HealthState::kHealthy, "present"},
      {"being deleted", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, deletionTimestamp: '2026-01-01T00:00:00Z'}\n",
       HealthState::kProgressing, "deleted"},
      {"not an object", "- 1\n", HealthState::kFailed, "not an object"},
      {"garbage status", kDeploy + "spec: {replicas: x}\nstatus: [1]\n", HealthState::kProgressing, "waiting"},
  });
}

}  // namespace
}  // namespace keelson::cluster
