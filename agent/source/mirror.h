// A local bare mirror of one remote Git repository.
//
// One bare repository per source under a state directory
// (<state_dir>/<name>.git). The first Sync clones (fetches into the empty
// mirror); later ones fetch incrementally and only the tracked ref: a
// branch, a tag, or the highest tag matching a semver range. What arrives
// lands under refs/keelson/incoming/ first and is checked (it must name a
// commit whose tree is readable) before the mirror's own ref moves, so a
// remote that is down, refuses us or sends garbage leaves the last good
// mirror exactly as it was. Force-pushes and deleted refs are detected and
// reported in the SyncResult; a force-pushed-over commit stays reachable
// under refs/keelson/overwritten/ so history is never lost.
//
// Transport security: SSH host keys are checked against a known_hosts file
// (required for ssh URLs); TLS certificates against the system store or,
// when ca_file is set, against that bundle. Secrets never appear in
// messages; user:password@ in a URL is redacted.
//
// Thread safety: Sync and Revision may be called from any thread; calls on
// one Mirror are serialised. Readers may open the mirror path concurrently
// (reference updates are atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/source/clock.h"
#include "agent/source/git_repository.h"
#include "renderers/manifest/result.h"

namespace keelson::source {

struct Tracking {
  enum class Kind {
    kBranch,  // value: branch name ("main"), tracked as refs/heads/<value>
    kTag,     // value: tag name ("v1.2.0"), tracked as refs/tags/<value>
    kSemver,  // value: a range (">=1.2.0 <2.0.0"), the highest matching tag
  };
  Kind kind = Kind::kBranch;
  std::string value;
};

// How to reach a remote: credentials, and what the server's identity is
// checked against. Shared by source mirrors and the audit remote.
struct RemoteAccess {
  // SSH: a private key file (and optionally its public key and passphrase)
  // and a known_hosts file, which is required for SSH: there is no way to
  // skip host key checking.
  std::string ssh_user;  // default: the URL's user, else "git"
  std::string ssh_private_key_file;
  std::string ssh_public_key_file;
  std::string ssh_passphrase;
  std::string known_hosts_file;

  // HTTPS: basic authentication (for a token, the token as password and any
  // non-empty user the forge accepts), and an optional CA bundle (PEM) that
  // replaces the system store for this remote.
  std::string https_user;
  std::string https_password;
  std::string ca_file;
};

// Checks `url` is one of ssh://, user@host:path, https://, http://, git://,
// file://, and that an SSH URL comes with a known_hosts file and a key.
// Errors name the field ("url", "known_hosts_file", ...) in `where`.
Status ValidateRemote(const std::string& url, const RemoteAccess& access, Location where);

// The credentials and peer checks for fetching from or pushing to `url`:
// SSH keys with the host key checked against known_hosts, HTTPS basic auth,
// TLS checked against ca_file or else the system store. Reads the
// known_hosts and CA files.
Result<FetchOptions> MakeRemoteOptions(const std::string& url, const RemoteAccess& access);

struct SourceSpec {
  // Names the mirror directory: letters, digits, '.', '_', '-'; at most 100
  // characters, not starting with '.'.
  std::string name;
  // ssh://[user@]host[:port]/path, user@host:path, https://, http://,
  // git://, file://.
  std::string url;
  Tracking track;

  RemoteAccess access;

  // Each attempt is abandoned after `timeout`: checked as data arrives, and
  // (for a remote that sends nothing) by a watchdog one second later. An
  // abandoned attempt's thread lingers until its connection ends; until
  // then new attempts fail at once instead of piling up.
  // Unavailable remotes are retried up to `max_attempts` times in all,
  // waiting initial_backoff, then twice as long each time up to
  // max_backoff. Authentication and trust failures are not retried.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  int max_attempts = 3;
  std::chrono::milliseconds initial_backoff{std::chrono::seconds(1)};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};

  // A fetch receiving more than this is abandoned (kLimitExceeded, not
  // retried). Raise it for very large first clones.
  std::uint64_t max_receive_bytes = std::uint64_t{4} << 30;
};

// Checks the parts of a spec that need no network: name, URL form,
// tracking value (semver range syntax), SSH needing known_hosts.
Status ValidateSourceSpec(const SourceSpec& spec);

enum class RefChangeKind {
  kCreated,      // first time this ref is mirrored
  kFastForward,  // the new commit descends from the old one
  kForced,       // history was rewritten (force-push or moved tag)
  kDeleted,      // the remote no longer has the ref; the mirror keeps it
  kUnchanged,
};
const char* RefChangeKindName(RefChangeKind kind);

struct RefChange {
  std::string ref;     // full name, e.g. refs/heads/main
  std::string old_id;  // empty for kCreated
  std::string new_id;  // empty for kDeleted
  RefChangeKind kind = RefChangeKind::kUnchanged;
};

struct SyncResult {
  std::string ref;       // full name of the tracked ref (the chosen tag for semver)
  std::string object;    // what the ref points at (a tag object for annotated tags)
  std::string revision;  // the commit it names
  std::vector<RefChange> changes;
  FetchStats stats;
  int attempts = 0;
};

class Mirror {
 public:
  // Nothing touches the disk or network until the first Sync. `clock` must
  // outlive the mirror.
  Mirror(SourceSpec spec, std::string state_dir, Clock& clock = SteadyClock::Instance());

  // Brings the mirror up to date with the remote's tracked ref. On failure
  // the mirror is unchanged and the error says what failed (kUnavailable:
  // the remote could not be reached or answered garbage, after retries;
  // kAccessDenied: credentials, host key or certificate refused; kNotFound:
  // the tracked ref or a matching tag does not exist). `stop` aborts a
  // running fetch and any backoff wait.
  Result<SyncResult> Sync(const StopSignal* stop = nullptr);

  // The tracked revision as last mirrored, without network access.
  Result<SyncResult> Current();

  const SourceSpec& spec() const { return spec_; }
  std::string path() const;

 private:
  Result<SyncResult> SyncOnce(GitRepository& repo, const StopSignal* stop);
  Result<FetchOptions> MakeFetchOptions() const;
  Result<GitRepository> OpenOrCreate();
  // The tracked ref name among `refs`; nullopt when none.
  std::optional<std::string> SelectRef(const std::vector<Reference>& refs) const;
  struct FetchJob;
  Result<std::shared_ptr<FetchJob>> RunWatchedFetch(FetchOptions options, const StopSignal* stop);

  SourceSpec spec_;
  std::string state_dir_;
  Clock& clock_;
  std::mutex mu_;
  std::shared_ptr<FetchJob> stuck_;  // an abandoned fetch, until it ends
};

// The ref `track` selects among `refs` (a branch or tag by name, or the
// highest tag in a semver range); nullopt when none matches.
std::optional<std::string> SelectTrackedRef(const Tracking& track, const std::vector<Reference>& refs);

// `url` with any password or user info removed, for messages.
std::string RedactUrl(const std::string& url);

// Host and port of an ssh:// or scp-style URL; port 22 when not given.
struct SshEndpoint {
  std::string user;
  std::string host;
  int port = 22;
};
std::optional<SshEndpoint> ParseSshUrl(const std::string& url);

}  // namespace keelson::source
