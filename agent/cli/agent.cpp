#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <optional>
#include <ostream>
#include <thread>

#include "agent/cli/cli.h"
#include "agent/config/agent_config.h"
#include "agent/daemon/agent.h"
#include "agent/daemon/systemd_notify.h"

namespace keelson::cli {

int RunAgent(const Invocation& inv) {
  std::string config_file;
  daemon::AgentOptions options;
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    if (a == "--config" && i + 1 < inv.args.size()) {
      config_file = inv.args[++i];
    } else if (a == "--once") {
      options.once = true;
    } else if (a == "--listen" && i + 1 < inv.args.size()) {
      options.listen_override = inv.args[++i];
    } else {
      return UsageError(inv, "unknown argument \"" + a + "\"; see `keelson help agent`");
    }
  }
  if (config_file.empty()) return UsageError(inv, "agent needs --config FILE");
  Result<config::AgentConfig> cfg = config::LoadAgentConfig(config_file);
  if (!cfg.ok()) {
    inv.err << "keelson: error: " << cfg.error().ToString() << "\n";
    return kExitUsage;
  }
  // Signals go to one thread that turns them into Stop/Reload calls; every
  // other thread (created after this) inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::atomic<daemon::Agent*> current{nullptr};
  std::atomic<bool> stopping{false};
  std::thread signal_thread([&] {
    while (!stopping) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (stopping) break;
      daemon::Agent* agent = current.load();
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP: reloading {}", config_file);
        if (agent != nullptr) agent->RequestReload();
      } else {
        spdlog::info("{}: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        stopping = true;
        if (agent != nullptr) agent->Stop();
      }
    }
  });
  int rc = kExitOk;
  config::AgentConfig running = std::move(cfg).value();
  std::optional<config::AgentConfig> reloaded;  // read on SIGHUP, not yet proven to start
  while (true) {
    Result<std::unique_ptr<daemon::Agent>> agent = daemon::Agent::Create(reloaded ? *reloaded : running, options);
    // A reloaded config can parse and still not start (a trust file that
    // is missing, a source URL that is refused): the process keeps running
    // the previous one rather than exiting.
    if (reloaded && !agent.ok()) {
      spdlog::error("reload refused, keeping the running configuration: {}", agent.error().ToString());
      reloaded.reset();
      agent = daemon::Agent::Create(running, options);
    }
    if (reloaded) {
      running = std::move(*reloaded);
      reloaded.reset();
      spdlog::info("reloaded {}", config_file);
    }
    if (!agent.ok()) {
      inv.err << "keelson: error: " << agent.error().ToString() << "\n";
      rc = kExitUsage;
      break;
    }
    current = agent->get();
    if (stopping) (*agent)->Stop();
    rc = (*agent)->Run();
    current = nullptr;
    if (rc != daemon::kReloadExitCode || stopping) break;
    daemon::NotifyReloading();  // until the next agent's READY=1
    Result<config::AgentConfig> fresh = config::LoadAgentConfig(config_file);
    if (fresh.ok()) {
      reloaded = std::move(fresh).value();
    } else {  // changed again since the agent checked it
      spdlog::error("reload refused, keeping the running configuration: {}", fresh.error().ToString());
    }
  }
  stopping = true;
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  return rc == daemon::kReloadExitCode ? kExitOk : rc;
}

}  // namespace keelson::cli
