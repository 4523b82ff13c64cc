// The audit code's only door to libgit2: open or create the audit
// repository, write signed commits, move a branch with compare-and-swap,
// read commits and files back, and push without force. libgit2 error codes
// become keelson::Error here and nowhere else.
//
// This file exists because agent/source's libgit2 adapter only reads; it
// should be folded into that adapter once both are merged.
//
// An AuditRepository owns its libgit2 handle; it is movable, not copyable,
// and not safe for concurrent use (one per thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/source/mirror.h"
#include "renderers/manifest/result.h"

struct git_repository;

namespace keelson::audit {

struct CommitIdentity {
  std::string name;
  std::string email;
  std::int64_t time = 0;   // seconds since the epoch
  int offset_minutes = 0;  // time zone offset
};

struct RepoCommit {
  std::string id;
  std::vector<std::string> parents;
  std::string message;  // full message, subject and body
  std::string author_name;
  std::string author_email;
  std::int64_t time = 0;       // committer time, seconds since the epoch
  std::string signature;       // the gpgsig header value; "" when unsigned
  std::string signed_payload;  // the commit object without its gpgsig header
};

struct TreeChange {
  std::string path;
  char status = '?';  // 'A' added, 'M' modified, 'D' deleted, 'T' type changed
};

class AuditRepository {
 public:
  // Opens the repository at `path`, creating a bare one (and its parent
  // directories) when nothing is there.
  static Result<AuditRepository> OpenOrInitBare(const std::string& path);
  // Opens an existing repository (bare or with a work tree).
  static Result<AuditRepository> Open(const std::string& path);

  AuditRepository(AuditRepository&&) noexcept;
  AuditRepository& operator=(AuditRepository&&) noexcept;
  ~AuditRepository();

  // The commit refs/heads/<branch> points at, or nullopt when the branch
  // does not exist.
  Result<std::optional<std::string>> BranchTip(std::string_view branch) const;
  // Local branch names (without refs/heads/) that start with `prefix`, sorted.
  Result<std::vector<std::string>> Branches(std::string_view prefix) const;
  // Resolves any revision expression git understands to a commit id.
  Result<std::string> ResolveCommit(std::string_view revision) const;

  Result<RepoCommit> ReadCommit(const std::string& id) const;
  // The blob at `path` in the commit's tree; kNotFound when absent.
  Result<std::string> ReadFile(const std::string& commit_id, const std::string& path) const;
  // What the commit's tree changes relative to its first parent's tree (or
  // the empty tree for a root commit), rename detection off.
  Result<std::vector<TreeChange>> ChangesFromFirstParent(const std::string& commit_id) const;

  // Writes a commit whose tree is the parent's tree (empty when `parent` is
  // "") plus `file_content` at `file_path`. The commit object is passed to
  // `sign`, whose armored result is stored in the gpgsig header. Only the
  // object is written; no ref moves. Returns the commit id.
  using SignFunction = std::function<Result<std::string>(std::string_view commit_object)>;
  Result<std::string> WriteCommit(const std::string& parent, const std::string& file_path,
                                  const std::string& file_content, const std::string& message,
                                  const CommitIdentity& committer, const SignFunction& sign);

  // Moves refs/heads/<branch> to `commit` only if it still points at
  // `expected` (nullopt: only if the branch does not exist yet). Fails with
  // kCheckFailed when someone else moved it.
  Status UpdateBranch(std::string_view branch, const std::string& commit, const std::optional<std::string>& expected);

  // Pushes refs/heads/<branch> to the same name at `url`, never forcing,
  // with the remote access set by set_remote_access (see CheckRemote for
  // the URLs accepted). kCheckFailed when the remote branch has commits
  // this repository does not build on (non-fast-forward) or the server
  // refuses the update, kUnavailable when the remote cannot be reached or
  // fails, kAccessDenied when authentication or the server's identity
  // check fails.
  Status Push(const std::string& url, std::string_view branch);

  // Whether Push and the fetches accept `url` with `access`: file://,
  // git://, http(s):// or SSH with a key and a known_hosts file.
  static Status CheckRemote(const std::string& url, const source::RemoteAccess& access);

  // Credentials and server checks for the remote (SSH key and known_hosts,
  // HTTPS basic auth or token, CA file), as for a source.
  void set_remote_access(source::RemoteAccess access) { access_ = std::move(access); }

  // Fetches refs/heads/<branch> from `url` into refs/heads/<branch> when
  // the local branch does not exist. Ok (and nothing changes) when the
  // remote has no such branch.
  Status FetchMissingBranch(const std::string& url, std::string_view branch);

  // Makes refs/heads/<branch> a copy of the remote's, whatever the local
  // one held (for reading other agents' trails, which are verified after
  // every fetch). kNotFound when the remote has no such branch.
  Status MirrorBranch(const std::string& url, std::string_view branch);

  // How long FetchMissingBranch and MirrorBranch wait for a remote before
  // they give up with kUnavailable (default 30 s, well inside systemd's 90 s
  // start timeout: the writer fetches before READY=1). A fetch given up on
  // is left to finish on its own thread; until it does, fetches from the
  // same URL fail at once rather than pile up.
  void set_fetch_timeout(std::chrono::milliseconds timeout) { fetch_timeout_ = timeout; }

 private:
  explicit AuditRepository(git_repository* repo) : repo_(repo) {}
  // refs/heads/<branch> of `url`: its commit id, nullopt when the remote
  // has no such branch. Watched by fetch_timeout_.
  Result<std::optional<std::string>> FetchBranch(const std::string& url, std::string_view branch);

  git_repository* repo_ = nullptr;
  std::chrono::milliseconds fetch_timeout_ = std::chrono::seconds(30);
  source::RemoteAccess access_;
};

}  // namespace keelson::audit
