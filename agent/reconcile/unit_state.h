// What the agent remembers about each unit between reconciles and across
// restarts, in <state>/units/<unit>/:
//   state.json    revisions, health, last error, bad revisions
//   healthy.yaml  the objects of the last revision that became healthy
//                 (what a rollback re-applies)
//   applied.yaml  the objects last applied (what drift is compared with)
// Every file is written atomically, so kill -9 at any moment leaves either
// the old or the new version. Thread-safe for different units.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "renderers/manifest/object.h"
#include "renderers/manifest/result.h"

namespace keelson::reconcile {

struct UnitState {
  std::string unit;
  std::string applied_revision;  // last revision applied, healthy or not
  std::string healthy_revision;  // last revision that became healthy
  std::string health = "Unknown";  // Healthy, Progressing, Failed, RolledBack, Unknown
  std::string last_error;
  std::string signer;              // who signed the applied revision
  std::vector<std::string> bad_revisions;  // failed health; not retried until a new commit
  std::int64_t drifted_objects = 0;
  std::vector<std::string> drifted_fields;  // "kind/ns/name: path"
  std::string updated_at;                   // RFC 3339 UTC

  bool IsBad(const std::string& revision) const;
  std::string ToJson() const;
  static Result<UnitState> FromJson(std::string_view text, const std::string& origin);
};

class UnitStateStore {
 public:
  explicit UnitStateStore(std::string dir);  // <state>/units

  Result<UnitState> Load(const std::string& unit) const;  // a fresh state when none was stored
  Status Save(const UnitState& state);
  // Names of every unit with stored state, sorted.
  std::vector<std::string> Units() const;

  Status SaveObjects(const std::string& unit, const std::string& which, const manifest::ObjectList& objects);
  // std::nullopt when nothing was stored under `which` ("healthy" or "applied").
  Result<std::optional<manifest::ObjectList>> LoadObjects(const std::string& unit, const std::string& which) const;

 private:
  std::string dir_;
};

// Current UTC time as RFC 3339 ("2026-11-27T10:15:00Z").
std::string NowRfc3339();

}  // namespace keelson::reconcile
