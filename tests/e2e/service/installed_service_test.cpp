// The installed package run the way systemd runs it: after dpkg installs
// the .deb into a throwaway root, the test reads ExecStart, Environment,
// User and ExecReload from the installed keelson.service, rewrites the
// absolute paths the root holds into it, and starts the installed binary
// with NOTIFY_SOCKET (a unix datagram socket the test binds) and
// WATCHDOG_USEC, as the package's user when the test runs as root. The
// installed default /etc/keelson/agent.yaml is edited as an administrator
// would (README "Install on a host") to point at a sandbox cluster and a
// git daemon serving commits signed by a trusted key.
//
// The binary runs with the host's shared libraries: the root holds only the
// package's files (its Depends are installed on the host by scripts/setup).
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"
#include "tests/e2e/agent/agent_harness.h"
#include "tests/e2e/service/deb_package_fixture.h"
#include "tests/testing/background_process.h"
#include "tests/testing/notify_socket.h"

namespace keelson {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using testing::NotifySocket;

// The [Service] section of a unit file: every assignment in order (keys
// like Environment= may repeat). Comments and blank lines are skipped;
// a trailing backslash continues a line.
std::multimap<std::string, std::string> ServiceSection(const std::string& unit) {
  std::multimap<std::string, std::string> out;
  std::istringstream in(unit);
  std::string line, section;
  while (std::getline(in, line)) {
    while (line.ends_with("\\")) {
      std::string next;
      if (!std::getline(in, next)) break;
      line = line.substr(0, line.size() - 1) + " " + next;
    }
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      section = line;
      continue;
    }
    std::size_t eq = line.find('=');
    if (section == "[Service]" && eq != std::string::npos) out.emplace(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

// Splits a command line or Environment= value into words the way
// systemd.syntax(7) does for the cases units use: whitespace separates,
// double or single quotes group.
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) out.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(word);
  return out;
}

std::string Single(const std::multimap<std::string, std::string>& service, const std::string& key) {
  auto it = service.find(key);
  return it == service.end() ? "" : it->second;
}

// systemd's "1min 30s" style, for the forms this unit uses.
std::chrono::milliseconds Span(const std::string& text) {
  long n = std::atol(text.c_str());
  if (text.ends_with("ms")) return std::chrono::milliseconds(n);
  if (text.ends_with("min")) return std::chrono::minutes(n);
  return std::chrono::seconds(n);
}

class InstalledService : public DebPackage {
 protected:
  // An absolute path inside the root when the root holds it (the package's
  // files), else the host's (/bin/kill in ExecReload).
  std::string Rooted(const std::string& path) const {
    if (path.empty() || path[0] != '/') return path;
    std::error_code ec;
    return std::filesystem::exists(root_.path() + path, ec) ? root_.path() + path : path;
  }
  // Where a file the config names goes in the root (it need not exist yet).
  std::string InRoot(const std::string& path) const { return root_.path() + path; }

  // Copies a file into the root as an administrator installs it: owned by
  // root, readable by the service's group, nobody else (when the test runs
  // as root; else owned by the test's user).
  void InstallFile(const std::string& from, const std::string& to) const {
    std::filesystem::create_directories(std::filesystem::path(to).parent_path());
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
    if (geteuid() == 0) {
      ASSERT_EQ(chown(to.c_str(), 0, gid_), 0);
    }
    ASSERT_EQ(chmod(to.c_str(), 0640), 0);
  }

  testing::TempDir root_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

std::vector<std::chrono::steady_clock::time_point> PingTimes(const NotifySocket& notify, std::size_t from) {
  std::vector<std::chrono::steady_clock::time_point> out;
  std::vector<NotifySocket::Message> all = notify.Messages();
  for (std::size_t i = from; i < all.size(); ++i) {
    if (all[i].Has("WATCHDOG=1")) out.push_back(all[i].at);
  }
  return out;
}

TEST_F(InstalledService, StartsLikeSystemdAgainstTheSandboxAndDrainsOnSigterm) {
  if (!testing::HaveProgram("dpkg")) GTEST_SKIP() << "dpkg missing";
  testing::ProcessResult install = InstallInto(root_);
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;

  // The unit as installed.
  std::string unit_text = testing::ReadFileOrDie(root_.path() + "/usr/lib/systemd/system/keelson.service");
  std::multimap<std::string, std::string> service = ServiceSection(unit_text);
  ASSERT_EQ(Single(service, "Type"), "notify");
  std::chrono::milliseconds unit_watchdog = Span(Single(service, "WatchdogSec"));
  ASSERT_GT(unit_watchdog.count(), 0) << "the unit sets no WatchdogSec";
  std::vector<std::string> exec = Words(Single(service, "ExecStart"));
  ASSERT_FALSE(exec.empty());
  while (!exec[0].empty() && std::string("-@:+!").find(exec[0][0]) != std::string::npos) exec[0].erase(0, 1);
  for (std::string& word : exec) word = Rooted(word);
  ASSERT_EQ(exec[0], root_.path() + "/usr/bin/keelson") << "ExecStart does not run the packaged binary";
  auto config_flag = std::find(exec.begin(), exec.end(), "--config");
  ASSERT_NE(config_flag, exec.end());
  ASSERT_NE(config_flag + 1, exec.end());
  const std::string config_path = *(config_flag + 1);
  ASSERT_EQ(config_path, root_.path() + "/etc/keelson/agent.yaml");

  // The service's user, as the package's sysusers.d file made it.
  std::string user = Single(service, "User");
  ASSERT_FALSE(user.empty());
  std::string home;
  {
    std::istringstream passwd(testing::ReadFileOrDie(root_.path() + "/etc/passwd"));
    for (std::string line; std::getline(passwd, line);) {
      std::vector<std::string> f;
      std::stringstream fields(line);
      for (std::string part; std::getline(fields, part, ':');) f.push_back(part);
      if (f.size() >= 6 && f[0] == user) {
        uid_ = static_cast<uid_t>(std::stoul(f[2]));
        gid_ = static_cast<gid_t>(std::stoul(f[3]));
        home = f[5];
      }
    }
  }
  ASSERT_NE(uid_, 0u) << "no system user " << user << " in the root";
  bool as_service_user = geteuid() == 0 && testing::HaveProgram("setpriv");

  // A cluster and a Git remote with a signed commit; the first wave waits
  // 6 s for its Deployment, longer than the watchdog timeout used below.
  testing::AgentHarnessOptions cluster_options;
  cluster_options.rollout_delay = "6s";
  testing::AgentHarness h(cluster_options);
  ASSERT_TRUE(h.ok()) << h.error();

  // The installed default config, edited for this cluster and remote.
  Result<manifest::Node> parsed = manifest::ParseYaml(testing::ReadFileOrDie(config_path), {});
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  manifest::Node config = std::move(parsed).value();
  std::string environment = config.GetString("environment");
  ASSERT_FALSE(environment.empty());
  manifest::Node* kubeconfig = config.FindPath({"cluster", "kubeconfig"});
  ASSERT_NE(kubeconfig, nullptr);
  std::string kubeconfig_path = InRoot(kubeconfig->AsString());
  InstallFile(h.kubeconfig(), kubeconfig_path);
  *kubeconfig = manifest::Node::String(kubeconfig_path);
  config.Set("stateDir", manifest::Node::String(InRoot("/var/lib/keelson")));
  config.Set("listen", manifest::Node::String("127.0.0.1:0"));
  manifest::Node* sources = config.Find("sources");
  ASSERT_TRUE(sources != nullptr && sources->size() == 1);
  manifest::Node& source = sources->items()[0];
  source.Set("url", manifest::Node::String(h.RepoUrl()));
  source.Erase("auth");  // git:// needs no key; ssh:// would use the ones the default names
  manifest::Node* signers = source.FindPath({"trust", "allowedSigners"});
  ASSERT_NE(signers, nullptr);
  std::string signers_path = InRoot(signers->AsString());
  InstallFile(h.AllowedSignersPath(), signers_path);
  *signers = manifest::Node::String(signers_path);
  std::string audit_key = InRoot("/etc/keelson/audit_ed25519");
  InstallFile(h.AuditKeyPath(), audit_key);
  manifest::Node audit = manifest::Node::Mapping();
  audit.Set("signingKey", manifest::Node::String(audit_key));
  config.Set("audit", audit);
  ASSERT_EQ(config.FindPath({"declaration", "source"})->AsString(), source.GetString("name"));
  std::string declaration = config.FindPath({"declaration", "path"})->AsString();
  root_.Write(config_path.substr(root_.path().size() + 1), manifest::EmitYaml(config));

  std::string revision = h.Commit(
      {{declaration, "apiVersion: keelson.dev/v1alpha1\nkind: Environment\nmetadata: {name: " + environment +
                         "}\nspec:\n  units:\n  - name: infra\n    path: infra\n  - name: web\n    path: web\n"
                         "    namespace: demo\n    dependsOn: [infra]\n    healthTimeout: 60s\n"},
       {"infra/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n"},
       {"web/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {color: blue}\n"},
       {"web/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec:\n      containers: [{name: main, image: \"nginx:1.25\"}]\n"}},
      "initial");
  ASSERT_TRUE(h.ok()) << h.error();

  // The environment systemd gives the service: a clean one with its
  // notify socket, watchdog, directories and the unit's Environment=.
  NotifySocket notify(root_.path() + "/notify");
  ASSERT_TRUE(notify.ok());
  constexpr auto kWatchdog = 4s;  // a drop-in's WatchdogSec=4s: the unit's own is too long to watch
  std::vector<std::string> env = {"/usr/bin/env",
                                  "-i",
                                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                  "HOME=" + Rooted(home),
                                  "USER=" + user,
                                  "LOGNAME=" + user,
                                  "NOTIFY_SOCKET=" + notify.path(),
                                  "WATCHDOG_USEC=" + std::to_string(std::chrono::microseconds(kWatchdog).count()),
                                  "STATE_DIRECTORY=" + InRoot("/var/lib/keelson"),
                                  "CONFIGURATION_DIRECTORY=" + InRoot("/etc/keelson")};
  for (auto [it, end] = service.equal_range("Environment"); it != end; ++it) {
    for (const std::string& assignment : Words(it->second)) env.push_back(assignment);
  }
  // Sanitizer settings of an instrumented build still apply.
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
  }
  std::vector<std::string> argv;
  if (as_service_user) {
    // User=, Group= and NoNewPrivileges= of the unit. The test's own temp
    // directory must let the user reach the root and the notify socket.
    ASSERT_EQ(chmod(root_.path().c_str(), 0755), 0);
    ASSERT_EQ(chmod(notify.path().c_str(), 0666), 0);
    argv = {"setpriv",
            "--reuid=" + std::to_string(uid_),
            "--regid=" + std::to_string(gid_),
            "--clear-groups",
            "--no-new-privs",
            "--"};
  }
  argv.insert(argv.end(), env.begin(), env.end());
  argv.insert(argv.end(), exec.begin(), exec.end());
  std::string log_path = h.dir() + "/service.log";
  auto log = [&] {
    std::error_code ec;
    return std::filesystem::exists(log_path, ec) ? testing::ReadFileOrDie(log_path) : std::string();
  };
  testing::BackgroundProcess agent(argv, testing::OutputToLog{log_path});
  ASSERT_TRUE(agent.started());
  const pid_t pid = agent.pid();

  // READY=1, then the first pass reports through STATUS= and applies.
  long ready = notify.WaitFor("READY=1", 90s);
  ASSERT_GE(ready, 0) << log() << notify.Transcript();
  auto ready_at = notify.Messages()[static_cast<std::size_t>(ready)].at;
  std::string healthy_status = "STATUS=healthy at " + revision.substr(0, 12);
  ASSERT_GE(notify.WaitFor(healthy_status, 90s), 0) << log() << notify.Transcript();
  EXPECT_GE(notify.WaitFor("STATUS=reconciling " + revision.substr(0, 12), 1s), 0) << notify.Transcript();
  EXPECT_FALSE(h.Get("namespace", "", "demo").IsNull());
  manifest::Node cm = h.Get("configmap", "demo", "web-config");
  ASSERT_FALSE(cm.IsNull());
  EXPECT_EQ(cm.FindPath({"data", "color"})->AsString(), "blue");
  manifest::Node deployment = h.Get("deployment", "demo", "web");
  ASSERT_FALSE(deployment.IsNull());
  EXPECT_EQ(deployment.FindPath({"status", "readyReplicas"})->AsInt(), 1);

  // /healthz, /readyz and the status API on the port it logged.
  int port = 0;
  ASSERT_TRUE(Eventually(
      [&] {
        std::string text = log();
        std::size_t at = text.rfind("listening on 127.0.0.1:");
        if (at != std::string::npos) port = std::atoi(text.c_str() + at + 23);
        return port > 0;
      },
      10s))
      << log();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  testing::ProcessResult healthz =
      testing::RunProgram({"curl", "-sS", "--max-time", "10", "-w", " %{http_code}", base + "/healthz"});
  EXPECT_EQ(healthz.out, "ok\n 200") << healthz.err;
  testing::ProcessResult readyz =
      testing::RunProgram({"curl", "-sS", "--max-time", "10", "-w", " %{http_code}", base + "/readyz"});
  EXPECT_EQ(readyz.out, "ready\n 200") << healthz.err;
  testing::ProcessResult status = testing::RunProgram({"curl", "-sf", "--max-time", "10", base + "/api/v1/status"});
  Result<manifest::Node> status_json = manifest::ParseJson(status.out, "status");
  ASSERT_TRUE(status_json.ok()) << status.out;
  EXPECT_EQ(status_json->GetString("environment"), environment);
  EXPECT_EQ(status_json->Find("sources")->items()[0].GetString("lastTrusted"), revision);

  // The watchdog was fed at about half its timeout from READY=1 on, the
  // 6 s health wait included: never a gap systemd would kill for.
  std::this_thread::sleep_for(kWatchdog);  // the window to measure: idle time after the pass
  auto until = std::chrono::steady_clock::now();
  std::vector<std::chrono::steady_clock::time_point> pings = PingTimes(notify, static_cast<std::size_t>(ready));
  ASSERT_FALSE(pings.empty()) << notify.Transcript();
  auto largest_gap = pings.front() - ready_at;
  for (std::size_t i = 1; i < pings.size(); ++i) largest_gap = std::max(largest_gap, pings[i] - pings[i - 1]);
  largest_gap = std::max(largest_gap, until - pings.back());
  EXPECT_LT(largest_gap, std::chrono::steady_clock::duration(kWatchdog))
      << std::chrono::duration_cast<std::chrono::milliseconds>(largest_gap).count() << " ms\n"
      << notify.Transcript();
  auto window = until - ready_at;
  const auto half = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kWatchdog) / 2;
  EXPECT_GE(static_cast<double>(pings.size()), static_cast<double>(window / half) - 1)
      << pings.size() << " pings in " << std::chrono::duration_cast<std::chrono::milliseconds>(window).count() << " ms";
  EXPECT_LT(window, 120s);
  std::cerr << pings.size() << " watchdog pings in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(window).count() << " ms, largest gap "
            << std::chrono::duration_cast<std::chrono::milliseconds>(largest_gap).count() << " ms\n";

  // systemctl reload: the unit's ExecReload with $MAINPID. The same
  // process re-reads its config and says so with RELOADING=1 and READY=1.
  std::size_t before_reload = notify.Messages().size();
  std::string reload_command = Single(service, "ExecReload");
  ASSERT_FALSE(reload_command.empty());
  std::vector<std::string> reload = Words(reload_command);
  for (std::string& word : reload) {
    if (word == "$MAINPID") word = std::to_string(pid);
  }
  testing::ProcessResult reloaded = testing::RunProgram(reload);
  ASSERT_EQ(reloaded.exit_code, 0) << reloaded.err;
  long reloading = notify.WaitFor("RELOADING=1", 60s, before_reload);
  ASSERT_GE(reloading, 0) << log() << notify.Transcript();
  EXPECT_GE(notify.WaitFor("READY=1", 60s, static_cast<std::size_t>(reloading) + 1), 0) << log();
  EXPECT_TRUE(agent.Running());
  EXPECT_EQ(agent.pid(), pid);

  // systemctl stop: SIGTERM drains, says STOPPING=1 and exits 0 with the
  // audit journal flushed.
  std::size_t before_stop = notify.Messages().size();
  EXPECT_EQ(agent.Stop(60s), 0) << log();
  EXPECT_GE(notify.WaitFor("STOPPING=1", 5s, before_stop), 0) << notify.Transcript();
  // Read as the service's user, as an administrator would (`sudo -u
  // keelson keelson audit log ...`): Git refuses repositories owned by
  // someone else.
  std::vector<std::string> audit_argv = {
      KEELSON_BINARY, "audit", "log", "--repo", InRoot("/var/lib/keelson/audit.git"), "--env", environment};
  if (as_service_user) {
    audit_argv.insert(audit_argv.begin(),
                      {"setpriv", "--reuid=" + std::to_string(uid_), "--regid=" + std::to_string(gid_),
                       "--clear-groups", "--", "/usr/bin/env", "HOME=" + Rooted(home)});
  }
  testing::ProcessResult audit_log = testing::RunProgram(audit_argv, "", InRoot("/var/lib/keelson"), 60);
  EXPECT_EQ(audit_log.exit_code, 0) << audit_log.err;
  EXPECT_NE(audit_log.out.find("agent.stopped"), std::string::npos) << audit_log.out;
  if (as_service_user) {
    // Everything the agent wrote belongs to its user.
    struct stat st {};
    ASSERT_EQ(stat(InRoot("/var/lib/keelson/audit.git").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, uid_);
  }
  std::cerr << "ran the installed binary with the host's libraries, as "
            << (as_service_user ? "the package's user " + user : std::string("the test's user")) << "\n";
}

}  // namespace
}  // namespace keelson
