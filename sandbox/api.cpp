#include "sandbox/api.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"
#include "sandbox/fields.h"

namespace keelson::sandbox {

namespace {

constexpr int kMaxBodyDepth = 100;
constexpr std::size_t kMaxListLimit = 100000;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string UrlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view part = query.substr(start, end - start);
    if (!part.empty()) {
      std::size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out[UrlDecode(part)] = "";
      } else {
        out[UrlDecode(part.substr(0, eq))] = UrlDecode(part.substr(eq + 1));
      }
    }
    if (end == query.size()) break;
    start = end + 1;
  }
  return out;
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.push_back(UrlDecode(path.substr(i, j - i)));
    i = j;
  }
  return parts;
}

std::string QueryValue(const std::map<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? "" : it->second;
}

bool QueryTrue(const std::map<std::string, std::string>& q, const std::string& key) {
  std::string v = QueryValue(q, key);
  return q.count(key) != 0 && (v == "true" || v == "1" || v.empty());
}

ApiResponse JsonResponse(int status, const Json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

ApiResponse StatusResponse(int code, const std::string& reason, const std::string& message,
                           const Json& details = Json()) {
  Json status = Json::object();
  status["kind"] = "Status";
  status["apiVersion"] = "v1";
  status["metadata"] = Json::object();
  status["status"] = "Failure";
  status["message"] = message;
  status["reason"] = reason;
  if (!details.is_null()) status["details"] = details;
  status["code"] = code;
  return JsonResponse(code, status);
}

Json Details(const ResourceType& type, const std::string& name) {
  Json d = Json::object();
  if (!name.empty()) d["name"] = name;
  if (!type.group.empty()) d["group"] = type.group;
  d["kind"] = type.plural;
  return d;
}

ApiResponse NotFound(const ResourceType& type, const std::string& name) {
  return StatusResponse(404, "NotFound", type.GroupResource() + " \"" + name + "\" not found", Details(type, name));
}

ApiResponse BadRequest(const std::string& message) { return StatusResponse(400, "BadRequest", message); }

ApiResponse Invalid(const ResourceType& type, const std::string& name, const std::string& field,
                    const std::string& message) {
  Json details = Details(type, name);
  details["kind"] = type.kind;
  details["causes"] = Json::array({Json{{"reason", "FieldValueInvalid"}, {"message", message}, {"field", field}}});
  return StatusResponse(422, "Invalid",
                        type.kind + " \"" + name + "\" is invalid: " + field + ": Invalid value: " + message,
                        details);
}

const Json* Field(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string StringField(const Json& object, const char* key) {
  const Json* v = Field(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

bool ValidName(const std::string& name, bool label) {
  if (name.empty() || name.size() > (label ? 63u : 253u)) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (!label && c == '.');
    if (!ok) return false;
  }
  return std::isalnum(static_cast<unsigned char>(name.front())) &&
         std::isalnum(static_cast<unsigned char>(name.back()));
}

// Parses a request body as JSON, or YAML for apply patches.
Result<Json> ParseBody(const std::string& body, bool yaml) {
  Json parsed;
  if (yaml) {
    manifest::ParseOptions options;
    options.file = "request body";
    options.max_input_bytes = body.size() + 1;
    options.max_nodes = 200000;
    options.max_alias_bytes = 4u << 20;
    Result<manifest::Node> node = manifest::ParseYaml(body, options);
    if (!node.ok()) return std::move(node).error();
    parsed = manifest::ToJson(*node);
  } else {
    parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return MakeError(ErrorCode::kInvalidInput, "request body is not valid JSON");
  }
  if (JsonDepth(parsed, kMaxBodyDepth) > kMaxBodyDepth) {
    return MakeError(ErrorCode::kLimitExceeded, "request body nested deeper than 100 levels");
  }
  return parsed;
}

std::string ManagerFor(const ApiRequest& request, const std::map<std::string, std::string>& q) {
  std::string manager = QueryValue(q, "fieldManager");
  if (!manager.empty()) return manager;
  // As the API server does: the user agent up to the first "/".
  std::string agent = request.user_agent.substr(0, request.user_agent.find('/'));
  return agent.empty() ? "unknown" : agent.substr(0, 128);
}

Json WithoutVolatile(Json object) {
  if (object.contains("metadata") && object["metadata"].is_object()) {
    object["metadata"].erase("managedFields");
    object["metadata"].erase("resourceVersion");
  }
  return object;
}

Json SpecOf(const Json& object) {
  Json copy = object;
  if (copy.is_object()) {
    copy.erase("metadata");
    copy.erase("status");
  }
  return copy;
}

bool IsStringMap(const Json& value) {
  if (!value.is_object()) return false;
  for (const Json& v : value) {
    if (!v.is_string()) return false;
  }
  return true;
}

// The type checks a real server's schema would make on the fields the
// sandbox itself reads (metadata, replicas, pod templates), so that a
// malformed object is refused with 422 instead of reaching the controllers.
// Returns "field: message" or "".
std::string ValidationProblem(const ResourceType& type, const Json& object) {
  const Json& metadata = object["metadata"];
  for (const char* k : {"name", "namespace", "generateName", "resourceVersion", "uid"}) {
    const Json* v = Field(metadata, k);
    if (v != nullptr && !v->is_string()) return std::string("metadata.") + k + ": must be a string";
  }
  for (const char* k : {"labels", "annotations"}) {
    const Json* v = Field(metadata, k);
    if (v != nullptr && !v->is_null() && !IsStringMap(*v)) {
      return std::string("metadata.") + k + ": must be a map of strings";
    }
  }
  if (const Json* f = Field(metadata, "finalizers"); f != nullptr && !f->is_null()) {
    if (!f->is_array()) return "metadata.finalizers: must be a list of strings";
    for (const Json& item : *f) {
      if (!item.is_string()) return "metadata.finalizers: must be a list of strings";
    }
  }
  if (const Json* m = Field(metadata, "managedFields"); m != nullptr && !m->is_null() && !m->is_array()) {
    return "metadata.managedFields: must be a list";
  }
  const Json* status = Field(object, "status");
  if (status != nullptr && !status->is_null() && !status->is_object()) return "status: must be an object";
  if (status != nullptr && status->is_object()) {
    if (const Json* c = Field(*status, "conditions"); c != nullptr && !c->is_null()) {
      if (!c->is_array()) return "status.conditions: must be a list";
      for (const Json& item : *c) {
        if (!item.is_object()) return "status.conditions: items must be objects";
      }
    }
  }
  if (type.custom) return "";
  const Json* spec = Field(object, "spec");
  if (spec != nullptr && !spec->is_null() && !spec->is_object()) return "spec: must be an object";
  if (spec == nullptr || !spec->is_object()) return "";
  for (const char* k : {"replicas", "completions", "parallelism", "backoffLimit", "revisionHistoryLimit",
                        "progressDeadlineSeconds"}) {
    const Json* v = Field(*spec, k);
    if (v != nullptr && !v->is_null() && (!v->is_number_integer() || v->get<std::int64_t>() < 0)) {
      return std::string("spec.") + k + ": must be a non-negative integer";
    }
  }
  for (const char* k : {"suspend"}) {
    const Json* v = Field(*spec, k);
    if (v != nullptr && !v->is_null() && !v->is_boolean()) return std::string("spec.") + k + ": must be a boolean";
  }
  const Json* pod = nullptr;
  std::string where = "spec.template.spec";
  if (const Json* t = Field(*spec, "template"); t != nullptr && !t->is_null()) {
    if (!t->is_object()) return "spec.template: must be an object";
    pod = Field(*t, "spec");
  }
  if (type.kind == "CronJob") {
    const Json* job = Field(*spec, "jobTemplate");
    const Json* job_spec = job != nullptr ? Field(*job, "spec") : nullptr;
    const Json* t = job_spec != nullptr ? Field(*job_spec, "template") : nullptr;
    pod = t != nullptr ? Field(*t, "spec") : nullptr;
    where = "spec.jobTemplate.spec.template.spec";
  }
  if (pod != nullptr && !pod->is_null()) {
    if (!pod->is_object()) return where + ": must be an object";
    for (const char* list : {"containers", "initContainers"}) {
      const Json* containers = Field(*pod, list);
      if (containers == nullptr || containers->is_null()) continue;
      if (!containers->is_array()) return where + "." + list + ": must be a list";
      for (const Json& c : *containers) {
        if (!c.is_object()) return where + "." + list + ": items must be objects";
        for (const char* k : {"name", "image", "imagePullPolicy"}) {
          const Json* v = Field(c, k);
          if (v != nullptr && !v->is_string()) return where + "." + list + "[]." + k + ": must be a string";
        }
        if (const Json* ports = Field(c, "ports"); ports != nullptr && !ports->is_null()) {
          if (!ports->is_array()) return where + "." + list + "[].ports: must be a list";
          for (const Json& p : *ports) {
            if (!p.is_object()) return where + "." + list + "[].ports: items must be objects";
          }
        }
      }
    }
  }
  if (type.kind == "Service") {
    for (const char* k : {"type", "clusterIP", "sessionAffinity"}) {
      const Json* v = Field(*spec, k);
      if (v != nullptr && !v->is_null() && !v->is_string()) return std::string("spec.") + k + ": must be a string";
    }
    if (const Json* ports = Field(*spec, "ports"); ports != nullptr && !ports->is_null()) {
      if (!ports->is_array()) return "spec.ports: must be a list";
      for (const Json& p : *ports) {
        if (!p.is_object()) return "spec.ports: items must be objects";
      }
    }
  }
  if (type.kind == "Deployment" || type.kind == "StatefulSet" || type.kind == "DaemonSet") {
    for (const char* k : {"strategy", "updateStrategy"}) {
      const Json* v = Field(*spec, k);
      if (v == nullptr || v->is_null()) continue;
      if (!v->is_object()) return std::string("spec.") + k + ": must be an object";
      const Json* t = Field(*v, "type");
      if (t != nullptr && !t->is_string()) return std::string("spec.") + k + ".type: must be a string";
      const Json* r = Field(*v, "rollingUpdate");
      if (r != nullptr && !r->is_null() && !r->is_object()) {
        return std::string("spec.") + k + ".rollingUpdate: must be an object";
      }
    }
  }
  return "";
}

}  // namespace

std::string FormatTime(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

bool GlobMatches(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<LabelSelector> ParseLabelSelector(std::string_view text) {
  LabelSelector selector;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  auto word = [&]() {
    skip();
    std::size_t start = i;
    while (i < text.size() && text[i] != ',' && text[i] != ' ' && text[i] != '=' && text[i] != '!' &&
           text[i] != '(' && text[i] != ')') {
      ++i;
    }
    return std::string(text.substr(start, i - start));
  };
  auto fail = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidInput,
                     "unable to parse requirement: " + why + " in label selector \"" + std::string(text) + "\"");
  };
  while (true) {
    skip();
    if (i >= text.size()) break;
    LabelRequirement req;
    if (text[i] == '!') {
      ++i;
      req.key = word();
      req.op = LabelRequirement::Op::kNotExists;
      if (req.key.empty()) return fail("missing key after !");
    } else {
      req.key = word();
      if (req.key.empty()) return fail("missing key");
      skip();
      if (i >= text.size() || text[i] == ',') {
        req.op = LabelRequirement::Op::kExists;
      } else if (text.substr(i, 2) == "==" || text.substr(i, 2) == "!=" || text[i] == '=') {
        if (text[i] == '!') {
          req.op = LabelRequirement::Op::kNotEquals;
          i += 2;
        } else {
          req.op = LabelRequirement::Op::kEquals;
          i += text.substr(i, 2) == "==" ? 2 : 1;
        }
        req.values.push_back(word());
      } else {
        std::string op = word();
        if (op == "in") {
          req.op = LabelRequirement::Op::kIn;
        } else if (op == "notin") {
          req.op = LabelRequirement::Op::kNotIn;
        } else {
          return fail("unknown operator \"" + op + "\"");
        }
        skip();
        if (i >= text.size() || text[i] != '(') return fail("expected (");
        ++i;
        while (true) {
          std::string v = word();
          skip();
          if (!v.empty()) req.values.push_back(v);
          if (i < text.size() && text[i] == ',') {
            ++i;
            continue;
          }
          if (i < text.size() && text[i] == ')') {
            ++i;
            break;
          }
          return fail("expected )");
        }
      }
    }
    selector.push_back(std::move(req));
    skip();
    if (i < text.size()) {
      if (text[i] != ',') return fail("expected ,");
      ++i;
    }
    if (selector.size() > 100) return fail("too many requirements");
  }
  return selector;
}

bool SelectorMatches(const LabelSelector& selector, const Json& object) {
  const Json* metadata = Field(object, "metadata");
  const Json* labels = metadata != nullptr ? Field(*metadata, "labels") : nullptr;
  for (const LabelRequirement& req : selector) {
    const Json* value = labels != nullptr ? Field(*labels, req.key.c_str()) : nullptr;
    std::string text = value != nullptr && value->is_string() ? value->get<std::string>() : "";
    bool has = value != nullptr;
    bool in = std::find(req.values.begin(), req.values.end(), text) != req.values.end();
    switch (req.op) {
      case LabelRequirement::Op::kEquals:
      case LabelRequirement::Op::kIn:
        if (!has || !in) return false;
        break;
      case LabelRequirement::Op::kNotEquals:
      case LabelRequirement::Op::kNotIn:
        if (has && in) return false;
        break;
      case LabelRequirement::Op::kExists:
        if (!has) return false;
        break;
      case LabelRequirement::Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

Json FaultConfig::ToJson() const {
  return Json{{"latencyMs", latency_ms},       {"errorRate", error_rate},     {"throttleRate", throttle_rate},
              {"retryAfterSeconds", retry_after_seconds}, {"dropRate", drop_rate}, {"errorCount", error_count},
              {"throttleCount", throttle_count}, {"dropCount", drop_count}, {"pathPrefix", path_prefix}};
}

Status FaultConfig::MergeFrom(const Json& json) {
  if (!json.is_object()) return MakeError(ErrorCode::kInvalidInput, "fault configuration must be a JSON object");
  FaultConfig next = *this;
  for (auto it = json.begin(); it != json.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    auto rate = [&](double* out) -> Status {
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) {
        return MakeError(ErrorCode::kInvalidInput, "must be a number from 0 to 1", {"", 0, 0, k});
      }
      *out = v.get<double>();
      return Status::Ok();
    };
    auto count = [&](int* out, int max) -> Status {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > max) {
        return MakeError(ErrorCode::kInvalidInput, "must be an integer from 0 to " + std::to_string(max),
                         {"", 0, 0, k});
      }
      *out = static_cast<int>(v.get<std::int64_t>());
      return Status::Ok();
    };
    Status s;
    if (k == "latencyMs") {
      s = count(&next.latency_ms, 600000);
    } else if (k == "errorRate") {
      s = rate(&next.error_rate);
    } else if (k == "throttleRate") {
      s = rate(&next.throttle_rate);
    } else if (k == "dropRate") {
      s = rate(&next.drop_rate);
    } else if (k == "retryAfterSeconds") {
      s = count(&next.retry_after_seconds, 3600);
    } else if (k == "errorCount") {
      s = count(&next.error_count, 1000000);
    } else if (k == "throttleCount") {
      s = count(&next.throttle_count, 1000000);
    } else if (k == "dropCount") {
      s = count(&next.drop_count, 1000000);
    } else if (k == "pathPrefix") {
      if (!v.is_string()) return MakeError(ErrorCode::kInvalidInput, "must be a string", {"", 0, 0, k});
      next.path_prefix = v.get<std::string>();
    } else {
      return MakeError(ErrorCode::kInvalidInput, "unknown fault setting", {"", 0, 0, k});
    }
    if (!s.ok()) return s;
  }
  *this = next;
  return Status::Ok();
}

struct SandboxApi::Target {
  std::string group;
  std::string version;
  std::string ns;
  std::string resource;
  std::string name;
  std::string subresource;
};

SandboxApi::SandboxApi(SandboxOptions options, Clock clock)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      store_(options_.watch_history),
      random_(std::random_device{}()),
      fault_random_(options_.fault_seed != 0 ? options_.fault_seed : std::random_device{}()) {}

std::string SandboxApi::Now() const { return FormatTime(clock_()); }

std::string SandboxApi::NewUid() {
  std::uint64_t a = random_(), b = random_();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buffer;
}

Status SandboxApi::Open(const std::string& state_file) {
  state_file_ = state_file;
  if (!state_file.empty()) {
    if (Status s = store_.Load(state_file); !s.ok()) return s;
  }
  store_.Scan("apiextensions.k8s.io/customresourcedefinitions", "", "", [&](const std::string&, const Json& crd) {
    std::string message;
    if (!registry_.AddCustom(crd, &message)) return true;  // a stored CRD that no longer registers stays inert
    return true;
  });
  const ResourceType* ns_type = registry_.Find("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (store_.Get(ns_type->StorageKey(), "", name) != nullptr) continue;
    Json ns = Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", Json{{"name", name}}}};
    WriteResult w = Admit(*ns_type, "", nullptr, std::move(ns), "", "keelson-sandbox", true, false);
    if (w.error.status != 200) return MakeError(ErrorCode::kInternal, "cannot create namespace " + std::string(name));
  }
  return SaveIfDirty();
}

Status SandboxApi::SaveIfDirty() {
  if (state_file_.empty() || !store_.dirty()) return Status::Ok();
  Status s = store_.Save(state_file_);
  if (s.ok()) store_.clear_dirty();
  return s;
}

bool SandboxApi::IsPublicPath(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version";
}

bool SandboxApi::Authorized(const ApiRequest& request) const {
  if (options_.token.empty()) return true;
  const std::string prefix = "Bearer ";
  if (request.authorization.size() != prefix.size() + options_.token.size() ||
      request.authorization.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  return CRYPTO_memcmp(request.authorization.data() + prefix.size(), options_.token.data(),
                       options_.token.size()) == 0;
}

FaultDecision SandboxApi::DecideFault(const std::string& target) {
  FaultDecision d;
  std::string path = target.substr(0, target.find('?'));
  if (path.starts_with("/sandbox/") || IsPublicPath(path)) return d;
  FaultConfig& f = options_.faults;
  if (!path.starts_with(f.path_prefix)) return d;
  d.latency_ms = f.latency_ms;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (f.drop_count > 0) {
    --f.drop_count;
    d.action = FaultAction::kDrop;
  } else if (f.error_count > 0) {
    --f.error_count;
    d.action = FaultAction::kError;
  } else if (f.throttle_count > 0) {
    --f.throttle_count;
    d.action = FaultAction::kThrottle;
  } else if (f.drop_rate > 0 && unit(fault_random_) < f.drop_rate) {
    d.action = FaultAction::kDrop;
  } else if (f.error_rate > 0 && unit(fault_random_) < f.error_rate) {
    d.action = FaultAction::kError;
  } else if (f.throttle_rate > 0 && unit(fault_random_) < f.throttle_rate) {
    d.action = FaultAction::kThrottle;
  }
  return d;
}

void SandboxApi::LogRequest(const std::string& method, const std::string& target, int status) {
  RequestLogEntry e;
  e.sequence = ++request_sequence_;
  auto now = clock_();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::string t = FormatTime(now);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms));
  t.insert(t.size() - 1, frac);
  e.time = t;
  e.method = method;
  std::size_t q = target.find('?');
  e.path = target.substr(0, q);
  e.query = q == std::string::npos ? "" : target.substr(q + 1);
  e.status = status;
  request_log_.push_back(std::move(e));
  while (request_log_.size() > options_.request_log_limit) request_log_.pop_front();
}

HandleResult SandboxApi::Handle(const ApiRequest& request) {
  HandleResult result;
  try {
    result.response = Route(request, &result.watch);
  } catch (const std::exception& e) {
    // A broken invariant in a handler must not take the server down; the
    // client sees an internal error naming it.
    result.watch.reset();
    result.response = StatusResponse(500, "InternalError", std::string("internal error: ") + e.what());
  }
  return result;
}

ApiResponse SandboxApi::Route(const ApiRequest& request, std::optional<WatchPlan>* watch) {
  std::string path = request.target.substr(0, request.target.find('?'));
  std::string query = request.target.size() > path.size() ? request.target.substr(path.size() + 1) : "";
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    ApiResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok";
    return r;
  }
  if (path == "/version") {
    return JsonResponse(200, Json{{"major", "1"},
                                  {"minor", "32"},
                                  {"gitVersion", "v1.32.0-keelson-sandbox"},
                                  {"gitCommit", ""},
                                  {"gitTreeState", "clean"},
                                  {"buildDate", "2026-01-01T00:00:00Z"},
                                  {"goVersion", "none"},
                                  {"compiler", "keelson"},
                                  {"platform", "linux/amd64"}});
  }
  if (!Authorized(request)) return StatusResponse(401, "Unauthorized", "Unauthorized");
  if (path.starts_with("/sandbox/")) return HandleAdmin(request, path, query);
  bool aggregated = request.accept.find("as=APIGroupDiscoveryList") != std::string::npos;
  std::vector<std::string> parts = SplitPath(path);
  if (request.method != "GET" && (parts.size() < 2 || parts[0] == "openapi")) {
    return StatusResponse(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }
  if (parts.size() == 1 && parts[0] == "api") return CoreVersions(aggregated);
  if (parts.size() == 1 && parts[0] == "apis") return GroupList(aggregated);
  if (!parts.empty() && parts[0] == "openapi") {
    if (parts.size() == 2 && parts[1] == "v3") return OpenApiIndex();
    if (parts.size() >= 3 && parts[1] == "v3") {
      std::string rest;
      for (std::size_t i = 2; i < parts.size(); ++i) rest += (i > 2 ? "/" : "") + parts[i];
      return OpenApiDocument(rest);
    }
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  Target t;
  std::size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    t.version = parts[1];
    i = 2;
  } else if (parts.size() >= 2 && parts[0] == "apis") {
    t.group = parts[1];
    if (parts.size() == 2) return GroupInfo(t.group);
    t.version = parts[2];
    i = 3;
  } else {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  if (i == parts.size()) return ResourceList(t.group, t.version);
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());
  if (rest.size() >= 3 && rest[0] == "namespaces" &&
      !(rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    t.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.size() > 3) return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  t.resource = rest[0];
  if (rest.size() > 1) t.name = rest[1];
  if (rest.size() > 2) t.subresource = rest[2];
  return HandleResource(request, t, watch);
}

ApiResponse SandboxApi::HandleAdmin(const ApiRequest& request, const std::string& path, const std::string& query) {
  auto q = ParseQuery(query);
  if (path == "/sandbox/faults") {
    if (request.method == "GET") return JsonResponse(200, options_.faults.ToJson());
    if (request.method == "PUT" || request.method == "PATCH" || request.method == "POST") {
      Result<Json> body = ParseBody(request.body, false);
      if (!body.ok()) return BadRequest(body.error().ToString());
      FaultConfig next = request.method == "PUT" ? FaultConfig{} : options_.faults;
      if (Status s = next.MergeFrom(*body); !s.ok()) return BadRequest(s.error().ToString());
      options_.faults = next;
      return JsonResponse(200, options_.faults.ToJson());
    }
  } else if (path == "/sandbox/requests") {
    if (request.method == "GET") {
      std::uint64_t since = 0;
      std::string s = QueryValue(q, "since");
      if (!s.empty()) {
        try {
          since = std::stoull(s);
        } catch (const std::exception&) {
          return BadRequest("since must be a number");
        }
      }
      Json items = Json::array();
      for (const RequestLogEntry& e : request_log_) {
        if (e.sequence <= since) continue;
        items.push_back(Json{{"sequence", e.sequence}, {"time", e.time},     {"method", e.method},
                             {"path", e.path},         {"query", e.query},   {"status", e.status}});
      }
      return JsonResponse(200, Json{{"items", std::move(items)}});
    }
    if (request.method == "DELETE") {
      request_log_.clear();
      return JsonResponse(200, Json{{"items", Json::array()}});
    }
  } else {
    return StatusResponse(404, "NotFound", "no such sandbox endpoint: " + path);
  }
  return StatusResponse(405, "MethodNotAllowed", request.method + " is not allowed on " + path);
}

ApiResponse SandboxApi::HandleResource(const ApiRequest& request, const Target& t, std::optional<WatchPlan>* watch) {
  const ResourceType* found = registry_.Find(t.group, t.version, t.resource);
  if (found == nullptr) return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  const ResourceType type = *found;  // the registry may change during the request (CRDs)
  if (!t.subresource.empty() && !(t.subresource == "status" && type.has_status) &&
      !(t.subresource == "scale" && type.has_scale) &&
      !(t.subresource == "finalize" && type.kind == "Namespace")) {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  if (!t.ns.empty() && !type.namespaced) {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  if (type.namespaced && !t.name.empty() && t.ns.empty()) {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  auto q = ParseQuery(request.target.substr(std::min(request.target.size(), request.target.find('?') + 1)));
  if (request.target.find('?') == std::string::npos) q.clear();
  if (q.count("dryRun") != 0 && QueryValue(q, "dryRun") != "All") {
    return BadRequest("dryRun must be All when set");
  }
  const std::string& m = request.method;
  if ((m == "POST" || m == "PUT") && !request.body.empty() &&
      (request.content_type.starts_with("application/vnd.kubernetes.protobuf") ||
       request.content_type.starts_with("application/cbor"))) {
    // Typed clients (kubectl create namespace/configmap/secret ...) send
    // protobuf; the sandbox speaks JSON and YAML only.
    return StatusResponse(415, "UnsupportedMediaType",
                          "the sandbox accepts application/json request bodies only, not " + request.content_type);
  }
  if (t.name.empty()) {
    if (m == "GET") {
      if (QueryTrue(q, "watch")) {
        WatchPlan plan;
        plan.type = type;
        plan.namespace_ = t.ns;
        Result<LabelSelector> labels = ParseLabelSelector(QueryValue(q, "labelSelector"));
        if (!labels.ok()) return BadRequest(labels.error().message);
        plan.labels = std::move(labels).value();
        std::string fields = QueryValue(q, "fieldSelector");
        for (std::size_t start = 0; start < fields.size();) {
          std::size_t end = fields.find(',', start);
          if (end == std::string::npos) end = fields.size();
          std::string part = fields.substr(start, end - start);
          std::size_t eq = part.find('=');
          std::string key = part.substr(0, eq);
          std::string value = eq == std::string::npos ? "" : part.substr(part[eq + 1] == '=' ? eq + 2 : eq + 1);
          if (eq == std::string::npos || (eq > 0 && part[eq - 1] == '!')) {
            return BadRequest("field selector \"" + part + "\": only = is supported for watches");
          }
          if (key == "metadata.name") {
            plan.field_name = value;
          } else if (key == "metadata.namespace") {
            plan.field_namespace = value;
          } else {
            return BadRequest("field label not supported: " + key);
          }
          start = end + 1;
        }
        std::string rv = QueryValue(q, "resourceVersion");
        if (!rv.empty() && rv != "0") {
          try {
            plan.since = std::stoull(rv);
          } catch (const std::exception&) {
            return BadRequest("resourceVersion must be a number");
          }
        }
        plan.send_initial_events = QueryTrue(q, "sendInitialEvents");
        plan.bookmarks = QueryTrue(q, "allowWatchBookmarks");
        std::string timeout = QueryValue(q, "timeoutSeconds");
        if (!timeout.empty()) {
          try {
            plan.timeout_seconds = std::clamp(std::stoi(timeout), 1, 24 * 3600);
          } catch (const std::exception&) {
            return BadRequest("timeoutSeconds must be a number");
          }
        }
        *watch = std::move(plan);
        ApiResponse r;
        return r;
      }
      return List(type, t.ns, q);
    }
    if (m == "POST") return Create(request, type, t.ns, q);
    if (m == "DELETE") return DeleteCollection(request, type, t.ns, q);
    return StatusResponse(405, "MethodNotAllowed", m + " is not allowed on a collection");
  }
  if (t.subresource == "scale" && (m == "GET" || m == "PUT" || m == "PATCH")) return Scale(request, type, t.ns, t.name, q);
  if (m == "GET") return Get(type, t.ns, t.name);
  if (m == "PUT") return Update(request, type, t.ns, t.name, t.subresource, q);
  if (m == "PATCH") return Patch(request, type, t.ns, t.name, t.subresource, q);
  if (m == "DELETE" && t.subresource.empty()) return Delete(request, type, t.ns, t.name, q);
  return StatusResponse(405, "MethodNotAllowed", m + " is not allowed on " + type.GroupResource());
}

namespace {

// The object as a client of `type`'s version sees it.
Json AsVersion(const ResourceType& type, Json object) {
  if (object.is_object()) object["apiVersion"] = type.ApiVersion();
  return object;
}

bool FieldMatches(const Json& object, const std::string& name, const std::string& ns) {
  const Json* metadata = Field(object, "metadata");
  if (metadata == nullptr) return false;
  if (!name.empty() && StringField(*metadata, "name") != name) return false;
  if (!ns.empty() && StringField(*metadata, "namespace") != ns) return false;
  return true;
}

}  // namespace

ApiResponse SandboxApi::Get(const ResourceType& type, const std::string& ns, const std::string& name) {
  const Json* object = store_.Get(type.StorageKey(), ns, name);
  if (object == nullptr) return NotFound(type, name);
  return JsonResponse(200, AsVersion(type, *object));
}

ApiResponse SandboxApi::List(const ResourceType& type, const std::string& ns,
                             const std::map<std::string, std::string>& q) {
  Result<LabelSelector> labels = ParseLabelSelector(QueryValue(q, "labelSelector"));
  if (!labels.ok()) return BadRequest(labels.error().message);
  std::string field_name, field_ns, field_not_name;
  std::string fields = QueryValue(q, "fieldSelector");
  for (std::size_t start = 0; start < fields.size();) {
    std::size_t end = fields.find(',', start);
    if (end == std::string::npos) end = fields.size();
    std::string part = fields.substr(start, end - start);
    std::size_t eq = part.find('=');
    if (eq == std::string::npos) return BadRequest("invalid field selector \"" + part + "\"");
    bool negated = eq > 0 && part[eq - 1] == '!';
    std::string key = part.substr(0, negated ? eq - 1 : eq);
    std::string value = part.substr(eq + 1 < part.size() && part[eq + 1] == '=' ? eq + 2 : eq + 1);
    if (key == "metadata.name" && negated) {
      field_not_name = value;
    } else if (key == "metadata.name") {
      field_name = value;
    } else if (key == "metadata.namespace" && !negated) {
      field_ns = value;
    } else {
      return BadRequest("field label not supported: " + key);
    }
    start = end + 1;
  }
  std::size_t limit = 0;
  if (std::string l = QueryValue(q, "limit"); !l.empty()) {
    try {
      limit = std::min<std::size_t>(std::stoull(l), kMaxListLimit);
    } catch (const std::exception&) {
      return BadRequest("limit must be a number");
    }
  }
  std::string after;
  if (std::string c = QueryValue(q, "continue"); !c.empty()) {
    // The continue token is the position of the last item returned, hex
    // encoded so it is opaque and URL-safe.
    if (c.size() % 2 != 0 || c.size() > 2048) return BadRequest("invalid continue token");
    for (std::size_t i = 0; i < c.size(); i += 2) {
      unsigned value = 0;
      if (std::sscanf(c.c_str() + i, "%2x", &value) != 1) return BadRequest("invalid continue token");
      after += static_cast<char>(value);
    }
  }
  Json items = Json::array();
  std::string last_position;
  bool more = false;
  store_.Scan(type.StorageKey(), ns, after, [&](const std::string& position, const Json& object) {
    if (!SelectorMatches(*labels, object) || !FieldMatches(object, field_name, field_ns)) return true;
    if (!field_not_name.empty() && FieldMatches(object, field_not_name, "")) return true;
    if (limit != 0 && items.size() == limit) {
      more = true;
      return false;
    }
    items.push_back(AsVersion(type, object));
    last_position = ns.empty() ? position : ns + '\x1f' + position;
    return true;
  });
  Json list = Json::object();
  list["kind"] = type.kind + "List";
  list["apiVersion"] = type.ApiVersion();
  Json metadata = Json::object();
  metadata["resourceVersion"] = std::to_string(store_.resource_version());
  if (more) {
    std::string position = ns.empty() ? last_position : last_position.substr(ns.size() + 1);
    std::string token;
    char hex[3];
    for (unsigned char ch : position) {
      std::snprintf(hex, sizeof hex, "%02x", ch);
      token += hex;
    }
    metadata["continue"] = token;
  }
  list["metadata"] = std::move(metadata);
  list["items"] = std::move(items);
  return JsonResponse(200, list);
}

std::optional<ApiResponse> SandboxApi::CheckNamespace(const ResourceType& type, const std::string& ns) const {
  if (!type.namespaced) return std::nullopt;
  const Json* namespace_object = store_.Get("/namespaces", "", ns);
  if (namespace_object == nullptr) {
    ResourceType ns_type = *registry_.Find("", "v1", "namespaces");
    return NotFound(ns_type, ns);
  }
  const Json* metadata = Field(*namespace_object, "metadata");
  if (metadata != nullptr && metadata->contains("deletionTimestamp")) {
    Json details = Details(type, "");
    return StatusResponse(403, "Forbidden",
                          type.GroupResource() + " is forbidden: unable to create new content in namespace " + ns +
                              " because it is being terminated",
                          details);
  }
  return std::nullopt;
}

SandboxApi::WriteResult SandboxApi::Admit(const ResourceType& type, const std::string& ns, const Json* before,
                                          Json object, const std::string& subresource, const std::string& manager,
                                          bool track_fields, bool dry_run) {
  WriteResult w;
  w.error.status = 200;
  if (!object.is_object()) {
    w.error = BadRequest("the object must be a JSON object");
    return w;
  }
  if (!object.contains("metadata") || !object["metadata"].is_object()) object["metadata"] = Json::object();
  Json& metadata = object["metadata"];
  std::string name = StringField(metadata, "name");
  if (before == nullptr) {
    if (name.empty() && !StringField(metadata, "generateName").empty()) {
      static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
      name = StringField(metadata, "generateName");
      for (int i = 0; i < 5; ++i) name += kAlphabet[random_() % (sizeof kAlphabet - 1)];
      metadata["name"] = name;
    }
    if (name.empty()) {
      w.error = Invalid(type, "", "metadata.name", "name or generateName is required");
      return w;
    }
    if (!ValidName(name, type.kind == "Namespace") &&
        !(type.group == "rbac.authorization.k8s.io" && name.find_first_of("/%") == std::string::npos)) {
      w.error = Invalid(type, name, "metadata.name",
                        "\"" + name + "\": a lowercase RFC 1123 " +
                            (type.kind == "Namespace" ? "label" : "subdomain") +
                            " must consist of lower case alphanumeric characters, '-' or '.'");
      return w;
    }
    if (auto bad = CheckNamespace(type, ns)) {
      w.error = *bad;
      return w;
    }
    if (type.namespaced) {
      metadata["namespace"] = ns;
    } else {
      metadata.erase("namespace");
    }
    if (store_.Get(type.StorageKey(), ns, name) != nullptr) {
      w.error = StatusResponse(409, "AlreadyExists", type.GroupResource() + " \"" + name + "\" already exists",
                               Details(type, name));
      return w;
    }
    metadata["uid"] = NewUid();
    metadata["creationTimestamp"] = Now();
    metadata.erase("resourceVersion");
    metadata.erase("deletionTimestamp");
    metadata.erase("deletionGracePeriodSeconds");
    metadata.erase("selfLink");
    if (type.sets_generation) {
      metadata["generation"] = 1;
    } else {
      metadata.erase("generation");
    }
    if (type.has_status && type.kind != "Namespace") object.erase("status");
    if (!track_fields && !metadata.contains("managedFields")) metadata["managedFields"] = Json::array();
  } else {
    const Json& old_meta = (*before)["metadata"];
    for (const char* k : {"uid", "creationTimestamp", "name", "namespace", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation"}) {
      if (old_meta.contains(k)) {
        metadata[k] = old_meta[k];
      } else {
        metadata.erase(k);
      }
    }
    if (subresource == "status") {
      // Only status changes through /status.
      Json status = object.contains("status") ? object["status"] : Json();
      Json managed = metadata.contains("managedFields") ? metadata["managedFields"] : Json();
      object = *before;
      if (status.is_null()) {
        object.erase("status");
      } else {
        object["status"] = std::move(status);
      }
      if (!managed.is_null()) object["metadata"]["managedFields"] = std::move(managed);
    } else if (type.has_status) {
      if (before->contains("status")) {
        object["status"] = (*before)["status"];
      } else {
        object.erase("status");
      }
    }
  }
  object["apiVersion"] = type.ApiVersion();
  object["kind"] = type.kind;
  if (type.kind == "Secret" && object.contains("stringData") && object["stringData"].is_object()) {
    static const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!object.contains("data") || !object["data"].is_object()) object["data"] = Json::object();
    for (auto it = object["stringData"].begin(); it != object["stringData"].end(); ++it) {
      if (!it->is_string()) continue;
      const std::string& in = it->get_ref<const std::string&>();
      std::string out;
      for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
        out += kBase64[(n >> 18) & 63];
        out += kBase64[(n >> 12) & 63];
        out += i + 1 < in.size() ? kBase64[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kBase64[n & 63] : '=';
      }
      object["data"][it.key()] = out;
    }
    object.erase("stringData");
  }
  if (type.kind == "CustomResourceDefinition") {
    ResourceRegistry probe = registry_;
    std::string message;
    if (!probe.AddCustom(object, &message)) {
      w.error = Invalid(type, name, "spec", message);
      return w;
    }
  }
  if (std::string problem = ValidationProblem(type, object); !problem.empty()) {
    std::size_t colon = problem.find(": ");
    w.error = Invalid(type, name, problem.substr(0, colon), problem.substr(colon + 2));
    return w;
  }
  object = Defaulted(type, std::move(object));
  // Typed API objects drop empty maps and lists marked omitempty; the
  // metadata ones (and ConfigMap/Secret data) are what clients notice.
  for (const char* k : {"labels", "annotations", "finalizers", "ownerReferences"}) {
    auto it = object["metadata"].find(k);
    if (it != object["metadata"].end() && (it->is_null() || (it->is_structured() && it->empty()))) {
      object["metadata"].erase(it);
    }
  }
  if (type.kind == "ConfigMap" || type.kind == "Secret") {
    for (const char* k : {"data", "binaryData"}) {
      auto it = object.find(k);
      if (it != object.end() && (it->is_null() || (it->is_object() && it->empty()))) object.erase(it);
    }
  }
  if (before != nullptr && type.sets_generation && subresource.empty() && !(SpecOf(*before) == SpecOf(object))) {
    std::int64_t generation = 1;
    const Json* g = Field((*before)["metadata"], "generation");
    if (g != nullptr && g->is_number_integer()) generation = g->get<std::int64_t>();
    object["metadata"]["generation"] = generation + 1;
  }
  if (track_fields) {
    Json managed = object["metadata"].contains("managedFields") ? object["metadata"]["managedFields"] : Json();
    if (before != nullptr && before->contains("metadata") && (*before)["metadata"].contains("managedFields")) {
      managed = (*before)["metadata"]["managedFields"];
    }
    object["metadata"]["managedFields"] =
        TrackUpdate(before != nullptr ? *before : Json(), object, managed, manager, subresource, type.ApiVersion(),
                    type.custom, Now());
  }
  if (object["metadata"].contains("managedFields") && object["metadata"]["managedFields"].empty()) {
    object["metadata"].erase("managedFields");
  }
  if (before != nullptr && WithoutVolatile(*before) == WithoutVolatile(object)) {
    // A write that changes nothing is not a write: no new resourceVersion,
    // no watch event.
    w.object = *before;
    return w;
  }
  w.created = before == nullptr;
  if (dry_run) {
    w.object = std::move(object);
    return w;
  }
  w.object = store_.Put(type.StorageKey(), ns, name, std::move(object));
  if (type.kind == "CustomResourceDefinition") OnCrdChanged(w.object, false);
  const Json& stored_meta = w.object["metadata"];
  if (stored_meta.contains("deletionTimestamp") &&
      (!stored_meta.contains("finalizers") || stored_meta["finalizers"].empty())) {
    RemoveNow(type, ns, name);
  }
  return w;
}

void SandboxApi::OnCrdChanged(const Json& crd, bool removed) {
  std::string name = crd["metadata"].value("name", "");
  if (removed) {
    registry_.RemoveCustom(name);
    return;
  }
  std::string message;
  if (!registry_.AddCustom(crd, &message)) return;
  if (crd["metadata"].contains("deletionTimestamp")) return;
  // Names are accepted and the kind served at once, so the CRD is
  // Established as soon as it is stored.
  Json status = crd.contains("status") && crd["status"].is_object() ? crd["status"] : Json::object();
  std::string now = Now();
  Json names = crd["spec"]["names"];
  if (!names.contains("singular")) names["singular"] = Lower(names.value("kind", ""));
  if (!names.contains("listKind")) names["listKind"] = names.value("kind", "") + "List";
  Json stored_versions = Json::array();
  for (const Json& v : crd["spec"]["versions"]) {
    if (v.value("storage", false)) stored_versions.push_back(v.value("name", ""));
  }
  Json next = Json::object();
  next["acceptedNames"] = names;
  next["conditions"] = Json::array(
      {Json{{"type", "NamesAccepted"}, {"status", "True"}, {"lastTransitionTime", now}, {"reason", "NoConflicts"},
            {"message", "no conflicts found"}},
       Json{{"type", "Established"}, {"status", "True"}, {"lastTransitionTime", now},
            {"reason", "InitialNamesAccepted"}, {"message", "the initial names have been accepted"}}});
  next["storedVersions"] = stored_versions;
  if (status.contains("conditions") && status.value("acceptedNames", Json()) == names) return;
  const ResourceType* type = registry_.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  WriteStatus(*type, crd, std::move(next));
}

ApiResponse SandboxApi::Create(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                               const std::map<std::string, std::string>& q) {
  Result<Json> body = ParseBody(request.body, false);
  if (!body.ok()) return BadRequest(body.error().ToString());
  Json object = std::move(body).value();
  if (!object.is_object()) return BadRequest("the object must be a JSON object");
  std::string body_ns = object.contains("metadata") ? StringField(object["metadata"], "namespace") : "";
  if (type.namespaced && !body_ns.empty() && body_ns != ns) {
    return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  if (std::string kind = StringField(object, "kind"); !kind.empty() && kind != type.kind) {
    return BadRequest("the kind \"" + kind + "\" does not match the resource " + type.GroupResource());
  }
  WriteResult w = Admit(type, ns, nullptr, std::move(object), "", ManagerFor(request, q), true,
                        QueryValue(q, "dryRun") == "All");
  if (w.error.status != 200) return w.error;
  return JsonResponse(201, AsVersion(type, w.object));
}

ApiResponse SandboxApi::Update(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                               const std::string& name, const std::string& subresource,
                               const std::map<std::string, std::string>& q) {
  Result<Json> body = ParseBody(request.body, false);
  if (!body.ok()) return BadRequest(body.error().ToString());
  Json object = std::move(body).value();
  if (!object.is_object()) return BadRequest("the object must be a JSON object");
  const Json* metadata = Field(object, "metadata");
  if (metadata == nullptr || StringField(*metadata, "name") != name) {
    return BadRequest("the name of the object (" + (metadata ? StringField(*metadata, "name") : "") +
                      ") does not match the name on the URL (" + name + ")");
  }
  const Json* live = store_.Get(type.StorageKey(), ns, name);
  if (live == nullptr) return NotFound(type, name);
  std::string rv = StringField(*metadata, "resourceVersion");
  if (!rv.empty() && rv != StringField((*live)["metadata"], "resourceVersion")) {
    return StatusResponse(409, "Conflict",
                          "Operation cannot be fulfilled on " + type.GroupResource() + " \"" + name +
                              "\": the object has been modified; please apply your changes to the latest version "
                              "and try again",
                          Details(type, name));
  }
  Json before = *live;
  if (type.kind == "Namespace" && subresource == "finalize") {
    Json spec = object.contains("spec") ? object["spec"] : Json::object();
    object = before;
    object["spec"] = std::move(spec);
  }
  WriteResult w = Admit(type, ns, &before, std::move(object), subresource == "finalize" ? "" : subresource,
                        ManagerFor(request, q), true, QueryValue(q, "dryRun") == "All");
  if (w.error.status != 200) return w.error;
  return JsonResponse(200, AsVersion(type, w.object));
}

ApiResponse SandboxApi::Patch(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                              const std::string& name, const std::string& subresource,
                              const std::map<std::string, std::string>& q) {
  std::string content_type = Lower(request.content_type.substr(0, request.content_type.find(';')));
  while (!content_type.empty() && content_type.back() == ' ') content_type.pop_back();
  if (content_type == "application/apply-patch+yaml" || content_type == "application/apply-patch+cbor") {
    if (!subresource.empty()) {
      return StatusResponse(415, "UnsupportedMediaType", "server-side apply to a subresource is not supported here");
    }
    return Apply(request, type, ns, name, q);
  }
  const Json* live = store_.Get(type.StorageKey(), ns, name);
  if (live == nullptr) return NotFound(type, name);
  Result<Json> body = ParseBody(request.body, false);
  if (!body.ok()) return BadRequest(body.error().ToString());
  Json before = *live;
  Json patched;
  if (content_type == "application/merge-patch+json") {
    if (!body->is_object()) return BadRequest("a merge patch must be a JSON object");
    patched = MergePatch(before, *body);
  } else if (content_type == "application/strategic-merge-patch+json") {
    if (type.custom) {
      return StatusResponse(415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media types include: "
                            "application/json-patch+json, application/merge-patch+json, "
                            "application/apply-patch+yaml");
    }
    Result<Json> r = StrategicMergePatch(before, *body);
    if (!r.ok()) return BadRequest(r.error().message);
    patched = std::move(r).value();
  } else if (content_type == "application/json-patch+json") {
    Result<Json> r = JsonPatch(before, *body);
    if (!r.ok()) return StatusResponse(422, "Invalid", r.error().message);
    patched = std::move(r).value();
  } else {
    return StatusResponse(415, "UnsupportedMediaType",
                          "the body of the request was in an unknown format - accepted media types include: "
                          "application/json-patch+json, application/merge-patch+json, "
                          "application/apply-patch+yaml, application/strategic-merge-patch+json");
  }
  if (!patched.is_object() || !patched.contains("metadata") || !patched["metadata"].is_object()) {
    return BadRequest("the patch removed the object's metadata");
  }
  std::string rv = StringField(patched["metadata"], "resourceVersion");
  if (!rv.empty() && rv != StringField(before["metadata"], "resourceVersion")) {
    return StatusResponse(409, "Conflict",
                          "Operation cannot be fulfilled on " + type.GroupResource() + " \"" + name +
                              "\": the object has been modified; please apply your changes to the latest version "
                              "and try again",
                          Details(type, name));
  }
  if (StringField(patched["metadata"], "name") != name) return BadRequest("a patch cannot change metadata.name");
  WriteResult w = Admit(type, ns, &before, std::move(patched), subresource, ManagerFor(request, q), true,
                        QueryValue(q, "dryRun") == "All");
  if (w.error.status != 200) return w.error;
  return JsonResponse(200, AsVersion(type, w.object));
}

ApiResponse SandboxApi::Apply(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                              const std::string& name, const std::map<std::string, std::string>& q) {
  std::string manager = QueryValue(q, "fieldManager");
  if (manager.empty()) return BadRequest("PATCH, fieldManager: Required value: is required for apply patch");
  if (manager.size() > 128) return BadRequest("fieldManager: Too long: must have at most 128 bytes");
  Result<Json> body = ParseBody(request.body, true);
  if (!body.ok()) return BadRequest(body.error().ToString());
  Json config = std::move(body).value();
  if (!config.is_object()) return BadRequest("an apply patch must be an object");
  if (StringField(config, "apiVersion") != type.ApiVersion() || StringField(config, "kind") != type.kind) {
    return BadRequest("apiVersion and kind of the applied object must be " + type.ApiVersion() + " and " +
                      type.kind);
  }
  const Json* metadata = Field(config, "metadata");
  if (metadata == nullptr || !metadata->is_object() || StringField(*metadata, "name") != name) {
    return BadRequest("metadata.name of the applied object must be " + name);
  }
  if (type.namespaced && !StringField(*metadata, "namespace").empty() &&
      StringField(*metadata, "namespace") != ns) {
    return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  if (type.has_status) config.erase("status");
  if (type.namespaced) config["metadata"]["namespace"] = ns;
  bool force = QueryTrue(q, "force");
  bool dry_run = QueryValue(q, "dryRun") == "All";
  const Json* live = store_.Get(type.StorageKey(), ns, name);
  // A resourceVersion in the applied object is a precondition, as on a real
  // API server: leader election relies on it so two candidates cannot both
  // take a lease.
  std::string precondition = StringField(*metadata, "resourceVersion");
  if (!precondition.empty() &&
      (live == nullptr || precondition != StringField((*live)["metadata"], "resourceVersion"))) {
    return StatusResponse(409, "Conflict",
                          "Operation cannot be fulfilled on " + type.GroupResource() + " \"" + name +
                              "\": the object has been modified; please apply your changes to the latest version "
                              "and try again",
                          Details(type, name));
  }
  Json before = live != nullptr ? *live : Json();
  if (live == nullptr) {
    if (auto bad = CheckNamespace(type, ns)) return *bad;
  }
  ApplyOutcome outcome = ServerSideApply(before, config, manager, force, type.ApiVersion(), type.custom, Now());
  if (!outcome.conflicts.empty()) {
    std::string message = "Apply failed with " + std::to_string(outcome.conflicts.size()) + " conflict" +
                          (outcome.conflicts.size() == 1 ? "" : "s") + ": ";
    Json causes = Json::array();
    for (std::size_t i = 0; i < outcome.conflicts.size(); ++i) {
      const ApplyConflict& c = outcome.conflicts[i];
      std::string one = "conflict with \"" + c.manager + "\" using " + type.ApiVersion();
      causes.push_back(Json{{"reason", "FieldManagerConflict"}, {"message", one}, {"field", c.field}});
      message += (i > 0 ? "\n" : "") + one + ": " + c.field;
    }
    Json details = Details(type, name);
    details["causes"] = std::move(causes);
    return StatusResponse(409, "Conflict", message, details);
  }
  WriteResult w = Admit(type, ns, live != nullptr ? &before : nullptr, std::move(outcome.object), "", manager,
                        false, dry_run);
  if (w.error.status != 200) return w.error;
  return JsonResponse(w.created ? 201 : 200, AsVersion(type, w.object));
}

namespace {

Json ScaleView(const Json& object) {
  const Json& metadata = object["metadata"];
  Json scale = Json::object();
  scale["kind"] = "Scale";
  scale["apiVersion"] = "autoscaling/v1";
  Json meta = Json::object();
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (metadata.contains(k)) meta[k] = metadata[k];
  }
  scale["metadata"] = std::move(meta);
  const Json* spec = Field(object, "spec");
  const Json* replicas = spec != nullptr ? Field(*spec, "replicas") : nullptr;
  scale["spec"] = Json{{"replicas", replicas != nullptr && replicas->is_number_integer() ? *replicas : Json(1)}};
  const Json* status = Field(object, "status");
  const Json* current = status != nullptr ? Field(*status, "replicas") : nullptr;
  std::string selector;
  const Json* match = spec != nullptr ? Field(*spec, "selector") : nullptr;
  match = match != nullptr ? Field(*match, "matchLabels") : nullptr;
  if (match != nullptr && match->is_object()) {
    for (auto it = match->begin(); it != match->end(); ++it) {
      if (!selector.empty()) selector += ",";
      selector += it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
    }
  }
  scale["status"] = Json{{"replicas", current != nullptr && current->is_number_integer() ? *current : Json(0)},
                         {"selector", selector}};
  return scale;
}

}  // namespace

ApiResponse SandboxApi::Scale(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                              const std::string& name, const std::map<std::string, std::string>& q) {
  const Json* live = store_.Get(type.StorageKey(), ns, name);
  if (live == nullptr) return NotFound(type, name);
  Json scale = ScaleView(*live);
  if (request.method == "GET") return JsonResponse(200, scale);
  Result<Json> body = ParseBody(request.body, false);
  if (!body.ok()) return BadRequest(body.error().ToString());
  Json wanted;
  std::string content_type = Lower(request.content_type.substr(0, request.content_type.find(';')));
  if (request.method == "PUT") {
    wanted = std::move(body).value();
  } else if (content_type == "application/merge-patch+json") {
    wanted = MergePatch(scale, *body);
  } else if (content_type == "application/strategic-merge-patch+json") {
    Result<Json> r = StrategicMergePatch(scale, *body);
    if (!r.ok()) return BadRequest(r.error().message);
    wanted = std::move(r).value();
  } else if (content_type == "application/json-patch+json") {
    Result<Json> r = JsonPatch(scale, *body);
    if (!r.ok()) return StatusResponse(422, "Invalid", r.error().message);
    wanted = std::move(r).value();
  } else {
    return StatusResponse(415, "UnsupportedMediaType", "unsupported patch type for the scale subresource");
  }
  const Json* spec = Field(wanted, "spec");
  const Json* replicas = spec != nullptr ? Field(*spec, "replicas") : nullptr;
  if (replicas == nullptr || !replicas->is_number_integer() || replicas->get<std::int64_t>() < 0) {
    return Invalid(type, name, "spec.replicas", "must be a non-negative integer");
  }
  const Json* metadata = Field(wanted, "metadata");
  std::string rv = metadata != nullptr ? StringField(*metadata, "resourceVersion") : "";
  if (!rv.empty() && rv != StringField((*live)["metadata"], "resourceVersion")) {
    return StatusResponse(409, "Conflict",
                          "Operation cannot be fulfilled on " + type.GroupResource() + " \"" + name +
                              "\": the object has been modified; please apply your changes to the latest version "
                              "and try again",
                          Details(type, name));
  }
  Json before = *live;
  Json next = before;
  next["spec"]["replicas"] = *replicas;
  WriteResult w = Admit(type, ns, &before, std::move(next), "", ManagerFor(request, q), true,
                        QueryValue(q, "dryRun") == "All");
  if (w.error.status != 200) return w.error;
  return JsonResponse(200, ScaleView(w.object));
}

void SandboxApi::RemoveNow(const ResourceType& type, const std::string& ns, const std::string& name) {
  const Json* object = store_.Get(type.StorageKey(), ns, name);
  if (object == nullptr) return;
  Json copy = *object;
  store_.Remove(type.StorageKey(), ns, name);
  if (type.kind == "CustomResourceDefinition") {
    std::string group = copy["spec"].value("group", "");
    std::string plural = copy["spec"]["names"].value("plural", "");
    std::vector<std::pair<std::string, std::string>> doomed;
    store_.Scan(group + "/" + plural, "", "", [&](const std::string&, const Json& cr) {
      doomed.emplace_back(StringField(cr["metadata"], "namespace"), StringField(cr["metadata"], "name"));
      return true;
    });
    for (const auto& [cr_ns, cr_name] : doomed) store_.Remove(group + "/" + plural, cr_ns, cr_name);
    OnCrdChanged(copy, true);
  }
}

void SandboxApi::Finalize(const ResourceType& type, const std::string& ns, const std::string& name) {
  const Json* object = store_.Get(type.StorageKey(), ns, name);
  if (object == nullptr) return;
  const Json& metadata = (*object)["metadata"];
  if (metadata.contains("finalizers") && !metadata["finalizers"].empty()) return;
  if (type.kind == "Namespace") return;  // the namespace controller finishes it
  RemoveNow(type, ns, name);
}

ApiResponse SandboxApi::Delete(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                               const std::string& name, const std::map<std::string, std::string>& q) {
  const Json* live = store_.Get(type.StorageKey(), ns, name);
  if (live == nullptr) return NotFound(type, name);
  std::string policy = QueryValue(q, "propagationPolicy");
  std::string precondition_uid, precondition_rv;
  if (!request.body.empty()) {
    Result<Json> body = ParseBody(request.body, false);
    if (!body.ok()) return BadRequest(body.error().ToString());
    if (body->is_object()) {
      if (policy.empty()) policy = StringField(*body, "propagationPolicy");
      if (const Json* pre = Field(*body, "preconditions")) {
        precondition_uid = StringField(*pre, "uid");
        precondition_rv = StringField(*pre, "resourceVersion");
      }
    }
  }
  if (!policy.empty() && policy != "Background" && policy != "Foreground" && policy != "Orphan") {
    return BadRequest("propagationPolicy must be Background, Foreground or Orphan");
  }
  const Json& metadata = (*live)["metadata"];
  if ((!precondition_uid.empty() && precondition_uid != StringField(metadata, "uid")) ||
      (!precondition_rv.empty() && precondition_rv != StringField(metadata, "resourceVersion"))) {
    return StatusResponse(409, "Conflict",
                          "Operation cannot be fulfilled on " + type.GroupResource() + " \"" + name +
                              "\": the precondition does not match the stored object",
                          Details(type, name));
  }
  bool dry_run = QueryValue(q, "dryRun") == "All";
  Json object = *live;
  bool has_finalizers = metadata.contains("finalizers") && !metadata["finalizers"].empty();
  bool graceful = has_finalizers || policy == "Foreground" || type.kind == "Namespace";
  if (!graceful) {
    if (!dry_run) RemoveNow(type, ns, name);
    return JsonResponse(200, AsVersion(type, object));
  }
  if (metadata.contains("deletionTimestamp")) return JsonResponse(202, AsVersion(type, object));
  object["metadata"]["deletionTimestamp"] = Now();
  object["metadata"]["deletionGracePeriodSeconds"] = 0;
  if (policy == "Foreground") {
    Json& finalizers = object["metadata"]["finalizers"];
    if (!finalizers.is_array()) finalizers = Json::array();
    if (std::find(finalizers.begin(), finalizers.end(), "foregroundDeletion") == finalizers.end()) {
      finalizers.push_back("foregroundDeletion");
    }
  }
  if (type.kind == "Namespace") object["status"]["phase"] = "Terminating";
  if (dry_run) return JsonResponse(202, AsVersion(type, object));
  const Json& stored = store_.Put(type.StorageKey(), ns, name, std::move(object));
  Json reply = AsVersion(type, stored);
  if (type.kind == "CustomResourceDefinition") {
    // Custom resources go first, then the definition (it has no finalizer
    // of its own here).
    RemoveNow(type, ns, name);
    return JsonResponse(200, reply);
  }
  return JsonResponse(202, reply);
}

ApiResponse SandboxApi::DeleteCollection(const ApiRequest& request, const ResourceType& type, const std::string& ns,
                                         const std::map<std::string, std::string>& q) {
  Result<LabelSelector> labels = ParseLabelSelector(QueryValue(q, "labelSelector"));
  if (!labels.ok()) return BadRequest(labels.error().message);
  std::vector<std::pair<std::string, std::string>> names;
  store_.Scan(type.StorageKey(), ns, "", [&](const std::string&, const Json& object) {
    if (SelectorMatches(*labels, object)) {
      names.emplace_back(StringField(object["metadata"], "namespace"), StringField(object["metadata"], "name"));
    }
    return true;
  });
  Json items = Json::array();
  for (const auto& [object_ns, object_name] : names) {
    ApiResponse r = Delete(request, type, object_ns, object_name, q);
    if (r.status >= 300) return r;
    items.push_back(Json::parse(r.body));
  }
  return JsonResponse(200, Json{{"kind", type.kind + "List"},
                                {"apiVersion", type.ApiVersion()},
                                {"metadata", Json::object()},
                                {"items", std::move(items)}});
}

SandboxApi::WatchStart SandboxApi::StartWatch(const WatchPlan& plan, std::function<void(std::string)> sink) {
  WatchStart start;
  auto matches = [plan](const Json& object) {
    const Json* metadata = Field(object, "metadata");
    if (metadata == nullptr) return false;
    if (!plan.namespace_.empty() && StringField(*metadata, "namespace") != plan.namespace_) return false;
    if (!FieldMatches(object, plan.field_name, plan.field_namespace)) return false;
    return SelectorMatches(plan.labels, object);
  };
  auto line = [&plan](const char* type, const Json& object) {
    Json event = Json::object();
    event["type"] = type;
    event["object"] = AsVersion(plan.type, object);
    return event.dump() + "\n";
  };
  if (plan.since.has_value()) {
    std::optional<std::vector<StoreEvent>> events = store_.EventsSince(plan.type.StorageKey(), *plan.since);
    if (!events.has_value() || *plan.since > store_.resource_version()) {
      Json status = Json::parse(StatusResponse(410, "Expired",
                                               "too old resource version: " + std::to_string(*plan.since) + " (" +
                                                   std::to_string(store_.oldest_resumable()) + ")")
                                    .body);
      Json event = Json{{"type", "ERROR"}, {"object", status}};
      start.lines.push_back(event.dump() + "\n");
      return start;
    }
    for (const StoreEvent& e : *events) {
      if (matches(e.object)) start.lines.push_back(line(EventTypeName(e.type), e.object));
    }
  } else {
    store_.Scan(plan.type.StorageKey(), plan.namespace_, "", [&](const std::string&, const Json& object) {
      if (matches(object)) start.lines.push_back(line("ADDED", object));
      return true;
    });
    if (plan.send_initial_events && plan.bookmarks) {
      Json bookmark = Json::parse(BookmarkLine(plan));
      bookmark["object"]["metadata"]["annotations"] = Json{{"k8s.io/initial-events-end", "true"}};
      start.lines.push_back(bookmark.dump() + "\n");
    }
  }
  start.watcher_id = store_.AddWatcher(
      plan.type.StorageKey(), [matches, line, sink = std::move(sink)](const StoreEvent& e) {
        if (matches(e.object)) sink(line(EventTypeName(e.type), e.object));
      });
  return start;
}

std::string SandboxApi::BookmarkLine(const WatchPlan& plan) const {
  Json object = Json::object();
  object["kind"] = plan.type.kind;
  object["apiVersion"] = plan.type.ApiVersion();
  object["metadata"] = Json{{"resourceVersion", std::to_string(store_.resource_version())}};
  return Json{{"type", "BOOKMARK"}, {"object", object}}.dump() + "\n";
}

std::string SandboxApi::NextClusterIp() const {
  std::set<std::string> used;
  store_.Scan("/services", "", "", [&](const std::string&, const Json& svc) {
    if (svc.contains("spec")) used.insert(StringField(svc["spec"], "clusterIP"));
    return true;
  });
  for (int n = 10; n < 65000; ++n) {
    std::string ip = "10.96." + std::to_string(n / 250) + "." + std::to_string(n % 250 + 1);
    if (used.count(ip) == 0) return ip;
  }
  return "10.96.255.254";
}

}  // namespace keelson::sandbox
