// Fuzzes the SSHSIG parser and verifier and the allowed_signers parser: any
// input must parse or fail with an Error, never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/trust/allowed_signers.h"
#include "agent/trust/encoding.h"
#include "agent/trust/sshsig.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::trust;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Raw blob, as armored text, and the input itself as armor.
  for (const keelson::Result<SshSignature>& sig :
       {ParseSshSignatureBlob(bytes),
        ParseSshSignature("-----BEGIN SSH SIGNATURE-----\n" + Base64Encode(bytes) + "\n-----END SSH SIGNATURE-----\n"),
        ParseSshSignature(bytes)}) {
    if (sig.ok()) {
      keelson::Status s = VerifySshSignature(*sig, "payload", "git");
      (void)s;
    }
  }
  keelson::Result<AllowedSigners> signers = AllowedSigners::Parse(bytes, "fuzz");
  if (signers.ok()) {
    for (const AllowedSigner& s : signers->signers()) {
      keelson::Result<const AllowedSigner*> found = signers->Find(s.key, "git", 1700000000, "a@example.com");
      (void)found;
    }
  }
  return 0;
}
