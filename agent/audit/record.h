// The audit record: one decision or event of the agent, as a versioned JSON
// document. Records are numbered per environment (seq 1, 2, ...) and each
// names the id of the record before it, so a gap, a reordering or an edit
// is detectable. docs/audit.md documents every field with examples.
//
// Records never carry secret values: objects appear only as a SHA-256 of
// their emitted YAML, drift only as field paths, and there is no field for
// data. Plain structs; not thread-safe beyond the usual const rules.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "renderers/manifest/object.h"
#include "renderers/manifest/result.h"

namespace keelson::audit {

// Bumped when a field changes meaning or a required field is added;
// readers refuse records with a newer schema than they know.
inline constexpr int kSchemaVersion = 1;

// One commit in the applied range (previous revision, revision].
struct CommitVerdict {
  std::string id;       // full commit id
  std::string author;   // author email
  std::string signer;   // who signed: key fingerprint or principal; "" when unsigned
  std::string verdict;  // "trusted", "untrusted" or "unsigned"
  std::string reason;   // why, when not trusted
};

// A rendered object by identity and digest; never its content.
struct ObjectDigest {
  std::string object;   // ResourceId::ToString(), e.g. "apps/v1/Deployment/prod/web"
  std::string sha256;   // hex SHA-256 over the object's emitted YAML
  bool secret = false;  // true for v1 Secret objects
};

struct PolicyDecision {
  std::string policy;  // policy name
  std::string object;  // ResourceId::ToString(), "" for a decision about the revision
  std::string effect;  // "allow", "deny" or "warn"
  std::string message;
};

struct PlanSummary {
  std::vector<std::string> created, updated, unchanged, pruned;  // ResourceId strings
};

struct WaveTiming {
  int index = 0;
  int objects = 0;
  std::int64_t duration_ms = 0;
  std::string outcome;  // "applied", "failed" or "skipped"
};

struct HealthOutcome {
  std::string status;  // "healthy", "unhealthy", "timeout" or "not_checked"
  std::int64_t duration_ms = 0;
  std::vector<std::string> unhealthy_objects;
  std::string message;
};

struct RendererInfo {
  std::string name;     // "plain", "kustomize", "helm"
  std::string version;  // keelson's renderer version
};

struct DriftedObject {
  std::string object;               // ResourceId string
  std::vector<std::string> fields;  // dotted field paths; never values
};

struct AgentStarted {
  std::string version;  // keelson version
  std::string host;
  std::string signing_key;    // "SHA256:..." fingerprint of the audit key
  std::string config_sha256;  // digest of the agent configuration file
};

struct AgentStopped {
  std::string reason;  // "SIGTERM", "config reload", ...
};

struct ReconcileStarted {
  std::string reconcile_id;
  std::string source;             // repository URL
  std::string ref;                // tracked ref, e.g. refs/heads/main
  std::string revision;           // commit being reconciled
  std::string previous_revision;  // last applied commit; "" on first apply
  std::string trigger;            // "poll", "webhook", "manual", "drift", "startup", "resync" or "gate-retry"
};

struct ReconcileFinished {
  std::string reconcile_id;
  std::string source;
  std::string ref;
  std::string revision;
  std::string previous_revision;
  std::string outcome;  // "applied", "unchanged", "denied", "failed" or "rolled_back"
  std::string author;   // author email of `revision`
  std::int64_t duration_ms = 0;
  std::vector<CommitVerdict> commits;  // every commit in (previous_revision, revision]
  RendererInfo renderer;
  std::vector<ObjectDigest> objects;
  std::vector<PolicyDecision> policy;
  PlanSummary plan;
  std::vector<WaveTiming> waves;
  HealthOutcome health;
  std::string error;  // what failed, when outcome is "failed"
};

struct Rollback {
  std::string reconcile_id;
  std::string from_revision;
  std::string to_revision;
  std::string reason;
  std::string outcome;  // "succeeded" or "failed"
  std::int64_t duration_ms = 0;
};

struct DriftDetected {
  std::vector<DriftedObject> objects;
};

struct DriftCorrected {
  std::string reconcile_id;
  std::vector<DriftedObject> objects;
};

using RecordBody = std::variant<AgentStarted, AgentStopped, ReconcileStarted, ReconcileFinished, Rollback,
                                DriftDetected, DriftCorrected>;

// "agent.started", "agent.stopped", "reconcile.started", "reconcile.finished",
// "rollback", "drift.detected", "drift.corrected".
std::string_view KindName(const RecordBody& body);

struct Record {
  int schema = kSchemaVersion;
  std::uint64_t seq = 0;    // 1, 2, 3, ... per environment
  std::string id;           // hex SHA-256 of the record's canonical JSON without "id"
  std::string previous_id;  // id of record seq-1; "" for seq 1
  std::string environment;
  std::string agent;  // the agent's name (host or configured name)
  std::string time;   // RFC 3339 UTC with milliseconds
  RecordBody body;

  std::string_view kind() const { return KindName(body); }
};

// JSON with the fields in docs/audit.md ("data" holds the body).
nlohmann::json ToJson(const Record& record);
// Reads and validates (including the id); errors name the field path.
Result<Record> RecordFromJson(const nlohmann::json& json, const std::string& where);
// Parses JSON text (at most 16 MiB, nesting at most 32) and validates it.
Result<Record> ParseRecord(std::string_view text, const std::string& where);

// Compact single-line JSON (the journal form) and the indented form stored
// in the audit commit's tree and body. Both parse back to the same record.
std::string CompactJson(const Record& record);
std::string PrettyJson(const Record& record);

// The id a record must carry.
std::string ComputeRecordId(const Record& record);

// Field formats and enums; with check_id the id must equal ComputeRecordId.
Status Validate(const Record& record, bool check_id = true);

// The commit subject: "prod: applied 3f2a91c by alice@example.com, 14
// objects, healthy in 42s".
std::string Summary(const Record& record);

// 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit;
// safe as a branch name part and a directory name.
bool IsValidEnvironmentName(std::string_view environment);

// Hex SHA-256 of bytes.
std::string Sha256Hex(std::string_view bytes);
// An object's digest entry: SHA-256 over its emitted YAML.
ObjectDigest DigestObject(const manifest::Object& object);

// RFC 3339 UTC with milliseconds ("2026-11-27T10:00:00.123Z"), and back.
// ParseTime accepts an optional fraction and "Z" or "+hh:mm" offsets.
std::string FormatTime(std::chrono::system_clock::time_point t);
Result<std::chrono::system_clock::time_point> ParseTime(std::string_view text);

}  // namespace keelson::audit
