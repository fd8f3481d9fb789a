// IKEv1 key derivation and authentication hashes in one place (RFC 2409
// §5, §5.5, Appendix B), on the PRF code IKEv2 uses (common/ike/keys.h).
//
//   prf        HMAC with the negotiated Phase 1 hash (no PRF attribute:
//              RFC 2409 §4 "the HMAC version of the negotiated hash")
//   SKEYID     PSK:        prf(pre-shared-key, Ni_b | Nr_b)
//              signatures: prf(Ni_b | Nr_b, g^xy)
//   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//   Phase 1 cipher key: the first bytes of SKEYID_e, or when it is too
//              short K1 | K2 | ... with K1 = prf(SKEYID_e, 0),
//              Kn = prf(SKEYID_e, Kn-1) (Appendix B)
//   Phase 1 IV = hash(g^xi | g^xr), cut to the cipher's block size
//   Phase 2 / Informational IV = hash(last Phase 1 CBC block | M-ID)
//   HASH_I   = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
//   HASH_R   = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
//   HASH(1)  = prf(SKEYID_a, M-ID | rest of message)     (also Informational)
//   HASH(2)  = prf(SKEYID_a, M-ID | Ni_b | rest of message)
//   HASH(3)  = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//   KEYMAT   = K1 | K2 | ..., K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
//              Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//
// "_b" is a payload's body without its generic header, as on the wire. The
// Quick Mode nonces are the Quick Mode's own, not Phase 1's. Secrets are
// SecretBytes; HASH values are public (they travel in HASH payloads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/iana/ikev1.h"
#include "common/ike/keys.h"

namespace corridor::ikev1 {

using ike::ByteView;
using ike::KeyErrc;
using ike::KeyError;
using ike::KeyExpected;
using ike::SecretBytes;

// The hash of a Phase 1 transform as the IKEv2 PRF that computes its HMAC:
// SHA1 and SHA2-256/384/512 (MD5 and Tiger are refused: unsupported_prf).
KeyExpected<iana::PrfId> prf_for_hash(iana::ikev1::Phase1Hash hash);

// The plain digest (Phase 1 and Phase 2 IVs).
KeyExpected<std::vector<std::uint8_t>> digest(iana::PrfId prf, std::initializer_list<ByteView> parts);

// The Phase 1 cipher: AES-CBC 128/192/256 (RFC 3602 numbers) or, where a
// config allows weak algorithms, 3DES-CBC.
struct Phase1Suite {
  iana::ikev1::Phase1Encryption encryption = iana::ikev1::Phase1Encryption::aes_cbc;
  std::uint16_t key_bits = 128;  // Key Length attribute (AES); 0 for 3DES
  iana::PrfId prf = iana::PrfId::hmac_sha2_256;
};

// Bytes of the cipher key and of its block (3DES: 24 and 8; AES: key_bits/8
// and 16). bad_key_length / unsupported_encryption otherwise.
KeyExpected<std::size_t> phase1_key_size(const Phase1Suite& suite);
KeyExpected<std::size_t> phase1_block_size(const Phase1Suite& suite);

KeyExpected<SecretBytes> skeyid_psk(iana::PrfId prf, ByteView psk, ByteView ni_b, ByteView nr_b);
KeyExpected<SecretBytes> skeyid_signature(iana::PrfId prf, ByteView ni_b, ByteView nr_b, ByteView g_xy);

struct Phase1Keys {
  SecretBytes skeyid, skeyid_d, skeyid_a, skeyid_e;
  SecretBytes encryption_key;  // phase1_key_size(suite) bytes
  std::vector<std::uint8_t> iv;  // the first message's IV (block size bytes)
};

// Everything after SKEYID: the three derived keys, the cipher key and the
// initial IV. cky_i/cky_r are the 8-byte cookies.
KeyExpected<Phase1Keys> derive_phase1_keys(const Phase1Suite& suite, SecretBytes skeyid, ByteView g_xy,
                                           ByteView cky_i, ByteView cky_r, ByteView g_xi, ByteView g_xr);

// The public inputs of HASH_I/HASH_R (and SIG_I/SIG_R, which sign them).
struct Phase1Transcript {
  ByteView g_xi, g_xr;    // KE data of initiator and responder
  ByteView cky_i, cky_r;  // cookies
  ByteView sai_b;         // the initiator's SA payload body
};
KeyExpected<std::vector<std::uint8_t>> hash_i(iana::PrfId prf, const SecretBytes& skeyid, const Phase1Transcript& t,
                                              ByteView idii_b);
KeyExpected<std::vector<std::uint8_t>> hash_r(iana::PrfId prf, const SecretBytes& skeyid, const Phase1Transcript& t,
                                              ByteView idir_b);

// IV of the first message of a Quick Mode or Informational exchange.
KeyExpected<std::vector<std::uint8_t>> phase2_iv(iana::PrfId prf, ByteView last_phase1_block, std::uint32_t message_id,
                                                 std::size_t block_size);

// HASH(1) of Quick Mode and the HASH of Informational messages.
KeyExpected<std::vector<std::uint8_t>> hash_1(iana::PrfId prf, const SecretBytes& skeyid_a, std::uint32_t message_id,
                                              ByteView rest);
KeyExpected<std::vector<std::uint8_t>> hash_2(iana::PrfId prf, const SecretBytes& skeyid_a, std::uint32_t message_id,
                                              ByteView ni_b, ByteView rest);
KeyExpected<std::vector<std::uint8_t>> hash_3(iana::PrfId prf, const SecretBytes& skeyid_a, std::uint32_t message_id,
                                              ByteView ni_b, ByteView nr_b);

// KEYMAT for the SA whose SPI (4 bytes, chosen by its receiver) and
// protocol are given; g_qm is the Quick Mode DH secret (empty: no PFS).
// The ESP encryption key comes first, then the integrity key.
KeyExpected<SecretBytes> keymat(iana::PrfId prf, const SecretBytes& skeyid_d, ByteView g_qm,
                                iana::ikev1::ProtocolId protocol, ByteView spi, ByteView ni_b, ByteView nr_b,
                                std::size_t length);

}  // namespace corridor::ikev1
