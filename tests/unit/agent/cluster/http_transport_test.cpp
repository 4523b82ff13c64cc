// The real transport against real peers on loopback: nginx for TLS,
// client certificates and keep-alive; a raw socket server for timeouts,
// dropped connections and idle connections the server closed.
#include "agent/cluster/http_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <set>
#include <thread>

#include "tests/testing/background_process.h"
#include "tests/testing/loopback.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::cluster {
namespace {

using namespace std::chrono_literals;
using keelson::testing::ReadFileOrDie;
using keelson::testing::RunProgram;
using keelson::testing::TempDir;

bool RunTool(const std::vector<std::string>& argv, const std::string& cwd) {
  keelson::testing::ProcessResult r = RunProgram(argv, "", cwd, 60);
  EXPECT_EQ(r.exit_code, 0) << argv[0] << " " << argv[1] << ": " << r.err;
  return r.exit_code == 0;
}

class NginxPeer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!keelson::testing::HaveProgram("nginx") && access("/usr/sbin/nginx", X_OK) != 0) return;
    dir_ = new TempDir();
    const std::string d = dir_->path();
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto req = [&](std::vector<std::string> args) {
      std::vector<std::string> argv = {"openssl", "req"};
      argv.insert(argv.end(), ec.begin(), ec.end());
      argv.insert(argv.end(), args.begin(), args.end());
      return RunTool(argv, d);
    };
    dir_->Write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    dir_->Write("client.ext", "extendedKeyUsage=clientAuth\n");
    bool ok = req({"-x509", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=keelson-test-ca"}) &&
              req({"-x509", "-keyout", "other.key", "-out", "other.crt", "-days", "2", "-subj", "/CN=other-ca"}) &&
              req({"-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=server"}) &&
              req({"-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=keelson"}) &&
              RunTool({"openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                   "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext"}, d) &&
              RunTool({"openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                   "-CAcreateserial", "-out", "client.crt", "-days", "2", "-extfile", "client.ext"}, d);
    if (!ok) return;
    dir_->Write("www/api/v1", R"({"kind":"APIResourceList"})");
    dir_->Write("www/prefix/api/v1", R"({"kind":"Prefixed"})");
    dir_->Write("tmp/.keep", "");
    tls_port_ = testing::FreeLoopbackPort();
    mtls_port_ = testing::FreeLoopbackPort();
    plain_port_ = testing::FreeLoopbackPort();
    std::string conf = "daemon off;\nmaster_process off;\npid " + d + "/nginx.pid;\nerror_log " + d +
                       "/error.log;\nevents { worker_connections 64; }\nhttp {\n"
                       "  log_format conn '$connection $request';\n"
                       "  access_log " + d + "/access.log conn;\n"
                       "  client_body_temp_path " + d + "/tmp/body;\n  proxy_temp_path " + d + "/tmp/proxy;\n"
                       "  fastcgi_temp_path " + d + "/tmp/fcgi;\n  uwsgi_temp_path " + d + "/tmp/uwsgi;\n"
                       "  scgi_temp_path " + d + "/tmp/scgi;\n  default_type application/json;\n"
                       "  keepalive_timeout 60s;\n"
                       "  server { listen 127.0.0.1:" + std::to_string(tls_port_) + " ssl; root " + d + "/www;\n"
                       "    ssl_certificate " + d + "/server.crt; ssl_certificate_key " + d + "/server.key; }\n"
                       "  server { listen 127.0.0.1:" + std::to_string(mtls_port_) + " ssl; root " + d + "/www;\n"
                       "    ssl_certificate " + d + "/server.crt; ssl_certificate_key " + d + "/server.key;\n"
                       "    ssl_verify_client on; ssl_client_certificate " + d + "/ca.crt; }\n"
                       "  server { listen 127.0.0.1:" + std::to_string(plain_port_) + "; root " + d + "/www; }\n}\n";
    dir_->Write("nginx.conf", conf);
    nginx_ = new testing::BackgroundProcess({"nginx", "-c", d + "/nginx.conf", "-p", d},
                                            testing::OutputToLog{d + "/nginx.out"});
    for (int port : {tls_port_, mtls_port_, plain_port_}) {
      if (!testing::WaitForPort(port, 10s)) return;
    }
    ready_ = true;
  }
  static void TearDownTestSuite() {
    delete nginx_;
    nginx_ = nullptr;
    delete dir_;
    dir_ = nullptr;
    ready_ = false;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << "nginx or openssl not available";
  }

  static std::string File(const std::string& name) { return ReadFileOrDie(dir_->path() + "/" + name); }
  static ConnectionConfig Config(const std::string& host, int port) {
    ConnectionConfig c;
    c.server = "https://" + host + ":" + std::to_string(port);
    c.ca_pem = File("ca.crt");
    c.source = "test-kubeconfig";
    return c;
  }
  static Result<HttpResponse> Get(const ConnectionConfig& config, const std::string& target = "/api/v1") {
    Result<std::unique_ptr<HttpTransport>> t = MakeHttpTransport(config);
    if (!t) return std::move(t).error();
    HttpRequest r;
    r.target = target;
    r.timeout = 10s;
    return (*t)->Send(r, nullptr);
  }

  static TempDir* dir_;
  static testing::BackgroundProcess* nginx_;
  static int tls_port_, mtls_port_, plain_port_;
  static bool ready_;
};

TempDir* NginxPeer::dir_ = nullptr;
testing::BackgroundProcess* NginxPeer::nginx_ = nullptr;
int NginxPeer::tls_port_ = 0;
int NginxPeer::mtls_port_ = 0;
int NginxPeer::plain_port_ = 0;
bool NginxPeer::ready_ = false;

TEST_F(NginxPeer, VerifiesTheServerByAddressAndByName) {
  for (const char* host : {"127.0.0.1", "localhost"}) {
    SCOPED_TRACE(host);
    Result<HttpResponse> r = Get(Config(host, tls_port_));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"kind":"APIResourceList"})");
    EXPECT_EQ(r->Header("content-type"), "application/json");
  }
}

TEST_F(NginxPeer, RejectsAnUntrustedCertificate) {
  ConnectionConfig c = Config("127.0.0.1", tls_port_);
  c.ca_pem = File("other.crt");
  Result<HttpResponse> r = Get(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kAccessDenied);
  EXPECT_NE(r.error().message.find("certificate verification failed"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("test-kubeconfig"), std::string::npos);
}

TEST_F(NginxPeer, RejectsACertificateForAnotherName) {
  ConnectionConfig c = Config("127.0.0.1", tls_port_);
  c.tls_server_name = "api.other.example";
  Result<HttpResponse> r = Get(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kAccessDenied);
  EXPECT_NE(r.error().message.find("hostname mismatch"), std::string::npos) << r.error().message;
}

TEST_F(NginxPeer, InsecureSkipVerifyConnectsAnyway) {
  ConnectionConfig c = Config("127.0.0.1", tls_port_);
  c.ca_pem = File("other.crt");
  c.insecure_skip_tls_verify = true;
  Result<HttpResponse> r = Get(c);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(NginxPeer, PresentsTheClientCertificate) {
  Result<HttpResponse> without = Get(Config("127.0.0.1", mtls_port_));
  ASSERT_TRUE(without.ok()) << without.error().ToString();
  EXPECT_EQ(without->status, 400);  // nginx: no required SSL certificate was sent
  ConnectionConfig c = Config("127.0.0.1", mtls_port_);
  c.client_cert_pem = File("client.crt");
  c.client_key_pem = File("client.key");
  Result<HttpResponse> with = Get(c);
  ASSERT_TRUE(with.ok()) << with.error().ToString();
  EXPECT_EQ(with->status, 200);
}

TEST_F(NginxPeer, ReusesKeepAliveConnections) {
  Result<std::unique_ptr<HttpTransport>> t = MakeHttpTransport(Config("127.0.0.1", tls_port_));
  ASSERT_TRUE(t.ok());
  HttpRequest r;
  r.target = "/api/v1?keepalive-check";
  for (int i = 0; i < 5; ++i) {
    Result<HttpResponse> response = (*t)->Send(r, nullptr);
    ASSERT_TRUE(response.ok()) << response.error().ToString();
  }
  std::string log = File("access.log");
  std::set<std::string> connections;
  std::size_t lines = 0;
  for (std::size_t start = 0, nl; (nl = log.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = log.substr(start, nl - start);
    if (line.find("keepalive-check") == std::string::npos) continue;
    ++lines;
    connections.insert(line.substr(0, line.find(' ')));
  }
  EXPECT_EQ(lines, 5u);
  EXPECT_EQ(connections.size(), 1u);
}

TEST_F(NginxPeer, PlainHttpWithAPathPrefix) {
  ConnectionConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(plain_port_) + "/prefix/";
  Result<HttpResponse> r = Get(c);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, R"({"kind":"Prefixed"})");
}

TEST(HttpTransport, BadConfigNamesTheField) {
  ConnectionConfig c;
  c.source = "/etc/kubeconfig";
  c.server = "https://127.0.0.1:6443";
  c.ca_pem = "not a certificate";
  Result<std::unique_ptr<HttpTransport>> t = MakeHttpTransport(c);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().where.file, "/etc/kubeconfig");
  EXPECT_EQ(t.error().where.field, "certificate-authority");
  c.ca_pem.clear();
  c.server = "https://[::1";
  t = MakeHttpTransport(c);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().where.field, "server");
  c.server = "https://h:port";
  EXPECT_FALSE(MakeHttpTransport(c).ok());
}

// A loopback server whose behaviour per connection is scripted.
class RawServer {
 public:
  enum class Mode { kSilent, kCloseAtOnce, kOneResponseThenClose };
  explicit RawServer(Mode mode) : mode_(mode) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (int c : held_) close(c);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++accepted_;
      if (mode_ == Mode::kSilent) {
        held_.push_back(c);  // never answers
        continue;
      }
      if (mode_ == Mode::kOneResponseThenClose) {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = read(c, buf, sizeof buf);
          if (n <= 0) break;
          request.append(buf, static_cast<std::size_t>(n));
        }
        const char* reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
        ssize_t written = write(c, reply, strlen(reply));
        (void)written;
      }
      close(c);
    }
  }
  Mode mode_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> held_;
  std::thread thread_;
};

Result<HttpResponse> PlainGet(HttpTransport& t, std::chrono::milliseconds timeout) {
  HttpRequest r;
  r.target = "/api";
  r.timeout = timeout;
  return t.Send(r, nullptr);
}

std::unique_ptr<HttpTransport> PlainTransport(int port) {
  ConnectionConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(port);
  Result<std::unique_ptr<HttpTransport>> t = MakeHttpTransport(c);
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

TEST(HttpTransport, TimesOutOnASilentServer) {
  RawServer server(RawServer::Mode::kSilent);
  auto t = PlainTransport(server.port());
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> r = PlainGet(*t, 300ms);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("timed out after 300ms"), std::string::npos) << r.error().message;
  EXPECT_LT(took, 5s);
}

TEST(HttpTransport, DroppedAndRefusedConnectionsAreUnavailable) {
  RawServer server(RawServer::Mode::kCloseAtOnce);
  auto t = PlainTransport(server.port());
  Result<HttpResponse> r = PlainGet(*t, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);

  auto refused = PlainTransport(testing::FreeLoopbackPort());
  r = PlainGet(*refused, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("connecting"), std::string::npos) << r.error().message;
}

TEST(HttpTransport, ReconnectsWhenTheServerClosedAnIdleConnection) {
  RawServer server(RawServer::Mode::kOneResponseThenClose);
  auto t = PlainTransport(server.port());
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> r = PlainGet(*t, 5s);
    ASSERT_TRUE(r.ok()) << i << ": " << r.error().ToString();
    EXPECT_EQ(r->body, "ok");
  }
  EXPECT_GE(server.accepted(), 3);
}

}  // namespace
}  // namespace keelson::cluster
