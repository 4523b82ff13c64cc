#include "policies/engine/evaluate.h"

#include <map>
#include <utility>

namespace keelson::policy {

using cel::Value;
using manifest::Node;

namespace {

// Objects of the rendered set by namespace and kind, for related() and
// selecting().
struct RelatedIndex {
  struct Group {
    Value list;                                // the objects, as a CEL list
    std::vector<const Node*> selectors;        // each object's spec.selector, or nullptr
  };
  std::map<std::pair<std::string, std::string>, Group, std::less<>> groups;
};

// What extension functions reach through Activation::host.
struct Scope {
  const RelatedIndex* index = nullptr;
  const manifest::Object* object = nullptr;
};

Value RelatedFn(std::span<const Value> args, const cel::Activation& act) {
  if (!args[0].IsString()) return Value::Error("related() needs a kind name (string)");
  const auto* scope = static_cast<const Scope*>(act.host);
  if (scope == nullptr || scope->index == nullptr) return Value::List({});
  auto it = scope->index->groups.find(std::make_pair(scope->object->id.namespace_, std::string(args[0].AsString())));
  if (it == scope->index->groups.end()) return Value::List({});
  return it->second.list;
}

bool SelectorMatches(const Value& selector, const Value& labels, std::string* error) {
  auto label = [&](std::string_view key, Value* out) { return labels.IsMap() && labels.MapFind(key, out); };
  Value match_labels;
  if (selector.MapFind("matchLabels", &match_labels)) {
    if (!match_labels.IsMap()) {
      *error = "selector.matchLabels must be a map";
      return false;
    }
    for (std::size_t i = 0; i < match_labels.MapSize(); ++i) {
      Value key = match_labels.MapKeyAt(i), want = match_labels.MapValueAt(i), have;
      if (!key.IsString() || !label(key.AsString(), &have) || !cel::Equal(have, want)) return false;
    }
  }
  Value expressions;
  if (selector.MapFind("matchExpressions", &expressions)) {
    if (!expressions.IsList()) {
      *error = "selector.matchExpressions must be a list";
      return false;
    }
    for (std::size_t i = 0; i < expressions.ListSize(); ++i) {
      Value x = expressions.ListAt(i), key, op, values, have;
      if (!x.IsMap() || !x.MapFind("key", &key) || !key.IsString() || !x.MapFind("operator", &op) || !op.IsString()) {
        *error = "selector.matchExpressions[" + std::to_string(i) + "] needs key and operator";
        return false;
      }
      bool present = label(key.AsString(), &have);
      bool in = false;
      if (present && x.MapFind("values", &values) && values.IsList()) {
        for (std::size_t k = 0; k < values.ListSize() && !in; ++k) in = cel::Equal(values.ListAt(k), have);
      }
      std::string_view o = op.AsString();
      if (o == "In" && !in) return false;
      if (o == "NotIn" && in) return false;
      if (o == "Exists" && !present) return false;
      if (o == "DoesNotExist" && present) return false;
      if (o != "In" && o != "NotIn" && o != "Exists" && o != "DoesNotExist") {
        *error = "unknown selector operator '" + std::string(o) + "'";
        return false;
      }
    }
  }
  return true;
}

// selecting(kind, labels): objects of that kind in the object's namespace
// whose spec.selector selects the labels. A selector with matchLabels or
// matchExpressions is a label selector (empty selects everything); a
// Service's selector is a plain map (empty selects nothing).
Value SelectingFn(std::span<const Value> args, const cel::Activation& act) {
  if (!args[0].IsString()) return Value::Error("selecting() needs a kind name (string)");
  if (!args[1].IsMap() && args[1].kind() != Value::Kind::kNull) return Value::Error("selecting() needs a map of labels");
  const auto* scope = static_cast<const Scope*>(act.host);
  if (scope == nullptr || scope->index == nullptr) return Value::List({});
  auto it = scope->index->groups.find(std::make_pair(scope->object->id.namespace_, std::string(args[0].AsString())));
  if (it == scope->index->groups.end()) return Value::List({});
  const RelatedIndex::Group& group = it->second;
  bool plain = args[0].AsString() == "Service";
  const Value& labels = args[1];
  auto label_equals = [&](const std::string& key, const Node& want) {
    Value have;
    return labels.IsMap() && labels.MapFind(key, &have) && cel::Equal(have, Value::FromNode(want));
  };
  std::vector<Value> out;
  for (std::size_t i = 0; i < group.selectors.size(); ++i) {
    const Node* selector = group.selectors[i];
    if (selector == nullptr || !selector->IsMapping()) continue;
    const Node* match_labels = selector->Find("matchLabels");
    const Node* expressions = selector->Find("matchExpressions");
    if (plain && match_labels == nullptr && expressions == nullptr) {
      bool all = !selector->entries().empty();
      for (const Node::Entry& e : selector->entries()) {
        if (!(all = label_equals(e.key, e.value))) break;
      }
      if (all) out.push_back(group.list.ListAt(i));
      continue;
    }
    bool selected = match_labels == nullptr || match_labels->IsMapping();
    if (selected && match_labels != nullptr) {
      for (const Node::Entry& e : match_labels->entries()) {
        if (!(selected = label_equals(e.key, e.value))) break;
      }
    }
    if (selected && expressions != nullptr) {
      std::string error;
      Value selector_value = Value::FromNode(*selector);
      selected = SelectorMatches(selector_value, labels, &error) && error.empty();
    }
    if (selected) out.push_back(group.list.ListAt(i));
  }
  return Value::List(std::move(out));
}

Value LabelSelectorMatchesFn(std::span<const Value> args, const cel::Activation&) {
  if (args[0].kind() == Value::Kind::kNull) return Value::Bool(false);
  if (!args[0].IsMap()) return Value::Error("labelSelectorMatches() needs a selector map");
  std::string error;
  bool matched = SelectorMatches(args[0], args[1], &error);
  if (!error.empty()) return Value::Error(error);
  return Value::Bool(matched);
}

template <std::string ImageReference::*Field>
Value ImagePartFn(std::span<const Value> args, const cel::Activation&) {
  if (!args[0].IsString()) return Value::Error("image functions need an image reference (string)");
  return Value::String(ParseImageReference(args[0].AsString()).*Field);
}

cel::Declarations MakeDeclarations() {
  cel::Declarations d;
  d.variables = {{"object", cel::Type::kDyn},   {"params", cel::Type::kDyn},
                 {"podSpec", cel::Type::kDyn},  {"containers", cel::Type::kList},
                 {"environment", cel::Type::kString}, {"unit", cel::Type::kString}};
  d.functions.push_back({"related", 1, false, cel::Type::kList, RelatedFn});
  d.functions.push_back({"selecting", 2, false, cel::Type::kList, SelectingFn});
  d.functions.push_back({"labelSelectorMatches", 2, false, cel::Type::kBool, LabelSelectorMatchesFn});
  d.functions.push_back({"imageRegistry", 1, false, cel::Type::kString, ImagePartFn<&ImageReference::registry>});
  d.functions.push_back({"imageRepository", 1, false, cel::Type::kString, ImagePartFn<&ImageReference::repository>});
  d.functions.push_back({"imageTag", 1, false, cel::Type::kString, ImagePartFn<&ImageReference::tag>});
  d.functions.push_back({"imageDigest", 1, false, cel::Type::kString, ImagePartFn<&ImageReference::digest>});
  return d;
}

bool AnyGlob(const std::vector<std::string>& patterns, std::string_view text) {
  for (const std::string& p : patterns) {
    if (GlobMatch(p, text)) return true;
  }
  return false;
}

std::string RenderMessage(const Policy& policy, const cel::Activation& act, const cel::EvalLimits& limits) {
  if (policy.message.empty()) return "object fails " + policy.name;
  std::string out;
  for (const MessagePart& part : policy.message) {
    if (!part.program) {
      out += part.text;
      continue;
    }
    Value v = part.program->Evaluate(act, limits);
    out += v.ToDisplayString(512);
  }
  return out;
}

}  // namespace

const cel::Declarations& PolicyDeclarations() {
  static const cel::Declarations kDeclarations = MakeDeclarations();
  return kDeclarations;
}

ImageReference ParseImageReference(std::string_view image) {
  ImageReference ref;
  std::string_view rest = image;
  if (std::size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
  }
  std::size_t slash = rest.rfind('/');
  std::size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  std::size_t first = rest.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    if (head.find('.') != std::string_view::npos || head.find(':') != std::string_view::npos || head == "localhost") {
      ref.registry = std::string(head);
      ref.repository = std::string(rest.substr(first + 1));
      return ref;
    }
  }
  ref.registry = "docker.io";
  ref.repository = first == std::string_view::npos ? "library/" + std::string(rest) : std::string(rest);
  return ref;
}

const Node* PodSpecOf(const Node& object) {
  const std::string kind = object.GetString("kind");
  const Node* spec = nullptr;
  if (kind == "Pod") {
    spec = object.Find("spec");
  } else if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" ||
             kind == "Job" || kind == "ReplicationController") {
    spec = object.FindPath({"spec", "template", "spec"});
  } else if (kind == "CronJob") {
    spec = object.FindPath({"spec", "jobTemplate", "spec", "template", "spec"});
  }
  return spec != nullptr && spec->IsMapping() ? spec : nullptr;
}

bool Matches(const Policy& policy, const manifest::Object& object, const CheckContext& context) {
  const Match& m = policy.match;
  if (!m.kinds.empty()) {
    bool any = false;
    for (const std::string& k : m.kinds) {
      if (k == "*") {
        any = true;
      } else if (std::size_t slash = k.find('/'); slash != std::string::npos) {
        any = k.compare(0, slash, object.id.group) == 0 && k.compare(slash + 1, std::string::npos, object.id.kind) == 0;
      } else {
        any = k == object.id.kind;
      }
      if (any) break;
    }
    if (!any) return false;
  }
  if (!m.namespaces.empty() && !AnyGlob(m.namespaces, object.id.namespace_)) return false;
  if (!m.exclude_namespaces.empty() && AnyGlob(m.exclude_namespaces, object.id.namespace_)) return false;
  if (!m.environments.empty() && !AnyGlob(m.environments, context.environment)) return false;
  if (!m.units.empty() && !AnyGlob(m.units, context.unit)) return false;
  if (m.has_selector && !m.label_selector.Matches(object.node.FindPath({"metadata", "labels"}))) return false;
  return true;
}

Decision DecisionFor(const CheckResult& result) {
  Decision d;
  for (const Violation& v : result.violations) {
    Reason r;
    r.gate = "policy";
    r.name = v.policy;
    r.verdict = v.severity == Severity::kDeny ? Verdict::kDeny : Verdict::kWarn;
    r.message = v.origin.file + ":" + std::to_string(v.origin.line) + ": " + v.object.kind + "/" + v.object.name + ": " +
                v.message;
    r.retry = RetryWhen::kNever;
    d.Add(std::move(r));
  }
  return d;
}

bool CheckResult::denied() const {
  for (const Violation& v : violations) {
    if (v.severity == Severity::kDeny) return true;
  }
  return false;
}

CheckResult CheckObjects(const PolicySet& policies, const manifest::ObjectList& objects, const CheckContext& context) {
  CheckResult result;
  RelatedIndex index;
  {
    std::map<std::pair<std::string, std::string>, std::vector<Value>, std::less<>> grouped;
    for (const manifest::Object& o : objects) {
      grouped[{o.id.namespace_, o.id.kind}].push_back(Value::FromNode(o.node));
      index.groups[{o.id.namespace_, o.id.kind}].selectors.push_back(o.node.FindPath({"spec", "selector"}));
    }
    for (auto& [key, list] : grouped) index.groups[key].list = Value::List(std::move(list));
  }
  std::vector<Value> params;
  params.reserve(policies.policies().size());
  for (const Policy& p : policies.policies()) params.push_back(Value::FromNode(p.parameters));

  cel::Activation act;
  act.variables.resize(kVariableCount);
  act.variables[kEnvironment] = Value::StringRef(context.environment);
  act.variables[kUnit] = Value::StringRef(context.unit);
  Scope scope;
  scope.index = &index;
  act.host = &scope;
  for (const manifest::Object& object : objects) {
    scope.object = &object;
    act.variables[kObject] = Value::FromNode(object.node);
    const Node* pod = PodSpecOf(object.node);
    act.variables[kPodSpec] = pod != nullptr ? Value::FromNode(*pod) : Value::Null();
    std::vector<Value> containers;
    if (pod != nullptr) {
      for (std::string_view field : {"containers", "initContainers", "ephemeralContainers"}) {
        const Node* list = pod->Find(field);
        if (list == nullptr || !list->IsSequence()) continue;
        for (const Node& c : list->items()) containers.push_back(Value::FromNode(c));
      }
    }
    act.variables[kContainers] = Value::List(std::move(containers));
    for (std::size_t i = 0; i < policies.policies().size(); ++i) {
      const Policy& policy = policies.policies()[i];
      if (!policy.enabled || !Matches(policy, object, context)) continue;
      act.variables[kParams] = params[i];
      ++result.evaluations;
      Value v = policy.check->Evaluate(act, context.limits);
      if (v.IsBool() && v.AsBool()) continue;
      Violation violation;
      violation.policy = policy.name;
      violation.severity = policy.severity;
      violation.object = object.id;
      violation.origin = object.origin;
      if (v.IsBool()) {
        violation.message = RenderMessage(policy, act, context.limits);
      } else if (v.IsError()) {
        violation.error = true;
        violation.message = "check failed to evaluate: " + std::string(v.ErrorMessage());
      } else {
        violation.error = true;
        violation.message = "check returned " + std::string(v.TypeName()) + ", not bool";
      }
      result.violations.push_back(std::move(violation));
    }
  }
  return result;
}

}  // namespace keelson::policy
