// The kubeconfig `keelson sandbox --kubeconfig-out` writes for kubectl and
// the agent.
#pragma once

#include <string>

#include "renderers/manifest/result.h"

namespace keelson::sandbox {

struct KubeconfigSpec {
  std::string server;  // "https://127.0.0.1:6443" or "http://..."
  std::string token;   // bearer token; "" for none
  std::string ca_pem;  // certificate to trust for https; "" for none
  std::string name = "keelson-sandbox";  // cluster, user and context name
};

std::string KubeconfigYaml(const KubeconfigSpec& spec);

// Writes the file atomically with mode 0600 (it may hold a token).
Status WriteKubeconfig(const std::string& path, const KubeconfigSpec& spec);

}  // namespace keelson::sandbox
