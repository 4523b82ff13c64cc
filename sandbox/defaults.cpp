// The defaulting a real API server does on write, for the fields that show
// up as drift when a client compares what it applied with what is stored.
#include "sandbox/api.h"

namespace keelson::sandbox {

namespace {

void Default(Json& object, const char* key, Json value) {
  if (!object.is_object()) return;
  if (!object.contains(key) || object[key].is_null()) object[key] = std::move(value);
}

void DefaultContainer(Json& c) {
  if (!c.is_object()) return;
  Default(c, "terminationMessagePath", "/dev/termination-log");
  Default(c, "terminationMessagePolicy", "File");
  Default(c, "resources", Json::object());
  if (!c.contains("imagePullPolicy")) {
    std::string image = c.value("image", "");
    std::size_t slash = image.rfind('/');
    std::string last = slash == std::string::npos ? image : image.substr(slash + 1);
    bool latest = last.find('@') == std::string::npos &&
                  (last.find(':') == std::string::npos || last.ends_with(":latest"));
    c["imagePullPolicy"] = latest ? "Always" : "IfNotPresent";
  }
  if (c.contains("ports") && c["ports"].is_array()) {
    for (Json& p : c["ports"]) Default(p, "protocol", "TCP");
  }
}

void DefaultPodSpec(Json& spec, bool job) {
  if (!spec.is_object()) return;
  if (!job) Default(spec, "restartPolicy", "Always");
  Default(spec, "terminationGracePeriodSeconds", 30);
  Default(spec, "dnsPolicy", "ClusterFirst");
  Default(spec, "securityContext", Json::object());
  Default(spec, "schedulerName", "default-scheduler");
  for (const char* list : {"containers", "initContainers"}) {
    if (spec.contains(list) && spec[list].is_array()) {
      for (Json& c : spec[list]) DefaultContainer(c);
    }
  }
}

void DefaultTemplate(Json& spec, bool job) {
  if (!spec.is_object() || !spec.contains("template") || !spec["template"].is_object()) return;
  Json& tmpl = spec["template"];
  if (tmpl.contains("spec")) DefaultPodSpec(tmpl["spec"], job);
}

}  // namespace

Json SandboxApi::Defaulted(const ResourceType& type, Json object) {
  if (type.custom || !object.is_object()) return object;
  const std::string& kind = type.kind;
  Json* spec = object.contains("spec") && object["spec"].is_object() ? &object["spec"] : nullptr;
  if (kind == "Namespace") {
    object["metadata"]["labels"]["kubernetes.io/metadata.name"] = object["metadata"].value("name", "");
    if (!object.contains("spec") || !object["spec"].is_object()) object["spec"] = Json::object();
    Default(object["spec"], "finalizers", Json::array({"kubernetes"}));
    if (!object["metadata"].contains("deletionTimestamp")) object["status"] = Json{{"phase", "Active"}};
  } else if (kind == "Secret") {
    Default(object, "type", "Opaque");
  } else if (kind == "Service" && spec != nullptr) {
    Default(*spec, "type", "ClusterIP");
    Default(*spec, "sessionAffinity", "None");
    std::string svc_type = spec->value("type", "ClusterIP");
    if (svc_type != "ExternalName") {
      if (!spec->contains("clusterIP") || (*spec)["clusterIP"] == "") (*spec)["clusterIP"] = NextClusterIp();
      Default(*spec, "clusterIPs", Json::array({(*spec)["clusterIP"]}));
      if ((*spec)["clusterIP"] != "None") {
        Default(*spec, "ipFamilies", Json::array({"IPv4"}));
        Default(*spec, "ipFamilyPolicy", "SingleStack");
      }
      Default(*spec, "internalTrafficPolicy", "Cluster");
    }
    if (svc_type == "NodePort" || svc_type == "LoadBalancer") Default(*spec, "externalTrafficPolicy", "Cluster");
    if (spec->contains("ports") && (*spec)["ports"].is_array()) {
      int next_node_port = 30000 + static_cast<int>(random_() % 2000);
      for (Json& p : (*spec)["ports"]) {
        Default(p, "protocol", "TCP");
        if (p.contains("port")) Default(p, "targetPort", p["port"]);
        if (svc_type == "NodePort" || svc_type == "LoadBalancer") Default(p, "nodePort", next_node_port++);
      }
    }
    Default(object, "status", Json{{"loadBalancer", Json::object()}});
  } else if (kind == "Deployment" && spec != nullptr) {
    Default(*spec, "replicas", 1);
    Default(*spec, "revisionHistoryLimit", 10);
    Default(*spec, "progressDeadlineSeconds", 600);
    Default(*spec, "strategy", Json{{"type", "RollingUpdate"}});
    Json& strategy = (*spec)["strategy"];
    Default(strategy, "type", "RollingUpdate");
    if (strategy.value("type", "") == "RollingUpdate") {
      Default(strategy, "rollingUpdate", Json::object());
      Default(strategy["rollingUpdate"], "maxUnavailable", "25%");
      Default(strategy["rollingUpdate"], "maxSurge", "25%");
    }
    DefaultTemplate(*spec, false);
  } else if (kind == "StatefulSet" && spec != nullptr) {
    Default(*spec, "replicas", 1);
    Default(*spec, "podManagementPolicy", "OrderedReady");
    Default(*spec, "revisionHistoryLimit", 10);
    Default(*spec, "updateStrategy", Json{{"type", "RollingUpdate"}});
    Json& strategy = (*spec)["updateStrategy"];
    if (strategy.value("type", "") == "RollingUpdate") {
      Default(strategy, "rollingUpdate", Json::object());
      Default(strategy["rollingUpdate"], "partition", 0);
    }
    Default(*spec, "persistentVolumeClaimRetentionPolicy",
            Json{{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}});
    DefaultTemplate(*spec, false);
  } else if (kind == "DaemonSet" && spec != nullptr) {
    Default(*spec, "revisionHistoryLimit", 10);
    Default(*spec, "updateStrategy", Json{{"type", "RollingUpdate"}});
    Json& strategy = (*spec)["updateStrategy"];
    if (strategy.value("type", "") == "RollingUpdate") {
      Default(strategy, "rollingUpdate", Json::object());
      Default(strategy["rollingUpdate"], "maxUnavailable", 1);
      Default(strategy["rollingUpdate"], "maxSurge", 0);
    }
    DefaultTemplate(*spec, false);
  } else if (kind == "Job" && spec != nullptr) {
    Default(*spec, "backoffLimit", 6);
    Default(*spec, "completions", 1);
    Default(*spec, "parallelism", 1);
    Default(*spec, "completionMode", "NonIndexed");
    Default(*spec, "suspend", false);
    Default(*spec, "manualSelector", false);
    Default(*spec, "podReplacementPolicy", "TerminatingOrFailed");
    std::string uid = object["metadata"].value("uid", "");
    std::string name = object["metadata"].value("name", "");
    if (!spec->contains("selector")) {
      (*spec)["selector"] = Json{{"matchLabels", Json{{"batch.kubernetes.io/controller-uid", uid}}}};
    }
    if (spec->contains("template") && (*spec)["template"].is_object()) {
      Json& labels = (*spec)["template"]["metadata"]["labels"];
      if (!labels.is_object()) labels = Json::object();
      Default(labels, "batch.kubernetes.io/controller-uid", uid);
      Default(labels, "batch.kubernetes.io/job-name", name);
      Default(labels, "controller-uid", uid);
      Default(labels, "job-name", name);
    }
    DefaultTemplate(*spec, true);
  } else if (kind == "CronJob" && spec != nullptr) {
    Default(*spec, "concurrencyPolicy", "Allow");
    Default(*spec, "suspend", false);
    Default(*spec, "successfulJobsHistoryLimit", 3);
    Default(*spec, "failedJobsHistoryLimit", 1);
    if (spec->contains("jobTemplate") && (*spec)["jobTemplate"].is_object() &&
        (*spec)["jobTemplate"].contains("spec")) {
      Json& job = (*spec)["jobTemplate"]["spec"];
      Default(job, "backoffLimit", 6);
      DefaultTemplate(job, true);
    }
  } else if (kind == "NetworkPolicy" && spec != nullptr) {
    Default(*spec, "policyTypes", Json::array({"Ingress"}));
  } else if (kind == "PersistentVolumeClaim" && spec != nullptr) {
    Default(*spec, "volumeMode", "Filesystem");
  } else if (kind == "CustomResourceDefinition" && spec != nullptr) {
    Default(*spec, "conversion", Json{{"strategy", "None"}});
  }
  return object;
}

}  // namespace keelson::sandbox
