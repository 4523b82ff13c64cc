#include "agent/audit/audit_repository.h"

#include <git2.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace keelson::audit {

namespace {

void InitLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

// libgit2 keeps the last error per thread; this turns it and the return
// code into our Error.
Error GitError(int code, std::string what, ErrorCode category = ErrorCode::kInternal) {
  const git_error* e = git_error_last();
  std::string message = std::move(what);
  if (e != nullptr && e->message != nullptr) message += ": " + std::string(e->message);
  if (code == GIT_ENOTFOUND) category = ErrorCode::kNotFound;
  return MakeError(category, std::move(message));
}

template <typename T, void (*Free)(T*)>
struct Owned {
  T* ptr = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (ptr != nullptr) Free(ptr);
  }
  T** out() { return &ptr; }
  T* get() const { return ptr; }
};

using CommitPtr = Owned<git_commit, git_commit_free>;
using TreePtr = Owned<git_tree, git_tree_free>;
using RefPtr = Owned<git_reference, git_reference_free>;
using RemotePtr = Owned<git_remote, git_remote_free>;
using SignaturePtr = Owned<git_signature, git_signature_free>;
using ObjectPtr = Owned<git_object, git_object_free>;
using BlobPtr = Owned<git_blob, git_blob_free>;
using EntryPtr = Owned<git_tree_entry, git_tree_entry_free>;
using DiffPtr = Owned<git_diff, git_diff_free>;
using BuilderPtr = Owned<git_treebuilder, git_treebuilder_free>;

struct Buf {
  git_buf buf = GIT_BUF_INIT;
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { git_buf_dispose(&buf); }
  std::string str() const { return buf.ptr == nullptr ? std::string() : std::string(buf.ptr, buf.size); }
};

struct StrArray {
  std::vector<std::string> owned;
  std::vector<char*> ptrs;
  git_strarray array{};
  explicit StrArray(std::vector<std::string> values) : owned(std::move(values)) {
    for (std::string& s : owned) ptrs.push_back(s.data());
    array.strings = ptrs.data();
    array.count = ptrs.size();
  }
};

std::string OidString(const git_oid* oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, oid);
  return hex;
}

Result<git_oid> ParseOid(const std::string& id) {
  git_oid oid;
  if (id.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, id.c_str()) != 0) {
    return MakeError(ErrorCode::kInvalidInput, "not a commit id: \"" + id.substr(0, 80) + "\"");
  }
  return oid;
}

std::string BranchRef(std::string_view branch) { return "refs/heads/" + std::string(branch); }

Status CheckBranchName(std::string_view branch) {
  int valid = 0;
  std::string ref = BranchRef(branch);
  if (branch.empty() || git_reference_name_is_valid(&valid, ref.c_str()) != 0 || !valid) {
    return MakeError(ErrorCode::kInvalidInput, "not a valid branch name: \"" + std::string(branch) + "\"");
  }
  return Status::Ok();
}

// Collects what the remote said about each pushed ref.

}  // namespace

Result<AuditRepository> AuditRepository::OpenOrInitBare(const std::string& path) {
  InitLibgit2();
  git_repository* repo = nullptr;
  if (git_repository_open_ext(&repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) == 0) {
    return AuditRepository(repo);
  }
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "cannot create the audit repository directory: " + ec.message(),
                     Location{path, 0, 0, ""});
  }
  if (int rc = git_repository_init(&repo, path.c_str(), /*is_bare=*/1); rc != 0) {
    return std::move(GitError(rc, "cannot create the audit repository").InFile(path));
  }
  return AuditRepository(repo);
}

Result<AuditRepository> AuditRepository::Open(const std::string& path) {
  InitLibgit2();
  git_repository* repo = nullptr;
  if (int rc = git_repository_open_ext(&repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr); rc != 0) {
    Error e = GitError(rc, "not a git repository");
    e.code = ErrorCode::kNotFound;
    return std::move(e.InFile(path));
  }
  return AuditRepository(repo);
}

AuditRepository::AuditRepository(AuditRepository&& other) noexcept
    : repo_(std::exchange(other.repo_, nullptr)),
      fetch_timeout_(other.fetch_timeout_),
      access_(std::move(other.access_)) {}

AuditRepository& AuditRepository::operator=(AuditRepository&& other) noexcept {
  if (this != &other) {
    if (repo_ != nullptr) git_repository_free(repo_);
    repo_ = std::exchange(other.repo_, nullptr);
    fetch_timeout_ = other.fetch_timeout_;
    access_ = std::move(other.access_);
  }
  return *this;
}

AuditRepository::~AuditRepository() {
  if (repo_ != nullptr) git_repository_free(repo_);
}

Result<std::optional<std::string>> AuditRepository::BranchTip(std::string_view branch) const {
  if (Status s = CheckBranchName(branch); !s) return std::move(s).error();
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, repo_, BranchRef(branch).c_str());
  if (rc == GIT_ENOTFOUND) return std::optional<std::string>();
  if (rc != 0) return GitError(rc, "cannot read branch " + std::string(branch));
  return std::optional<std::string>(OidString(&oid));
}

Result<std::vector<std::string>> AuditRepository::Branches(std::string_view prefix) const {
  git_reference_iterator* it = nullptr;
  std::string glob = "refs/heads/" + std::string(prefix) + "*";
  if (int rc = git_reference_iterator_glob_new(&it, repo_, glob.c_str()); rc != 0) {
    return GitError(rc, "cannot list branches");
  }
  std::vector<std::string> names;
  const char* name = nullptr;
  int rc;
  while ((rc = git_reference_next_name(&name, it)) == 0) names.emplace_back(std::string_view(name).substr(11));
  git_reference_iterator_free(it);
  if (rc != GIT_ITEROVER) return GitError(rc, "cannot list branches");
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> AuditRepository::ResolveCommit(std::string_view revision) const {
  ObjectPtr obj;
  std::string spec = std::string(revision) + "^{commit}";
  if (int rc = git_revparse_single(obj.out(), repo_, spec.c_str()); rc != 0) {
    Error e = GitError(rc, "unknown revision \"" + std::string(revision) + "\"");
    e.code = ErrorCode::kNotFound;
    return e;
  }
  return OidString(git_object_id(obj.get()));
}

Result<RepoCommit> AuditRepository::ReadCommit(const std::string& id) const {
  Result<git_oid> oid = ParseOid(id);
  if (!oid.ok()) return std::move(oid).error();
  CommitPtr commit;
  if (int rc = git_commit_lookup(commit.out(), repo_, &*oid); rc != 0) return GitError(rc, "cannot read commit " + id);
  RepoCommit out;
  out.id = id;
  for (unsigned i = 0; i < git_commit_parentcount(commit.get()); ++i) {
    out.parents.push_back(OidString(git_commit_parent_id(commit.get(), i)));
  }
  const char* message = git_commit_message_raw(commit.get());
  out.message = message == nullptr ? "" : message;
  const git_signature* author = git_commit_author(commit.get());
  out.author_name = author->name;
  out.author_email = author->email;
  out.time = git_commit_time(commit.get());
  Buf signature, payload;
  int rc = git_commit_extract_signature(&signature.buf, &payload.buf, repo_, &*oid, "gpgsig");
  if (rc == 0) {
    out.signature = signature.str();
    out.signed_payload = payload.str();
  } else if (rc != GIT_ENOTFOUND) {
    return GitError(rc, "cannot read the signature of commit " + id);
  }
  git_error_clear();
  return out;
}

Result<std::string> AuditRepository::ReadFile(const std::string& commit_id, const std::string& path) const {
  Result<git_oid> oid = ParseOid(commit_id);
  if (!oid.ok()) return std::move(oid).error();
  CommitPtr commit;
  TreePtr tree;
  EntryPtr entry;
  BlobPtr blob;
  if (int rc = git_commit_lookup(commit.out(), repo_, &*oid); rc != 0)
    return GitError(rc, "cannot read commit " + commit_id);
  if (int rc = git_commit_tree(tree.out(), commit.get()); rc != 0)
    return GitError(rc, "cannot read tree of " + commit_id);
  if (int rc = git_tree_entry_bypath(entry.out(), tree.get(), path.c_str()); rc != 0) {
    return GitError(rc, "no file " + path + " in commit " + commit_id);
  }
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) {
    return MakeError(ErrorCode::kInvalidInput, path + " in commit " + commit_id + " is not a file");
  }
  if (int rc = git_blob_lookup(blob.out(), repo_, git_tree_entry_id(entry.get())); rc != 0) {
    return GitError(rc, "cannot read " + path + " in commit " + commit_id);
  }
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<std::size_t>(git_blob_rawsize(blob.get())));
}

Result<std::vector<TreeChange>> AuditRepository::ChangesFromFirstParent(const std::string& commit_id) const {
  Result<git_oid> oid = ParseOid(commit_id);
  if (!oid.ok()) return std::move(oid).error();
  CommitPtr commit, parent;
  TreePtr tree, parent_tree;
  if (int rc = git_commit_lookup(commit.out(), repo_, &*oid); rc != 0)
    return GitError(rc, "cannot read commit " + commit_id);
  if (int rc = git_commit_tree(tree.out(), commit.get()); rc != 0)
    return GitError(rc, "cannot read tree of " + commit_id);
  if (git_commit_parentcount(commit.get()) > 0) {
    if (int rc = git_commit_parent(parent.out(), commit.get(), 0); rc != 0) {
      return GitError(rc, "cannot read the parent of " + commit_id);
    }
    if (int rc = git_commit_tree(parent_tree.out(), parent.get()); rc != 0) {
      return GitError(rc, "cannot read the parent tree of " + commit_id);
    }
  }
  DiffPtr diff;
  git_diff_options options;
  git_diff_options_init(&options, GIT_DIFF_OPTIONS_VERSION);
  options.flags |= GIT_DIFF_INCLUDE_TYPECHANGE;
  if (int rc = git_diff_tree_to_tree(diff.out(), repo_, parent_tree.get(), tree.get(), &options); rc != 0) {
    return GitError(rc, "cannot compare commit " + commit_id + " with its parent");
  }
  std::vector<TreeChange> changes;
  for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    char status = '?';
    switch (d->status) {
      case GIT_DELTA_ADDED:
        status = 'A';
        break;
      case GIT_DELTA_DELETED:
        status = 'D';
        break;
      case GIT_DELTA_MODIFIED:
        status = 'M';
        break;
      case GIT_DELTA_TYPECHANGE:
        status = 'T';
        break;
      default:
        break;
    }
    const char* path = d->new_file.path != nullptr ? d->new_file.path : d->old_file.path;
    changes.push_back({path, status});
  }
  return changes;
}

Result<std::string> AuditRepository::WriteCommit(const std::string& parent_id, const std::string& file_path,
                                                 const std::string& file_content, const std::string& message,
                                                 const CommitIdentity& committer, const SignFunction& sign) {
  CommitPtr parent;
  TreePtr base;
  if (!parent_id.empty()) {
    Result<git_oid> oid = ParseOid(parent_id);
    if (!oid.ok()) return std::move(oid).error();
    if (int rc = git_commit_lookup(parent.out(), repo_, &*oid); rc != 0) {
      return GitError(rc, "cannot read parent commit " + parent_id);
    }
    if (int rc = git_commit_tree(base.out(), parent.get()); rc != 0) return GitError(rc, "cannot read parent tree");
  } else {
    BuilderPtr builder;
    git_oid empty;
    if (int rc = git_treebuilder_new(builder.out(), repo_, nullptr); rc != 0)
      return GitError(rc, "cannot build a tree");
    if (int rc = git_treebuilder_write(&empty, builder.get()); rc != 0) return GitError(rc, "cannot write a tree");
    if (int rc = git_tree_lookup(base.out(), repo_, &empty); rc != 0) return GitError(rc, "cannot read a tree");
  }

  git_oid blob_id;
  if (int rc = git_blob_create_from_buffer(&blob_id, repo_, file_content.data(), file_content.size()); rc != 0) {
    return GitError(rc, "cannot write " + file_path);
  }
  git_tree_update update{};
  update.action = GIT_TREE_UPDATE_UPSERT;
  update.id = blob_id;
  update.filemode = GIT_FILEMODE_BLOB;
  update.path = file_path.c_str();
  git_oid tree_id;
  if (int rc = git_tree_create_updated(&tree_id, repo_, base.get(), 1, &update); rc != 0) {
    return GitError(rc, "cannot write the tree for " + file_path);
  }
  TreePtr tree;
  if (int rc = git_tree_lookup(tree.out(), repo_, &tree_id); rc != 0) return GitError(rc, "cannot read the new tree");

  SignaturePtr who;
  if (int rc = git_signature_new(who.out(), committer.name.c_str(), committer.email.c_str(), committer.time,
                                 committer.offset_minutes);
      rc != 0) {
    return GitError(rc, "bad committer identity", ErrorCode::kInvalidInput);
  }
  const git_commit* parents[1] = {parent.get()};
  Buf buffer;
  if (int rc = git_commit_create_buffer(&buffer.buf, repo_, who.get(), who.get(), nullptr, message.c_str(), tree.get(),
                                        parent.get() != nullptr ? 1 : 0, parent.get() != nullptr ? parents : nullptr);
      rc != 0) {
    return GitError(rc, "cannot build the commit");
  }
  std::string content = buffer.str();
  Result<std::string> signature = sign(content);
  if (!signature.ok()) return std::move(signature).error();
  // git's header continuation rules cannot carry a trailing newline.
  std::string armored = *signature;
  while (!armored.empty() && armored.back() == '\n') armored.pop_back();
  git_oid commit_id;
  if (int rc = git_commit_create_with_signature(&commit_id, repo_, content.c_str(), armored.c_str(), "gpgsig");
      rc != 0) {
    return GitError(rc, "cannot write the signed commit");
  }
  return OidString(&commit_id);
}

Status AuditRepository::UpdateBranch(std::string_view branch, const std::string& commit,
                                     const std::optional<std::string>& expected) {
  if (Status s = CheckBranchName(branch); !s) return s;
  Result<git_oid> oid = ParseOid(commit);
  if (!oid.ok()) return std::move(oid).error();
  RefPtr ref;
  std::string name = BranchRef(branch);
  std::string log = "keelson audit: record";
  int rc;
  if (expected.has_value()) {
    Result<git_oid> old = ParseOid(*expected);
    if (!old.ok()) return std::move(old).error();
    rc = git_reference_create_matching(ref.out(), repo_, name.c_str(), &*oid, 1, &*old, log.c_str());
  } else {
    rc = git_reference_create(ref.out(), repo_, name.c_str(), &*oid, 0, log.c_str());
  }
  if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS) {
    return GitError(rc, "branch " + std::string(branch) + " was moved by someone else while keelson wrote to it",
                    ErrorCode::kCheckFailed);
  }
  if (rc != 0) return GitError(rc, "cannot update branch " + std::string(branch));
  return Status::Ok();
}

Status AuditRepository::Push(const std::string& url, std::string_view branch) {
  if (Status s = CheckBranchName(branch); !s) return s;
  if (Status s = CheckRemote(url, access_); !s) return s;
  Result<source::FetchOptions> options = source::MakeRemoteOptions(url, access_);
  if (!options.ok()) return std::move(options).error();
  Result<source::GitRepository> repo = source::GitRepository::Open(git_repository_path(repo_));
  if (!repo.ok()) return std::move(repo).error();
  std::string where = "audit branch " + std::string(branch) + " at " + source::RedactUrl(url);
  // No leading '+': the remote must fast-forward or refuse.
  Status pushed = repo->Push(url, {BranchRef(branch) + ":" + BranchRef(branch)}, *options);
  if (pushed.ok()) return pushed;
  Error e = std::move(pushed).error();
  if (e.code == ErrorCode::kCheckFailed) {
    return MakeError(ErrorCode::kCheckFailed,
                     "push of " + where + " rejected (" + e.message +
                         "): the remote branch has commits this agent did not write (non-fast-forward) or the "
                         "server refused it. keelson never force-pushes the audit trail; find out who wrote to the "
                         "branch, then reconcile it by hand");
  }
  e.message = "cannot push " + where + ": " + e.message;
  return e;
}

Status AuditRepository::CheckRemote(const std::string& url, const source::RemoteAccess& access) {
  Status s = source::ValidateRemote(url, access, Location{"audit.repository", 0, 0, ""});
  if (s.ok()) return s;
  Error e = std::move(s).error();
  e.message = "audit remote " + source::RedactUrl(url) + ": " + e.message;
  return e;
}

namespace {

// libgit2 1.5 has no socket timeouts: a remote that accepts the connection
// and then says nothing would block a fetch, and the agent's start or its
// reconcile pass with it, forever. So each fetch runs on a thread of its
// own with its own repository handle, and the caller waits only until the
// deadline; an abandoned fetch writes nothing but its own staging ref.
// While one from a URL is still stuck, new fetches from it are refused at
// once, so at most one thread per remote hangs.
struct FetchJob {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Result<std::optional<std::string>> result = MakeError(ErrorCode::kInternal, "fetch did not run");
};

std::mutex stuck_mu;
std::map<std::string, std::shared_ptr<FetchJob>, std::less<>> stuck_fetches;

// The fetch itself, on the job's thread: `branch` of `url` into `staging`,
// then the staging ref's target, the ref removed again.
Result<std::optional<std::string>> FetchIntoStaging(const std::string& path, const std::string& url,
                                                    const source::RemoteAccess& access, const std::string& branch,
                                                    const std::string& staging) {
  Result<source::FetchOptions> options = source::MakeRemoteOptions(url, access);
  if (!options.ok()) return std::move(options).error();
  Result<source::GitRepository> repo = source::GitRepository::Open(path);
  if (!repo.ok()) return std::move(repo).error();
  Result<source::FetchStats> fetched = repo->Fetch(url, {"+refs/heads/" + branch + ":" + staging}, *options);
  if (!fetched.ok()) {
    Error e = std::move(fetched).error();
    e.message = "cannot fetch audit branch " + branch + ": " + e.message;
    return e;
  }
  Result<std::string> id = repo->ResolveRevision(staging);
  if (!id.ok()) {
    if (id.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
    return std::move(id).error();
  }
  if (Status s = repo->DeleteReference(staging); !s) return std::move(s).error();
  return std::optional<std::string>(*id);
}

}  // namespace

Result<std::optional<std::string>> AuditRepository::FetchBranch(const std::string& url, std::string_view branch) {
  if (Status s = CheckBranchName(branch); !s) return std::move(s).error();
  if (Status s = CheckRemote(url, access_); !s) return std::move(s).error();
  {
    std::lock_guard lock(stuck_mu);
    auto it = stuck_fetches.find(url);
    if (it != stuck_fetches.end()) {
      std::lock_guard job_lock(it->second->mu);
      if (!it->second->done) {
        return MakeError(ErrorCode::kUnavailable,
                         "an earlier fetch from " + source::RedactUrl(url) + " is still waiting for an answer");
      }
      stuck_fetches.erase(it);
    }
  }
  static std::atomic<std::uint64_t> next_staging{0};
  std::string staging = "refs/keelson/fetched/" + std::string(branch) + "-" + std::to_string(getpid()) + "-" +
                        std::to_string(next_staging++);
  auto job = std::make_shared<FetchJob>();
  std::thread([job, path = std::string(git_repository_path(repo_)), url, access = access_,
               branch = std::string(branch), staging] {
    Result<std::optional<std::string>> result = FetchIntoStaging(path, url, access, branch, staging);
    std::lock_guard lock(job->mu);
    job->result = std::move(result);
    job->done = true;
    job->cv.notify_all();
  }).detach();
  std::unique_lock lock(job->mu);
  if (!job->cv.wait_for(lock, fetch_timeout_, [&] { return job->done; })) {
    lock.unlock();
    std::lock_guard stuck_lock(stuck_mu);
    stuck_fetches[url] = job;
    return MakeError(ErrorCode::kUnavailable,
                     "no answer from " + source::RedactUrl(url) + " within " + std::to_string(fetch_timeout_.count()) +
                         " ms; fetch of audit branch " + std::string(branch) + " abandoned");
  }
  return job->result;
}

Status AuditRepository::FetchMissingBranch(const std::string& url, std::string_view branch) {
  Result<std::optional<std::string>> tip = BranchTip(branch);
  if (!tip.ok()) return std::move(tip).error();
  if (tip->has_value()) return Status::Ok();
  Result<std::optional<std::string>> fetched = FetchBranch(url, branch);
  if (!fetched.ok()) return std::move(fetched).error();
  if (!fetched->has_value()) return Status::Ok();
  return UpdateBranch(branch, **fetched, std::nullopt);
}

Status AuditRepository::MirrorBranch(const std::string& url, std::string_view branch) {
  Result<std::optional<std::string>> fetched = FetchBranch(url, branch);
  if (!fetched.ok()) return std::move(fetched).error();
  if (!fetched->has_value()) {
    return MakeError(ErrorCode::kNotFound,
                     "audit branch " + std::string(branch) + " does not exist at " + source::RedactUrl(url));
  }
  Result<git_oid> oid = ParseOid(**fetched);
  if (!oid.ok()) return std::move(oid).error();
  RefPtr updated;
  int rc = git_reference_create(updated.out(), repo_, BranchRef(branch).c_str(), &*oid, 1, "keelson: mirror peer trail");
  if (rc != 0) return GitError(rc, "cannot update " + BranchRef(branch));
  return Status::Ok();
}

}  // namespace keelson::audit
