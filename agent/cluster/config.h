// Where the cluster is and how to authenticate to it: kubeconfig files and
// the in-cluster service account.
//
// Loading resolves every file reference (certificate, key, CA, token file)
// into bytes up front, relative paths against the kubeconfig's directory as
// kubectl does, so a ConnectionConfig is self-contained. Secrets (token, key)
// live in memory only and are never logged. Errors name the kubeconfig file,
// the line and the field (e.g. users[0].user.client-key).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "renderers/manifest/result.h"

namespace keelson::cluster {

struct ConnectionConfig {
  // "https://host:port" or "http://host:port", optionally with a path prefix.
  std::string server;
  // PEM certificates trusted for the server; empty means the system roots.
  std::string ca_pem;
  // Skips certificate and hostname verification. Honoured because kubeconfig
  // allows it, and warned about every time a transport is built from it.
  bool insecure_skip_tls_verify = false;
  // Name checked against the server certificate instead of the host in
  // `server` (kubeconfig clusters[].cluster.tls-server-name).
  std::string tls_server_name;
  std::string bearer_token;     // secret
  std::string client_cert_pem;  // with client_key_pem, mutual TLS
  std::string client_key_pem;   // secret
  // Namespace for namespaced objects that name none ("default" unless the
  // context or the service account says otherwise).
  std::string default_namespace = "default";
  // Where this came from, for messages: the kubeconfig path or "in-cluster".
  std::string source;
  std::string context;  // context name used; empty in-cluster
};

// Reads a file into a string; returns nullopt when it cannot be read. Tests
// substitute an in-memory map.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;
std::optional<std::string> ReadWholeFile(const std::string& path);

// Parses kubeconfig text. `path` names the file in errors and anchors
// relative paths. `context` picks a context; empty means current-context.
Result<ConnectionConfig> ParseKubeconfig(std::string_view text, const std::string& path,
                                         const std::string& context,
                                         const FileReader& read_file = ReadWholeFile);

// Reads and parses a kubeconfig file.
Result<ConnectionConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// Environment lookup; returns nullopt for an unset variable.
using EnvReader = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> ReadEnvironment(const std::string& name);

inline constexpr std::string_view kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// The configuration a pod gets: KUBERNETES_SERVICE_HOST/PORT, the service
// account token, CA and namespace under `service_account_dir`. Fails with
// kNotFound when not running in a cluster.
Result<ConnectionConfig> LoadInClusterConfig(const EnvReader& env = ReadEnvironment,
                                             const std::string& service_account_dir =
                                                 std::string(kServiceAccountDir),
                                             const FileReader& read_file = ReadWholeFile);

}  // namespace keelson::cluster
