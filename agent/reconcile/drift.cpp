#include "agent/reconcile/drift.h"

#include "renderers/manifest/json.h"

namespace keelson::reconcile {

using manifest::Node;

namespace {

bool SameValue(const Node& a, const Node& b) {
  if ((a.IsInt() || a.IsFloat()) && (b.IsInt() || b.IsFloat())) {
    double x = a.IsInt() ? static_cast<double>(a.AsInt()) : a.AsFloat();
    double y = b.IsInt() ? static_cast<double>(b.AsInt()) : b.AsFloat();
    return x == y;
  }
  return a == b;
}

bool NamedList(const Node& list) {
  if (!list.IsSequence() || list.empty()) return false;
  for (const Node& item : list.items()) {
    if (!item.IsMapping()) return false;
    const Node* name = item.Find("name");
    if (name == nullptr || !name->IsString()) return false;
  }
  return true;
}

void Compare(const Node& applied, const Node& live, const std::string& path, std::vector<DriftedField>* out);

void Report(const Node& applied, const Node* live, const std::string& path, std::vector<DriftedField>* out) {
  out->push_back(DriftedField{path, manifest::EmitJson(applied), live ? manifest::EmitJson(*live) : "<missing>"});
}

void CompareMapping(const Node& applied, const Node& live, const std::string& path, std::vector<DriftedField>* out) {
  for (const Node::Entry& e : applied.entries()) {
    std::string child = path.empty() ? e.key : path + "." + e.key;
    const Node* l = live.Find(e.key);
    if (l == nullptr) {
      if (!e.value.IsNull()) Report(e.value, nullptr, child, out);
      continue;
    }
    Compare(e.value, *l, child, out);
  }
}

void Compare(const Node& applied, const Node& live, const std::string& path, std::vector<DriftedField>* out) {
  if (applied.IsMapping() && live.IsMapping()) {
    CompareMapping(applied, live, path, out);
    return;
  }
  if (applied.IsSequence() && live.IsSequence() && NamedList(applied) && NamedList(live)) {
    for (const Node& item : applied.items()) {
      std::string name = item.GetString("name");
      std::string child = path + "[name=" + name + "]";
      const Node* match = nullptr;
      for (const Node& l : live.items()) {
        if (l.GetString("name") == name) match = &l;
      }
      if (match == nullptr) {
        Report(item, nullptr, child, out);
      } else {
        CompareMapping(item, *match, child, out);
      }
    }
    return;
  }
  if (applied.IsSequence() && live.IsSequence() && applied.size() == live.size()) {
    // Items may carry server defaults (e.g. ports' protocol): compare each
    // item by the applied fields only.
    for (std::size_t i = 0; i < applied.size(); ++i) {
      const Node& a = applied.items()[i];
      const Node& l = live.items()[i];
      if (a.IsMapping() && l.IsMapping()) {
        CompareMapping(a, l, path + "[" + std::to_string(i) + "]", out);
      } else if (!SameValue(a, l)) {
        Report(applied, &live, path, out);
        return;
      }
    }
    return;
  }
  if (!SameValue(applied, live)) Report(applied, &live, path, out);
}

}  // namespace

std::vector<DriftedField> FindDrift(const Node& applied, const Node& live) {
  std::vector<DriftedField> out;
  if (!applied.IsMapping() || !live.IsMapping()) return out;
  for (const Node::Entry& e : applied.entries()) {
    if (e.key == "apiVersion" || e.key == "kind" || e.key == "status") continue;
    const Node* l = live.Find(e.key);
    if (e.key == "metadata") {
      for (const char* field : {"labels", "annotations"}) {
        const Node* a = e.value.Find(field);
        if (a == nullptr) continue;
        const Node* lf = l != nullptr ? l->Find(field) : nullptr;
        std::string path = std::string("metadata.") + field;
        if (lf == nullptr) {
          Report(*a, nullptr, path, &out);
        } else {
          Compare(*a, *lf, path, &out);
        }
      }
      continue;
    }
    if (l == nullptr) {
      if (!e.value.IsNull()) Report(e.value, nullptr, e.key, &out);
      continue;
    }
    Compare(e.value, *l, e.key, &out);
  }
  return out;
}

}  // namespace keelson::reconcile
