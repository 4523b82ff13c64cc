#include "agent/cluster/kube_client.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "agent/cluster/http_transport.h"
#include "renderers/manifest/json.h"

namespace keelson::cluster {

using manifest::Node;
using manifest::ResourceId;

GroupVersionKind KindOf(const ResourceId& id) { return {id.group, id.version, id.kind}; }

std::string PercentEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

std::string GroupVersionPath(const std::string& group, const std::string& version) {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

Error StatusError(const std::string& what, const HttpResponse& response) {
  ErrorCode code = ErrorCode::kUnavailable;
  switch (response.status) {
    case 400:
    case 422:
    case 415:
      code = ErrorCode::kInvalidInput;
      break;
    case 401:
    case 403:
      code = ErrorCode::kAccessDenied;
      break;
    case 404:
    case 410:
      code = ErrorCode::kNotFound;
      break;
    case 409:
      code = ErrorCode::kCheckFailed;
      break;
    default:
      if (response.status >= 400 && response.status < 500 && response.status != 429) code = ErrorCode::kInvalidInput;
      break;
  }
  std::string detail;
  Result<Node> status = manifest::ParseJson(response.body, what);
  if (status && status->IsMapping()) {
    detail = status->GetString("message");
    if (detail.empty()) detail = status->GetString("reason");
  }
  if (detail.empty() && !response.body.empty()) {
    detail = response.body.substr(0, 200);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
  }
  std::string message = what + ": server answered " + std::to_string(response.status);
  if (!detail.empty()) message += ": " + detail;
  return MakeError(code, message);
}

Result<Node> ParseBody(const std::string& what, const HttpResponse& response) {
  Result<Node> parsed = manifest::ParseJson(response.body, what);
  if (!parsed) {
    return MakeError(ErrorCode::kUnavailable, what + ": malformed response from the server: " + parsed.error().message);
  }
  if (!parsed->IsMapping()) return MakeError(ErrorCode::kUnavailable, what + ": malformed response from the server: not a JSON object");
  return parsed;
}

bool ValidName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('%') == std::string::npos;
}

}  // namespace

struct KubeClient::State {
  ConnectionConfig config;
  std::unique_ptr<HttpTransport> transport;
  SteadyClock own_clock;
  Clock* clock;
  ClientOptions options;
  RequestMetrics metrics;
  RequestExecutor executor;

  std::mutex discovery_mu;
  // group-version path → resources it serves; absent when never fetched.
  std::map<std::string, std::vector<ResourceMapping>> discovered;

  State(ConnectionConfig c, std::unique_ptr<HttpTransport> t, Clock* external, const ClientOptions& o)
      : config(std::move(c)),
        transport(std::move(t)),
        clock(external != nullptr ? external : &own_clock),
        options(o),
        executor(*transport, *clock, metrics, o.retry, o.rate_limit) {}

  HttpRequest Request(std::string method, std::string target) const {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.timeout = options.request_timeout;
    return r;
  }

  // Fetches one group-version's resource list. Returns nullopt-like empty
  // vector with found=false on 404.
  Result<std::vector<ResourceMapping>> FetchGroupVersion(const std::string& group, const std::string& version,
                                                         bool* served) {
    std::string path = GroupVersionPath(group, version);
    Result<HttpResponse> response = executor.Execute("discovery", Request("GET", path));
    if (!response) return std::move(response).error();
    *served = response->status != 404;
    if (response->status == 404) return std::vector<ResourceMapping>{};
    if (response->status != 200) return StatusError("discovery " + path, *response);
    Result<Node> body = ParseBody("discovery " + path, *response);
    if (!body) return std::move(body).error();
    std::vector<ResourceMapping> out;
    const Node* resources = body->Find("resources");
    if (resources == nullptr || !resources->IsSequence()) return out;
    std::map<std::string, bool> with_status;
    for (const Node& r : resources->items()) {
      if (!r.IsMapping()) continue;
      std::string name = r.GetString("name");
      auto slash = name.find('/');
      if (slash != std::string::npos) {
        if (name.substr(slash + 1) == "status") with_status[name.substr(0, slash)] = true;
        continue;
      }
      ResourceMapping m;
      m.gvk = {group, version, r.GetString("kind")};
      m.resource = name;
      const Node* namespaced = r.Find("namespaced");
      m.namespaced = namespaced != nullptr && namespaced->IsBool() && namespaced->AsBool();
      if (!m.resource.empty() && !m.gvk.kind.empty()) out.push_back(std::move(m));
    }
    for (ResourceMapping& m : out) m.has_status = with_status.count(m.resource) > 0;
    return out;
  }

  // The versions a group serves, from /apis (or /api for the core group),
  // for error messages.
  std::string ServedVersions(const std::string& group) {
    std::string path = group.empty() ? "/api" : "/apis";
    Result<HttpResponse> response = executor.Execute("discovery", Request("GET", path));
    if (!response || response->status != 200) return "";
    Result<Node> body = ParseBody("discovery " + path, *response);
    if (!body) return "";
    std::string versions;
    auto add = [&versions](const std::string& v) {
      if (v.empty()) return;
      if (!versions.empty()) versions += ", ";
      versions += v;
    };
    if (group.empty()) {
      if (const Node* v = body->Find("versions"); v != nullptr && v->IsSequence()) {
        for (const Node& item : v->items()) {
          if (item.IsString()) add(item.AsString());
        }
      }
      return versions;
    }
    if (const Node* groups = body->Find("groups"); groups != nullptr && groups->IsSequence()) {
      for (const Node& g : groups->items()) {
        if (!g.IsMapping() || g.GetString("name") != group) continue;
        if (const Node* v = g.Find("versions"); v != nullptr && v->IsSequence()) {
          for (const Node& item : v->items()) {
            if (item.IsMapping()) add(item.GetString("version"));
          }
        }
      }
    }
    return versions;
  }

  Result<ResourceMapping> Map(const GroupVersionKind& gvk) {
    if (gvk.version.empty() || gvk.kind.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "object has no apiVersion or kind: " + gvk.ToString());
    }
    std::string key = GroupVersionPath(gvk.group, gvk.version);
    std::lock_guard<std::mutex> lock(discovery_mu);
    auto lookup = [&]() -> const ResourceMapping* {
      auto it = discovered.find(key);
      if (it == discovered.end()) return nullptr;
      for (const ResourceMapping& m : it->second) {
        if (m.gvk.kind == gvk.kind) return &m;
      }
      return nullptr;
    };
    if (const ResourceMapping* hit = lookup(); hit != nullptr) return *hit;
    // Unknown so far: fetch (again), since a CRD may have been applied since.
    bool served = true;
    Result<std::vector<ResourceMapping>> fetched = FetchGroupVersion(gvk.group, gvk.version, &served);
    if (!fetched) return std::move(fetched).error();
    discovered[key] = std::move(*fetched);
    if (const ResourceMapping* hit = lookup(); hit != nullptr) return *hit;
    std::string message;
    if (!served) {
      std::string versions = ServedVersions(gvk.group);
      message = "the server does not serve " + gvk.ApiVersion() + " (kind " + gvk.kind + ")";
      if (!versions.empty()) {
        message += "; " + (gvk.group.empty() ? std::string("core") : gvk.group) + " serves " + versions;
      } else if (!gvk.group.empty()) {
        message += "; is the CustomResourceDefinition for group " + gvk.group + " applied and established?";
      }
    } else {
      message = "the server has no kind " + gvk.kind + " in " + gvk.ApiVersion();
    }
    return MakeError(ErrorCode::kNotFound, message);
  }

  Result<std::string> ObjectPath(const ResourceId& id, ResourceMapping* mapping_out) {
    if (!ValidName(id.name)) {
      return MakeError(ErrorCode::kInvalidInput, id.ToString() + ": metadata.name is missing or not a valid name");
    }
    Result<ResourceMapping> mapping = Map(KindOf(id));
    if (!mapping) return std::move(mapping).error();
    std::string path = GroupVersionPath(id.group, id.version);
    if (mapping->namespaced) {
      std::string ns = id.namespace_.empty() ? config.default_namespace : id.namespace_;
      if (!ValidName(ns)) return MakeError(ErrorCode::kInvalidInput, id.ToString() + ": invalid namespace");
      path += "/namespaces/" + PercentEncode(ns);
    }
    path += "/" + mapping->resource + "/" + PercentEncode(id.name);
    if (mapping_out != nullptr) *mapping_out = *mapping;
    return path;
  }

  Result<std::string> CollectionPath(const GroupVersionKind& gvk, const std::string& ns) {
    Result<ResourceMapping> mapping = Map(gvk);
    if (!mapping) return std::move(mapping).error();
    std::string path = GroupVersionPath(gvk.group, gvk.version);
    if (mapping->namespaced && !ns.empty()) {
      if (!ValidName(ns)) return MakeError(ErrorCode::kInvalidInput, gvk.ToString() + ": invalid namespace " + ns);
      path += "/namespaces/" + PercentEncode(ns);
    }
    return path + "/" + mapping->resource;
  }

  Result<Node> GetPath(const std::string& what, const std::string& path) {
    Result<HttpResponse> response = executor.Execute("get", Request("GET", path));
    if (!response) return std::move(response).error();
    if (response->status != 200) return StatusError(what, *response);
    return ParseBody(what, *response);
  }

  // One consistent list (restarted when a continue token expires).
  Result<ListResult> ListAll(const GroupVersionKind& gvk, const ListOptions& list) {
    Result<std::string> collection = CollectionPath(gvk, list.namespace_);
    if (!collection) return std::move(collection).error();
    const std::string what = "list " + gvk.ToString();
    for (int restart = 0;; ++restart) {
      ListResult out;
      std::string continue_token;
      bool expired = false;
      for (std::size_t page = 0;; ++page) {
        if (page >= options.max_list_pages) {
          return MakeError(ErrorCode::kLimitExceeded, what + ": more than " + std::to_string(page) + " pages");
        }
        std::string target = *collection + "?limit=" + std::to_string(list.page_size > 0 ? list.page_size : 500);
        if (!list.label_selector.empty()) target += "&labelSelector=" + PercentEncode(list.label_selector);
        if (!list.field_selector.empty()) target += "&fieldSelector=" + PercentEncode(list.field_selector);
        if (!continue_token.empty()) target += "&continue=" + PercentEncode(continue_token);
        Result<HttpResponse> response = executor.Execute("list", Request("GET", target));
        if (!response) return std::move(response).error();
        if (response->status == 410 && !continue_token.empty() && restart < 3) {
          expired = true;
          break;
        }
        if (response->status != 200) return StatusError(what, *response);
        Result<Node> body = ParseBody(what, *response);
        if (!body) return std::move(body).error();
        if (Node* items = body->Find("items"); items != nullptr && items->IsSequence()) {
          if (out.items.size() + items->items().size() > options.max_list_items) {
            return MakeError(ErrorCode::kLimitExceeded,
                             what + ": more than " + std::to_string(options.max_list_items) + " objects");
          }
          for (Node& item : items->items()) {
            if (!item.IsMapping()) continue;
            // Servers leave apiVersion and kind out of list items.
            if (item.Find("apiVersion") == nullptr) item.Set("apiVersion", Node::String(gvk.ApiVersion()));
            if (item.Find("kind") == nullptr) item.Set("kind", Node::String(gvk.kind));
            out.items.push_back(std::move(item));
          }
        }
        const Node* meta = body->Find("metadata");
        if (page == 0 && meta != nullptr && meta->IsMapping()) out.resource_version = meta->GetString("resourceVersion");
        continue_token = meta != nullptr && meta->IsMapping() ? meta->GetString("continue") : "";
        if (continue_token.empty()) return out;
      }
      if (!expired) return MakeError(ErrorCode::kInternal, what + ": list loop ended unexpectedly");
    }
  }
};

Result<std::unique_ptr<KubeClient>> KubeClient::Connect(const ConnectionConfig& config, const ClientOptions& options) {
  Result<std::unique_ptr<HttpTransport>> transport = MakeHttpTransport(config);
  if (!transport) return std::move(transport).error();
  return std::make_unique<KubeClient>(config, std::move(*transport), nullptr, options);
}

KubeClient::KubeClient(ConnectionConfig config, std::unique_ptr<HttpTransport> transport, Clock* clock,
                       const ClientOptions& options)
    : state_(std::make_unique<State>(std::move(config), std::move(transport), clock, options)) {}

KubeClient::~KubeClient() = default;

const RequestMetrics& KubeClient::metrics() const { return state_->metrics; }

void KubeClient::InvalidateDiscovery() {
  std::lock_guard<std::mutex> lock(state_->discovery_mu);
  state_->discovered.clear();
}

void KubeClient::Interrupt() { state_->own_clock.Wake(); }

Result<ResourceMapping> KubeClient::Mapping(const GroupVersionKind& gvk) { return state_->Map(gvk); }

Result<Node> KubeClient::Apply(const Node& object, const ApplyOptions& options) {
  Result<ResourceId> id = manifest::IdentityOf(object);
  if (!id) return std::move(id).error();
  Result<std::string> path = state_->ObjectPath(*id, nullptr);
  if (!path) return std::move(path).error();
  std::string target = *path + "?fieldManager=" + PercentEncode(options.field_manager);
  if (options.force) target += "&force=true";
  if (options.dry_run) target += "&dryRun=All";
  HttpRequest request = state_->Request("PATCH", target);
  request.headers.emplace_back("Content-Type", "application/apply-patch+yaml");
  // JSON is YAML, and it keeps numbers and strings exactly as they are.
  request.body = manifest::EmitJson(object);
  const std::string what = std::string(options.dry_run ? "apply (dry run) " : "apply ") + id->ToString();
  Result<HttpResponse> response = state_->executor.Execute("apply", request);
  if (!response) return std::move(response).error();
  if (response->status != 200 && response->status != 201) return StatusError(what, *response);
  return ParseBody(what, *response);
}

Result<Node> KubeClient::Get(const ResourceId& id) {
  Result<std::string> path = state_->ObjectPath(id, nullptr);
  if (!path) return std::move(path).error();
  return state_->GetPath("get " + id.ToString(), *path);
}

Result<Node> KubeClient::GetStatus(const ResourceId& id) {
  ResourceMapping mapping;
  Result<std::string> path = state_->ObjectPath(id, &mapping);
  if (!path) return std::move(path).error();
  if (!mapping.has_status) return state_->GetPath("get " + id.ToString(), *path);
  return state_->GetPath("get status of " + id.ToString(), *path + "/status");
}

Result<ListResult> KubeClient::List(const GroupVersionKind& gvk, const ListOptions& options) {
  return state_->ListAll(gvk, options);
}

Result<bool> KubeClient::Delete(const ResourceId& id, DeletePropagation propagation) {
  Result<std::string> path = state_->ObjectPath(id, nullptr);
  if (!path) return std::move(path).error();
  const char* policy = propagation == DeletePropagation::kForeground ? "Foreground"
                       : propagation == DeletePropagation::kOrphan   ? "Orphan"
                                                                     : "Background";
  HttpRequest request = state_->Request("DELETE", *path);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::string(R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":")") + policy + "\"}";
  Result<HttpResponse> response = state_->executor.Execute("delete", request);
  if (!response) return std::move(response).error();
  // 404 also covers a retry after a first attempt that deleted the object
  // but lost its response.
  if (response->status == 404) return false;
  if (response->status != 200 && response->status != 202) return StatusError("delete " + id.ToString(), *response);
  return true;
}

Status KubeClient::Watch(const GroupVersionKind& gvk, const WatchOptions& options, const WatchHandler& handler) {
  State& s = *state_;
  const std::string what = "watch " + gvk.ToString();
  auto stopped = [&options] { return options.stop != nullptr && options.stop->load(); };
  Result<std::string> collection = s.CollectionPath(gvk, options.namespace_);
  if (!collection) return std::move(collection).error();

  std::string version = options.resource_version;
  bool handler_done = false;
  auto relist = [&]() -> Status {
    ListOptions list;
    list.namespace_ = options.namespace_;
    list.label_selector = options.label_selector;
    Result<ListResult> listed = s.ListAll(gvk, list);
    if (!listed) return std::move(listed).error();
    WatchEvent reset;
    reset.type = WatchEventType::kReset;
    reset.items = std::move(listed->items);
    reset.resource_version = listed->resource_version;
    version = listed->resource_version;
    if (!handler(reset)) handler_done = true;
    return Status::Ok();
  };
  if (version.empty()) {
    if (Status st = relist(); !st) return st;
  }

  int failures = 0;
  while (!handler_done && !stopped()) {
    std::string target = *collection + "?watch=1&resourceVersion=" + PercentEncode(version) +
                         "&timeoutSeconds=" + std::to_string(options.timeout_seconds > 0 ? options.timeout_seconds : 300);
    if (options.allow_bookmarks) target += "&allowWatchBookmarks=true";
    if (!options.label_selector.empty()) target += "&labelSelector=" + PercentEncode(options.label_selector);
    HttpRequest request = s.Request("GET", target);
    request.timeout = s.options.watch_idle_timeout;
    request.cancel = options.stop;
    if (!options.allow_bookmarks) {
      // Without bookmarks a quiet watch is silent until the server's own
      // timeout ends it; that silence is not a failure.
      request.timeout = std::max<std::chrono::milliseconds>(
          request.timeout, std::chrono::seconds(std::max(1, options.timeout_seconds) + 30));
    }

    std::string pending;
    bool gone = false;
    bool saw_event = false;
    Error stream_error;
    bool stream_failed = false;
    BodySink sink = [&](std::string_view chunk) {
      if (stopped()) return false;
      pending.append(chunk);
      std::size_t start = 0;
      for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(pending.data() + start, nl - start);
        if (line.empty() || line == "\r") continue;
        Result<Node> parsed = manifest::ParseJson(line, what);
        if (!parsed || !parsed->IsMapping()) {
          stream_error = MakeError(ErrorCode::kUnavailable, what + ": malformed watch event from the server");
          stream_failed = true;
          return false;
        }
        std::string type = parsed->GetString("type");
        Node* object = parsed->Find("object");
        if (object == nullptr || !object->IsMapping()) {
          stream_error = MakeError(ErrorCode::kUnavailable, what + ": watch event without an object");
          stream_failed = true;
          return false;
        }
        if (type == "ERROR") {
          const Node* code = object->Find("code");
          if (code != nullptr && code->IsInt() && code->AsInt() == 410) {
            gone = true;
          } else {
            stream_error = MakeError(ErrorCode::kUnavailable, what + ": server sent an error: " + object->GetString("message"));
            stream_failed = true;
          }
          return false;
        }
        WatchEvent event;
        if (type == "ADDED") {
          event.type = WatchEventType::kAdded;
        } else if (type == "MODIFIED") {
          event.type = WatchEventType::kModified;
        } else if (type == "DELETED") {
          event.type = WatchEventType::kDeleted;
        } else if (type == "BOOKMARK") {
          event.type = WatchEventType::kBookmark;
        } else {
          stream_error = MakeError(ErrorCode::kUnavailable, what + ": unknown watch event type \"" + type + "\"");
          stream_failed = true;
          return false;
        }
        if (const Node* meta = object->Find("metadata"); meta != nullptr && meta->IsMapping()) {
          std::string rv = meta->GetString("resourceVersion");
          if (!rv.empty()) version = rv;
        }
        if (event.type != WatchEventType::kBookmark) {
          if (object->Find("apiVersion") == nullptr) object->Set("apiVersion", Node::String(gvk.ApiVersion()));
          if (object->Find("kind") == nullptr) object->Set("kind", Node::String(gvk.kind));
        }
        event.object = std::move(*object);
        event.resource_version = version;
        saw_event = true;
        if (!handler(event)) {
          handler_done = true;
          return false;
        }
      }
      pending.erase(0, start);
      if (pending.size() > s.options.max_watch_event_bytes) {
        stream_error = MakeError(ErrorCode::kLimitExceeded, what + ": a watch event exceeds " +
                                                                std::to_string(s.options.max_watch_event_bytes) + " bytes");
        stream_failed = true;
        return false;
      }
      return true;
    };

    Result<HttpResponse> response = s.executor.Execute("watch", request, &sink);
    if (handler_done || stopped()) break;
    if (response && response->status == 410) gone = true;
    if (gone) {
      if (Status st = relist(); !st) return st;
      failures = 0;
      continue;
    }
    if (response && response->status != 200) {
      Error e = StatusError(what, *response);
      if (e.code != ErrorCode::kUnavailable) return e;
      stream_error = e;
      stream_failed = true;
    }
    if (stream_failed && stream_error.code == ErrorCode::kLimitExceeded) return stream_error;
    if (!response) {
      stream_error = response.error();
      stream_failed = true;
    }
    if (!stream_failed || saw_event) {
      failures = 0;  // the server ended the watch (its timeout) or it made progress: resume
      if (!stream_failed) continue;
    }
    if (++failures >= std::max(1, options.max_consecutive_failures)) {
      stream_error.message += " (watch gave up after " + std::to_string(failures) + " consecutive failures)";
      return stream_error;
    }
    auto backoff = std::min<std::chrono::milliseconds>(s.options.retry.initial_backoff * (1 << std::min(failures, 10)),
                                                       s.options.retry.max_backoff);
    if (!s.clock->SleepFor(backoff)) break;
  }
  return Status::Ok();
}

}  // namespace keelson::cluster
