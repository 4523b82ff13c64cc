// Fuzzes the OpenPGP armor, packet, keyring and signature parsers, and
// verification against whatever keyring the input holds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/trust/openpgp.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::trust;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  keelson::Result<std::vector<PgpPacket>> packets = ParsePgpPackets(bytes);
  keelson::Result<PgpKeyring> keyring = PgpKeyring::Parse(bytes, "fuzz");
  keelson::Result<PgpSignature> armored = ParseArmoredPgpSignature(bytes);
  if (packets.ok() && keyring.ok()) {
    // Every signature packet in the input, verified against the input's
    // own keys.
    for (const PgpPacket& p : *packets) {
      if (p.tag != 2) continue;
      keelson::Result<PgpSignature> sig = ParsePgpSignaturePacket(p.body);
      if (!sig.ok()) continue;
      keelson::Result<PgpSigner> signer = keyring->Verify(*sig, "payload", 1700000000);
      (void)signer;
    }
  }
  if (armored.ok()) {
    keelson::Result<PgpKeyring> empty = PgpKeyring::Parse("", "empty");
    if (empty.ok()) {
      keelson::Result<PgpSigner> signer = empty->Verify(*armored, "payload", 1700000000);
      (void)signer;
    }
  }
  return 0;
}
