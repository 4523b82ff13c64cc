// Promotion evidence: "revision R was healthy in staging" read from
// staging's audit branch in the shared audit repository, so agents of
// different clusters coordinate through Git alone.
//
// Each question fetches the environment's branch (keelson/audit/<env>) from
// the audit remote into a private bare repository under the state
// directory, then verifies the whole trail (every record signed by one of
// the allowed agent keys, sequence and parent chain intact) before looking
// for a reconcile.finished record that applied R and found it healthy. A
// trail that is not intact proves nothing. Answers are remembered for the
// pass: one fetch per environment per pass.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "agent/trust/allowed_signers.h"
#include "policies/engine/gates.h"
#include "agent/source/mirror.h"
#include "renderers/manifest/result.h"

namespace keelson::daemon {

class AuditHealthHistory final : public policy::HealthHistory {
 public:
  // `remote`: the audit repository URL (agent config audit.repository) and
  // how to reach it (audit.auth); `peers_path`: where fetched trails are
  // kept; `allowed`: the agents' keys (audit.allowedAgents).
  AuditHealthHistory(std::string remote, source::RemoteAccess access, std::string peers_path,
                     trust::AllowedSigners allowed);

  Result<bool> WasHealthy(std::string_view revision, std::string_view environment) const override;

 private:
  std::string remote_;
  source::RemoteAccess access_;
  std::string peers_path_;
  trust::AllowedSigners allowed_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Result<bool>> answers_;  // "<env> <revision>"
};

}  // namespace keelson::daemon
