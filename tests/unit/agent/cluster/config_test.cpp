#include "agent/cluster/config.h"

#include <gtest/gtest.h>

#include <map>

namespace keelson::cluster {
namespace {

FileReader Files(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

const char* kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: Q0EgUEVN
- name: prod-cluster
  cluster:
    server: https://prod.example:443/prefix
    certificate-authority: certs/ca.pem
    tls-server-name: api.prod.example
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
users:
- name: dev-user
  user:
    token: s3cret
- name: prod-user
  user:
    client-certificate: /abs/client.crt
    client-key-data: S0VZ
)";

TEST(Kubeconfig, CurrentContextWithTokenAndCaData) {
  Result<ConnectionConfig> c = ParseKubeconfig(kTwoContexts, "/home/u/.kube/config", "", Files({}));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, "CA PEM");
  EXPECT_EQ(c->bearer_token, "s3cret");
  EXPECT_EQ(c->default_namespace, "team-a");
  EXPECT_EQ(c->context, "dev");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
}

TEST(Kubeconfig, ExplicitContextResolvesFilesRelativeToTheKubeconfig) {
  Result<ConnectionConfig> c =
      ParseKubeconfig(kTwoContexts, "/home/u/.kube/config", "prod",
                      Files({{"/home/u/.kube/certs/ca.pem", "CA FILE"}, {"/abs/client.crt", "CERT"}}));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->server, "https://prod.example:443/prefix");
  EXPECT_EQ(c->ca_pem, "CA FILE");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_EQ(c->tls_server_name, "api.prod.example");
  EXPECT_EQ(c->default_namespace, "default");
  EXPECT_TRUE(c->bearer_token.empty());
}

TEST(Kubeconfig, TokenFileAndInsecureSkip) {
  const char* text = R"(current-context: c
clusters:
- name: k
  cluster: {server: "https://10.0.0.1", insecure-skip-tls-verify: true}
contexts:
- name: c
  context: {cluster: k, user: u}
users:
- name: u
  user: {tokenFile: token}
)";
  Result<ConnectionConfig> c = ParseKubeconfig(text, "/etc/kc", "", Files({{"/etc/token", "abc\n"}}));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->bearer_token, "abc");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
}

struct BadCase {
  const char* name;
  std::string text;
  std::string context;
  std::string expect_field;
  std::string expect_message;
};

TEST(Kubeconfig, ErrorsNameTheFileAndField) {
  const std::string head = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n";
  const std::string cluster = "clusters:\n- name: k\n  cluster: {server: 'https://h'}\n";
  std::vector<BadCase> cases = {
      {"unknown context", std::string(kTwoContexts), "nope", "contexts", "no entry named \"nope\""},
      {"no current context", "clusters: []\n", "", "current-context", "no current-context"},
      {"missing cluster", head + "users:\n- name: u\n  user: {}\n", "", "contexts[0].context.cluster",
       "no entry named \"k\" in clusters"},
      {"bad server", head + "clusters:\n- name: k\n  cluster: {server: 'ftp://h'}\nusers:\n- {name: u, user: {}}\n", "",
       "clusters[0].cluster.server", "https://"},
      {"bad base64", head + cluster + "users:\n- name: u\n  user: {client-certificate-data: '!!!', client-key-data: QQ==}\n",
       "", "users[0].user.client-certificate-data", "base64"},
      {"missing file", head + cluster + "users:\n- name: u\n  user: {client-certificate: c.crt, client-key: c.key}\n", "",
       "users[0].user.client-certificate", "cannot read file /d/c.crt"},
      {"cert without key", head + cluster + "users:\n- name: u\n  user: {client-certificate-data: QQ==}\n", "",
       "users[0].user.client-key", "both"},
      {"exec plugin", head + cluster + "users:\n- name: u\n  user: {exec: {command: aws}}\n", "",
       "users[0].user.exec", "not supported"},
      {"insecure not bool", head + "clusters:\n- name: k\n  cluster: {server: 'https://h', insecure-skip-tls-verify: maybe}\n",
       "", "clusters[0].cluster.insecure-skip-tls-verify", "true or false"},
      {"not a mapping", "- a\n", "", "", "must be a mapping"},
  };
  for (const BadCase& bad : cases) {
    SCOPED_TRACE(bad.name);
    Result<ConnectionConfig> c = ParseKubeconfig(bad.text, "/d/kubeconfig", bad.context, Files({}));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().where.file, "/d/kubeconfig");
    EXPECT_EQ(c.error().where.field, bad.expect_field);
    EXPECT_NE(c.error().message.find(bad.expect_message), std::string::npos) << c.error().ToString();
  }
}

TEST(Kubeconfig, ErrorCarriesTheLine) {
  const char* text = "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n"
                     "  cluster:\n    server: 42.5\n";
  Result<ConnectionConfig> c = ParseKubeconfig(text, "kc", "", Files({}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where.line, 8);
  EXPECT_EQ(c.error().ToString().rfind("kc:8:", 0), 0u) << c.error().ToString();
}

TEST(Kubeconfig, MissingFileIsNotFound) {
  Result<ConnectionConfig> c = LoadKubeconfig("/nonexistent/kubeconfig");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(c.error().where.file, "/nonexistent/kubeconfig");
}

TEST(InCluster, ReadsServiceAccount) {
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "KUBERNETES_SERVICE_HOST") return "fd00::1";
    if (name == "KUBERNETES_SERVICE_PORT") return "443";
    return std::nullopt;
  };
  Result<ConnectionConfig> c =
      LoadInClusterConfig(env, "/sa", Files({{"/sa/token", "tok\n"}, {"/sa/ca.crt", "CA"}, {"/sa/namespace", "keelson"}}));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->server, "https://[fd00::1]:443");
  EXPECT_EQ(c->bearer_token, "tok");
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->default_namespace, "keelson");
}

TEST(InCluster, ExplainsWhatIsMissing) {
  auto none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  Result<ConnectionConfig> c = LoadInClusterConfig(none, "/sa", Files({}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_NE(c.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);

  auto env = [](const std::string& name) -> std::optional<std::string> {
    return name == "KUBERNETES_SERVICE_HOST" ? "10.0.0.1" : "443";
  };
  c = LoadInClusterConfig(env, "/sa", Files({{"/sa/ca.crt", "CA"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where.file, "/sa/token");
}

}  // namespace
}  // namespace keelson::cluster
