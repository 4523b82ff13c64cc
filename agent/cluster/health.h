// Is a live object healthy? A pure function over the object as the server
// returns it, in the manner of kstatus (sigs.k8s.io/cli-utils).
//
// Rules, first match wins:
// - metadata.deletionTimestamp set: Progressing ("being deleted").
// - status.observedGeneration behind metadata.generation: Progressing.
// - Deployment: Failed when condition Progressing is False with reason
//   ProgressDeadlineExceeded; Progressing until updated, ready and available
//   replicas reach spec.replicas (default 1) and no old replicas remain.
// - StatefulSet: Progressing until ready and updated replicas reach
//   spec.replicas (minus a rolling-update partition) and currentRevision
//   equals updateRevision.
// - DaemonSet: Progressing until scheduled, updated, available and ready
//   counts equal desiredNumberScheduled.
// - Job: Healthy when condition Complete is True, Failed when Failed is True,
//   else Progressing (a GitOps gate waits for a Job to finish, unlike kstatus
//   which calls a running Job current).
// - CustomResourceDefinition: Healthy when Established is True, Failed when
//   NamesAccepted is False.
// - PersistentVolumeClaim: Healthy when Bound, Failed when Lost.
// - Service of type LoadBalancer: Healthy once it has an ingress address.
// - Pod: Succeeded Healthy, Failed Failed, otherwise by its Ready condition.
// - Anything with a Stalled condition True: Failed; Reconciling True:
//   Progressing; with a Ready condition: Healthy when True, Progressing
//   otherwise.
// - Otherwise: present means Healthy.
#pragma once

#include <string>

#include "renderers/manifest/node.h"

namespace keelson::cluster {

enum class HealthState { kHealthy, kProgressing, kFailed };

struct Health {
  HealthState state = HealthState::kHealthy;
  std::string reason;  // one line a user can read, e.g. "2 of 3 replicas ready"
};

const char* HealthStateName(HealthState state);  // "Healthy", "Progressing", "Failed"

Health AssessHealth(const manifest::Node& object);

}  // namespace keelson::cluster
