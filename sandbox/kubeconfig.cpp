#include "sandbox/kubeconfig.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "renderers/manifest/node.h"
#include "renderers/manifest/yaml.h"

namespace keelson::sandbox {

namespace {
std::string Base64(const std::string& in) {
  std::vector<unsigned char> out(4 * ((in.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}
}  // namespace

std::string KubeconfigYaml(const KubeconfigSpec& spec) {
  using manifest::Node;
  Node cluster = Node::Mapping();
  cluster.Set("server", Node::String(spec.server));
  if (!spec.ca_pem.empty()) cluster.Set("certificate-authority-data", Node::String(Base64(spec.ca_pem)));
  Node user = Node::Mapping();
  if (!spec.token.empty()) user.Set("token", Node::String(spec.token));
  Node context = Node::Mapping();
  context.Set("cluster", Node::String(spec.name));
  context.Set("user", Node::String(spec.name));
  context.Set("namespace", Node::String("default"));

  auto named = [&](const char* key, Node value) {
    Node entry = Node::Mapping();
    entry.Set("name", Node::String(spec.name));
    entry.Set(key, std::move(value));
    Node list = Node::Sequence();
    list.Append(std::move(entry));
    return list;
  };
  Node root = Node::Mapping();
  root.Set("apiVersion", Node::String("v1"));
  root.Set("kind", Node::String("Config"));
  root.Set("clusters", named("cluster", std::move(cluster)));
  root.Set("users", named("user", std::move(user)));
  root.Set("contexts", named("context", std::move(context)));
  root.Set("current-context", Node::String(spec.name));
  root.Set("preferences", Node::Mapping());
  manifest::EmitOptions options;
  options.sort_keys = false;
  return manifest::EmitYaml(root, options);
}

Status WriteKubeconfig(const std::string& path, const KubeconfigSpec& spec) {
  std::string text = KubeconfigYaml(spec);
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return MakeError(ErrorCode::kInvalidInput, std::string("cannot write: ") + std::strerror(errno), {path, 0, 0, ""});
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    return MakeError(ErrorCode::kInvalidInput, std::string("cannot write: ") + std::strerror(errno), {path, 0, 0, ""});
  }
  return Status::Ok();
}

}  // namespace keelson::sandbox
