#!/usr/bin/python3
# Regenerates the known answers pasted in keys_test.cc and cipher_test.cc:
# python3 keys_kat.py
# Independent known answers for common/ikev1: HMAC built here from hashlib
# digests (RFC 2104 ipad/opad by hand), the derivations written from the text
# of RFC 2409 §5, §5.5 and Appendix B, AES/3DES-CBC from python3-cryptography.
import hashlib
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:
    TripleDES = algorithms.TripleDES

def hmac(h, key, msg):
    hf = getattr(hashlib, h); block = 128 if h in ('sha384', 'sha512') else 64
    if len(key) > block: key = hf(key).digest()
    key = key.ljust(block, b'\0')
    ipad = bytes(k ^ 0x36 for k in key); opad = bytes(k ^ 0x5c for k in key)
    return hf(opad + hf(ipad + msg).digest()).digest()

H = lambda b: b.hex()
ni = bytes(range(0x10, 0x30)); nr = bytes(range(0x40, 0x60))
gxy = bytes(range(0x80, 0xc0)); gxi = bytes([0x31]) * 64; gxr = bytes([0x32]) * 64
ckyi = bytes.fromhex('0102030405060708'); ckyr = bytes.fromhex('1112131415161718')
psk = b'correct-horse-battery-staple-42'
sai_b = bytes.fromhex('00000001000000010000002c01010001000000240101000080010007800e0080800200028003000180040002')
idii_b = bytes.fromhex('01000000c6336401'); idir_b = bytes.fromhex('01000000c6336402')

def phase1(h, skeyid, key_len, block):
    d = hmac(h, skeyid, gxy + ckyi + ckyr + b'\0')
    a = hmac(h, skeyid, d + gxy + ckyi + ckyr + b'\1')
    e = hmac(h, skeyid, a + gxy + ckyi + ckyr + b'\2')
    if len(e) >= key_len:
        key = e[:key_len]
    else:  # Appendix B
        k = hmac(h, e, b'\0'); key = k
        while len(key) < key_len:
            k = hmac(h, e, k); key += k
        key = key[:key_len]
    iv = getattr(hashlib, h)(gxi + gxr).digest()[:block]
    return d, a, e, key, iv

def show(tag, h, skeyid, key_len, block):
    d, a, e, key, iv = phase1(h, skeyid, key_len, block)
    print(tag, 'SKEYID', H(skeyid)); print(tag, 'SKEYID_d', H(d)); print(tag, 'SKEYID_a', H(a))
    print(tag, 'SKEYID_e', H(e)); print(tag, 'key', H(key)); print(tag, 'iv', H(iv))
    return d, a, e, key, iv

# A: PSK, SHA1, AES-CBC-128 (SKEYID_e long enough).
skeyid_a = hmac('sha1', psk, ni + nr)
A = show('A', 'sha1', skeyid_a, 16, 16)
# B: PSK, SHA1, AES-CBC-256 (SKEYID_e of 20 bytes expanded to 32).
B = show('B', 'sha1', skeyid_a, 32, 16)
# C: signatures, SHA2-256, AES-CBC-256.
skeyid_c = hmac('sha256', ni + nr, gxy)
C = show('C', 'sha256', skeyid_c, 32, 16)
# D: PSK, SHA1, 3DES-CBC (24-byte key: expanded; 8-byte IV).
D = show('D', 'sha1', skeyid_a, 24, 8)
print('A HASH_I', H(hmac('sha1', skeyid_a, gxi + gxr + ckyi + ckyr + sai_b + idii_b)))
print('A HASH_R', H(hmac('sha1', skeyid_a, gxr + gxi + ckyr + ckyi + sai_b + idir_b)))
print('C HASH_I', H(hmac('sha256', skeyid_c, gxi + gxr + ckyi + ckyr + sai_b + idii_b)))
last = bytes(range(0xa0, 0xb0)); mid = bytes.fromhex('01020304')
print('A phase2 IV', H(hashlib.sha1(last + mid).digest()[:16]))
print('C phase2 IV', H(hashlib.sha256(last + mid).digest()[:16]))
qni = bytes([0x51]) * 16; qnr = bytes([0x52]) * 16
rest = bytes.fromhex('0a00001401020304'); skeyid_a_c = C[1]; skeyid_d_c = C[0]
print('C HASH(1)', H(hmac('sha256', skeyid_a_c, mid + rest)))
print('C HASH(2)', H(hmac('sha256', skeyid_a_c, mid + qni + rest)))
print('C HASH(3)', H(hmac('sha256', skeyid_a_c, b'\0' + mid + qni + qnr)))
def keymat(h, skd, gqm, proto, spi, n):
    seed = gqm + bytes([proto]) + spi + qni + qnr
    k = hmac(h, skd, seed); out = k
    while len(out) < n:
        k = hmac(h, skd, k + seed); out += k
    return out[:n]
spi = bytes.fromhex('c1c2c3c4'); gqm = bytes([0x77]) * 32
print('C KEYMAT esp 48', H(keymat('sha256', skeyid_d_c, b'', 3, spi, 48)))
print('C KEYMAT esp pfs 80', H(keymat('sha256', skeyid_d_c, gqm, 3, spi, 80)))
print('A KEYMAT ah 20', H(keymat('sha1', A[0], b'', 2, spi, 20)))
pt = bytes(range(37))
enc = Cipher(algorithms.AES(A[3]), modes.CBC(A[4])).encryptor()
print('A AES-128-CBC', H(enc.update(pt + b'\0' * 11) + enc.finalize()))
enc = Cipher(TripleDES(D[3]), modes.CBC(D[4])).encryptor()
print('D 3DES-CBC', H(enc.update(pt + b'\0' * 3) + enc.finalize()))
