// A throwaway signing lab for trust tests: a temporary directory with a git
// repository, SSH keys made by ssh-keygen, an isolated GnuPG home (gpg and
// gpgsm keys, a throwaway X.509 CA made with openssl), and helpers that make
// commits and tags signed by the real tools through git itself.
//
// Every program runs with HOME, GNUPGHOME and GIT_CONFIG_NOSYSTEM pointing
// into the lab, so nothing outside it is read or changed. The destructor
// stops the gpg-agent the lab started.
#pragma once

#include <string>
#include <vector>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::trust::testing {

// How a commit or tag is signed; an empty format means unsigned.
struct Signing {
  std::string format;   // "ssh", "openpgp", "x509" or ""
  std::string key;      // user.signingkey
  std::string program;  // gpg.program / gpg.x509.program override, or ""
};

class SigningLab {
 public:
  SigningLab();
  ~SigningLab();
  SigningLab(const SigningLab&) = delete;
  SigningLab& operator=(const SigningLab&) = delete;

  const std::string& dir() const { return dir_.path(); }
  std::string repo() const { return dir_.path() + "/repo"; }
  std::string gnupg_home() const { return dir_.path() + "/gnupg"; }
  std::string Write(const std::string& relative, const std::string& contents) const;

  // Runs argv inside the lab's environment. Fails the current test when the
  // program exits non-zero and `check` is set.
  keelson::testing::ProcessResult Run(const std::vector<std::string>& argv, const std::string& cwd = "",
                                      bool check = true, const std::string& stdin_text = "") const;
  // `git -C repo ARGS`, stdout without the final newline.
  std::string Git(const std::vector<std::string>& args) const;

  // ssh-keygen key named `name` of `type` ("ed25519", "ecdsa-256",
  // "ecdsa-384", "rsa"); returns the private key path.
  std::string MakeSshKey(const std::string& name, const std::string& type) const;
  // "TYPE BASE64" of the key made by MakeSshKey.
  std::string SshPublicKey(const std::string& name) const;

  // gpg key with `user_id`, algorithm (ed25519, rsa3072, nistp256, ...),
  // usage "sign" and `expire` ("never", "1d"); `extra` goes before the
  // command (e.g. --faked-system-time). Returns the primary fingerprint.
  std::string MakePgpKey(const std::string& user_id, const std::string& algorithm, const std::string& expire = "never",
                         const std::vector<std::string>& extra = {}) const;
  // Adds a signing subkey; returns its fingerprint.
  std::string AddPgpSubkey(const std::string& primary, const std::string& algorithm) const;
  // Imports the revocation certificate gpg stored when it made the key.
  void RevokePgpKey(const std::string& fingerprint) const;
  // Deletes a key pair from the GnuPG home.
  void DeletePgpKey(const std::string& fingerprint) const;
  // gpg --armor --export of every public key.
  std::string ExportPgpKeys() const;
  // A wrapper script that runs gpg with --faked-system-time TIME.
  std::string PgpProgramAt(const std::string& faked_time) const;

  // A throwaway CA (once per lab) and a gpgsm key for `email` whose
  // certificate the CA issued; gpgsm trusts the CA. Returns the CA's PEM
  // path (the same for every call).
  std::string MakeX509Signer(const std::string& email);

  // Writes `path` in the working tree (unless empty: then the commit
  // changes nothing), commits it, returns the commit id.
  // `committer_date` sets GIT_COMMITTER_DATE (and the author date) when not empty.
  std::string Commit(const Signing& signing, const std::string& path, const std::string& contents,
                     const std::string& message, const std::string& email = "dev@example.com",
                     const std::string& committer_date = "") const;
  // An annotated tag, signed when signing.format is set.
  std::string Tag(const Signing& signing, const std::string& name, const std::string& target) const;
  // `git cat-file TYPE ID`.
  std::string Raw(const std::string& type, const std::string& id) const;
  // Writes `raw` as a new commit object and moves the branch to it;
  // returns its id.
  std::string WriteCommitObject(const std::string& raw) const;

  // git's own verdict: true when `git verify-commit ID` exits 0 (with
  // gpg.ssh.allowedSignersFile set to `allowed_signers` when not empty).
  bool GitVerifyCommit(const std::string& id, const std::string& allowed_signers) const;

 private:
  std::vector<std::string> Environment() const;
  keelson::testing::TempDir dir_;
  std::string ca_pem_;
  int x509_serial_ = 1;
};

// Whether every tool the lab uses is installed.
bool HaveSigningTools();

}  // namespace keelson::trust::testing
