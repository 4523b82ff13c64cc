#include "agent/source/mirror.h"

#include <algorithm>
#include <filesystem>
#include <condition_variable>
#include <map>
#include <thread>

#include "agent/source/git_url.h"
#include "agent/source/known_hosts.h"
#include "agent/source/semver.h"
#include "agent/source/tls_trust.h"

namespace keelson::source {
namespace {

constexpr std::string_view kIncoming = "refs/keelson/incoming/";
constexpr std::string_view kOverwritten = "refs/keelson/overwritten/";

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

// Branch and tag names as git accepts them, minus the exotic corners that
// have no place in a tracked ref.
bool ValidRefComponent(const std::string& name) {
  if (name.empty() || name.size() > 255 || name[0] == '-' || name[0] == '/' || name.back() == '/' ||
      name.ends_with(".lock") || name.find("..") != std::string::npos || name.find("//") != std::string::npos ||
      name.find("@{") != std::string::npos) {
    return false;
  }
  return std::none_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' ||
           c == '*' || c == '[' || c == '\\' || c == 0x7f;
  });
}


std::string WithoutRefsPrefix(const std::string& ref) { return ref.substr(std::string_view("refs/").size()); }

}  // namespace

const char* RefChangeKindName(RefChangeKind kind) {
  switch (kind) {
    case RefChangeKind::kCreated: return "created";
    case RefChangeKind::kFastForward: return "fast-forward";
    case RefChangeKind::kForced: return "forced";
    case RefChangeKind::kDeleted: return "deleted";
    case RefChangeKind::kUnchanged: return "unchanged";
  }
  return "unchanged";
}

std::string RedactUrl(const std::string& url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;  // scp-style user@host carries no secret
  std::size_t start = scheme + 3;
  std::size_t end = url.find('/', start);
  std::size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return url;
  std::string userinfo = url.substr(start, at - start);
  if (userinfo.find(':') == std::string::npos && UrlScheme(url) == "ssh") return url;  // a user name alone
  return url.substr(0, start) + "***@" + url.substr(at + 1);
}

std::optional<SshEndpoint> ParseSshUrl(const std::string& url) {
  SshEndpoint ep;
  std::string rest;
  if (IsScpLikeUrl(url)) {
    rest = url.substr(0, url.find(':'));
  } else if (IsSshUrl(url)) {
    rest = url.substr(url.find("://") + 3);
    rest = rest.substr(0, rest.find('/'));
  } else {
    return std::nullopt;
  }
  std::size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    ep.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string::npos) return std::nullopt;
    ep.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return std::nullopt;
      port = rest.substr(close + 2);
    }
  } else {
    std::size_t colon = rest.find(':');
    ep.host = rest.substr(0, colon);
    if (colon != std::string::npos && !IsScpLikeUrl(url)) port = rest.substr(colon + 1);
  }
  if (ep.host.empty()) return std::nullopt;
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    ep.port = std::stoi(port);
    if (ep.port <= 0 || ep.port > 65535) return std::nullopt;
  }
  return ep;
}

Status ValidateRemote(const std::string& url, const RemoteAccess& access, Location where) {
  std::string scheme = UrlScheme(url);
  if (!(scheme == "https" || scheme == "http" || scheme == "git" || scheme == "file" || IsSshUrl(url))) {
    where.field = "url";
    return MakeError(ErrorCode::kInvalidInput,
                     "unsupported URL \"" + RedactUrl(url) + "\" (use ssh://, https://, http://, git:// or file://)",
                     where);
  }
  if (IsSshUrl(url)) {
    if (!ParseSshUrl(url)) {
      where.field = "url";
      return MakeError(ErrorCode::kInvalidInput, "cannot read host and port of \"" + RedactUrl(url) + "\"", where);
    }
    if (access.known_hosts_file.empty()) {
      where.field = "known_hosts_file";
      return MakeError(ErrorCode::kInvalidInput, "an SSH remote needs a known_hosts file to check the server's key",
                       where);
    }
    if (access.ssh_private_key_file.empty()) {
      where.field = "ssh_private_key_file";
      return MakeError(ErrorCode::kInvalidInput, "an SSH remote needs a private key file", where);
    }
  }
  return Status::Ok();
}

Status ValidateSourceSpec(const SourceSpec& spec) {
  Location where{spec.name, 0, 0, {}};
  if (!ValidName(spec.name)) {
    where.field = "name";
    return MakeError(ErrorCode::kInvalidInput,
                     "source name must be 1-100 letters, digits, '.', '_' or '-' and not start with '.'", where);
  }
  if (Status s = ValidateRemote(spec.url, spec.access, where); !s) return s;
  where.field = "track";
  switch (spec.track.kind) {
    case Tracking::Kind::kBranch:
    case Tracking::Kind::kTag:
      if (!ValidRefComponent(spec.track.value)) {
        return MakeError(ErrorCode::kInvalidInput, "invalid ref name \"" + spec.track.value + "\"", where);
      }
      break;
    case Tracking::Kind::kSemver: {
      Result<SemVerRange> range = SemVerRange::Parse(spec.track.value);
      if (!range.ok()) return std::move(range).error().At(where);
      break;
    }
  }
  if (spec.max_attempts < 1 || spec.timeout.count() <= 0) {
    where.field = "max_attempts";
    return MakeError(ErrorCode::kInvalidInput, "max_attempts must be at least 1 and timeout positive", where);
  }
  return Status::Ok();
}

Mirror::Mirror(SourceSpec spec, std::string state_dir, Clock& clock)
    : spec_(std::move(spec)), state_dir_(std::move(state_dir)), clock_(clock) {}

std::string Mirror::path() const { return state_dir_ + "/" + spec_.name + ".git"; }

Result<GitRepository> Mirror::OpenOrCreate() {
  std::string dir = path();
  std::error_code ec;
  if (std::filesystem::exists(dir + "/HEAD", ec)) return GitRepository::Open(dir);
  std::filesystem::create_directories(state_dir_, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "cannot create state directory: " + ec.message(),
                     Location{state_dir_, 0, 0, {}});
  }
  return GitRepository::InitBare(dir);
}

std::optional<std::string> Mirror::SelectRef(const std::vector<Reference>& refs) const {
  return SelectTrackedRef(spec_.track, refs);
}

std::optional<std::string> SelectTrackedRef(const Tracking& track, const std::vector<Reference>& refs) {
  switch (track.kind) {
    case Tracking::Kind::kBranch:
    case Tracking::Kind::kTag: {
      std::string want =
          (track.kind == Tracking::Kind::kBranch ? "refs/heads/" : "refs/tags/") + track.value;
      for (const Reference& r : refs) {
        if (r.name == want) return want;
      }
      return std::nullopt;
    }
    case Tracking::Kind::kSemver: {
      Result<SemVerRange> range = SemVerRange::Parse(track.value);
      if (!range.ok()) return std::nullopt;
      std::vector<std::string> tags;
      for (const Reference& r : refs) {
        if (r.name.starts_with("refs/tags/")) tags.push_back(r.name.substr(10));
      }
      std::optional<std::string> best = HighestMatchingTag(tags, *range);
      if (!best) return std::nullopt;
      return "refs/tags/" + *best;
    }
  }
  return std::nullopt;
}

Result<FetchOptions> Mirror::MakeFetchOptions() const { return MakeRemoteOptions(spec_.url, spec_.access); }

Result<FetchOptions> MakeRemoteOptions(const std::string& url, const RemoteAccess& access) {
  FetchOptions options;
  std::optional<KnownHosts> known_hosts;
  std::optional<SshEndpoint> endpoint;
  if (IsSshUrl(url)) {
    Result<KnownHosts> loaded = KnownHosts::Load(access.known_hosts_file);
    if (!loaded.ok()) return std::move(loaded).error();
    known_hosts = std::move(*loaded);
    endpoint = ParseSshUrl(url);
    FetchOptions::SshKey key;
    key.user = !access.ssh_user.empty() ? access.ssh_user
                                        : (endpoint && !endpoint->user.empty() ? endpoint->user : "git");
    key.private_key_file = access.ssh_private_key_file;
    key.public_key_file = access.ssh_public_key_file;
    key.passphrase = access.ssh_passphrase;
    options.ssh_key = key;
  }
  if (!access.https_user.empty() || !access.https_password.empty()) {
    options.basic = FetchOptions::Basic{access.https_user, access.https_password};
  }
  std::optional<CertificateAuthorities> cas;
  if (!access.ca_file.empty()) {
    Result<CertificateAuthorities> loaded = CertificateAuthorities::Load(access.ca_file);
    if (!loaded.ok()) return std::move(loaded).error();
    cas = std::move(*loaded);
  }
  options.check_peer = [known_hosts, endpoint, cas](const FetchOptions::PeerIdentity& peer) -> Status {
    if (!peer.ssh_host_key.empty()) {
      if (!known_hosts || !endpoint) {
        return MakeError(ErrorCode::kAccessDenied, "unexpected SSH host key from " + peer.host);
      }
      return known_hosts->Check(endpoint->host, endpoint->port, peer.ssh_key_type, peer.ssh_host_key);
    }
    if (!peer.tls_der.empty()) {
      if (cas) return cas->Verify(peer.tls_der, peer.host);
      if (peer.library_says_valid) return Status::Ok();
      return MakeError(ErrorCode::kAccessDenied,
                       "TLS certificate of " + peer.host + " is not trusted by the system store (set ca_file for a "
                       "private CA)");
    }
    return MakeError(ErrorCode::kAccessDenied, "the server of " + peer.host + " presented no identity to check");
  };
  return options;
}

// libgit2 1.5 has no socket timeouts: a remote that accepts the connection
// and then says nothing would block a fetch forever, and with it the
// poller and shutdown. So the fetch runs on a thread of its own with its
// own repository handle and copies of everything it needs; the caller waits
// for it with a deadline and, when the deadline passes or a stop is asked
// for, abandons it. An abandoned fetch can only touch refs/keelson/incoming/
// (the mirror's refs move here, after it finished); while it is still
// stuck, new attempts are refused, so at most one thread per mirror hangs.
struct Mirror::FetchJob {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> abandoned{false};
  Result<GitRepository::FetchResult> result = MakeError(ErrorCode::kInternal, "fetch did not run");
  std::optional<std::string> chosen;
  std::string advertised_object;
};

Result<std::shared_ptr<Mirror::FetchJob>> Mirror::RunWatchedFetch(FetchOptions options, const StopSignal* stop) {
  if (stuck_) {
    std::lock_guard<std::mutex> lock(stuck_->mu);
    if (!stuck_->done) {
      return MakeError(ErrorCode::kUnavailable,
                       "an earlier fetch from " + RedactUrl(spec_.url) + " is still waiting for an answer");
    }
  }
  stuck_.reset();
  auto job = std::make_shared<FetchJob>();
  options.cancelled = [job] { return job->abandoned.load(); };
  std::thread([job, options = std::move(options), path = path(), url = spec_.url, track = spec_.track] {
    Result<GitRepository> repo = GitRepository::Open(path);
    Result<GitRepository::FetchResult> result = repo.ok() ? Result<GitRepository::FetchResult>(
                                                                MakeError(ErrorCode::kInternal, "fetch did not run"))
                                                          : Result<GitRepository::FetchResult>(repo.error());
    std::optional<std::string> chosen;
    std::string advertised_object;
    if (repo.ok()) {
      auto choose = [&](const std::vector<Reference>& advertised) -> Result<std::vector<std::string>> {
        chosen = SelectTrackedRef(track, advertised);
        if (!chosen) return std::vector<std::string>{};
        for (const Reference& r : advertised) {
          if (r.name == *chosen) advertised_object = r.target;
        }
        Result<std::string> have = repo->ResolveRevision(*chosen);
        if (have.ok() && *have == advertised_object) return std::vector<std::string>{};
        return std::vector<std::string>{"+" + *chosen + ":" + std::string(kIncoming) + WithoutRefsPrefix(*chosen)};
      };
      result = repo->Fetch(url, choose, options);
    }
    std::lock_guard<std::mutex> lock(job->mu);
    job->result = std::move(result);
    job->chosen = std::move(chosen);
    job->advertised_object = std::move(advertised_object);
    job->done = true;
    job->cv.notify_all();
  }).detach();

  // The transport checks `options.deadline` itself whenever data arrives;
  // this one catches a remote that sends nothing at all.
  auto deadline = std::chrono::steady_clock::now() + spec_.timeout + std::chrono::seconds(1);
  std::unique_lock<std::mutex> lock(job->mu);
  while (!job->done) {
    if (stop != nullptr && stop->stopped()) {
      job->abandoned = true;
      stuck_ = job;
      return MakeError(ErrorCode::kUnavailable, "fetch from " + RedactUrl(spec_.url) + " stopped");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      job->abandoned = true;
      stuck_ = job;
      return MakeError(ErrorCode::kUnavailable,
                       "no answer from " + RedactUrl(spec_.url) + " within " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(spec_.timeout).count()) +
                           "s; fetch abandoned");
    }
    // Short slices so that a stop is noticed promptly: the stop signal
    // cannot wake this condition variable.
    job->cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
  }
  return job;
}

Result<SyncResult> Mirror::Sync(const StopSignal* stop) {
  std::lock_guard<std::mutex> lock(mu_);
  Location where{spec_.name, 0, 0, {}};
  if (Status valid = ValidateSourceSpec(spec_); !valid.ok()) return std::move(valid).error();
  Result<GitRepository> repo = OpenOrCreate();
  if (!repo.ok()) return std::move(repo).error();
  std::chrono::milliseconds backoff = spec_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    Result<SyncResult> result = SyncOnce(*repo, stop);
    if (result.ok()) {
      result->attempts = attempt;
      return result;
    }
    Error error = std::move(result).error();
    bool retryable = error.code == ErrorCode::kUnavailable && (stop == nullptr || !stop->stopped());
    if (!retryable || attempt >= spec_.max_attempts) {
      if (attempt > 1) error.message += " (after " + std::to_string(attempt) + " attempts)";
      return error.At(where);
    }
    StopSignal never;
    const StopSignal& waiter = stop != nullptr ? *stop : never;
    clock_.SleepUntil(clock_.Now() + backoff, waiter);
    if (waiter.stopped()) return MakeError(ErrorCode::kUnavailable, "sync of " + spec_.name + " stopped", where);
    backoff = std::min(backoff * 2, spec_.max_backoff);
  }
}

Result<SyncResult> Mirror::SyncOnce(GitRepository& repo, const StopSignal* stop) {
  Result<FetchOptions> options = MakeFetchOptions();
  if (!options.ok()) return std::move(options).error();
  options->deadline = std::chrono::steady_clock::now() + spec_.timeout;
  options->max_receive_bytes = spec_.max_receive_bytes;
  if (stop != nullptr) options->cancelled = [stop] { return stop->stopped(); };

  // Before the fetch: what the mirror holds now.
  Result<std::vector<Reference>> local = repo.ListReferences("refs/");
  if (!local.ok()) return std::move(local).error();
  std::vector<Reference> local_tracked;
  for (const Reference& r : *local) {
    if (!r.name.starts_with("refs/keelson/")) local_tracked.push_back(r);
  }
  std::optional<std::string> previous_ref = SelectRef(local_tracked);
  std::string previous_object;
  if (previous_ref) {
    for (const Reference& r : local_tracked) {
      if (r.name == *previous_ref) previous_object = r.target;
    }
  }

  Result<std::shared_ptr<FetchJob>> job = RunWatchedFetch(*options, stop);
  if (!job.ok()) return std::move(job).error();
  Result<GitRepository::FetchResult>& fetched = (*job)->result;
  const std::optional<std::string>& chosen = (*job)->chosen;
  const std::string& advertised_object = (*job)->advertised_object;
  if (!fetched.ok()) {
    Error e = fetched.error();
    if (e.message.find(spec_.url) != std::string::npos && RedactUrl(spec_.url) != spec_.url) {
      e.message.replace(e.message.find(spec_.url), spec_.url.size(), RedactUrl(spec_.url));
    }
    return e;
  }

  SyncResult out;
  out.stats = fetched->stats;
  if (!chosen) {
    if (!previous_ref) {
      std::string what = spec_.track.kind == Tracking::Kind::kSemver
                             ? "no tag matching \"" + spec_.track.value + "\""
                             : "no ref " +
                                   std::string(spec_.track.kind == Tracking::Kind::kBranch ? "refs/heads/"
                                                                                           : "refs/tags/") +
                                   spec_.track.value;
      return MakeError(ErrorCode::kNotFound, RedactUrl(spec_.url) + " has " + what);
    }
    // Deleted on the remote: report it and keep serving the last good one.
    Result<std::string> commit = repo.ResolveRevision(previous_object + "^{commit}");
    if (!commit.ok()) return std::move(commit).error();
    out.ref = *previous_ref;
    out.object = previous_object;
    out.revision = *commit;
    out.changes.push_back(RefChange{*previous_ref, previous_object, "", RefChangeKind::kDeleted});
    return out;
  }

  std::string incoming = std::string(kIncoming) + WithoutRefsPrefix(*chosen);
  if (fetched->downloaded) {
    // Check what arrived before the mirror's ref moves.
    Result<std::string> object = repo.ResolveRevision(incoming);
    Result<std::string> commit = object.ok() ? repo.ResolveRevision(*object + "^{commit}") : object;
    Result<std::string> tree = commit.ok() ? repo.ResolveRevision(*commit + "^{tree}") : commit;
    if (!tree.ok() || *object != advertised_object) {
      (void)repo.DeleteReference(incoming);
      return MakeError(ErrorCode::kUnavailable, RedactUrl(spec_.url) + ": " + *chosen +
                                                    " did not arrive as a commit with a readable tree" +
                                                    (tree.ok() ? "" : ": " + tree.error().message));
    }
  }
  Result<std::string> object = repo.ResolveRevision(fetched->downloaded ? incoming : *chosen);
  if (!object.ok()) return std::move(object).error();
  Result<std::string> commit = repo.ResolveRevision(*object + "^{commit}");
  if (!commit.ok()) return std::move(commit).error();

  RefChange change{*chosen, previous_object, *object, RefChangeKind::kUnchanged};
  if (previous_object.empty()) {
    change.kind = RefChangeKind::kCreated;
  } else if (previous_object != *object || *previous_ref != *chosen) {
    Result<std::string> old_commit = repo.ResolveRevision(previous_object + "^{commit}");
    Result<bool> ancestor = old_commit.ok() ? repo.IsAncestor(*old_commit, *commit) : Result<bool>(false);
    if (!ancestor.ok()) return std::move(ancestor).error();
    change.kind = *ancestor ? RefChangeKind::kFastForward : RefChangeKind::kForced;
  }
  if (change.kind == RefChangeKind::kForced && previous_ref) {
    // Keep what was overwritten reachable, for audit and rollback.
    Status kept = repo.SetReference(std::string(kOverwritten) + WithoutRefsPrefix(*previous_ref) + "/" +
                                        previous_object,
                                    previous_object, "keelson: overwritten by force-push");
    if (!kept.ok()) return std::move(kept).error();
  }
  if (previous_ref && *previous_ref != *chosen &&
      std::none_of(fetched->advertised.begin(), fetched->advertised.end(),
                   [&](const Reference& r) { return r.name == *previous_ref; })) {
    // The previously chosen tag is gone on the remote: stop offering it, but
    // keep its commits reachable.
    Status kept = repo.SetReference(std::string(kOverwritten) + WithoutRefsPrefix(*previous_ref) + "/" +
                                        previous_object,
                                    previous_object, "keelson: deleted on the remote");
    if (!kept.ok()) return std::move(kept).error();
    if (Status gone = repo.DeleteReference(*previous_ref); !gone.ok()) return std::move(gone).error();
  }
  if (fetched->downloaded) {
    Status moved = repo.SetReference(*chosen, *object, "keelson: fetched from " + RedactUrl(spec_.url));
    if (!moved.ok()) return std::move(moved).error();
    (void)repo.DeleteReference(incoming);
  }
  out.ref = *chosen;
  out.object = *object;
  out.revision = *commit;
  out.changes.push_back(change);
  return out;
}

Result<SyncResult> Mirror::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  if (!std::filesystem::exists(path() + "/HEAD", ec)) {
    return MakeError(ErrorCode::kNotFound, "source " + spec_.name + " has not been fetched yet");
  }
  Result<GitRepository> repo = GitRepository::Open(path());
  if (!repo.ok()) return std::move(repo).error();
  Result<std::vector<Reference>> local = repo->ListReferences("refs/");
  if (!local.ok()) return std::move(local).error();
  std::vector<Reference> tracked;
  for (const Reference& r : *local) {
    if (!r.name.starts_with("refs/keelson/")) tracked.push_back(r);
  }
  std::optional<std::string> ref = SelectRef(tracked);
  if (!ref) return MakeError(ErrorCode::kNotFound, "source " + spec_.name + " has no mirrored revision yet");
  SyncResult out;
  out.ref = *ref;
  for (const Reference& r : tracked) {
    if (r.name == *ref) out.object = r.target;
  }
  Result<std::string> commit = repo->ResolveRevision(out.object + "^{commit}");
  if (!commit.ok()) return std::move(commit).error();
  out.revision = *commit;
  return out;
}

}  // namespace keelson::source
