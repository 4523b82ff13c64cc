// Fuzzes the audit code's SSH parsers: OpenSSH private keys, armored
// SSHSIG signatures and allowed_signers files. Any input must be accepted
// or refused with an Error; never a crash, hang or unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/audit/signature_check.h"
#include "agent/audit/ssh_signer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::audit;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      keelson::Result<SshSigner> signer = SshSigner::FromPrivateKeyText(text, "fuzz-key");
      if (signer.ok()) (void)signer->Sign("message", "git");
      break;
    }
    case 1: {
      static const AllowedSigners kAllowed = [] {
        keelson::Result<AllowedSigners> a = AllowedSigners::Parse(
            "agent ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7nQhJ3pE7q0l4n5hXh7nUNq2TUs1NQq0mDq8zvNZ6m\n", "fuzz");
        return a.ok() ? std::move(*a) : AllowedSigners();
      }();
      (void)SignatureKeyFingerprint(text);
      (void)VerifySshSignature(text, "message", "git", kAllowed);
      break;
    }
    default:
      (void)AllowedSigners::Parse(text, "fuzz-allowed");
      break;
  }
  return 0;
}
