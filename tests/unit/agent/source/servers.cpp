#include "tests/unit/agent/source/servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/testing/loopback.h"
#include "tests/testing/subprocess.h"

namespace keelson::source::testing {
namespace {

using keelson::testing::FreeLoopbackPort;
using keelson::testing::OutputToLog;
using keelson::testing::WaitFor;
using keelson::testing::WaitForPort;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Run(const std::vector<std::string>& argv, std::string* why) {
  keelson::testing::ProcessResult r = keelson::testing::RunProgram(argv, "", "", 60);
  if (r.exit_code != 0 && why != nullptr) *why = argv[0] + " failed: " + r.err;
  return r.exit_code == 0;
}

}  // namespace

GarbageServer::GarbageServer(std::string reply, bool hold_open) : reply_(std::move(reply)), hold_open_(hold_open) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 8) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      if (hold_open_) {
        held_.push_back(fd);
        continue;
      }
      char buf[4096];
      pollfd r{fd, POLLIN, 0};
      if (poll(&r, 1, 1000) > 0) (void)!read(fd, buf, sizeof buf);
      (void)!write(fd, reply_.data(), reply_.size());
      shutdown(fd, SHUT_RDWR);
      close(fd);
    }
  });
}

GarbageServer::~GarbageServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (int fd : held_) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
}

HttpsGitServer::HttpsGitServer(const std::string& base) {
  const std::string& d = dir_.path();
  if (!keelson::testing::HaveProgram("nginx") && !std::filesystem::exists("/usr/sbin/nginx")) {
    why_not_ = "nginx is not installed";
    return;
  }
  if (!std::filesystem::exists("/usr/sbin/fcgiwrap") || !std::filesystem::exists("/usr/lib/git-core/git-http-backend")) {
    why_not_ = "fcgiwrap or git-http-backend is not installed";
    return;
  }
  ca_file_ = d + "/ca.crt";
  other_ca_file_ = d + "/other-ca.crt";
  dir_.Write("server.ext",
             "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
  auto ec_key = [](const std::string& out) {
    return std::vector<std::string>{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", out};
  };
  std::vector<std::string> ca = {"openssl", "req", "-x509", "-days", "2", "-subj", "/CN=Keelson Test CA",
                                 "-out", ca_file_};
  for (const std::string& a : ec_key(d + "/ca.key")) ca.push_back(a);
  std::vector<std::string> other = {"openssl", "req", "-x509", "-days", "2", "-subj", "/CN=Other CA", "-out",
                                    other_ca_file_};
  for (const std::string& a : ec_key(d + "/other.key")) other.push_back(a);
  std::vector<std::string> csr = {"openssl", "req", "-new", "-subj", "/CN=127.0.0.1", "-out", d + "/server.csr"};
  for (const std::string& a : ec_key(d + "/server.key")) csr.push_back(a);
  if (!Run(ca, &why_not_) || !Run(other, &why_not_) || !Run(csr, &why_not_) ||
      !Run({"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", ca_file_, "-CAkey", d + "/ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", d + "/server.ext", "-out", d + "/server.crt"},
           &why_not_)) {
    return;
  }
  dir_.Write("htpasswd", "keelson:{PLAIN}s3cret\n");
  std::filesystem::create_directories(d + "/tmp");
  fcgiwrap_ = std::make_unique<keelson::testing::BackgroundProcess>(
      std::vector<std::string>{"/usr/sbin/fcgiwrap", "-c", "2", "-s", "unix:" + d + "/fcgi.sock"},
      OutputToLog{d + "/fcgiwrap.log"});
  if (!WaitFor([&] { return std::filesystem::exists(d + "/fcgi.sock"); }, std::chrono::seconds(10))) {
    why_not_ = "fcgiwrap did not start: " + ReadAll(d + "/fcgiwrap.log");
    return;
  }
  for (int attempt = 0; attempt < 3 && !ok_; ++attempt) {
    port_ = FreeLoopbackPort();
    std::string conf =
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid " + d + "/nginx.pid;\nerror_log " + d +
        "/error.log info;\nevents { worker_connections 64; }\nhttp {\n  access_log " + d +
        "/access.log;\n  client_body_temp_path " + d + "/tmp/body;\n  fastcgi_temp_path " + d +
        "/tmp/fastcgi;\n  proxy_temp_path " + d + "/tmp/proxy;\n  uwsgi_temp_path " + d +
        "/tmp/uwsgi;\n  scgi_temp_path " + d + "/tmp/scgi;\n  server {\n    listen 127.0.0.1:" +
        std::to_string(port_) + " ssl;\n    ssl_certificate " + d + "/server.crt;\n    ssl_certificate_key " + d +
        "/server.key;\n    location / {\n      auth_basic \"git\";\n      auth_basic_user_file " + d +
        "/htpasswd;\n      include /etc/nginx/fastcgi_params;\n      fastcgi_pass unix:" + d +
        "/fcgi.sock;\n      fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;\n      "
        "fastcgi_param GIT_PROJECT_ROOT " +
        base + ";\n      fastcgi_param GIT_HTTP_EXPORT_ALL \"\";\n      fastcgi_param PATH_INFO $uri;\n      "
               "fastcgi_param REMOTE_USER $remote_user;\n    }\n  }\n}\n";
    dir_.Write("nginx.conf", conf);
    nginx_ = std::make_unique<keelson::testing::BackgroundProcess>(
        std::vector<std::string>{"/usr/sbin/nginx", "-c", d + "/nginx.conf", "-p", d, "-e", d + "/error.log"},
        OutputToLog{d + "/nginx.out"});
    ok_ = WaitForPort(port_, std::chrono::seconds(10)) && nginx_->Running();
  }
  if (!ok_) why_not_ = "nginx did not start: " + log();
}

std::string HttpsGitServer::Url(const std::string& repo) const {
  return "https://127.0.0.1:" + std::to_string(port_) + "/" + repo;
}

std::string HttpsGitServer::log() const {
  return ReadAll(dir_.path() + "/error.log") + ReadAll(dir_.path() + "/nginx.out") +
         ReadAll(dir_.path() + "/fcgiwrap.log");
}

SshGitServer::SshGitServer() {
  const std::string& d = dir_.path();
  if (!std::filesystem::exists("/usr/sbin/sshd")) {
    why_not_ = "openssh-server is not installed";
    return;
  }
  passwd* pw = getpwuid(getuid());
  if (pw == nullptr) {
    why_not_ = "the current user has no passwd entry";
    return;
  }
  user_ = pw->pw_name;
  // sshd started by root insists on its privilege separation directory.
  if (getuid() == 0) std::filesystem::create_directories("/run/sshd");
  private_key_ = d + "/user_ed25519";
  if (!Run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "keelson-test", "-f", d + "/host_ed25519"},
           &why_not_) ||
      !Run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "keelson-test", "-f", private_key_}, &why_not_) ||
      !Run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "impostor", "-f", d + "/impostor_ed25519"},
           &why_not_)) {
    return;
  }
  std::filesystem::copy_file(private_key_ + ".pub", d + "/authorized_keys");
  chmod((d + "/authorized_keys").c_str(), 0600);
  chmod(d.c_str(), 0700);
  auto pub = [&](const std::string& file) {
    std::string text = ReadAll(file);
    std::istringstream in(text);
    std::string type, key;
    in >> type >> key;
    return type + " " + key;
  };
  for (int attempt = 0; attempt < 3 && !ok_; ++attempt) {
    port_ = FreeLoopbackPort();
    std::string host = "[127.0.0.1]:" + std::to_string(port_);
    known_hosts_ = dir_.Write("known_hosts", "# test server\n" + host + " " + pub(d + "/host_ed25519.pub") + "\n");
    wrong_known_hosts_ = dir_.Write("wrong_known_hosts", host + " " + pub(d + "/impostor_ed25519.pub") + "\n");
    dir_.Write("sshd_config", "Port " + std::to_string(port_) +
                                  "\nListenAddress 127.0.0.1\nHostKey " + d + "/host_ed25519\nPidFile " + d +
                                  "/sshd.pid\nAuthorizedKeysFile " + d +
                                  "/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                                  "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                                  "PermitRootLogin prohibit-password\nAllowUsers " +
                                  user_ + "\nLogLevel VERBOSE\n");
    sshd_ = std::make_unique<keelson::testing::BackgroundProcess>(
        std::vector<std::string>{"/usr/sbin/sshd", "-D", "-e", "-f", d + "/sshd_config"}, OutputToLog{d + "/sshd.log"});
    ok_ = WaitForPort(port_, std::chrono::seconds(10)) && sshd_->Running();
  }
  if (!ok_) why_not_ = "sshd did not start: " + log();
}

std::string SshGitServer::Url(const std::string& absolute_repo_path) const {
  return "ssh://" + user_ + "@127.0.0.1:" + std::to_string(port_) + absolute_repo_path;
}

std::string SshGitServer::log() const { return ReadAll(dir_.path() + "/sshd.log"); }

}  // namespace keelson::source::testing
