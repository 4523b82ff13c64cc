#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>

#include "agent/cli/cli.h"
#include "sandbox/api.h"
#include "sandbox/kubeconfig.h"
#include "sandbox/server.h"

namespace keelson::cli {

namespace {

// "500ms", "2s", "1m", or a bare number of milliseconds.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (value < 0) return std::nullopt;
  std::string unit = text.substr(used);
  if (unit.empty() || unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "s") return std::chrono::milliseconds(value * 1000);
  if (unit == "m") return std::chrono::milliseconds(value * 60000);
  return std::nullopt;
}

std::optional<double> ParseRate(const std::string& text) {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used != text.size() || v < 0 || v > 1) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<int> ParseCount(const std::string& text, int max) {
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size() || v < 0 || v > max) return std::nullopt;
    return static_cast<int>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool MakeDirectories(const std::string& path) {
  std::string partial;
  std::stringstream parts(path);
  std::string part;
  if (!path.empty() && path[0] == '/') partial = "/";
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    partial += part + "/";
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  return true;
}

}  // namespace

int RunSandbox(const Invocation& inv) {
  sandbox::SandboxOptions options;
  sandbox::ServerOptions server_options;
  std::string listen = "127.0.0.1:0";
  std::string state_dir;
  std::string kubeconfig_out;
  const std::vector<std::string>& a = inv.args;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string flag = a[i];
    std::string value;
    std::size_t eq = flag.find('=');
    if (flag.starts_with("--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (flag.starts_with("--")) {
      if (i + 1 >= a.size()) return UsageError(inv, flag + " needs a value; see `keelson help sandbox`");
      value = a[++i];
    } else {
      return UsageError(inv, "unexpected argument \"" + flag + "\"; see `keelson help sandbox`");
    }
    auto bad = [&](const std::string& why) { return UsageError(inv, flag + ": " + why); };
    if (flag == "--listen") {
      listen = value;
    } else if (flag == "--state-dir") {
      state_dir = value;
    } else if (flag == "--tls-cert") {
      server_options.tls_cert_file = value;
    } else if (flag == "--tls-key") {
      server_options.tls_key_file = value;
    } else if (flag == "--token") {
      options.token = value;
    } else if (flag == "--token-file") {
      std::ifstream in(value);
      if (!in || !std::getline(in, options.token) || options.token.empty()) return bad("cannot read a token from " + value);
    } else if (flag == "--kubeconfig-out") {
      kubeconfig_out = value;
    } else if (flag == "--rollout-delay") {
      auto d = ParseDuration(value);
      if (!d) return bad("expected a duration such as 500ms or 2s");
      options.rollout_delay = *d;
    } else if (flag == "--bookmark-interval") {
      auto d = ParseDuration(value);
      if (!d || d->count() == 0) return bad("expected a positive duration such as 5s");
      options.bookmark_interval = *d;
    } else if (flag == "--fail-images") {
      std::stringstream parts(value);
      std::string pattern;
      while (std::getline(parts, pattern, ',')) {
        if (!pattern.empty()) options.fail_images.push_back(pattern);
      }
    } else if (flag == "--watch-history") {
      auto n = ParseCount(value, 10'000'000);
      if (!n || *n == 0) return bad("expected a positive number of events");
      options.watch_history = static_cast<std::size_t>(*n);
    } else if (flag == "--fault-latency") {
      auto d = ParseDuration(value);
      if (!d || d->count() > 600000) return bad("expected a duration up to 10m");
      options.faults.latency_ms = static_cast<int>(d->count());
    } else if (flag == "--fault-error-rate" || flag == "--fault-throttle-rate" || flag == "--fault-drop-rate") {
      auto r = ParseRate(value);
      if (!r) return bad("expected a rate from 0 to 1");
      (flag == "--fault-error-rate" ? options.faults.error_rate
       : flag == "--fault-throttle-rate" ? options.faults.throttle_rate
                                         : options.faults.drop_rate) = *r;
    } else if (flag == "--fault-retry-after") {
      auto n = ParseCount(value, 3600);
      if (!n) return bad("expected seconds from 0 to 3600");
      options.faults.retry_after_seconds = *n;
    } else if (flag == "--fault-seed") {
      auto n = ParseCount(value, 2'000'000'000);
      if (!n) return bad("expected a non-negative number");
      options.fault_seed = static_cast<std::uint32_t>(*n);
    } else if (flag == "--fault-path-prefix") {
      options.faults.path_prefix = value;
    } else {
      return UsageError(inv, "unknown flag \"" + flag + "\"; see `keelson help sandbox`");
    }
  }
  if (state_dir.empty()) return UsageError(inv, "--state-dir is required; see `keelson help sandbox`");
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return UsageError(inv, "--listen: expected HOST:PORT");
  server_options.host = listen.substr(0, colon);
  auto port = ParseCount(listen.substr(colon + 1), 65535);
  if (!port) return UsageError(inv, "--listen: port must be a number from 0 to 65535");
  server_options.port = static_cast<std::uint16_t>(*port);
  if (!MakeDirectories(state_dir)) {
    return UsageError(inv, state_dir + ": cannot create state directory: " + std::strerror(errno));
  }
  std::string ca_pem;
  if (!server_options.tls_cert_file.empty()) {
    std::ifstream in(server_options.tls_cert_file);
    std::stringstream text;
    text << in.rdbuf();
    ca_pem = text.str();
  }

  boost::asio::io_context io;
  sandbox::SandboxApi api(options);
  sandbox::SandboxServer server(io, api, server_options);
  if (Status s = server.Start(); !s.ok()) {
    inv.err << "keelson: error: " << s.error().ToString() << "\n";
    return kExitUsage;
  }
  // The API reports its own address in discovery; it is known only now.
  api.set_server_address(server.address());
  if (Status s = api.Open(state_dir + "/state.json"); !s.ok()) {
    inv.err << "keelson: error: " << s.error().ToString() << "\n";
    return kExitUsage;
  }
  if (!kubeconfig_out.empty()) {
    sandbox::KubeconfigSpec spec;
    spec.server = std::string(server.tls() ? "https://" : "http://") + server.address();
    spec.token = options.token;
    spec.ca_pem = ca_pem;
    if (Status s = sandbox::WriteKubeconfig(kubeconfig_out, spec); !s.ok()) {
      inv.err << "keelson: error: " << s.error().ToString() << "\n";
      return kExitUsage;
    }
  }
  inv.out << server.address() << std::endl;

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    server.Stop();
    io.stop();
  });
  io.run();
  if (Status s = api.SaveIfDirty(); !s.ok()) {
    inv.err << "keelson: error: " << s.error().ToString() << "\n";
    return kExitCheckFailed;
  }
  return kExitOk;
}

}  // namespace keelson::cli
