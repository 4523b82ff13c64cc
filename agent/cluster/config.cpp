#include "agent/cluster/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "renderers/manifest/node.h"
#include "renderers/manifest/yaml.h"

namespace keelson::cluster {
namespace {

using manifest::Node;

// Kubeconfig files are small; anything bigger is not a kubeconfig.
constexpr std::size_t kMaxKubeconfigBytes = 16u << 20;

std::optional<std::string> DecodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned bits = 0;
  int nbits = 0;
  int padding = 0;
  std::size_t symbols = 0;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    int v = value(c);
    if (v < 0) return std::nullopt;
    ++symbols;
    bits = (bits << 6) | static_cast<unsigned>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xFF));
    }
  }
  if (padding > 2 || symbols % 4 != 0) return std::nullopt;
  return out;
}

class KubeconfigReader {
 public:
  KubeconfigReader(std::string path, const FileReader& read_file)
      : path_(std::move(path)), read_file_(read_file) {
    std::filesystem::path p(path_);
    base_dir_ = p.has_parent_path() ? p.parent_path().string() : ".";
  }

  Error Fail(const Node* at, const std::string& field, const std::string& message,
             ErrorCode code = ErrorCode::kInvalidInput) const {
    Location where;
    where.file = path_;
    where.field = field;
    if (at != nullptr) {
      where.line = at->mark().line;
      where.column = at->mark().column;
    }
    return MakeError(code, message, where);
  }

  // A string field or "" when absent; fails when present with another type.
  Result<std::string> OptionalString(const Node& parent, std::string_view key,
                                     const std::string& field) const {
    const Node* n = parent.Find(key);
    if (n == nullptr || n->IsNull()) return std::string();
    if (!n->IsScalar() || n->IsBool()) return Fail(n, field, "must be a string");
    return n->ScalarText();
  }

  Result<bool> OptionalBool(const Node& parent, std::string_view key, const std::string& field) const {
    const Node* n = parent.Find(key);
    if (n == nullptr || n->IsNull()) return false;
    if (!n->IsBool()) return Fail(n, field, "must be true or false");
    return n->AsBool();
  }

  // Finds the entry named `name` in a list of {name, <inner>: {...}}.
  Result<const Node*> Named(const Node& root, std::string_view list, std::string_view inner,
                            const std::string& name, const std::string& referrer) const {
    const Node* seq = root.Find(list);
    if (seq != nullptr && !seq->IsNull() && !seq->IsSequence()) {
      return Fail(seq, std::string(list), "must be a list");
    }
    if (seq != nullptr && seq->IsSequence()) {
      for (std::size_t i = 0; i < seq->items().size(); ++i) {
        const Node& item = seq->items()[i];
        std::string field = std::string(list) + "[" + std::to_string(i) + "]";
        if (!item.IsMapping()) return Fail(&item, field, "must be a mapping");
        if (item.GetString("name") != name) continue;
        const Node* body = item.Find(inner);
        if (body == nullptr || body->IsNull()) {
          static const Node kEmpty = Node::Mapping();
          return &kEmpty;
        }
        if (!body->IsMapping()) return Fail(body, field + "." + std::string(inner), "must be a mapping");
        indices_[std::string(list)] = i;
        return body;
      }
    }
    return Fail(nullptr, referrer, "no entry named \"" + name + "\" in " + std::string(list),
                ErrorCode::kNotFound);
  }

  std::string FieldOf(std::string_view list, std::string_view inner, std::string_view key) const {
    auto it = indices_.find(std::string(list));
    std::size_t index = it == indices_.end() ? 0 : it->second;
    return std::string(list) + "[" + std::to_string(index) + "]." + std::string(inner) + "." +
           std::string(key);
  }

  // Reads `<key>-data` (base64) or `<key>` (a file path) into bytes.
  Result<std::string> DataOrFile(const Node& body, std::string_view list, std::string_view inner,
                                 const std::string& key) const {
    const Node* data = body.Find(key + "-data");
    const Node* file = body.Find(key);
    if (data != nullptr && !data->IsNull()) {
      std::string field = FieldOf(list, inner, key + "-data");
      if (!data->IsString()) return Fail(data, field, "must be a base64 string");
      std::optional<std::string> decoded = DecodeBase64(data->AsString());
      if (!decoded) return Fail(data, field, "is not valid base64");
      return *decoded;
    }
    if (file != nullptr && !file->IsNull()) {
      std::string field = FieldOf(list, inner, key);
      if (!file->IsString() || file->AsString().empty()) return Fail(file, field, "must be a file path");
      std::string resolved = Resolve(file->AsString());
      std::optional<std::string> bytes = read_file_(resolved);
      if (!bytes) return Fail(file, field, "cannot read file " + resolved, ErrorCode::kNotFound);
      return *bytes;
    }
    return std::string();
  }

  std::string Resolve(const std::string& p) const {
    if (!p.empty() && p[0] == '/') return p;
    return (std::filesystem::path(base_dir_) / p).string();
  }

  const std::string& path() const { return path_; }
  const FileReader& read_file() const { return read_file_; }

 private:
  std::string path_;
  std::string base_dir_;
  const FileReader& read_file_;
  mutable std::map<std::string, std::size_t> indices_;
};

std::string TrimTrailingNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return out.str();
}

std::optional<std::string> ReadEnvironment(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Result<ConnectionConfig> ParseKubeconfig(std::string_view text, const std::string& path,
                                         const std::string& context, const FileReader& read_file) {
  manifest::ParseOptions options;
  options.file = path;
  options.max_input_bytes = kMaxKubeconfigBytes;
  Result<Node> parsed = manifest::ParseYaml(text, options);
  if (!parsed) return std::move(parsed).error();
  const Node& root = *parsed;
  KubeconfigReader r(path, read_file);
  if (root.IsNull()) return r.Fail(nullptr, "", "kubeconfig is empty");
  if (!root.IsMapping()) return r.Fail(&root, "", "kubeconfig must be a mapping");

  ConnectionConfig config;
  config.source = path;
  std::string context_name = context;
  if (context_name.empty()) {
    Result<std::string> current = r.OptionalString(root, "current-context", "current-context");
    if (!current) return std::move(current).error();
    if (current->empty()) {
      return r.Fail(root.Find("current-context"), "current-context",
                    "no current-context set and no context given (use --context)");
    }
    context_name = *current;
  }
  config.context = context_name;

  Result<const Node*> ctx = r.Named(root, "contexts", "context", context_name,
                                    context.empty() ? "current-context" : "contexts");
  if (!ctx) return std::move(ctx).error();
  auto ctx_field = [&](std::string_view key) { return r.FieldOf("contexts", "context", key); };
  Result<std::string> cluster_name = r.OptionalString(**ctx, "cluster", ctx_field("cluster"));
  if (!cluster_name) return std::move(cluster_name).error();
  Result<std::string> user_name = r.OptionalString(**ctx, "user", ctx_field("user"));
  if (!user_name) return std::move(user_name).error();
  Result<std::string> ns = r.OptionalString(**ctx, "namespace", ctx_field("namespace"));
  if (!ns) return std::move(ns).error();
  if (!ns->empty()) config.default_namespace = *ns;
  if (cluster_name->empty()) {
    return r.Fail((*ctx)->Find("cluster"), ctx_field("cluster"), "context names no cluster");
  }

  Result<const Node*> cluster = r.Named(root, "clusters", "cluster", *cluster_name, ctx_field("cluster"));
  if (!cluster) return std::move(cluster).error();
  auto cluster_field = [&](std::string_view key) { return r.FieldOf("clusters", "cluster", key); };
  Result<std::string> server = r.OptionalString(**cluster, "server", cluster_field("server"));
  if (!server) return std::move(server).error();
  if (server->empty()) return r.Fail(*cluster, cluster_field("server"), "missing server address");
  if (server->rfind("https://", 0) != 0 && server->rfind("http://", 0) != 0) {
    return r.Fail((*cluster)->Find("server"), cluster_field("server"),
                  "must start with https:// or http://");
  }
  config.server = *server;
  Result<std::string> ca = r.DataOrFile(**cluster, "clusters", "cluster", "certificate-authority");
  if (!ca) return std::move(ca).error();
  config.ca_pem = *ca;
  Result<bool> insecure =
      r.OptionalBool(**cluster, "insecure-skip-tls-verify", cluster_field("insecure-skip-tls-verify"));
  if (!insecure) return std::move(insecure).error();
  config.insecure_skip_tls_verify = *insecure;
  Result<std::string> server_name =
      r.OptionalString(**cluster, "tls-server-name", cluster_field("tls-server-name"));
  if (!server_name) return std::move(server_name).error();
  config.tls_server_name = *server_name;

  if (!user_name->empty()) {
    Result<const Node*> user = r.Named(root, "users", "user", *user_name, ctx_field("user"));
    if (!user) return std::move(user).error();
    auto user_field = [&](std::string_view key) { return r.FieldOf("users", "user", key); };
    for (std::string_view unsupported : {"exec", "auth-provider", "username", "password"}) {
      if (const Node* n = (*user)->Find(unsupported); n != nullptr && !n->IsNull()) {
        return r.Fail(n, user_field(unsupported),
                      "not supported by keelson; use a bearer token, token file or client certificate");
      }
    }
    Result<std::string> token = r.OptionalString(**user, "token", user_field("token"));
    if (!token) return std::move(token).error();
    config.bearer_token = *token;
    Result<std::string> token_file = r.OptionalString(**user, "tokenFile", user_field("tokenFile"));
    if (!token_file) return std::move(token_file).error();
    if (config.bearer_token.empty() && !token_file->empty()) {
      std::string resolved = r.Resolve(*token_file);
      std::optional<std::string> bytes = read_file(resolved);
      if (!bytes) {
        return r.Fail((*user)->Find("tokenFile"), user_field("tokenFile"),
                      "cannot read token file " + resolved, ErrorCode::kNotFound);
      }
      config.bearer_token = TrimTrailingNewlines(*bytes);
    }
    Result<std::string> cert = r.DataOrFile(**user, "users", "user", "client-certificate");
    if (!cert) return std::move(cert).error();
    Result<std::string> key = r.DataOrFile(**user, "users", "user", "client-key");
    if (!key) return std::move(key).error();
    if (cert->empty() != key->empty()) {
      return r.Fail(*user, user_field(cert->empty() ? "client-certificate" : "client-key"),
                    "a client certificate needs both client-certificate and client-key");
    }
    config.client_cert_pem = *cert;
    config.client_key_pem = *key;
  }
  return config;
}

Result<ConnectionConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) {
    Location where;
    where.file = path;
    return MakeError(ErrorCode::kNotFound, "cannot read kubeconfig", where);
  }
  return ParseKubeconfig(*text, path, context);
}

Result<ConnectionConfig> LoadInClusterConfig(const EnvReader& env, const std::string& service_account_dir,
                                             const FileReader& read_file) {
  std::optional<std::string> host = env("KUBERNETES_SERVICE_HOST");
  std::optional<std::string> port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                     "must both be set");
  }
  ConnectionConfig config;
  config.source = "in-cluster";
  // An IPv6 service address needs brackets in a URL.
  std::string h = host->find(':') != std::string::npos ? "[" + *host + "]" : *host;
  config.server = "https://" + h + ":" + *port;
  auto file_error = [&](const std::string& file, const std::string& what) {
    Location where;
    where.file = file;
    return MakeError(ErrorCode::kNotFound, "cannot read the service account " + what, where);
  };
  std::string token_path = service_account_dir + "/token";
  std::optional<std::string> token = read_file(token_path);
  if (!token) return file_error(token_path, "token");
  config.bearer_token = TrimTrailingNewlines(*token);
  std::string ca_path = service_account_dir + "/ca.crt";
  std::optional<std::string> ca = read_file(ca_path);
  if (!ca) return file_error(ca_path, "CA certificate");
  config.ca_pem = *ca;
  if (std::optional<std::string> ns = read_file(service_account_dir + "/namespace"); ns) {
    std::string trimmed = TrimTrailingNewlines(*ns);
    if (!trimmed.empty()) config.default_namespace = trimmed;
  }
  return config;
}

}  // namespace keelson::cluster
