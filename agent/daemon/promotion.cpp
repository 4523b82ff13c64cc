#include "agent/daemon/promotion.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "agent/audit/audit_repository.h"
#include "agent/audit/audit_writer.h"
#include "agent/audit/trail.h"

namespace keelson::daemon {

AuditHealthHistory::AuditHealthHistory(std::string remote, source::RemoteAccess access, std::string peers_path,
                                       trust::AllowedSigners allowed)
    : remote_(std::move(remote)),
      access_(std::move(access)),
      peers_path_(std::move(peers_path)),
      allowed_(std::move(allowed)) {}

Result<bool> AuditHealthHistory::WasHealthy(std::string_view revision, std::string_view environment) const {
  std::lock_guard lock(mu_);
  std::string key = std::string(environment) + " " + std::string(revision);
  if (auto it = answers_.find(key); it != answers_.end()) return it->second;
  auto answer = [&]() -> Result<bool> {
    Result<audit::AuditRepository> repo = audit::AuditRepository::OpenOrInitBare(peers_path_);
    if (!repo.ok()) return std::move(repo).error();
    repo->set_remote_access(access_);
    std::string branch = audit::DefaultAuditBranch(environment);
    if (Status s = repo->MirrorBranch(remote_, branch); !s) {
      if (s.error().code == ErrorCode::kNotFound) return false;  // that environment recorded nothing yet
      return std::move(s).error();
    }
    Result<std::optional<audit::HealthEvidence>> evidence =
        audit::FindHealthyRecord(*repo, environment, revision, allowed_, branch);
    if (!evidence.ok()) return std::move(evidence).error();
    if (evidence->has_value()) {
      spdlog::info("promotion: {} was healthy in {} (audit record {} at {})", std::string(revision).substr(0, 12),
                   std::string(environment), (*evidence)->seq, (*evidence)->time);
      return true;
    }
    return false;
  };
  Result<bool> result = answer();
  answers_.emplace(key, result);
  return result;
}

}  // namespace keelson::daemon
