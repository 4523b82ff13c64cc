#include "agent/trust/openpgp.h"

#include <algorithm>
#include <ctime>

#include "agent/trust/encoding.h"

namespace keelson::trust {
namespace {

using namespace std::string_view_literals;

constexpr int kTagSignature = 2;
constexpr int kTagPublicKey = 6;
constexpr int kTagMarker = 10;
constexpr int kTagTrust = 12;
constexpr int kTagUserId = 13;
constexpr int kTagPublicSubkey = 14;
constexpr int kTagUserAttribute = 17;

constexpr int kAlgoRsa = 1;
constexpr int kAlgoRsaSignOnly = 3;
constexpr int kAlgoEcdsa = 19;
constexpr int kAlgoEddsa = 22;

constexpr int kSigBinary = 0x00;
constexpr int kSigText = 0x01;
constexpr int kSigSubkeyBinding = 0x18;
constexpr int kSigPrimaryBinding = 0x19;
constexpr int kSigDirectKey = 0x1f;
constexpr int kSigKeyRevocation = 0x20;
constexpr int kSigSubkeyRevocation = 0x28;

constexpr int kFlagSign = 0x02;

constexpr std::string_view kOidP256 = "\x2a\x86\x48\xce\x3d\x03\x01\x07"sv;
constexpr std::string_view kOidP384 = "\x2b\x81\x04\x00\x22"sv;
constexpr std::string_view kOidP521 = "\x2b\x81\x04\x00\x23"sv;
constexpr std::string_view kOidEd25519 = "\x2b\x06\x01\x04\x01\xda\x47\x0f\x01"sv;

Error Invalid(std::string message) { return MakeError(ErrorCode::kInvalidInput, "OpenPGP: " + std::move(message)); }
Error Failed(std::string message) { return MakeError(ErrorCode::kCheckFailed, std::move(message)); }

std::string FormatTime(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<HashAlgorithm> HashFromId(int id) {
  switch (id) {
    case 2: return HashAlgorithm::kSha1;
    case 8: return HashAlgorithm::kSha256;
    case 9: return HashAlgorithm::kSha384;
    case 10: return HashAlgorithm::kSha512;
    case 11: return HashAlgorithm::kSha224;
    default: return std::nullopt;
  }
}

std::uint32_t Crc24(std::string_view data) {
  std::uint32_t crc = 0xB704CE;
  for (char c : data) {
    crc ^= static_cast<std::uint32_t>(static_cast<std::uint8_t>(c)) << 16;
    for (int i = 0; i < 8; ++i) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864CFB;
    }
  }
  return crc & 0xFFFFFF;
}

std::string Be16(std::size_t v) { return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)}; }
std::string Be32(std::size_t v) {
  std::string out;
  AppendU32(out, static_cast<std::uint32_t>(v));
  return out;
}

void HashKey(Hasher& h, const std::string& body) {
  h.Update("\x99");
  h.Update(Be16(body.size()));
  h.Update(body);
}

// Feeds the v4 trailer and returns the digest.
std::string FinishSignatureHash(Hasher& h, const PgpSignature& sig) {
  h.Update(sig.hashed_prefix);
  h.Update("\x04\xff");
  h.Update(Be32(sig.hashed_prefix.size()));
  return h.Final();
}

// Checks the cryptographic signature over a finished digest.
bool CheckDigest(const PgpKey& key, const PgpSignature& sig, HashAlgorithm hash, const std::string& digest) {
  if (!key.key || sig.key_algorithm != key.algorithm) return false;
  if (digest.size() < 2 || digest.substr(0, 2) != sig.hash_left16) return false;
  switch (key.algorithm) {
    case kAlgoRsa:
    case kAlgoRsaSignOnly:
      return sig.mpis.size() == 1 && key.key->VerifyRsaDigest(hash, digest, sig.mpis[0]);
    case kAlgoEcdsa:
      return sig.mpis.size() == 2 && key.key->VerifyEcdsaDigest(digest, sig.mpis[0], sig.mpis[1]);
    case kAlgoEddsa: {
      if (sig.mpis.size() != 2 || sig.mpis[0].size() > 32 || sig.mpis[1].size() > 32) return false;
      std::string raw(32 - sig.mpis[0].size(), '\0');
      raw += sig.mpis[0];
      raw.append(32 - sig.mpis[1].size(), '\0');
      raw += sig.mpis[1];
      return key.key->VerifyEd25519(digest, raw);
    }
    default:
      return false;
  }
}

// Verifies a signature over key material: primary [+ subkey] [+ user ID].
bool VerifyKeySignature(const PgpKey& signer, const PgpSignature& sig, const PgpKey& primary, const PgpKey* subkey,
                        const std::string* user_id) {
  std::optional<HashAlgorithm> hash = HashFromId(sig.hash_algorithm);
  if (!hash || !sig.critical_unknown.empty() || sig.version != 4) return false;
  Hasher h(*hash);
  HashKey(h, primary.body);
  if (subkey) HashKey(h, subkey->body);
  if (user_id) {
    h.Update("\xb4");
    h.Update(Be32(user_id->size()));
    h.Update(*user_id);
  }
  return CheckDigest(signer, sig, *hash, FinishSignatureHash(h, sig));
}

bool IssuedBy(const PgpSignature& sig, const PgpKey& key) {
  if (!sig.issuer_fingerprint.empty()) return sig.issuer_fingerprint == key.fingerprint;
  if (!sig.issuer_key_id.empty()) return sig.issuer_key_id == key.key_id;
  return true;  // no issuer named: try the key
}

Result<PgpKey> ParseKeyPacket(const std::string& body) {
  PgpKey key;
  key.body = body;
  ByteReader r(body);
  int version = r.U8();
  key.created = r.U32();
  key.algorithm = r.U8();
  if (!r.ok()) return Invalid("truncated public key packet");
  if (version != 4) {
    // Fingerprints of other versions are computed differently; such keys are
    // kept out of the keyring's usable keys.
    key.unusable = "version " + std::to_string(version) + " keys are not supported";
    return key;
  }
  std::string fp_input = "\x99" + Be16(body.size()) + body;
  key.fingerprint = Digest(HashAlgorithm::kSha1, fp_input);
  key.key_id = key.fingerprint.substr(12);
  auto set_key = [&](Result<PublicKey> pk) {
    if (pk.ok()) {
      key.key = std::move(pk).value();
    } else {
      key.unusable = pk.error().message;
    }
  };
  switch (key.algorithm) {
    case kAlgoRsa:
    case kAlgoRsaSignOnly: {
      std::string_view n = r.PgpMpi();
      std::string_view e = r.PgpMpi();
      if (!r.ok()) return Invalid("truncated RSA key");
      set_key(PublicKey::Rsa(n, e));
      break;
    }
    case kAlgoEcdsa:
    case kAlgoEddsa: {
      std::uint8_t oid_len = r.U8();
      std::string_view oid = r.Bytes(oid_len);
      std::string_view point = r.PgpMpi();
      if (!r.ok()) return Invalid("truncated EC key");
      if (key.algorithm == kAlgoEddsa) {
        if (oid != kOidEd25519) {
          key.unusable = "EdDSA key on an unsupported curve";
        } else if (point.size() != 33 || point[0] != 0x40) {
          key.unusable = "EdDSA key point is not in native 0x40 form";
        } else {
          set_key(PublicKey::Ed25519(point.substr(1)));
        }
      } else {
        KeyType curve;
        if (oid == kOidP256) {
          curve = KeyType::kEcdsaP256;
        } else if (oid == kOidP384) {
          curve = KeyType::kEcdsaP384;
        } else if (oid == kOidP521) {
          curve = KeyType::kEcdsaP521;
        } else {
          key.unusable = "ECDSA key on an unsupported curve";
          break;
        }
        set_key(PublicKey::Ecdsa(curve, point));
      }
      break;
    }
    default:
      key.unusable = "public key algorithm " + std::to_string(key.algorithm) + " cannot make signatures Keelson accepts";
      break;
  }
  return key;
}

}  // namespace

std::string PgpKey::FingerprintHex() const { return HexEncode(fingerprint, true); }

std::string PgpUserIdEmail(std::string_view user_id) {
  std::size_t open = user_id.rfind('<');
  std::size_t close = user_id.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return std::string(user_id.substr(open + 1, close - open - 1));
  }
  return std::string(user_id);
}

Result<std::vector<PgpPacket>> ParsePgpPackets(std::string_view binary) {
  std::vector<PgpPacket> out;
  ByteReader r(binary);
  while (!r.empty()) {
    if (out.size() >= kMaxPgpPackets) return MakeError(ErrorCode::kLimitExceeded, "OpenPGP: too many packets");
    std::size_t offset = r.position();
    std::uint8_t head = r.U8();
    if (!(head & 0x80)) return Invalid("byte " + std::to_string(offset) + " does not start a packet");
    int tag;
    std::size_t length;
    if (head & 0x40) {
      tag = head & 0x3f;
      std::uint8_t first = r.U8();
      if (first < 192) {
        length = first;
      } else if (first < 224) {
        length = ((static_cast<std::size_t>(first) - 192) << 8) + r.U8() + 192;
      } else if (first == 255) {
        length = r.U32();
      } else {
        return Invalid("packet at byte " + std::to_string(offset) + " uses a partial body length");
      }
    } else {
      tag = (head >> 2) & 0x0f;
      switch (head & 3) {
        case 0: length = r.U8(); break;
        case 1: length = r.U16(); break;
        case 2: length = r.U32(); break;
        default: length = r.remaining(); break;
      }
    }
    std::string_view body = r.Bytes(length);
    if (!r.ok()) return Invalid("packet at byte " + std::to_string(offset) + " is truncated");
    out.push_back(PgpPacket{tag, std::string(body), offset});
  }
  return out;
}

Result<std::string> DearmorPgp(std::string_view text, std::string_view kind) {
  const std::string begin = "-----BEGIN PGP " + std::string(kind) + "-----";
  const std::string end = "-----END PGP " + std::string(kind) + "-----";
  std::string out;
  std::size_t pos = 0;
  int blocks = 0;
  while (true) {
    std::size_t b = text.find(begin, pos);
    if (b == std::string_view::npos) break;
    if (b != 0 && text[b - 1] != '\n') return Invalid("armor header is not at the start of a line");
    std::size_t e = text.find(end, b);
    if (e == std::string_view::npos) return Invalid("missing " + end);
    std::string_view block = text.substr(b + begin.size(), e - b - begin.size());
    pos = e + end.size();
    ++blocks;
    // Armor headers ("Version: ...") run to the first empty line.
    std::size_t line_start = 0;
    std::string base64;
    std::optional<std::string> crc_text;
    bool in_headers = true;
    bool first_line = true;
    while (line_start < block.size()) {
      std::size_t eol = block.find('\n', line_start);
      std::string_view line = block.substr(line_start, eol == std::string_view::npos ? std::string_view::npos : eol - line_start);
      line_start = eol == std::string_view::npos ? block.size() : eol + 1;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      if (first_line) {
        first_line = false;
        if (line.empty()) continue;  // the rest of the BEGIN line
      }
      if (in_headers) {
        if (line.empty()) {
          in_headers = false;
        } else if (line.find(": ") == std::string_view::npos) {
          // No headers at all: this is already data.
          in_headers = false;
          base64.append(line);
        }
        continue;
      }
      if (line.empty()) continue;
      if (line[0] == '=') {
        crc_text = std::string(line.substr(1));
        continue;
      }
      if (crc_text) return Invalid("data after the armor checksum");
      base64.append(line);
    }
    std::optional<std::string> data = Base64Decode(base64);
    if (!data) return Invalid("armored data is not valid base64");
    if (crc_text) {
      std::optional<std::string> crc = Base64Decode(*crc_text);
      if (!crc || crc->size() != 3) return Invalid("malformed armor checksum");
      std::uint32_t want = (static_cast<std::uint8_t>((*crc)[0]) << 16) | (static_cast<std::uint8_t>((*crc)[1]) << 8) |
                           static_cast<std::uint8_t>((*crc)[2]);
      if (want != Crc24(*data)) return Invalid("armor checksum mismatch");
    }
    out += *data;
  }
  if (blocks == 0) return Invalid("no " + begin + " block found");
  return out;
}

Result<PgpSignature> ParsePgpSignaturePacket(std::string_view body) {
  PgpSignature sig;
  ByteReader r(body);
  sig.version = r.U8();
  if (!r.ok()) return Invalid("empty signature packet");
  if (sig.version != 4) return Invalid("version " + std::to_string(sig.version) + " signatures are not supported");
  sig.type = r.U8();
  sig.key_algorithm = r.U8();
  sig.hash_algorithm = r.U8();
  std::uint16_t hashed_len = r.U16();
  std::string_view hashed = r.Bytes(hashed_len);
  if (!r.ok()) return Invalid("truncated signature packet");
  sig.hashed_prefix.assign(body.substr(0, 6 + hashed_len));
  std::uint16_t unhashed_len = r.U16();
  std::string_view unhashed = r.Bytes(unhashed_len);
  sig.hash_left16.assign(r.Bytes(2));
  if (!r.ok()) return Invalid("truncated signature packet");
  int mpi_count = sig.key_algorithm == kAlgoEcdsa || sig.key_algorithm == kAlgoEddsa ? 2 : 1;
  for (int i = 0; i < mpi_count; ++i) {
    std::string_view mpi = r.PgpMpi();
    if (!r.ok()) return Invalid("truncated signature value");
    sig.mpis.emplace_back(mpi);
  }
  if (!r.empty()) return Invalid("trailing data in signature packet");
  bool have_created = false;
  for (int area = 0; area < 2; ++area) {
    ByteReader sr(area == 0 ? hashed : unhashed);
    const bool is_hashed = area == 0;
    while (!sr.empty()) {
      std::uint8_t first = sr.U8();
      std::size_t len;
      if (first < 192) {
        len = first;
      } else if (first < 255) {
        len = ((static_cast<std::size_t>(first) - 192) << 8) + sr.U8() + 192;
      } else {
        len = sr.U32();
      }
      std::string_view sub = sr.Bytes(len);
      if (!sr.ok() || sub.empty()) return Invalid("malformed signature subpacket");
      int type = static_cast<std::uint8_t>(sub[0]) & 0x7f;
      bool critical = static_cast<std::uint8_t>(sub[0]) & 0x80;
      ByteReader v(sub.substr(1));
      // Only hashed subpackets are covered by the signature; of the unhashed
      // ones only the issuer hints (which a wrong value cannot exploit: the
      // signature would not verify) and embedded signatures are used.
      switch (type) {
        case 2:
          if (is_hashed) {
            sig.created = v.U32();
            have_created = v.ok();
          }
          break;
        case 3:
          if (is_hashed) sig.expires_after = v.U32();
          break;
        case 9:
          if (is_hashed) sig.key_expires_after = v.U32();
          break;
        case 16:
          if (sig.issuer_key_id.empty()) sig.issuer_key_id.assign(v.Bytes(8));
          break;
        case 33: {
          int fp_version = v.U8();
          if (fp_version == 4 && sig.issuer_fingerprint.empty()) sig.issuer_fingerprint.assign(v.Bytes(20));
          break;
        }
        case 27:
          if (is_hashed) sig.key_flags = v.U8();
          break;
        case 25:
          if (is_hashed) sig.primary_user_id = v.U8() != 0;
          break;
        case 29:
          if (is_hashed) {
            v.U8();
            sig.revocation_reason.assign(v.Rest());
          }
          break;
        case 32:
          if (!sig.embedded_signature) sig.embedded_signature = std::string(sub.substr(1));
          break;
        case 4: case 5: case 6: case 7: case 11: case 12: case 20: case 21: case 22: case 23: case 24:
        case 26: case 28: case 30: case 31:
          break;  // known, not needed for a verdict
        default:
          if (critical && is_hashed && sig.critical_unknown.empty()) sig.critical_unknown = std::to_string(type);
          break;
      }
      if (!v.ok()) return Invalid("malformed signature subpacket " + std::to_string(type));
    }
  }
  if (!have_created) return Invalid("signature has no creation time");
  return sig;
}

Result<PgpSignature> ParseArmoredPgpSignature(std::string_view armored) {
  if (armored.size() > kMaxPgpSignatureBytes) return Invalid("armored signature is too large");
  Result<std::string> binary = DearmorPgp(armored, "SIGNATURE");
  if (!binary.ok()) return std::move(binary).error();
  Result<std::vector<PgpPacket>> packets = ParsePgpPackets(*binary);
  if (!packets.ok()) return std::move(packets).error();
  if (packets->size() != 1 || (*packets)[0].tag != kTagSignature) {
    return Invalid("expected exactly one signature packet, found " + std::to_string(packets->size()) + " packets");
  }
  return ParsePgpSignaturePacket((*packets)[0].body);
}

Result<PgpKeyring> PgpKeyring::Parse(std::string_view data, std::string_view file) {
  auto in_file = [&](Error e) { return std::move(e.InFile(std::string(file))); };
  if (data.size() > kMaxPgpKeyringBytes) return in_file(MakeError(ErrorCode::kLimitExceeded, "keyring is larger than 32 MiB"));
  std::string binary;
  if (data.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string_view::npos) {
    Result<std::string> d = DearmorPgp(data, "PUBLIC KEY BLOCK");
    if (!d.ok()) return in_file(std::move(d).error());
    binary = std::move(d).value();
  } else {
    binary.assign(data);
  }
  Result<std::vector<PgpPacket>> packets = ParsePgpPackets(binary);
  if (!packets.ok()) return in_file(std::move(packets).error());

  // Group packets into transferable public keys.
  struct Pending {
    PgpKey primary;
    std::vector<PgpSignature> direct;
    std::vector<std::pair<std::string, std::vector<PgpSignature>>> uids;
    std::vector<std::pair<PgpKey, std::vector<PgpSignature>>> subkeys;
  };
  std::vector<Pending> pending;
  enum class Slot { kNone, kDirect, kUid, kAttribute, kSubkey } slot = Slot::kNone;
  for (const PgpPacket& p : *packets) {
    switch (p.tag) {
      case kTagPublicKey: {
        Result<PgpKey> key = ParseKeyPacket(p.body);
        if (!key.ok()) return in_file(std::move(key).error());
        pending.push_back(Pending{std::move(key).value(), {}, {}, {}});
        slot = Slot::kDirect;
        break;
      }
      case kTagUserId:
        if (pending.empty()) return in_file(Invalid("user ID packet before any key"));
        pending.back().uids.push_back({p.body, {}});
        slot = Slot::kUid;
        break;
      case kTagUserAttribute:
        if (pending.empty()) return in_file(Invalid("user attribute packet before any key"));
        slot = Slot::kAttribute;
        break;
      case kTagPublicSubkey: {
        if (pending.empty()) return in_file(Invalid("subkey packet before any key"));
        Result<PgpKey> key = ParseKeyPacket(p.body);
        if (!key.ok()) return in_file(std::move(key).error());
        pending.back().subkeys.emplace_back(std::move(key).value(), std::vector<PgpSignature>{});
        slot = Slot::kSubkey;
        break;
      }
      case kTagSignature: {
        if (pending.empty()) return in_file(Invalid("signature packet before any key"));
        Result<PgpSignature> sig = ParsePgpSignaturePacket(p.body);
        // Signatures we cannot read (other versions) certify nothing.
        if (!sig.ok()) break;
        Pending& cur = pending.back();
        if (slot == Slot::kDirect) cur.direct.push_back(std::move(sig).value());
        else if (slot == Slot::kUid) cur.uids.back().second.push_back(std::move(sig).value());
        else if (slot == Slot::kSubkey) cur.subkeys.back().second.push_back(std::move(sig).value());
        break;
      }
      case kTagTrust:
      case kTagMarker:
        break;
      default:
        return in_file(Invalid("unexpected packet type " + std::to_string(p.tag) + " at byte " +
                               std::to_string(p.offset) + " in a public keyring"));
    }
  }

  PgpKeyring keyring;
  for (Pending& pk : pending) {
    PgpCertificate cert;
    cert.primary = std::move(pk.primary);
    PgpKey& primary = cert.primary;
    if (primary.fingerprint.empty()) continue;  // unsupported version
    // Revocations and direct-key signatures.
    std::int64_t newest_self = -1;
    for (const PgpSignature& s : pk.direct) {
      if (!IssuedBy(s, primary) || !primary.key) continue;
      if (!VerifyKeySignature(primary, s, primary, nullptr, nullptr)) continue;
      if (s.type == kSigKeyRevocation) {
        primary.revoked = true;
        primary.revocation_reason = s.revocation_reason;
      } else if (s.type == kSigDirectKey && s.created > newest_self) {
        newest_self = s.created;
        if (s.key_expires_after && *s.key_expires_after != 0) primary.expires = primary.created + *s.key_expires_after;
        else primary.expires.reset();
        if (s.key_flags) primary.key_flags = s.key_flags;
      }
    }
    // User IDs: the newest valid self-certification of each counts; the
    // primary one's expiry and flags apply to the primary key.
    std::int64_t best_uid_time = -1;
    bool best_is_primary = false;
    for (auto& [uid, sigs] : pk.uids) {
      const PgpSignature* newest = nullptr;
      for (const PgpSignature& s : sigs) {
        if (s.type < 0x10 || s.type > 0x13 || !IssuedBy(s, primary) || !primary.key) continue;
        if (!VerifyKeySignature(primary, s, primary, nullptr, &uid)) continue;
        if (!newest || s.created > newest->created) newest = &s;
      }
      if (!newest) continue;
      cert.user_ids.push_back(uid);
      bool better = (newest->primary_user_id && !best_is_primary) ||
                    (newest->primary_user_id == best_is_primary && newest->created > best_uid_time);
      if (better) {
        best_is_primary = newest->primary_user_id;
        best_uid_time = newest->created;
        cert.primary_user_id = uid;
        if (newest->created > newest_self) {
          if (newest->key_expires_after && *newest->key_expires_after != 0) primary.expires = primary.created + *newest->key_expires_after;
          else primary.expires.reset();
          if (newest->key_flags) primary.key_flags = newest->key_flags;
        }
      }
    }
    if (cert.user_ids.empty() && primary.unusable.empty()) primary.unusable = "the key has no valid self-signed user ID";
    // Subkeys: the newest valid binding counts; a signing subkey needs a
    // valid back-signature, so nobody can claim someone else's subkey.
    for (auto& [sub, sigs] : pk.subkeys) {
      if (sub.fingerprint.empty()) continue;
      const PgpSignature* binding = nullptr;
      for (const PgpSignature& s : sigs) {
        if (!IssuedBy(s, primary) || !primary.key) continue;
        if (s.type == kSigSubkeyRevocation) {
          if (VerifyKeySignature(primary, s, primary, &sub, nullptr)) {
            sub.revoked = true;
            sub.revocation_reason = s.revocation_reason;
          }
          continue;
        }
        if (s.type != kSigSubkeyBinding || !VerifyKeySignature(primary, s, primary, &sub, nullptr)) continue;
        if (s.key_flags && (*s.key_flags & kFlagSign)) {
          if (!s.embedded_signature || !sub.key) continue;
          Result<PgpSignature> back = ParsePgpSignaturePacket(*s.embedded_signature);
          if (!back.ok() || back->type != kSigPrimaryBinding ||
              !VerifyKeySignature(sub, *back, primary, &sub, nullptr)) {
            continue;
          }
        }
        if (!binding || s.created > binding->created) binding = &s;
      }
      if (!binding) continue;
      if (binding->key_expires_after && *binding->key_expires_after != 0) sub.expires = sub.created + *binding->key_expires_after;
      sub.key_flags = binding->key_flags;
      cert.subkeys.push_back(std::move(sub));
    }
    keyring.certificates_.push_back(std::move(cert));
  }
  return keyring;
}

Result<PgpSigner> PgpKeyring::Verify(const PgpSignature& sig, std::string_view data, std::int64_t now) const {
  if (sig.type != kSigBinary && sig.type != kSigText) {
    return Failed("OpenPGP signature of type " + std::to_string(sig.type) + " is not a document signature");
  }
  std::optional<HashAlgorithm> hash = HashFromId(sig.hash_algorithm);
  if (!hash) return Failed("OpenPGP signature uses unsupported hash algorithm " + std::to_string(sig.hash_algorithm));
  if (*hash == HashAlgorithm::kSha1) return Failed("OpenPGP signature made with SHA-1 is refused");
  if (!sig.critical_unknown.empty()) {
    return Failed("OpenPGP signature has an unknown critical subpacket " + sig.critical_unknown);
  }
  std::string issuer = !sig.issuer_fingerprint.empty() ? HexEncode(sig.issuer_fingerprint, true)
                                                       : HexEncode(sig.issuer_key_id, true);
  if (issuer.empty()) return Failed("OpenPGP signature names no issuer key");

  Hasher h(*hash);
  if (sig.type == kSigText) {
    // Canonical text: line endings as CR LF.
    std::string canonical;
    canonical.reserve(data.size() + data.size() / 32);
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) canonical += '\r';
      canonical += data[i];
    }
    h.Update(canonical);
  } else {
    h.Update(data);
  }
  const std::string digest = FinishSignatureHash(h, sig);

  for (const PgpCertificate& cert : certificates_) {
    std::vector<const PgpKey*> keys{&cert.primary};
    for (const PgpKey& s : cert.subkeys) keys.push_back(&s);
    for (const PgpKey* key : keys) {
      if (key->fingerprint.empty() || !IssuedBy(sig, *key)) continue;
      if (sig.issuer_fingerprint.empty() && sig.issuer_key_id.empty()) continue;
      const std::string fpr = key->FingerprintHex();
      if (!key->unusable.empty()) return Failed("key " + fpr + " cannot be used: " + key->unusable);
      if (!cert.primary.unusable.empty()) {
        return Failed("primary key " + cert.primary.FingerprintHex() + " cannot be used: " + cert.primary.unusable);
      }
      if (!CheckDigest(*key, sig, *hash, digest)) {
        return Failed("bad OpenPGP signature by key " + fpr + " (the content does not match)");
      }
      if (key->key_flags && !(*key->key_flags & kFlagSign)) return Failed("key " + fpr + " is not allowed to sign");
      for (const PgpKey* k : {&cert.primary, key}) {
        if (k->revoked) {
          return Failed("key " + k->FingerprintHex() + " is revoked" +
                        (k->revocation_reason.empty() ? "" : " (" + k->revocation_reason + ")"));
        }
        if (k->expires && now >= *k->expires) {
          return Failed("key " + k->FingerprintHex() + " expired at " + FormatTime(*k->expires));
        }
        if (k->expires && sig.created >= *k->expires) {
          return Failed("key " + k->FingerprintHex() + " had expired when the signature was made");
        }
      }
      if (sig.created < key->created) {
        return Failed("signature made at " + FormatTime(sig.created) + ", before key " + fpr + " existed");
      }
      if (sig.expires_after && *sig.expires_after != 0 && now >= sig.created + *sig.expires_after) {
        return Failed("OpenPGP signature expired at " + FormatTime(sig.created + *sig.expires_after));
      }
      return PgpSigner{&cert, key};
    }
  }
  return Failed("no public key " + issuer + " in the OpenPGP keyring");
}

}  // namespace keelson::trust
