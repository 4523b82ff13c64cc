#include "tests/unit/agent/trust/signing_lab.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

namespace keelson::trust::testing {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Join(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

}  // namespace

bool HaveSigningTools() {
  using keelson::testing::HaveProgram;
  return HaveProgram("git") && HaveProgram("ssh-keygen") && HaveProgram("gpg") && HaveProgram("gpgsm") &&
         HaveProgram("openssl") && HaveProgram("gpgconf");
}

SigningLab::SigningLab() {
  mkdir(gnupg_home().c_str(), 0700);
  Write("gnupg/gpgsm.conf", "disable-crl-checks\ndisable-policy-checks\n");
  Write("gnupg/gpg-agent.conf", "allow-loopback-pinentry\n");
  Write("gnupg/gpg.conf", "no-auto-check-trustdb\n");
  Run({"git", "init", "-q", "-b", "main", repo()});
}

SigningLab::~SigningLab() {
  // Stop the agent (and its helpers) this lab's GnuPG home started.
  Run({"gpgconf", "--kill", "all"}, "", false);
}

std::string SigningLab::Write(const std::string& relative, const std::string& contents) const {
  return dir_.Write(relative, contents);
}

std::vector<std::string> SigningLab::Environment() const {
  return {"env", "HOME=" + dir(), "GNUPGHOME=" + gnupg_home(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C", "TZ=UTC"};
}

keelson::testing::ProcessResult SigningLab::Run(const std::vector<std::string>& argv, const std::string& cwd,
                                                bool check, const std::string& stdin_text) const {
  std::vector<std::string> full = Environment();
  full.insert(full.end(), argv.begin(), argv.end());
  keelson::testing::ProcessResult r = keelson::testing::RunProgram(full, stdin_text, cwd, 120);
  if (check && r.exit_code != 0) {
    ADD_FAILURE() << Join(argv) << " exited " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err;
  }
  return r;
}

std::string SigningLab::Git(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"git", "-C", repo()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Trim(Run(argv).out);
}

std::string SigningLab::MakeSshKey(const std::string& name, const std::string& type) const {
  std::string path = dir() + "/ssh_" + name;
  std::vector<std::string> argv{"ssh-keygen", "-q", "-N", "", "-C", name, "-f", path};
  if (type == "ed25519") {
    argv.insert(argv.end(), {"-t", "ed25519"});
  } else if (type == "ecdsa-256" || type == "ecdsa-384" || type == "ecdsa-521") {
    argv.insert(argv.end(), {"-t", "ecdsa", "-b", type.substr(6)});
  } else {
    argv.insert(argv.end(), {"-t", "rsa", "-b", "3072"});
  }
  Run(argv);
  return path;
}

std::string SigningLab::SshPublicKey(const std::string& name) const {
  std::ifstream in(dir() + "/ssh_" + name + ".pub");
  std::string type, blob;
  in >> type >> blob;
  return type + " " + blob;
}

std::string SigningLab::MakePgpKey(const std::string& user_id, const std::string& algorithm,
                                   const std::string& expire, const std::vector<std::string>& extra) const {
  std::vector<std::string> argv{"gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--quick-gen-key", user_id, algorithm, "sign", expire});
  Run(argv);
  std::string listing = Run({"gpg", "--with-colons", "--list-keys", "=" + user_id}).out;
  std::size_t fpr = listing.find("\nfpr:");
  if (fpr == std::string::npos) {
    ADD_FAILURE() << "no fingerprint for " << user_id << ":\n" << listing;
    return "";
  }
  std::size_t start = listing.find_first_not_of(':', fpr + 4);
  return listing.substr(start, 40);
}

std::string SigningLab::AddPgpSubkey(const std::string& primary, const std::string& algorithm) const {
  Run({"gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-add-key", primary, algorithm,
       "sign", "never"});
  std::string listing = Run({"gpg", "--with-colons", "--list-keys", primary}).out;
  std::size_t sub = listing.rfind("\nsub:");
  std::size_t fpr = listing.find("\nfpr:", sub);
  if (sub == std::string::npos || fpr == std::string::npos) {
    ADD_FAILURE() << "no subkey for " << primary << ":\n" << listing;
    return "";
  }
  std::size_t start = listing.find_first_not_of(':', fpr + 4);
  return listing.substr(start, 40);
}

void SigningLab::RevokePgpKey(const std::string& fingerprint) const {
  std::ifstream in(gnupg_home() + "/openpgp-revocs.d/" + fingerprint + ".rev");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // gpg guards the stored certificate with a leading colon on its BEGIN
  // line so it is not imported by accident.
  std::size_t guard = text.find(":-----BEGIN PGP PUBLIC KEY BLOCK-----");
  ASSERT_NE(guard, std::string::npos) << "no stored revocation certificate for " << fingerprint;
  text.erase(guard, 1);
  Run({"gpg", "--batch", "--import"}, "", true, text);
}

void SigningLab::DeletePgpKey(const std::string& fingerprint) const {
  Run({"gpg", "--batch", "--yes", "--delete-secret-and-public-key", fingerprint});
}

std::string SigningLab::ExportPgpKeys() const { return Run({"gpg", "--armor", "--export"}).out; }

std::string SigningLab::PgpProgramAt(const std::string& faked_time) const {
  std::string path = Write("gpg-at-" + faked_time, "#!/bin/sh\nexec gpg --faked-system-time " + faked_time +
                                                       " \"$@\"\n");
  chmod(path.c_str(), 0755);
  return path;
}

std::string SigningLab::MakeX509Signer(const std::string& email) {
  if (ca_pem_.empty()) {
    ca_pem_ = dir() + "/ca.pem";
    Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir() + "/ca.key", "-out", ca_pem_,
         "-days", "30", "-subj", "/CN=Keelson Test Root", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
         "keyUsage=critical,keyCertSign,cRLSign"});
    Run({"gpgsm", "--batch", "--import", ca_pem_});
    std::string fpr = Run({"openssl", "x509", "-in", ca_pem_, "-noout", "-fingerprint", "-sha1"}).out;
    fpr = Trim(fpr.substr(fpr.find('=') + 1));
    Write("gnupg/trustlist.txt", fpr + " S relax\n");
  }
  std::string name = email.substr(0, email.find('@'));
  std::string params = Write("x509-" + name + ".params", "Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\nName-DN: CN=" +
                                                              name + "\nName-Email: " + email + "\n");
  std::string csr = Run({"gpgsm", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor",
                         "--gen-key", params})
                        .out;
  std::string csr_path = Write("x509-" + name + ".csr", csr);
  std::string ext = Write("x509-" + name + ".ext",
                          "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
                          "extendedKeyUsage=emailProtection\nsubjectAltName=email:" + email + "\n");
  std::string cert = dir() + "/x509-" + name + ".pem";
  Run({"openssl", "x509", "-req", "-in", csr_path, "-CA", ca_pem_, "-CAkey", dir() + "/ca.key", "-set_serial",
       std::to_string(1000 + x509_serial_++), "-out", cert, "-days", "10", "-extfile", ext});
  Run({"gpgsm", "--batch", "--import", cert});
  return ca_pem_;
}

std::string SigningLab::Commit(const Signing& signing, const std::string& path, const std::string& contents,
                               const std::string& message, const std::string& email,
                               const std::string& committer_date) const {
  if (!path.empty()) {
    Write("repo/" + path, contents);
    Git({"add", "--", path});
  }
  std::vector<std::string> argv = Environment();
  if (!committer_date.empty()) {
    argv.push_back("GIT_COMMITTER_DATE=" + committer_date);
    argv.push_back("GIT_AUTHOR_DATE=" + committer_date);
  }
  argv.insert(argv.end(), {"git", "-C", repo(), "-c", "user.name=Dev", "-c", "user.email=" + email});
  if (!signing.format.empty()) {
    argv.insert(argv.end(), {"-c", "gpg.format=" + signing.format, "-c", "user.signingkey=" + signing.key});
    if (signing.format == "x509") {
      argv.insert(argv.end(), {"-c", "gpg.x509.program=" + (signing.program.empty() ? "gpgsm" : signing.program)});
    } else if (!signing.program.empty()) {
      argv.insert(argv.end(), {"-c", "gpg.program=" + signing.program});
    }
  }
  argv.insert(argv.end(), {"commit", "-q", "--allow-empty", "-m", message});
  if (!signing.format.empty()) argv.push_back("-S");
  keelson::testing::ProcessResult r = keelson::testing::RunProgram(argv, "", "", 120);
  if (r.exit_code != 0) ADD_FAILURE() << "git commit failed: " << r.err;
  return Git({"rev-parse", "HEAD"});
}

std::string SigningLab::Tag(const Signing& signing, const std::string& name, const std::string& target) const {
  std::vector<std::string> args{"-c", "user.name=Dev", "-c", "user.email=dev@example.com"};
  if (!signing.format.empty()) {
    args.insert(args.end(), {"-c", "gpg.format=" + signing.format, "-c", "user.signingkey=" + signing.key});
    if (signing.format == "x509") args.insert(args.end(), {"-c", "gpg.x509.program=gpgsm"});
  }
  args.insert(args.end(), {"tag", signing.format.empty() ? "-a" : "-s", name, "-m", "release " + name, target});
  Git(args);
  return Git({"rev-parse", name});
}

std::string SigningLab::Raw(const std::string& type, const std::string& id) const {
  return Run({"git", "-C", repo(), "cat-file", type, id}).out;
}

std::string SigningLab::WriteCommitObject(const std::string& raw) const {
  std::string id = Trim(Run({"git", "-C", repo(), "hash-object", "-t", "commit", "-w", "--stdin"}, "", true, raw).out);
  Git({"update-ref", "HEAD", id});
  return id;
}

bool SigningLab::GitVerifyCommit(const std::string& id, const std::string& allowed_signers) const {
  std::vector<std::string> argv{"git", "-C", repo(), "-c", "gpg.x509.program=gpgsm"};
  if (!allowed_signers.empty()) argv.insert(argv.end(), {"-c", "gpg.ssh.allowedSignersFile=" + allowed_signers});
  argv.insert(argv.end(), {"verify-commit", id});
  return Run(argv, "", false).exit_code == 0;
}

}  // namespace keelson::trust::testing
