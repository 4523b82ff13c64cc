#include "agent/audit/record.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <initializer_list>
#include <set>

#include "renderers/manifest/yaml.h"

namespace keelson::audit {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxRecordText = std::size_t{16} * 1024 * 1024;
constexpr int kMaxNesting = 32;
constexpr std::size_t kMaxString = std::size_t{64} * 1024;

// Thrown inside this file only; RecordFromJson turns it into an Error.
struct SchemaError {
  std::string field;
  std::string message;
};

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// Reads the fields of one JSON object and refuses unknown ones, so a typo
// or a field from a newer schema does not pass unnoticed.
class Fields {
 public:
  Fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) throw SchemaError{path_, "expected an object"};
  }

  std::string Str(const char* key, bool required = true) {
    const json* v = Take(key, required);
    if (v == nullptr) return "";
    if (!v->is_string()) throw SchemaError{Join(path_, key), "expected a string"};
    const std::string& s = v->get_ref<const std::string&>();
    if (s.size() > kMaxString) throw SchemaError{Join(path_, key), "string longer than 64 KiB"};
    return s;
  }

  std::int64_t Int(const char* key, bool required = true) {
    const json* v = Take(key, required);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) throw SchemaError{Join(path_, key), "expected an integer"};
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      throw SchemaError{Join(path_, key), "integer out of range"};
    }
    return v->get<std::int64_t>();
  }

  bool Bool(const char* key) {
    const json* v = Take(key, false);
    if (v == nullptr) return false;
    if (!v->is_boolean()) throw SchemaError{Join(path_, key), "expected true or false"};
    return v->get<bool>();
  }

  // Calls fn(element, path) for every element of an optional array.
  template <typename Fn>
  void Array(const char* key, Fn fn) {
    const json* v = Take(key, false);
    if (v == nullptr) return;
    if (!v->is_array()) throw SchemaError{Join(path_, key), "expected an array"};
    for (std::size_t i = 0; i < v->size(); ++i) fn((*v)[i], Join(path_, key) + "[" + std::to_string(i) + "]");
  }

  std::vector<std::string> Strings(const char* key) {
    std::vector<std::string> out;
    Array(key, [&](const json& e, const std::string& path) {
      if (!e.is_string()) throw SchemaError{path, "expected a string"};
      out.push_back(e.get<std::string>());
    });
    return out;
  }

  const json* Object(const char* key, bool required = true) {
    const json* v = Take(key, required);
    if (v != nullptr && !v->is_object()) throw SchemaError{Join(path_, key), "expected an object"};
    return v;
  }

  std::string Path(const char* key) const { return Join(path_, key); }

  void Done() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (used_.count(it.key()) == 0) throw SchemaError{Join(path_, it.key()), "unknown field"};
    }
  }

 private:
  const json* Take(const char* key, bool required) {
    used_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (required) throw SchemaError{Join(path_, key), "missing required field"};
      return nullptr;
    }
    return &*it;
  }

  const json& j_;
  std::string path_;
  std::set<std::string> used_;
};

// Optional string fields are left out of the JSON when empty, so records
// stay short and the canonical form does not depend on defaults.
void PutIf(json& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

void PutList(json& j, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) j[key] = values;
}

json DriftedToJson(const std::vector<DriftedObject>& objects) {
  json a = json::array();
  for (const DriftedObject& d : objects) a.push_back({{"object", d.object}, {"fields", d.fields}});
  return a;
}

std::vector<DriftedObject> DriftedFromJson(Fields& f) {
  std::vector<DriftedObject> out;
  f.Array("objects", [&](const json& e, const std::string& path) {
    Fields g(e, path);
    out.push_back({g.Str("object"), g.Strings("fields")});
    g.Done();
  });
  return out;
}

json BodyToJson(const RecordBody& body) {
  json j = json::object();
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, AgentStarted>) {
          j["version"] = b.version;
          PutIf(j, "host", b.host);
          PutIf(j, "signing_key", b.signing_key);
          PutIf(j, "config_sha256", b.config_sha256);
        } else if constexpr (std::is_same_v<T, AgentStopped>) {
          j["reason"] = b.reason;
        } else if constexpr (std::is_same_v<T, ReconcileStarted>) {
          j["reconcile_id"] = b.reconcile_id;
          PutIf(j, "source", b.source);
          PutIf(j, "ref", b.ref);
          j["revision"] = b.revision;
          PutIf(j, "previous_revision", b.previous_revision);
          j["trigger"] = b.trigger;
        } else if constexpr (std::is_same_v<T, ReconcileFinished>) {
          j["reconcile_id"] = b.reconcile_id;
          PutIf(j, "source", b.source);
          PutIf(j, "ref", b.ref);
          j["revision"] = b.revision;
          PutIf(j, "previous_revision", b.previous_revision);
          j["outcome"] = b.outcome;
          PutIf(j, "author", b.author);
          j["duration_ms"] = b.duration_ms;
          json commits = json::array();
          for (const CommitVerdict& c : b.commits) {
            json cj = {{"id", c.id}, {"verdict", c.verdict}};
            PutIf(cj, "author", c.author);
            PutIf(cj, "signer", c.signer);
            PutIf(cj, "reason", c.reason);
            commits.push_back(std::move(cj));
          }
          j["commits"] = std::move(commits);
          j["renderer"] = {{"name", b.renderer.name}, {"version", b.renderer.version}};
          json objects = json::array();
          for (const ObjectDigest& o : b.objects) {
            json oj = {{"object", o.object}, {"sha256", o.sha256}};
            if (o.secret) oj["secret"] = true;
            objects.push_back(std::move(oj));
          }
          j["objects"] = std::move(objects);
          json policy = json::array();
          for (const PolicyDecision& p : b.policy) {
            json pj = {{"policy", p.policy}, {"effect", p.effect}};
            PutIf(pj, "object", p.object);
            PutIf(pj, "message", p.message);
            policy.push_back(std::move(pj));
          }
          j["policy"] = std::move(policy);
          j["plan"] = {{"created", b.plan.created},
                       {"updated", b.plan.updated},
                       {"unchanged", b.plan.unchanged},
                       {"pruned", b.plan.pruned}};
          json waves = json::array();
          for (const WaveTiming& w : b.waves) {
            waves.push_back(
                {{"index", w.index}, {"objects", w.objects}, {"duration_ms", w.duration_ms}, {"outcome", w.outcome}});
          }
          j["waves"] = std::move(waves);
          json health = {{"status", b.health.status}, {"duration_ms", b.health.duration_ms}};
          PutList(health, "unhealthy_objects", b.health.unhealthy_objects);
          PutIf(health, "message", b.health.message);
          j["health"] = std::move(health);
          PutIf(j, "error", b.error);
        } else if constexpr (std::is_same_v<T, Rollback>) {
          j["reconcile_id"] = b.reconcile_id;
          j["from_revision"] = b.from_revision;
          j["to_revision"] = b.to_revision;
          j["reason"] = b.reason;
          j["outcome"] = b.outcome;
          j["duration_ms"] = b.duration_ms;
        } else if constexpr (std::is_same_v<T, DriftDetected>) {
          j["objects"] = DriftedToJson(b.objects);
        } else if constexpr (std::is_same_v<T, DriftCorrected>) {
          j["reconcile_id"] = b.reconcile_id;
          j["objects"] = DriftedToJson(b.objects);
        }
      },
      body);
  return j;
}

RecordBody BodyFromJson(std::string_view kind, const json& data) {
  Fields f(data, "data");
  RecordBody body;
  if (kind == "agent.started") {
    AgentStarted b;
    b.version = f.Str("version");
    b.host = f.Str("host", false);
    b.signing_key = f.Str("signing_key", false);
    b.config_sha256 = f.Str("config_sha256", false);
    body = b;
  } else if (kind == "agent.stopped") {
    body = AgentStopped{f.Str("reason")};
  } else if (kind == "reconcile.started") {
    ReconcileStarted b;
    b.reconcile_id = f.Str("reconcile_id");
    b.source = f.Str("source", false);
    b.ref = f.Str("ref", false);
    b.revision = f.Str("revision");
    b.previous_revision = f.Str("previous_revision", false);
    b.trigger = f.Str("trigger");
    body = b;
  } else if (kind == "reconcile.finished") {
    ReconcileFinished b;
    b.reconcile_id = f.Str("reconcile_id");
    b.source = f.Str("source", false);
    b.ref = f.Str("ref", false);
    b.revision = f.Str("revision");
    b.previous_revision = f.Str("previous_revision", false);
    b.outcome = f.Str("outcome");
    b.author = f.Str("author", false);
    b.duration_ms = f.Int("duration_ms");
    f.Array("commits", [&](const json& e, const std::string& path) {
      Fields g(e, path);
      CommitVerdict c;
      c.id = g.Str("id");
      c.author = g.Str("author", false);
      c.signer = g.Str("signer", false);
      c.verdict = g.Str("verdict");
      c.reason = g.Str("reason", false);
      g.Done();
      b.commits.push_back(std::move(c));
    });
    if (const json* r = f.Object("renderer")) {
      Fields g(*r, f.Path("renderer"));
      b.renderer = {g.Str("name"), g.Str("version")};
      g.Done();
    }
    f.Array("objects", [&](const json& e, const std::string& path) {
      Fields g(e, path);
      ObjectDigest o;
      o.object = g.Str("object");
      o.sha256 = g.Str("sha256");
      o.secret = g.Bool("secret");
      g.Done();
      b.objects.push_back(std::move(o));
    });
    f.Array("policy", [&](const json& e, const std::string& path) {
      Fields g(e, path);
      PolicyDecision p;
      p.policy = g.Str("policy");
      p.object = g.Str("object", false);
      p.effect = g.Str("effect");
      p.message = g.Str("message", false);
      g.Done();
      b.policy.push_back(std::move(p));
    });
    if (const json* p = f.Object("plan")) {
      Fields g(*p, f.Path("plan"));
      b.plan.created = g.Strings("created");
      b.plan.updated = g.Strings("updated");
      b.plan.unchanged = g.Strings("unchanged");
      b.plan.pruned = g.Strings("pruned");
      g.Done();
    }
    f.Array("waves", [&](const json& e, const std::string& path) {
      Fields g(e, path);
      WaveTiming w;
      w.index = static_cast<int>(std::clamp<std::int64_t>(g.Int("index"), -1, 1 << 20));
      w.objects = static_cast<int>(std::clamp<std::int64_t>(g.Int("objects"), -1, 1 << 24));
      w.duration_ms = g.Int("duration_ms");
      w.outcome = g.Str("outcome");
      g.Done();
      b.waves.push_back(std::move(w));
    });
    if (const json* h = f.Object("health")) {
      Fields g(*h, f.Path("health"));
      b.health.status = g.Str("status");
      b.health.duration_ms = g.Int("duration_ms");
      b.health.unhealthy_objects = g.Strings("unhealthy_objects");
      b.health.message = g.Str("message", false);
      g.Done();
    }
    b.error = f.Str("error", false);
    body = std::move(b);
  } else if (kind == "rollback") {
    Rollback b;
    b.reconcile_id = f.Str("reconcile_id");
    b.from_revision = f.Str("from_revision");
    b.to_revision = f.Str("to_revision");
    b.reason = f.Str("reason");
    b.outcome = f.Str("outcome");
    b.duration_ms = f.Int("duration_ms");
    body = b;
  } else if (kind == "drift.detected") {
    body = DriftDetected{DriftedFromJson(f)};
  } else if (kind == "drift.corrected") {
    DriftCorrected b;
    b.reconcile_id = f.Str("reconcile_id");
    b.objects = DriftedFromJson(f);
    body = std::move(b);
  } else {
    throw SchemaError{"kind", "unknown record kind \"" + std::string(kind) + "\""};
  }
  f.Done();
  return body;
}

std::string Dump(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

bool IsHex(std::string_view s, std::size_t size) {
  return s.size() == size &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsRevision(std::string_view s) { return IsHex(s, 40) || IsHex(s, 64); }

bool OneOf(std::string_view v, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

}  // namespace

bool IsValidEnvironmentName(std::string_view env) {
  if (env.empty() || env.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(env.front()))) return false;
  return std::all_of(env.begin(), env.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

namespace {

Status Invalid(std::string field, std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message), Location{"", 0, 0, std::move(field)});
}

Status ValidateBody(const RecordBody& body) {
  auto revision = [](const std::string& field, const std::string& value, bool required) -> Status {
    if (value.empty() && !required) return Status::Ok();
    if (!IsRevision(value)) return Invalid(field, "expected a full commit id (40 or 64 hex digits)");
    return Status::Ok();
  };
  auto duration = [](const std::string& field, std::int64_t ms) -> Status {
    if (ms < 0) return Invalid(field, "duration must not be negative");
    return Status::Ok();
  };
  auto drifted = [](const std::vector<DriftedObject>& objects) -> Status {
    for (std::size_t i = 0; i < objects.size(); ++i) {
      if (objects[i].object.empty())
        return Invalid("data.objects[" + std::to_string(i) + "].object", "must not be empty");
    }
    return Status::Ok();
  };
  return std::visit(
      [&](const auto& b) -> Status {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, AgentStarted>) {
          if (b.version.empty()) return Invalid("data.version", "must not be empty");
          if (!b.config_sha256.empty() && !IsHex(b.config_sha256, 64)) {
            return Invalid("data.config_sha256", "expected 64 lowercase hex digits");
          }
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, AgentStopped>) {
          if (b.reason.empty()) return Invalid("data.reason", "must not be empty");
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, ReconcileStarted>) {
          if (b.reconcile_id.empty()) return Invalid("data.reconcile_id", "must not be empty");
          if (Status s = revision("data.revision", b.revision, true); !s) return s;
          if (Status s = revision("data.previous_revision", b.previous_revision, false); !s) return s;
          if (!OneOf(b.trigger, {"poll", "webhook", "manual", "drift", "startup", "resync", "gate-retry"})) {
            return Invalid("data.trigger", "must be poll, webhook, manual, drift, startup, resync or gate-retry");
          }
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, ReconcileFinished>) {
          if (b.reconcile_id.empty()) return Invalid("data.reconcile_id", "must not be empty");
          if (Status s = revision("data.revision", b.revision, true); !s) return s;
          if (Status s = revision("data.previous_revision", b.previous_revision, false); !s) return s;
          if (!OneOf(b.outcome, {"applied", "unchanged", "denied", "failed", "rolled_back"})) {
            return Invalid("data.outcome", "must be applied, unchanged, denied, failed or rolled_back");
          }
          if (Status s = duration("data.duration_ms", b.duration_ms); !s) return s;
          for (std::size_t i = 0; i < b.commits.size(); ++i) {
            std::string at = "data.commits[" + std::to_string(i) + "]";
            if (Status s = revision(at + ".id", b.commits[i].id, true); !s) return s;
            if (!OneOf(b.commits[i].verdict, {"trusted", "untrusted", "unsigned"})) {
              return Invalid(at + ".verdict", "must be trusted, untrusted or unsigned");
            }
          }
          if (b.renderer.name.empty()) return Invalid("data.renderer.name", "must not be empty");
          for (std::size_t i = 0; i < b.objects.size(); ++i) {
            std::string at = "data.objects[" + std::to_string(i) + "]";
            if (b.objects[i].object.empty()) return Invalid(at + ".object", "must not be empty");
            if (!IsHex(b.objects[i].sha256, 64)) return Invalid(at + ".sha256", "expected 64 lowercase hex digits");
          }
          for (std::size_t i = 0; i < b.policy.size(); ++i) {
            std::string at = "data.policy[" + std::to_string(i) + "]";
            if (b.policy[i].policy.empty()) return Invalid(at + ".policy", "must not be empty");
            if (!OneOf(b.policy[i].effect, {"allow", "deny", "warn"})) {
              return Invalid(at + ".effect", "must be allow, deny or warn");
            }
          }
          for (std::size_t i = 0; i < b.waves.size(); ++i) {
            std::string at = "data.waves[" + std::to_string(i) + "]";
            if (b.waves[i].index < 0 || b.waves[i].objects < 0)
              return Invalid(at, "index and objects must not be negative");
            if (Status s = duration(at + ".duration_ms", b.waves[i].duration_ms); !s) return s;
            if (!OneOf(b.waves[i].outcome, {"applied", "failed", "skipped"})) {
              return Invalid(at + ".outcome", "must be applied, failed or skipped");
            }
          }
          if (!OneOf(b.health.status, {"healthy", "unhealthy", "timeout", "not_checked"})) {
            return Invalid("data.health.status", "must be healthy, unhealthy, timeout or not_checked");
          }
          if (Status s = duration("data.health.duration_ms", b.health.duration_ms); !s) return s;
          if (b.outcome == "failed" && b.error.empty()) return Invalid("data.error", "a failed reconcile must say why");
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, Rollback>) {
          if (b.reconcile_id.empty()) return Invalid("data.reconcile_id", "must not be empty");
          if (Status s = revision("data.from_revision", b.from_revision, true); !s) return s;
          if (Status s = revision("data.to_revision", b.to_revision, true); !s) return s;
          if (b.reason.empty()) return Invalid("data.reason", "must not be empty");
          if (!OneOf(b.outcome, {"succeeded", "failed"})) return Invalid("data.outcome", "must be succeeded or failed");
          return duration("data.duration_ms", b.duration_ms);
        } else if constexpr (std::is_same_v<T, DriftDetected>) {
          return drifted(b.objects);
        } else {
          if (b.reconcile_id.empty()) return Invalid("data.reconcile_id", "must not be empty");
          return drifted(b.objects);
        }
      },
      body);
}

// At most kMaxNesting levels of arrays/objects, counted outside strings,
// so a hostile record cannot make the parser or the destructor recurse
// deeply.
bool NestingWithinLimit(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxNesting) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

std::string ShortRevision(const std::string& rev) { return rev.substr(0, 7); }

std::string FormatDuration(std::int64_t ms) {
  std::int64_t s = (ms + 500) / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m";
}

std::string Plural(std::size_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

}  // namespace

std::string_view KindName(const RecordBody& body) {
  static constexpr std::array<std::string_view, 7> kNames = {"agent.started",      "agent.stopped", "reconcile.started",
                                                             "reconcile.finished", "rollback",      "drift.detected",
                                                             "drift.corrected"};
  static_assert(std::variant_size_v<RecordBody> == kNames.size());
  return kNames[body.index()];
}

json ToJson(const Record& record) {
  json j = {{"schema", record.schema},
            {"seq", record.seq},
            {"id", record.id},
            {"previous_id", record.previous_id},
            {"environment", record.environment},
            {"agent", record.agent},
            {"time", record.time},
            {"kind", std::string(record.kind())},
            {"data", BodyToJson(record.body)}};
  return j;
}

std::string ComputeRecordId(const Record& record) {
  json j = ToJson(record);
  j.erase("id");
  return Sha256Hex(Dump(j, -1));
}

std::string CompactJson(const Record& record) { return Dump(ToJson(record), -1); }
std::string PrettyJson(const Record& record) { return Dump(ToJson(record), 2) + "\n"; }

Status Validate(const Record& r, bool check_id) {
  if (r.schema != kSchemaVersion) return Invalid("schema", "unsupported schema " + std::to_string(r.schema));
  if (r.seq == 0) return Invalid("seq", "sequence numbers start at 1");
  if (!IsValidEnvironmentName(r.environment)) {
    return Invalid("environment", "expected 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit");
  }
  if (r.agent.empty()) return Invalid("agent", "must not be empty");
  if (Result<std::chrono::system_clock::time_point> t = ParseTime(r.time); !t.ok()) {
    return Invalid("time", t.error().message);
  }
  if (r.seq == 1 && !r.previous_id.empty()) return Invalid("previous_id", "the first record has no previous record");
  if (r.seq > 1 && !IsHex(r.previous_id, 64)) return Invalid("previous_id", "expected 64 lowercase hex digits");
  if (Status s = ValidateBody(r.body); !s) return s;
  if (check_id && r.id != ComputeRecordId(r)) {
    return MakeError(ErrorCode::kCheckFailed, "record id does not match its content (the record was edited)",
                     Location{"", 0, 0, "id"});
  }
  return Status::Ok();
}

Result<Record> RecordFromJson(const json& j, const std::string& where) {
  Record r;
  try {
    Fields f(j, "");
    std::int64_t schema = f.Int("schema");
    if (schema > kSchemaVersion) {
      throw SchemaError{"schema", "record schema " + std::to_string(schema) + " is newer than this keelson reads (" +
                                      std::to_string(kSchemaVersion) + "); upgrade keelson"};
    }
    r.schema = static_cast<int>(schema);
    std::int64_t seq = f.Int("seq");
    if (seq < 1) throw SchemaError{"seq", "sequence numbers start at 1"};
    r.seq = static_cast<std::uint64_t>(seq);
    r.id = f.Str("id");
    r.previous_id = f.Str("previous_id", false);
    r.environment = f.Str("environment");
    r.agent = f.Str("agent");
    r.time = f.Str("time");
    std::string kind = f.Str("kind");
    const json* data = f.Object("data");
    f.Done();
    r.body = BodyFromJson(kind, *data);
  } catch (const SchemaError& e) {
    return MakeError(ErrorCode::kInvalidInput, e.message, Location{where, 0, 0, e.field});
  } catch (const json::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, e.what(), Location{where, 0, 0, ""});
  }
  if (Status s = Validate(r); !s) return std::move(s).error().InFile(where);
  return r;
}

Result<Record> ParseRecord(std::string_view text, const std::string& where) {
  if (text.size() > kMaxRecordText) {
    return MakeError(ErrorCode::kLimitExceeded, "record larger than 16 MiB", Location{where, 0, 0, ""});
  }
  if (!NestingWithinLimit(text)) {
    return MakeError(ErrorCode::kLimitExceeded, "record nests deeper than 32 levels", Location{where, 0, 0, ""});
  }
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    // parse_error for bad syntax, out_of_range for numbers like 6e338.
    return MakeError(ErrorCode::kInvalidInput, std::string("not valid JSON: ") + e.what(), Location{where, 0, 0, ""});
  }
  return RecordFromJson(j, where);
}

std::string Summary(const Record& r) {
  std::string s = r.environment + ": ";
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, AgentStarted>) {
          s += "agent started (keelson " + b.version + (b.host.empty() ? "" : " on " + b.host) + ")";
        } else if constexpr (std::is_same_v<T, AgentStopped>) {
          s += "agent stopped (" + b.reason + ")";
        } else if constexpr (std::is_same_v<T, ReconcileStarted>) {
          s += "reconciling " + ShortRevision(b.revision) + " (" + b.trigger + ")";
        } else if constexpr (std::is_same_v<T, ReconcileFinished>) {
          std::string by = b.author.empty() ? "" : " by " + b.author;
          std::string objects = Plural(b.objects.size(), "object");
          std::string health;
          if (b.health.status == "healthy")
            health = "healthy in " + FormatDuration(b.health.duration_ms);
          else if (b.health.status == "unhealthy")
            health = "unhealthy after " + FormatDuration(b.health.duration_ms);
          else if (b.health.status == "timeout")
            health = "not healthy within " + FormatDuration(b.health.duration_ms);
          else
            health = "health not checked";
          if (b.outcome == "applied") {
            s += "applied " + ShortRevision(b.revision) + by + ", " + objects + ", " + health;
          } else if (b.outcome == "unchanged") {
            s += ShortRevision(b.revision) + " unchanged, " + objects;
          } else if (b.outcome == "denied") {
            std::size_t denials = static_cast<std::size_t>(std::count_if(
                b.policy.begin(), b.policy.end(), [](const PolicyDecision& p) { return p.effect == "deny"; }));
            s += "denied " + ShortRevision(b.revision) + by + ": " + Plural(denials, "policy denial");
          } else if (b.outcome == "rolled_back") {
            s += "applied " + ShortRevision(b.revision) + by + ", " + objects + ", " + health + ", rolled back";
          } else {
            std::string first_line = b.error.substr(0, b.error.find('\n'));
            if (first_line.size() > 80) first_line = first_line.substr(0, 77) + "...";
            s += "failed to apply " + ShortRevision(b.revision) + by + ": " + first_line;
          }
        } else if constexpr (std::is_same_v<T, Rollback>) {
          s += "rolled back " + ShortRevision(b.from_revision) + " to " + ShortRevision(b.to_revision) + " (" +
               b.outcome + ")";
        } else if constexpr (std::is_same_v<T, DriftDetected>) {
          s += "drift in " + Plural(b.objects.size(), "object");
          if (!b.objects.empty()) s += " (" + b.objects.front().object + (b.objects.size() > 1 ? ", ...)" : ")");
        } else {
          s += "corrected drift in " + Plural(b.objects.size(), "object");
        }
      },
      r.body);
  // A subject is one line: newlines in free text would start the body.
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

ObjectDigest DigestObject(const manifest::Object& object) {
  return ObjectDigest{object.id.ToString(), Sha256Hex(manifest::EmitYaml(object.node)),
                      object.id.group.empty() && object.id.kind == "Secret"};
}

std::string FormatTime(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

Result<std::chrono::system_clock::time_point> ParseTime(std::string_view text) {
  auto bad = [&]() {
    return MakeError(ErrorCode::kInvalidInput, "expected an RFC 3339 time such as 2026-11-27T10:00:00Z, got \"" +
                                                   std::string(text.substr(0, 64)) + "\"");
  };
  auto digits = [&](std::size_t pos, std::size_t n, int* out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, &year) || text.size() < 20 || text[4] != '-' || !digits(5, 2, &month) || text[7] != '-' ||
      !digits(8, 2, &day) || (text[10] != 'T' && text[10] != 't') || !digits(11, 2, &hour) || text[13] != ':' ||
      !digits(14, 2, &minute) || text[16] != ':' || !digits(17, 2, &second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return bad();
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += std::int64_t{text[pos] - '0'} * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return bad();
  }
  std::int64_t offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' || !digits(pos + 4, 2, &om)) {
      return bad();
    }
    offset_minutes = (std::int64_t{oh} * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                  std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return bad();
  // Milliseconds hold any four-digit year; the clock's nanoseconds only
  // reach 1677-09-21..2262-04-11, and converting beyond that overflows.
  std::chrono::sys_time<std::chrono::milliseconds> t =
      std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
      std::chrono::seconds(second) + std::chrono::milliseconds(millis) - std::chrono::minutes(offset_minutes);
  using Clock = std::chrono::system_clock;
  auto earliest = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::min().time_since_epoch());
  auto latest = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max().time_since_epoch());
  if (t.time_since_epoch() < earliest || t.time_since_epoch() > latest) {
    return MakeError(ErrorCode::kInvalidInput,
                     "time \"" + std::string(text.substr(0, 64)) + "\" is outside the range the clock holds (" +
                         FormatTime(Clock::time_point::min()) + " to " + FormatTime(Clock::time_point::max()) + ")");
  }
  return std::chrono::time_point_cast<Clock::duration>(t);
}

}  // namespace keelson::audit
