#include "agent/source/git_repository.h"

#include <git2.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <set>

namespace keelson::source {
namespace {

using manifest::DirEntry;
using manifest::FileType;

void InitLibrary() {
  static std::once_flag once;
  // libgit2 stays initialised for the life of the process; shutting it down
  // while another thread may still use it would be a use-after-free.
  std::call_once(once, [] {
    git_libgit2_init();
    // A pack claiming more objects than this is refused before it is
    // indexed; real repositories stay far below.
    git_libgit2_opts(GIT_OPT_SET_PACK_MAX_OBJECTS, static_cast<std::size_t>(50'000'000));
  });
}

ErrorCode CodeFor(int code, int error_class, bool network) {
  switch (code) {
    case GIT_ENOTFOUND:
      return network ? ErrorCode::kUnavailable : ErrorCode::kNotFound;
    case GIT_EAMBIGUOUS:
    case GIT_EINVALIDSPEC:
    case GIT_EINVALID:
      return ErrorCode::kInvalidInput;
    case GIT_EAUTH:
    case GIT_ECERTIFICATE:
      return ErrorCode::kAccessDenied;
    default:
      break;
  }
  switch (error_class) {
    case GIT_ERROR_NET:
    case GIT_ERROR_SSH:
    case GIT_ERROR_HTTP:
    case GIT_ERROR_SSL:
    case GIT_ERROR_CALLBACK:
      return ErrorCode::kUnavailable;
    default:
      break;
  }
  // A fetch that fails while indexing or writing what the server sent is a
  // bad answer from the remote, which a later attempt may not repeat.
  return network ? ErrorCode::kUnavailable : ErrorCode::kInternal;
}

// The one place where libgit2 failures become keelson Errors.
Error GitError(int code, std::string_view operation, const std::string& repo, bool network = false) {
  const git_error* last = git_error_last();
  int error_class = last != nullptr ? last->klass : GIT_ERROR_NONE;
  std::string message(operation);
  if (last != nullptr && last->message != nullptr && last->message[0] != '\0') {
    message += ": ";
    message += last->message;
  } else {
    message += ": libgit2 error " + std::to_string(code);
  }
  git_error_clear();
  return MakeError(CodeFor(code, error_class, network), std::move(message), Location{repo, 0, 0, {}});
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using ObjectPtr = Owned<git_object, git_object_free>;
using CommitPtr = Owned<git_commit, git_commit_free>;
using TreePtr = Owned<git_tree, git_tree_free>;
using BlobPtr = Owned<git_blob, git_blob_free>;
using WalkPtr = Owned<git_revwalk, git_revwalk_free>;
using OdbPtr = Owned<git_odb, git_odb_free>;
using OdbObjectPtr = Owned<git_odb_object, git_odb_object_free>;
using DiffPtr = Owned<git_diff, git_diff_free>;
using RefPtr = Owned<git_reference, git_reference_free>;
using RefIterPtr = Owned<git_reference_iterator, git_reference_iterator_free>;
using RemotePtr = Owned<git_remote, git_remote_free>;
using RepoPtr = Owned<git_repository, git_repository_free>;

std::string OidHex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, oid);
  return buf;
}

ObjectKind KindOf(git_object_t type) {
  switch (type) {
    case GIT_OBJECT_COMMIT: return ObjectKind::kCommit;
    case GIT_OBJECT_TREE: return ObjectKind::kTree;
    case GIT_OBJECT_BLOB: return ObjectKind::kBlob;
    case GIT_OBJECT_TAG: return ObjectKind::kTag;
    default: return ObjectKind::kOther;
  }
}

Result<git_oid> ParseOid(std::string_view hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&oid, hex.data(), hex.size()) != 0) {
    git_error_clear();
    return MakeError(ErrorCode::kInvalidInput, "not a full object id: \"" + std::string(hex) + "\"");
  }
  return oid;
}

Result<ObjectPtr> RevParse(git_repository* repo, std::string_view spec, const std::string& path) {
  if (spec.empty() || spec.find('\0') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidInput, "empty or invalid revision", Location{path, 0, 0, {}});
  }
  git_object* obj = nullptr;
  std::string spec_str(spec);
  int rc = git_revparse_single(&obj, repo, spec_str.c_str());
  if (rc != 0) return GitError(rc, "resolve revision \"" + spec_str + "\"", path);
  return ObjectPtr(obj);
}

Result<CommitPtr> PeelToCommit(git_repository* repo, std::string_view spec, const std::string& path) {
  Result<ObjectPtr> obj = RevParse(repo, spec, path);
  if (!obj.ok()) return std::move(obj).error();
  git_object* peeled = nullptr;
  int rc = git_object_peel(&peeled, obj->get(), GIT_OBJECT_COMMIT);
  if (rc != 0) return GitError(rc, "revision \"" + std::string(spec) + "\" does not name a commit", path);
  return CommitPtr(reinterpret_cast<git_commit*>(peeled));
}

std::vector<std::string> SplitPath(std::string_view clean) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < clean.size()) {
    std::size_t end = clean.find('/', start);
    if (end == std::string_view::npos) end = clean.size();
    parts.emplace_back(clean.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string JoinParts(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

// A name git itself would never write into a tree; a crafted tree may hold
// one, and it must not become a way around path checks.
bool SafeEntryName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

// Symlink targets are paths, never this long in a real repository.
constexpr std::size_t kMaxSymlinkTarget = 4096;
// As on Linux (MAXSYMLINKS).
constexpr int kMaxSymlinkHops = 40;

// A tree read from the object database. The repository handle is private to
// this object; a mutex serialises every libgit2 call on it.
class TreeFileSystem final : public manifest::FileSystem {
 public:
  TreeFileSystem(RepoPtr repo, git_oid root, std::string label)
      : repo_(std::move(repo)), root_(root), label_(std::move(label)) {}

  Result<std::string> ReadFile(std::string_view path) const override {
    std::lock_guard<std::mutex> lock(mu_);
    Result<Found> found = Resolve(path);
    if (!found.ok()) return std::move(found).error();
    Location where{std::string(path), 0, 0, {}};
    if (found->is_tree) return MakeError(ErrorCode::kInvalidInput, "is a directory, not a file", where);
    git_odb* odb_raw = nullptr;
    if (int rc = git_repository_odb(&odb_raw, repo_.get()); rc != 0) {
      return GitError(rc, "open object database", label_).At(where);
    }
    OdbPtr odb(odb_raw);
    std::size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (int rc = git_odb_read_header(&size, &type, odb.get(), &found->oid); rc != 0) {
      return GitError(rc, "read blob header", label_).At(where);
    }
    if (size > manifest::kMaxFileBytes) {
      return MakeError(ErrorCode::kLimitExceeded,
                       "file of " + std::to_string(size) + " bytes exceeds the limit of " +
                           std::to_string(manifest::kMaxFileBytes),
                       where);
    }
    git_blob* blob = nullptr;
    if (int rc = git_blob_lookup(&blob, repo_.get(), &found->oid); rc != 0) {
      return GitError(rc, "read blob", label_).At(where);
    }
    BlobPtr owned(blob);
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob)),
                       static_cast<std::size_t>(git_blob_rawsize(blob)));
  }

  Result<std::vector<DirEntry>> ListDirectory(std::string_view path) const override {
    std::lock_guard<std::mutex> lock(mu_);
    Result<Found> found = Resolve(path);
    if (!found.ok()) return std::move(found).error();
    Location where{std::string(path), 0, 0, {}};
    if (!found->is_tree) return MakeError(ErrorCode::kNotFound, "directory not found (it is a file)", where);
    Result<TreePtr> tree = LookupTree(found->oid);
    if (!tree.ok()) return std::move(tree).error().At(where);
    std::vector<DirEntry> entries;
    std::size_t count = git_tree_entrycount(tree->get());
    for (std::size_t i = 0; i < count; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree->get(), i);
      std::string name = git_tree_entry_name(entry);
      if (!SafeEntryName(name)) continue;
      git_object_t type = git_tree_entry_type(entry);
      if (type == GIT_OBJECT_TREE) {
        entries.push_back(DirEntry{name, FileType::kDirectory});
      } else if (type == GIT_OBJECT_BLOB && git_tree_entry_filemode(entry) != GIT_FILEMODE_LINK) {
        entries.push_back(DirEntry{name, FileType::kFile});
      } else if (type == GIT_OBJECT_BLOB) {
        // A symlink is listed as what it points at, and not at all when it
        // dangles or leaves the tree.
        Result<Found> target = Resolve(found->path.empty() ? name : found->path + "/" + name);
        if (target.ok()) entries.push_back(DirEntry{name, target->is_tree ? FileType::kDirectory : FileType::kFile});
      }
    }
    std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    return entries;
  }

  FileType Type(std::string_view path) const override {
    std::lock_guard<std::mutex> lock(mu_);
    Result<Found> found = Resolve(path);
    if (!found.ok()) return FileType::kMissing;
    return found->is_tree ? FileType::kDirectory : FileType::kFile;
  }

  std::string Describe() const override { return label_; }

 private:
  struct Found {
    bool is_tree = false;
    git_oid oid;
    std::string path;  // after following symlinks
  };

  Result<TreePtr> LookupTree(const git_oid& oid) const {
    git_tree* tree = nullptr;
    if (int rc = git_tree_lookup(&tree, repo_.get(), &oid); rc != 0) return GitError(rc, "read tree", label_);
    return TreePtr(tree);
  }

  // Walks `path` from the root, following symlinks inside the tree.
  Result<Found> Resolve(std::string_view path) const {
    Location where{std::string(path), 0, 0, {}};
    Result<std::string> clean = manifest::CleanPath(path);
    if (!clean.ok()) return std::move(clean).error().At(where);
    std::vector<std::string> first = SplitPath(*clean);
    std::deque<std::string> pending(first.begin(), first.end());
    std::vector<std::string> done;
    git_oid current = root_;
    int hops = 0;
    while (!pending.empty()) {
      std::string name = std::move(pending.front());
      pending.pop_front();
      Result<TreePtr> tree = LookupTree(current);
      if (!tree.ok()) return std::move(tree).error().At(where);
      const git_tree_entry* entry = git_tree_entry_byname(tree->get(), name.c_str());
      if (entry == nullptr || !SafeEntryName(name)) return MakeError(ErrorCode::kNotFound, "file not found", where);
      git_object_t type = git_tree_entry_type(entry);
      if (type == GIT_OBJECT_TREE) {
        done.push_back(name);
        current = *git_tree_entry_id(entry);
        continue;
      }
      if (type != GIT_OBJECT_BLOB) {
        return MakeError(ErrorCode::kNotFound, "\"" + JoinParts(done) + (done.empty() ? "" : "/") + name +
                                                   "\" is a submodule, which a snapshot does not contain",
                         where);
      }
      if (git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK) {
        std::string link_path = JoinParts(done);
        link_path += (link_path.empty() ? "" : "/") + name;
        if (++hops > kMaxSymlinkHops) {
          return MakeError(ErrorCode::kLimitExceeded, "too many levels of symbolic links at \"" + link_path + "\"",
                           where);
        }
        git_blob* blob = nullptr;
        if (int rc = git_blob_lookup(&blob, repo_.get(), git_tree_entry_id(entry)); rc != 0) {
          return GitError(rc, "read symlink \"" + link_path + "\"", label_).At(where);
        }
        BlobPtr owned(blob);
        auto size = static_cast<std::size_t>(git_blob_rawsize(blob));
        std::string target(static_cast<const char*>(git_blob_rawcontent(blob)), std::min(size, kMaxSymlinkTarget));
        if (size > kMaxSymlinkTarget || target.empty() || target[0] == '/' ||
            target.find('\0') != std::string::npos) {
          return MakeError(ErrorCode::kAccessDenied,
                           "symlink \"" + link_path + "\" points outside the repository (\"" + target + "\")", where);
        }
        Result<std::string> joined = manifest::JoinPath(JoinParts(done), target);
        if (!joined.ok()) {
          return MakeError(ErrorCode::kAccessDenied,
                           "symlink \"" + link_path + "\" points outside the repository (\"" + target + "\")", where);
        }
        std::vector<std::string> restart = SplitPath(*joined);
        pending.insert(pending.begin(), restart.begin(), restart.end());
        done.clear();
        current = root_;
        continue;
      }
      if (!pending.empty()) return MakeError(ErrorCode::kNotFound, "file not found (a parent is a file)", where);
      done.push_back(name);
      return Found{false, *git_tree_entry_id(entry), JoinParts(done)};
    }
    return Found{true, current, JoinParts(done)};
  }

  RepoPtr repo_;
  git_oid root_;
  std::string label_;
  mutable std::mutex mu_;
};

// State shared with the transport callbacks of one fetch or ls-remote.
struct TransportContext {
  const FetchOptions* options = nullptr;
  std::optional<Error> failure;  // why a callback refused
  int credential_attempts = 0;
  std::uint64_t received_bytes = 0;
  // Push: the first reference the remote refused, and why.
  std::string push_rejected_ref;
  std::string push_rejection;
};

bool PastDeadline(TransportContext* ctx) {
  const FetchOptions& o = *ctx->options;
  if (o.cancelled && o.cancelled()) {
    ctx->failure = MakeError(ErrorCode::kUnavailable, "cancelled");
    return true;
  }
  if (o.deadline != std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() > o.deadline) {
    ctx->failure = MakeError(ErrorCode::kUnavailable, "timed out");
    return true;
  }
  return false;
}

int OnCredentials(git_credential** out, const char* /*url*/, const char* user_from_url, unsigned int allowed,
                  void* payload) {
  auto* ctx = static_cast<TransportContext*>(payload);
  const FetchOptions& o = *ctx->options;
  // libgit2 asks again after every rejection; a second request for the same
  // credentials means the server refused them.
  if (++ctx->credential_attempts > 2) {
    ctx->failure = MakeError(ErrorCode::kAccessDenied, "authentication failed: the server refused the credentials");
    return GIT_EUSER;
  }
  if (o.ssh_key && (allowed & GIT_CREDENTIAL_USERNAME) != 0 && (allowed & GIT_CREDENTIAL_SSH_KEY) == 0) {
    std::string user = o.ssh_key->user.empty() && user_from_url ? user_from_url : o.ssh_key->user;
    return git_credential_username_new(out, user.c_str());
  }
  if (o.ssh_key && (allowed & GIT_CREDENTIAL_SSH_KEY) != 0) {
    std::string user = !o.ssh_key->user.empty() ? o.ssh_key->user : (user_from_url ? user_from_url : "git");
    const char* pub = o.ssh_key->public_key_file.empty() ? nullptr : o.ssh_key->public_key_file.c_str();
    const char* pass = o.ssh_key->passphrase.empty() ? nullptr : o.ssh_key->passphrase.c_str();
    return git_credential_ssh_key_new(out, user.c_str(), pub, o.ssh_key->private_key_file.c_str(), pass);
  }
  if (o.basic && (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0) {
    return git_credential_userpass_plaintext_new(out, o.basic->user.c_str(), o.basic->password.c_str());
  }
  ctx->failure = MakeError(ErrorCode::kAccessDenied,
                           "the server asks for credentials and none of a usable kind are configured");
  return GIT_EUSER;
}

int OnCertificate(git_cert* cert, int valid, const char* host, void* payload) {
  auto* ctx = static_cast<TransportContext*>(payload);
  const FetchOptions& o = *ctx->options;
  FetchOptions::PeerIdentity peer;
  peer.host = host != nullptr ? host : "";
  peer.library_says_valid = valid != 0;
  if (cert->cert_type == GIT_CERT_X509) {
    auto* x509 = reinterpret_cast<git_cert_x509*>(cert);
    peer.tls_der.assign(static_cast<const char*>(x509->data), x509->len);
  } else if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
    auto* hostkey = reinterpret_cast<git_cert_hostkey*>(cert);
    if ((hostkey->type & GIT_CERT_SSH_RAW) != 0) {
      peer.ssh_host_key.assign(hostkey->hostkey, hostkey->hostkey_len);
      switch (hostkey->raw_type) {
        case GIT_CERT_SSH_RAW_TYPE_RSA: peer.ssh_key_type = "ssh-rsa"; break;
        case GIT_CERT_SSH_RAW_TYPE_DSS: peer.ssh_key_type = "ssh-dss"; break;
        case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256: peer.ssh_key_type = "ecdsa-sha2-nistp256"; break;
        case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384: peer.ssh_key_type = "ecdsa-sha2-nistp384"; break;
        case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521: peer.ssh_key_type = "ecdsa-sha2-nistp521"; break;
        case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519: peer.ssh_key_type = "ssh-ed25519"; break;
        default: break;
      }
    }
  }
  if (!o.check_peer) {
    if (!peer.ssh_host_key.empty() || cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
      ctx->failure = MakeError(ErrorCode::kAccessDenied,
                               "SSH host key of " + peer.host + " cannot be checked: no known_hosts configured");
      return GIT_EUSER;
    }
    if (valid) return 0;
    ctx->failure = MakeError(ErrorCode::kAccessDenied, "TLS certificate of " + peer.host + " is not trusted");
    return GIT_EUSER;
  }
  Status verdict = o.check_peer(peer);
  if (verdict.ok()) return 0;
  ctx->failure = verdict.error();
  return GIT_EUSER;
}

int OnTransferProgress(const git_indexer_progress* stats, void* payload) {
  auto* ctx = static_cast<TransportContext*>(payload);
  ctx->received_bytes = stats->received_bytes;
  if (stats->received_bytes > ctx->options->max_receive_bytes) {
    ctx->failure = MakeError(ErrorCode::kLimitExceeded, "the remote sent more than " +
                                                            std::to_string(ctx->options->max_receive_bytes) +
                                                            " bytes; fetch abandoned");
    return GIT_EUSER;
  }
  return PastDeadline(ctx) ? GIT_EUSER : 0;
}

int OnSideband(const char* /*text*/, int /*len*/, void* payload) {
  return PastDeadline(static_cast<TransportContext*>(payload)) ? GIT_EUSER : 0;
}

// An in-memory remote for `url`. The user's url.<base>.insteadOf rewrites
// are not applied: the agent fetches exactly the URL it was configured
// with (and libgit2 1.5 leaks a regex match block per remote when it looks
// those rewrites up).
int CreateRemote(git_remote** out, git_repository* repo, const std::string& url) {
  git_remote_create_options opts = GIT_REMOTE_CREATE_OPTIONS_INIT;
  opts.repository = repo;
  opts.name = nullptr;
  opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
  return git_remote_create_with_opts(out, url.c_str(), &opts);
}

// CreateRemote, owned, with the failure as an error.
Result<RemotePtr> AnonymousRemote(git_repository* repo, const std::string& url, const std::string& path) {
  git_remote* raw = nullptr;
  if (int rc = CreateRemote(&raw, repo, url); rc != 0) return GitError(rc, "set up remote " + url, path);
  return RemotePtr(raw);
}

git_remote_callbacks MakeCallbacks(TransportContext* ctx) {
  git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
  callbacks.credentials = OnCredentials;
  callbacks.certificate_check = OnCertificate;
  callbacks.transfer_progress = OnTransferProgress;
  callbacks.sideband_progress = OnSideband;
  callbacks.payload = ctx;
  return callbacks;
}

// A transport failure: the callback's own reason when one refused,
// otherwise libgit2's.
Error TransportError(int rc, TransportContext& ctx, std::string_view operation, const std::string& url,
                     const std::string& repo) {
  if (ctx.failure) {
    git_error_clear();
    Error e = *ctx.failure;
    e.message = std::string(operation) + " " + url + ": " + e.message;
    e.where.file = repo;
    return e;
  }
  return GitError(rc, std::string(operation) + " " + url, repo, /*network=*/true);
}

}  // namespace

struct GitRepository::Handle {
  RepoPtr repo;
};

const char* ObjectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kCommit: return "commit";
    case ObjectKind::kTree: return "tree";
    case ObjectKind::kBlob: return "blob";
    case ObjectKind::kTag: return "tag";
    case ObjectKind::kOther: return "other";
  }
  return "other";
}

GitRepository::GitRepository(std::unique_ptr<Handle> handle, std::string path)
    : handle_(std::move(handle)), path_(std::move(path)) {}
GitRepository::GitRepository(GitRepository&&) noexcept = default;
GitRepository& GitRepository::operator=(GitRepository&&) noexcept = default;
GitRepository::~GitRepository() = default;

Result<GitRepository> GitRepository::Open(const std::string& path) {
  InitLibrary();
  git_repository* repo = nullptr;
  int rc = git_repository_open_ext(&repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc != 0) return GitError(rc, "open repository", path);
  auto handle = std::make_unique<Handle>();
  handle->repo.reset(repo);
  return GitRepository(std::move(handle), path);
}

Result<GitRepository> GitRepository::InitBare(const std::string& path) {
  InitLibrary();
  git_repository* repo = nullptr;
  int rc = git_repository_init(&repo, path.c_str(), /*is_bare=*/1);
  if (rc != 0) return GitError(rc, "create bare repository", path);
  auto handle = std::make_unique<Handle>();
  handle->repo.reset(repo);
  return GitRepository(std::move(handle), path);
}

Result<std::string> GitRepository::ResolveRevision(std::string_view spec) const {
  Result<ObjectPtr> obj = RevParse(handle_->repo.get(), spec, path_);
  if (!obj.ok()) return std::move(obj).error();
  return OidHex(git_object_id(obj->get()));
}

Result<std::vector<CommitInfo>> GitRepository::ListCommits(std::string_view from, std::string_view to,
                                                           Ancestry ancestry, std::size_t max_commits) const {
  git_repository* repo = handle_->repo.get();
  Result<CommitPtr> head = PeelToCommit(repo, to, path_);
  if (!head.ok()) return std::move(head).error();
  git_revwalk* walk_raw = nullptr;
  if (int rc = git_revwalk_new(&walk_raw, repo); rc != 0) return GitError(rc, "start history walk", path_);
  WalkPtr walk(walk_raw);
  git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
  if (ancestry == Ancestry::kFirstParent) git_revwalk_simplify_first_parent(walk.get());
  if (int rc = git_revwalk_push(walk.get(), git_commit_id(head->get())); rc != 0) {
    return GitError(rc, "walk history from \"" + std::string(to) + "\"", path_);
  }
  if (!from.empty()) {
    Result<CommitPtr> base = PeelToCommit(repo, from, path_);
    if (!base.ok()) return std::move(base).error();
    if (int rc = git_revwalk_hide(walk.get(), git_commit_id(base->get())); rc != 0) {
      return GitError(rc, "exclude history of \"" + std::string(from) + "\"", path_);
    }
  }
  std::vector<CommitInfo> commits;
  git_oid oid;
  int rc = 0;
  while ((rc = git_revwalk_next(&oid, walk.get())) == 0) {
    if (commits.size() >= max_commits) {
      return MakeError(ErrorCode::kLimitExceeded,
                       "range " + std::string(from) + ".." + std::string(to) + " holds more than " +
                           std::to_string(max_commits) + " commits",
                       Location{path_, 0, 0, {}});
    }
    git_commit* commit = nullptr;
    if (int lrc = git_commit_lookup(&commit, repo, &oid); lrc != 0) return GitError(lrc, "read commit", path_);
    CommitPtr owned(commit);
    CommitInfo info;
    info.id = OidHex(&oid);
    unsigned int n = git_commit_parentcount(commit);
    for (unsigned int i = 0; i < n; ++i) info.parents.push_back(OidHex(git_commit_parent_id(commit, i)));
    commits.push_back(std::move(info));
  }
  if (rc != GIT_ITEROVER) return GitError(rc, "walk history", path_);
  return commits;
}

Result<RawObject> GitRepository::ReadRawObject(std::string_view id) const {
  git_repository* repo = handle_->repo.get();
  Result<ObjectPtr> obj = RevParse(repo, id, path_);
  if (!obj.ok()) return std::move(obj).error();
  git_odb* odb_raw = nullptr;
  if (int rc = git_repository_odb(&odb_raw, repo); rc != 0) return GitError(rc, "open object database", path_);
  OdbPtr odb(odb_raw);
  git_odb_object* raw = nullptr;
  if (int rc = git_odb_read(&raw, odb.get(), git_object_id(obj->get())); rc != 0) {
    return GitError(rc, "read object " + std::string(id), path_);
  }
  OdbObjectPtr owned(raw);
  RawObject out;
  out.kind = KindOf(git_odb_object_type(raw));
  out.data.assign(static_cast<const char*>(git_odb_object_data(raw)), git_odb_object_size(raw));
  return out;
}

Result<std::vector<std::string>> GitRepository::ChangedPaths(std::string_view commit_spec) const {
  git_repository* repo = handle_->repo.get();
  Result<CommitPtr> commit = PeelToCommit(repo, commit_spec, path_);
  if (!commit.ok()) return std::move(commit).error();
  git_tree* new_tree = nullptr;
  if (int rc = git_commit_tree(&new_tree, commit->get()); rc != 0) return GitError(rc, "read commit tree", path_);
  TreePtr new_owned(new_tree);
  TreePtr old_owned;
  if (git_commit_parentcount(commit->get()) > 0) {
    git_commit* parent = nullptr;
    if (int rc = git_commit_parent(&parent, commit->get(), 0); rc != 0) return GitError(rc, "read parent", path_);
    CommitPtr parent_owned(parent);
    git_tree* old_tree = nullptr;
    if (int rc = git_commit_tree(&old_tree, parent); rc != 0) return GitError(rc, "read parent tree", path_);
    old_owned.reset(old_tree);
  }
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  git_diff* diff_raw = nullptr;
  if (int rc = git_diff_tree_to_tree(&diff_raw, repo, old_owned.get(), new_tree, &opts); rc != 0) {
    return GitError(rc, "compare trees", path_);
  }
  DiffPtr diff(diff_raw);
  std::set<std::string> paths;
  std::size_t n = git_diff_num_deltas(diff.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    if (delta->old_file.path != nullptr && (delta->status != GIT_DELTA_ADDED)) paths.insert(delta->old_file.path);
    if (delta->new_file.path != nullptr && (delta->status != GIT_DELTA_DELETED)) paths.insert(delta->new_file.path);
  }
  return std::vector<std::string>(paths.begin(), paths.end());
}

Result<std::unique_ptr<manifest::FileSystem>> GitRepository::Snapshot(std::string_view revision) const {
  Result<CommitPtr> commit = PeelToCommit(handle_->repo.get(), revision, path_);
  if (!commit.ok()) return std::move(commit).error();
  git_oid tree = *git_commit_tree_id(commit->get());
  std::string id = OidHex(git_commit_id(commit->get()));
  // The snapshot gets a handle of its own so it can outlive this object and
  // be read from another thread.
  git_repository* repo = nullptr;
  int rc = git_repository_open_ext(&repo, git_repository_path(handle_->repo.get()), GIT_REPOSITORY_OPEN_NO_SEARCH,
                                   nullptr);
  if (rc != 0) return GitError(rc, "open repository for snapshot", path_);
  return std::unique_ptr<manifest::FileSystem>(
      std::make_unique<TreeFileSystem>(RepoPtr(repo), tree, path_ + "@" + id));
}

Result<std::vector<Reference>> GitRepository::ListReferences(std::string_view prefix) const {
  git_repository* repo = handle_->repo.get();
  git_reference_iterator* iter_raw = nullptr;
  if (int rc = git_reference_iterator_new(&iter_raw, repo); rc != 0) return GitError(rc, "list references", path_);
  RefIterPtr iter(iter_raw);
  std::vector<Reference> refs;
  git_reference* ref = nullptr;
  int rc = 0;
  while ((rc = git_reference_next(&ref, iter.get())) == 0) {
    RefPtr owned(ref);
    std::string name = git_reference_name(ref);
    if (!name.starts_with(prefix)) continue;
    git_reference* resolved = nullptr;
    if (git_reference_resolve(&resolved, ref) != 0) {
      git_error_clear();  // a dangling symbolic reference (HEAD of an empty mirror)
      continue;
    }
    RefPtr resolved_owned(resolved);
    refs.push_back(Reference{name, OidHex(git_reference_target(resolved))});
  }
  if (rc != GIT_ITEROVER) return GitError(rc, "list references", path_);
  std::sort(refs.begin(), refs.end(), [](const Reference& a, const Reference& b) { return a.name < b.name; });
  return refs;
}

Status GitRepository::SetReference(std::string_view name, std::string_view target, std::string_view log_message) {
  Result<git_oid> oid = ParseOid(target);
  if (!oid.ok()) return std::move(oid).error();
  std::string name_str(name), message(log_message);
  git_reference* ref = nullptr;
  int rc = git_reference_create(&ref, handle_->repo.get(), name_str.c_str(), &*oid, /*force=*/1, message.c_str());
  if (rc != 0) return GitError(rc, "set reference " + name_str, path_);
  git_reference_free(ref);
  return Status::Ok();
}

Status GitRepository::DeleteReference(std::string_view name) {
  std::string name_str(name);
  git_reference* ref = nullptr;
  int rc = git_reference_lookup(&ref, handle_->repo.get(), name_str.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return Status::Ok();
  }
  if (rc != 0) return GitError(rc, "look up reference " + name_str, path_);
  RefPtr owned(ref);
  rc = git_reference_delete(ref);
  if (rc != 0) return GitError(rc, "delete reference " + name_str, path_);
  return Status::Ok();
}

Result<FetchStats> GitRepository::Fetch(const std::string& url, const std::vector<std::string>& refspecs,
                                        const FetchOptions& options) {
  Result<FetchResult> result = Fetch(
      url, [&](const std::vector<Reference>&) -> Result<std::vector<std::string>> { return refspecs; }, options);
  if (!result.ok()) return std::move(result).error();
  return result->stats;
}

Result<GitRepository::FetchResult> GitRepository::Fetch(const std::string& url, const RefspecChooser& choose,
                                                        const FetchOptions& options) {
  Result<RemotePtr> remote = AnonymousRemote(handle_->repo.get(), url, path_);
  if (!remote.ok()) return std::move(remote).error();
  TransportContext ctx;
  ctx.options = &options;
  git_fetch_options fetch_opts = GIT_FETCH_OPTIONS_INIT;
  fetch_opts.callbacks = MakeCallbacks(&ctx);
  fetch_opts.prune = GIT_FETCH_NO_PRUNE;
  fetch_opts.update_fetchhead = 0;
  fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  int rc = git_remote_connect(remote->get(), GIT_DIRECTION_FETCH, &fetch_opts.callbacks, &fetch_opts.proxy_opts,
                              nullptr);
  if (rc != 0) return TransportError(rc, ctx, "connect to", url, path_);
  const git_remote_head** heads = nullptr;
  std::size_t count = 0;
  if (rc = git_remote_ls(&heads, &count, remote->get()); rc != 0) {
    return TransportError(rc, ctx, "list references of", url, path_);
  }
  FetchResult out;
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = heads[i]->name;
    if (name.ends_with("^{}")) continue;
    out.advertised.push_back(Reference{name, OidHex(&heads[i]->oid)});
  }
  Result<std::vector<std::string>> refspecs = choose(out.advertised);
  if (!refspecs.ok()) {
    git_remote_disconnect(remote->get());
    return std::move(refspecs).error();
  }
  if (!refspecs->empty()) {
    std::vector<char*> specs;
    for (const std::string& s : *refspecs) specs.push_back(const_cast<char*>(s.c_str()));
    git_strarray array{specs.data(), specs.size()};
    if (rc = git_remote_download(remote->get(), &array, &fetch_opts); rc != 0) {
      return TransportError(rc, ctx, "fetch from", url, path_);
    }
    if (rc = git_remote_update_tips(remote->get(), &fetch_opts.callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE,
                                    "keelson fetch");
        rc != 0) {
      return TransportError(rc, ctx, "update references from", url, path_);
    }
    const git_indexer_progress* stats = git_remote_stats(remote->get());
    out.stats.received_bytes = stats->received_bytes;
    out.stats.received_objects = stats->received_objects;
    out.downloaded = true;
  }
  git_remote_disconnect(remote->get());
  return out;
}

namespace {

int OnPushUpdate(const char* ref, const char* status, void* payload) {
  auto* ctx = static_cast<TransportContext*>(payload);
  if (status != nullptr && ctx->push_rejection.empty()) {
    ctx->push_rejected_ref = ref != nullptr ? ref : "";
    ctx->push_rejection = status;
  }
  return 0;
}

int OnPushProgress(unsigned int /*current*/, unsigned int /*total*/, std::size_t /*bytes*/, void* payload) {
  return PastDeadline(static_cast<TransportContext*>(payload)) ? -1 : 0;
}

}  // namespace

Status GitRepository::Push(const std::string& url, const std::vector<std::string>& refspecs,
                           const FetchOptions& options) {
  Result<RemotePtr> remote = AnonymousRemote(handle_->repo.get(), url, path_);
  if (!remote.ok()) return std::move(remote).error();
  TransportContext ctx;
  ctx.options = &options;
  git_push_options push_opts = GIT_PUSH_OPTIONS_INIT;
  push_opts.callbacks = MakeCallbacks(&ctx);
  push_opts.callbacks.push_update_reference = OnPushUpdate;
  push_opts.callbacks.push_transfer_progress = OnPushProgress;
  std::vector<char*> specs;
  for (const std::string& s : refspecs) specs.push_back(const_cast<char*>(s.c_str()));
  git_strarray array{specs.data(), specs.size()};
  int rc = git_remote_push(remote->get(), &array, &push_opts);
  if (rc == GIT_ENONFASTFORWARD) {
    git_error_clear();
    return MakeError(ErrorCode::kCheckFailed, "push to " + url + " rejected: not a fast-forward",
                     Location{path_, 0, 0, {}});
  }
  if (rc != 0) return TransportError(rc, ctx, "push to", url, path_);
  if (!ctx.push_rejection.empty()) {
    return MakeError(ErrorCode::kCheckFailed,
                     "push to " + url + " rejected by the remote: " + ctx.push_rejected_ref + ": " + ctx.push_rejection,
                     Location{path_, 0, 0, {}});
  }
  return Status::Ok();
}

Result<std::vector<Reference>> GitRepository::ListRemote(const std::string& url, const FetchOptions& options) {
  Result<RemotePtr> remote = AnonymousRemote(handle_->repo.get(), url, path_);
  if (!remote.ok()) return std::move(remote).error();
  TransportContext ctx;
  ctx.options = &options;
  git_remote_callbacks callbacks = MakeCallbacks(&ctx);
  git_proxy_options proxy = GIT_PROXY_OPTIONS_INIT;
  int rc = git_remote_connect(remote->get(), GIT_DIRECTION_FETCH, &callbacks, &proxy, nullptr);
  if (rc != 0) return TransportError(rc, ctx, "connect to", url, path_);
  const git_remote_head** heads = nullptr;
  std::size_t count = 0;
  rc = git_remote_ls(&heads, &count, remote->get());
  if (rc != 0) return TransportError(rc, ctx, "list references of", url, path_);
  std::vector<Reference> refs;
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = heads[i]->name;
    if (name.ends_with("^{}")) continue;
    refs.push_back(Reference{name, OidHex(&heads[i]->oid)});
  }
  git_remote_disconnect(remote->get());
  return refs;
}

Result<bool> GitRepository::IsAncestor(std::string_view ancestor, std::string_view descendant) const {
  git_repository* repo = handle_->repo.get();
  Result<CommitPtr> a = PeelToCommit(repo, ancestor, path_);
  if (!a.ok()) return std::move(a).error();
  Result<CommitPtr> d = PeelToCommit(repo, descendant, path_);
  if (!d.ok()) return std::move(d).error();
  if (git_oid_equal(git_commit_id(a->get()), git_commit_id(d->get()))) return true;
  int rc = git_graph_descendant_of(repo, git_commit_id(d->get()), git_commit_id(a->get()));
  if (rc < 0) return GitError(rc, "compare history", path_);
  return rc == 1;
}

GitRepository::Features GitRepository::LibraryFeatures() {
  InitLibrary();
  int bits = git_libgit2_features();
  Features f;
  f.https = (bits & GIT_FEATURE_HTTPS) != 0;
  f.ssh = (bits & GIT_FEATURE_SSH) != 0;
  f.threads = (bits & GIT_FEATURE_THREADS) != 0;
  return f;
}

}  // namespace keelson::source
