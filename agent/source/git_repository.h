// The adapter between Keelson and libgit2.
//
// This is the only place in the project that includes git2.h. It offers a
// narrow C++ API over a repository (bare or not) and converts every libgit2
// failure into a keelson::Error in one place, with the repository path and
// the operation that failed in the message.
//
// Threading: a GitRepository is movable, not copyable, and must be used by
// one thread at a time (libgit2 repository handles are not safe for
// concurrent use). Snapshots returned by Snapshot() own their own handle and
// are safe for concurrent reads (they serialise access internally).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/result.h"

namespace keelson::source {

// A commit and the ids of its parents, as full lowercase hex ids.
struct CommitInfo {
  std::string id;
  std::vector<std::string> parents;
};

enum class ObjectKind { kCommit, kTree, kBlob, kTag, kOther };

// A raw object as stored: `git cat-file <kind> <id>` prints `data`.
struct RawObject {
  ObjectKind kind = ObjectKind::kOther;
  std::string data;
};

// A reference and the object it points at (for a symbolic reference, the
// object its target points at).
struct Reference {
  std::string name;  // full name, e.g. refs/heads/main
  std::string target;
};

// How a range is walked.
enum class Ancestry {
  kAllParents,   // every commit reachable from `to` but not from `from`
  kFirstParent,  // only along first parents (`git log --first-parent`)
};

// Settings for one fetch. The callbacks run on the fetching thread.
struct FetchOptions {
  // Credentials asked for by the transport. Exactly one kind is used: an SSH
  // key pair (files), or a user name and password/token for HTTPS.
  struct SshKey {
    std::string user;
    std::string public_key_file;   // may be empty: derived by libssh2
    std::string private_key_file;
    std::string passphrase;        // never logged
  };
  struct Basic {
    std::string user;
    std::string password;  // or token; never logged
  };
  std::optional<SshKey> ssh_key;
  std::optional<Basic> basic;

  // Decides whether the server's certificate or host key is acceptable.
  // `tls_der` is set for TLS (the leaf certificate, DER), `ssh_host_key` for
  // SSH (the raw key blob as sent by the server, with its algorithm name).
  // `library_says_valid` is libgit2's own verdict (system CA store for TLS,
  // always false for SSH). Return ok to accept, an Error to refuse. When
  // unset, TLS uses libgit2's verdict and SSH is refused (no unchecked
  // host keys).
  struct PeerIdentity {
    std::string host;
    std::string tls_der;
    std::string ssh_host_key;
    std::string ssh_key_type;
    bool library_says_valid = false;
  };
  std::function<Status(const PeerIdentity&)> check_peer;

  // The whole fetch is abandoned when this passes (checked on every progress
  // report from the transport). Zero means no deadline.
  std::chrono::steady_clock::time_point deadline{};
  // A fetch that receives more than this is abandoned with kLimitExceeded
  // (a hostile or broken remote must not fill the disk).
  std::uint64_t max_receive_bytes = std::uint64_t{4} << 30;
  // Asked on every progress report; true abandons the fetch.
  std::function<bool()> cancelled;
};

// What a fetch moved.
struct FetchStats {
  std::uint64_t received_bytes = 0;
  std::uint64_t received_objects = 0;
};

class GitRepository {
 public:
  // Opens an existing repository at `path` (a working tree, its .git
  // directory, or a bare repository). kNotFound when there is none.
  static Result<GitRepository> Open(const std::string& path);
  // Creates a bare repository at `path` (which must not yet hold one).
  static Result<GitRepository> InitBare(const std::string& path);

  GitRepository(GitRepository&&) noexcept;
  GitRepository& operator=(GitRepository&&) noexcept;
  GitRepository(const GitRepository&) = delete;
  GitRepository& operator=(const GitRepository&) = delete;
  ~GitRepository();

  const std::string& path() const { return path_; }

  // `git rev-parse --verify SPEC`: the full id of the object SPEC names,
  // without peeling (an annotated tag name gives the tag object's id; write
  // "v1^{commit}" to peel). kNotFound when SPEC names nothing.
  Result<std::string> ResolveRevision(std::string_view spec) const;

  // The commits reachable from `to` but not from `from`, oldest first
  // (topological order, parents before children), each with its parents.
  // `from` may be empty: then every ancestor of `to` is listed. Both may be
  // any revision syntax that names a commit or an annotated tag of one.
  // kLimitExceeded when more than `max_commits` would be listed.
  Result<std::vector<CommitInfo>> ListCommits(std::string_view from, std::string_view to,
                                              Ancestry ancestry = Ancestry::kAllParents,
                                              std::size_t max_commits = 1'000'000) const;

  // The raw bytes of an object as stored in the object database (what `git
  // cat-file -p` shows for a commit or tag, byte for byte, including any
  // gpgsig header). `id` is a full or abbreviated id or any revision.
  Result<RawObject> ReadRawObject(std::string_view id) const;

  // Paths (files, clean, '/'-separated) whose content or mode differs
  // between the commit `commit` and its first parent (every file for a root
  // commit), sorted.
  Result<std::vector<std::string>> ChangedPaths(std::string_view commit) const;

  // The tree of `revision` as a read-only file system read straight from
  // the object database (no checkout). Symlinks are followed only within
  // the tree; targets outside it, absolute targets and paths climbing above
  // the root are refused with kAccessDenied; files above
  // manifest::kMaxFileBytes with kLimitExceeded. Submodules read as missing.
  Result<std::unique_ptr<manifest::FileSystem>> Snapshot(std::string_view revision) const;

  // All references whose full name starts with `prefix` ("" for all), sorted
  // by name; symbolic references are resolved.
  Result<std::vector<Reference>> ListReferences(std::string_view prefix = "") const;

  // Sets `name` to point at `target` (an existing object id), replacing any
  // current value. `log_message` goes to the reflog.
  Status SetReference(std::string_view name, std::string_view target, std::string_view log_message);
  // Deletes `name`; succeeds when it does not exist.
  Status DeleteReference(std::string_view name);

  // Fetches `refspecs` (e.g. "+refs/heads/main:refs/keelson/new/heads/main")
  // from `url` with an anonymous remote (nothing is written to the
  // repository's config). Updates only the destination refs of the
  // refspecs; never prunes. On failure the repository may hold new unused
  // objects but no reference has moved.
  Result<FetchStats> Fetch(const std::string& url, const std::vector<std::string>& refspecs,
                           const FetchOptions& options);

  // The same over one connection, choosing what to fetch from what the
  // remote advertises: `choose` gets the advertised references (peeled tag
  // entries left out) and returns the refspecs to fetch, or an Error that
  // ends the fetch. An empty list downloads nothing.
  struct FetchResult {
    std::vector<Reference> advertised;
    FetchStats stats;
    bool downloaded = false;
  };
  using RefspecChooser = std::function<Result<std::vector<std::string>>(const std::vector<Reference>&)>;
  Result<FetchResult> Fetch(const std::string& url, const RefspecChooser& choose, const FetchOptions& options);

  // Pushes `refspecs` to `url` with an anonymous remote, with the
  // credentials, peer checks, deadline and cancellation of `options`. A
  // refspec without a leading '+' must fast-forward the remote's reference.
  // kCheckFailed when the remote refuses a reference (not a fast-forward,
  // or a server hook), naming it; kUnavailable when the remote cannot be
  // reached or fails; kAccessDenied when authentication or the server's
  // identity check fails.
  Status Push(const std::string& url, const std::vector<std::string>& refspecs, const FetchOptions& options);
  // The references a remote advertises (`git ls-remote URL`), peeled tags
  // omitted.
  Result<std::vector<Reference>> ListRemote(const std::string& url, const FetchOptions& options);

  // True when `ancestor` is `descendant` or one of its ancestors.
  Result<bool> IsAncestor(std::string_view ancestor, std::string_view descendant) const;

  // Whether this libgit2 was built with HTTPS and SSH support.
  struct Features {
    bool https = false;
    bool ssh = false;
    bool threads = false;
  };
  static Features LibraryFeatures();

 private:
  struct Handle;
  GitRepository(std::unique_ptr<Handle> handle, std::string path);
  std::unique_ptr<Handle> handle_;
  std::string path_;
};

const char* ObjectKindName(ObjectKind kind);

}  // namespace keelson::source
