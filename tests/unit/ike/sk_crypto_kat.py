#!/usr/bin/python3
# Regenerates the known answers pasted in sk_crypto_test.cc: python3 sk_crypto_kat.py
# Independent known answers for common/ike/sk_crypto, written from the RFC
# text with Python's `cryptography` package (python3-cryptography) and the
# standard hmac module:
#   SK payload layout  IV | ciphertext(plaintext | Padding | Pad Length) | ICV   (RFC 7296 §3.14)
#   AES-CBC            zero Padding up to whole 16-byte blocks; ICV = HMAC(SK_a,
#                      IKE header .. SK header | IV | ciphertext) truncated (RFC 4868 §2.3, RFC 2404)
#   AES-GCM-16         no Padding, nonce = salt (last 4 bytes of SK_e) | IV, AAD = IKE
#                      header .. SK header, tag 16 (RFC 5282 §3-§5)
#   ChaCha20-Poly1305  the same layout (RFC 7634 §3-§4)
import hashlib, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

def rng(start, n): return bytes((start + i) & 0xff for i in range(n))

PLAIN = rng(0x40, 37)   # 37 bytes: CBC pads 37+1 to 48 (Pad Length 10)

def aad_for(sealed_len):
    # IKE header (§3.1): SPIi, SPIr, Next Payload SK(46), 2.0, IKE_AUTH(35),
    # flags I, Message ID 1, Length; SK header (§3.14): Next Payload IDi(35),
    # not critical, Payload Length.
    total = 28 + 4 + sealed_len
    hdr = rng(0x01, 8) + rng(0x11, 8) + bytes([46, 0x20, 35, 0x08]) + (1).to_bytes(4, 'big') + total.to_bytes(4, 'big')
    return hdr + bytes([35, 0]) + (4 + sealed_len).to_bytes(2, 'big')

def aead(cls, sk_e, counter, plain):
    key, salt = sk_e[:-4], sk_e[-4:]
    iv = counter.to_bytes(8, 'big')
    body = plain + b'\x00'                          # no Padding, Pad Length 0
    aad = aad_for(8 + len(body) + 16)
    return aad, iv + cls(key).encrypt(salt + iv, body, aad)

def cbc(sk_e, sk_a, iv, digest, icv_len, plain, body=None):
    if body is None:
        padded = -(-(len(plain) + 1) // 16) * 16
        body = plain + bytes(padded - len(plain) - 1) + bytes([padded - len(plain) - 1])
    enc = Cipher(algorithms.AES(sk_e), modes.CBC(iv)).encryptor()
    ct = enc.update(body) + enc.finalize()
    aad = aad_for(16 + len(ct) + icv_len)
    icv = hmac.new(sk_a, aad + iv + ct, digest).digest()[:icv_len]
    return aad, iv + ct + icv

H = lambda b: b.hex()
def show(name, aad, sealed):
    print(name + " aad   ", H(aad))
    print(name + " sealed", H(sealed))

print("plaintext", H(PLAIN))
show("AES-256-GCM-16 (SK_e 00..23, IV counter 5)", *aead(AESGCM, rng(0x00, 36), 5, PLAIN))
show("AES-128-GCM-16 (SK_e 10..23, IV counter 0)", *aead(AESGCM, rng(0x10, 20), 0, PLAIN))
show("ChaCha20-Poly1305 (SK_e 80..a3, IV counter 0102030405060708)",
     *aead(ChaCha20Poly1305, rng(0x80, 36), 0x0102030405060708, PLAIN))
show("AES-128-CBC HMAC-SHA2-256-128 (SK_e 20..2f, SK_a 50..6f, IV a0..af)",
     *cbc(rng(0x20, 16), rng(0x50, 32), rng(0xa0, 16), hashlib.sha256, 16, PLAIN))
show("AES-256-CBC HMAC-SHA2-384-192 (SK_e 20..3f, SK_a 50..7f, IV a0..af)",
     *cbc(rng(0x20, 32), rng(0x50, 48), rng(0xa0, 16), hashlib.sha384, 24, PLAIN))
show("AES-192-CBC HMAC-SHA2-512-256 (SK_e 20..37, SK_a 50..8f, IV a0..af)",
     *cbc(rng(0x20, 24), rng(0x50, 64), rng(0xa0, 16), hashlib.sha512, 32, PLAIN))
show("AES-128-CBC HMAC-SHA1-96 (SK_e 20..2f, SK_a 50..63, IV a0..af)",
     *cbc(rng(0x20, 16), rng(0x50, 20), rng(0xa0, 16), hashlib.sha1, 12, PLAIN))
# A valid ICV over a decrypted body whose Pad Length (0xff) exceeds the 31
# bytes before it.
show("AES-128-CBC HMAC-SHA2-256-128 Pad Length 255 (keys and IV as above)",
     *cbc(rng(0x20, 16), rng(0x50, 32), rng(0xa0, 16), hashlib.sha256, 16, None, body=rng(0x00, 31) + b'\xff'))
