#include "agent/reconcile/unit_state.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/reconcile/inventory.h"
#include "renderers/manifest/json.h"

namespace keelson::reconcile {

using manifest::Node;

bool UnitState::IsBad(const std::string& revision) const {
  return std::find(bad_revisions.begin(), bad_revisions.end(), revision) != bad_revisions.end();
}

std::string UnitState::ToJson() const {
  nlohmann::ordered_json j;
  j["unit"] = unit;
  j["appliedRevision"] = applied_revision;
  j["healthyRevision"] = healthy_revision;
  j["health"] = health;
  j["lastError"] = last_error;
  j["signer"] = signer;
  j["badRevisions"] = bad_revisions;
  j["driftedObjects"] = drifted_objects;
  j["driftedFields"] = drifted_fields;
  j["updatedAt"] = updated_at;
  return j.dump(2);
}

Result<UnitState> UnitState::FromJson(std::string_view text, const std::string& origin) {
  Result<Node> n = manifest::ParseJson(text, origin);
  if (!n.ok()) return std::move(n).error();
  UnitState s;
  s.unit = n->GetString("unit");
  s.applied_revision = n->GetString("appliedRevision");
  s.healthy_revision = n->GetString("healthyRevision");
  s.health = n->GetString("health");
  s.last_error = n->GetString("lastError");
  s.signer = n->GetString("signer");
  s.updated_at = n->GetString("updatedAt");
  if (const Node* d = n->Find("driftedObjects"); d != nullptr && d->IsInt()) s.drifted_objects = d->AsInt();
  for (const char* key : {"badRevisions", "driftedFields"}) {
    const Node* list = n->Find(key);
    if (list == nullptr || !list->IsSequence()) continue;
    for (const Node& item : list->items()) {
      if (item.IsString()) (std::string(key) == "badRevisions" ? s.bad_revisions : s.drifted_fields).push_back(item.AsString());
    }
  }
  if (s.unit.empty()) return MakeError(ErrorCode::kInvalidInput, "unit state without a unit name", Location{origin, 0, 0, {}});
  return s;
}

UnitStateStore::UnitStateStore(std::string dir) : dir_(std::move(dir)) {}

namespace {

Result<std::optional<std::string>> ReadIfExists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<std::string>();
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::optional<std::string>(buf.str());
}

}  // namespace

Result<UnitState> UnitStateStore::Load(const std::string& unit) const {
  std::string path = dir_ + "/" + unit + "/state.json";
  Result<std::optional<std::string>> text = ReadIfExists(path);
  if (!text.ok()) return std::move(text).error();
  if (!text->has_value()) {
    UnitState fresh;
    fresh.unit = unit;
    return fresh;
  }
  return UnitState::FromJson(**text, path);
}

Status UnitStateStore::Save(const UnitState& state) {
  return WriteFileAtomically(dir_ + "/" + state.unit + "/state.json", state.ToJson());
}

std::vector<std::string> UnitStateStore::Units() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    if (e.is_directory() && std::filesystem::exists(e.path() / "state.json")) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status UnitStateStore::SaveObjects(const std::string& unit, const std::string& which,
                                   const manifest::ObjectList& objects) {
  return WriteFileAtomically(dir_ + "/" + unit + "/" + which + ".yaml", manifest::EmitObjects(objects));
}

Result<std::optional<manifest::ObjectList>> UnitStateStore::LoadObjects(const std::string& unit,
                                                                        const std::string& which) const {
  std::string path = dir_ + "/" + unit + "/" + which + ".yaml";
  Result<std::optional<std::string>> text = ReadIfExists(path);
  if (!text.ok()) return std::move(text).error();
  if (!text->has_value()) return std::optional<manifest::ObjectList>();
  Result<manifest::ObjectList> objects = manifest::ParseObjects(**text, path);
  if (!objects.ok()) return std::move(objects).error();
  return std::optional<manifest::ObjectList>(std::move(objects).value());
}

std::string NowRfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace keelson::reconcile
