#include <iomanip>
#include <ostream>

#include "agent/cli/cli.h"
#include "agent/config/agent_config.h"
#include "agent/reconcile/unit_state.h"

namespace keelson::cli {

int RunStatus(const Invocation& inv) {
  std::string config_file;
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    if (inv.args[i] == "--config" && i + 1 < inv.args.size()) {
      config_file = inv.args[++i];
    } else {
      return UsageError(inv, "unknown argument \"" + inv.args[i] + "\"; see `keelson help status`");
    }
  }
  if (config_file.empty()) return UsageError(inv, "status needs --config FILE");
  Result<config::AgentConfig> cfg = config::LoadAgentConfig(config_file);
  if (!cfg.ok()) {
    inv.err << "keelson: error: " << cfg.error().ToString() << "\n";
    return kExitUsage;
  }
  reconcile::UnitStateStore states(cfg->state_dir + "/units");
  std::vector<std::string> units = states.Units();
  inv.out << std::left << std::setw(20) << "UNIT" << std::setw(14) << "REVISION" << std::setw(12) << "HEALTH"
          << std::setw(26) << "SIGNER" << std::setw(7) << "DRIFT" << "LAST ERROR\n";
  bool all_good = true;
  for (const std::string& name : units) {
    Result<reconcile::UnitState> s = states.Load(name);
    if (!s.ok()) {
      inv.out << std::setw(20) << name << s.error().ToString() << "\n";
      all_good = false;
      continue;
    }
    inv.out << std::setw(20) << name << std::setw(14) << s->applied_revision.substr(0, 12) << std::setw(12)
            << s->health << std::setw(26) << s->signer << std::setw(7) << s->drifted_objects << s->last_error
            << "\n";
    all_good = all_good && s->health == "Healthy" && s->drifted_objects == 0;
  }
  if (units.empty()) inv.out << "(no unit has been reconciled yet in " << cfg->state_dir << ")\n";
  return all_good && !units.empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace keelson::cli
