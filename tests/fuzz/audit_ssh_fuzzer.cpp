// Fuzzes the audit code's SSH parsers: OpenSSH private keys, and armored
// SSHSIG signatures on audit commits (checked by agent/trust, whose
// allowed_signers parser has its own fuzzer). Any input must be accepted
// or refused with an Error; never a crash, hang or unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/audit/ssh_signer.h"
#include "agent/audit/trail.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::audit;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 2) {
    case 0: {
      keelson::Result<SshSigner> signer = SshSigner::FromPrivateKeyText(text, "fuzz-key");
      if (signer.ok()) (void)signer->Sign("message", "git");
      break;
    }
    default: {
      static const keelson::trust::AllowedSigners kAllowed = [] {
        keelson::Result<keelson::trust::AllowedSigners> a = keelson::trust::AllowedSigners::Parse(
            "agent ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7nQhJ3pE7q0l4n5hXh7nUNq2TUs1NQq0mDq8zvNZ6m\n", "fuzz");
        return a.ok() ? std::move(*a) : keelson::trust::AllowedSigners();
      }();
      RepoCommit commit;
      commit.signed_payload = "message";
      commit.signature = std::string(text);
      (void)SignatureKeyFingerprint(text);
      (void)VerifyCommitSignature(commit, kAllowed);
      break;
    }
  }
  return 0;
}
