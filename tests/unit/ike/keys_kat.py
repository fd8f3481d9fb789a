#!/usr/bin/python3
# Regenerates the known answers pasted in keys_test.cc: python3 keys_kat.py
# Independent known answers for common/ike/keys: HMAC built here from
# hashlib digests (RFC 2104 ipad/opad by hand), prf+ of RFC 7296 §2.13 and
# the key splits of §2.14, §2.17, §2.18 written from the RFC text.
import hashlib
def hmac(h, key, msg):
    hf = getattr(hashlib, h); block = 128 if h in ('sha384','sha512') else 64
    if len(key) > block: key = hf(key).digest()
    key = key.ljust(block, b'\0')
    ipad = bytes(k ^ 0x36 for k in key); opad = bytes(k ^ 0x5c for k in key)
    return hf(opad + hf(ipad + msg).digest()).digest()
def prf_plus(h, key, seed, n):
    out = b''; t = b''; i = 1
    while len(out) < n:
        t = hmac(h, key, t + seed + bytes([i])); out += t; i += 1
    return out[:n]
def split(buf, sizes):
    out = []; p = 0
    for s in sizes: out.append(buf[p:p+s]); p += s
    return out
H = lambda b: b.hex()
print("rfc4231 tc1 sha256", H(hmac('sha256', b'\x0b'*20, b'Hi There')))
print("rfc4231 tc2 sha256", H(hmac('sha256', b'Jefe', b'what do ya want for nothing?')))
print("rfc4231 tc6 sha512 (131-byte key)", H(hmac('sha512', b'\xaa'*131, b'Test Using Larger Than Block-Size Key - Hash Key First')))
key = bytes(range(32)); seed = b'corridor prf+ seed'
print("prf+ sha256 100", H(prf_plus('sha256', key, seed, 100)))
print("prf+ sha512 130", H(prf_plus('sha512', key, seed, 130)))
ni = bytes(range(0x10, 0x30)); nr = bytes(range(0x40, 0x60)); gir = bytes(range(0x80, 0xa0))
spii = bytes.fromhex('0102030405060708'); spir = bytes.fromhex('1112131415161718')
# Suite A: ENCR_AES_CBC 256, AUTH_HMAC_SHA2_256_128, PRF_HMAC_SHA2_256.
sk = hmac('sha256', ni + nr, gir); print("A SKEYSEED", H(sk))
ks = split(prf_plus('sha256', sk, ni + nr + spii + spir, 32*7), [32]*7)
for name, k in zip(['d','ai','ar','ei','er','pi','pr'], ks): print("A SK_" + name, H(k))
# Suite B: ENCR_AES_GCM_16 256 (36 with salt), PRF_HMAC_SHA2_384, no INTEG.
skb = hmac('sha384', ni + nr, gir); print("B SKEYSEED", H(skb))
ks = split(prf_plus('sha384', skb, ni + nr + spii + spir, 48+36+36+48+48), [48,36,36,48,48])
for name, k in zip(['d','ei','er','pi','pr'], ks): print("B SK_" + name, H(k))
skd_a = split(prf_plus('sha256', sk, ni + nr + spii + spir, 32), [32])[0]
# Rekey of suite A's IKE SA into suite B (old PRF SHA2-256, new PRF SHA2-384).
ni2 = bytes([0x21])*32; nr2 = bytes([0x22])*32; gir2 = bytes([0x23])*48
spii2 = bytes.fromhex('a1a2a3a4a5a6a7a8'); spir2 = bytes.fromhex('b1b2b3b4b5b6b7b8')
skr = hmac('sha256', skd_a, gir2 + ni2 + nr2); print("R SKEYSEED", H(skr))
ks = split(prf_plus('sha384', skr, ni2 + nr2 + spii2 + spir2, 48+36+36+48+48), [48,36,36,48,48])
for name, k in zip(['d','ei','er','pi','pr'], ks): print("R SK_" + name, H(k))
# Child SA with suite A's SK_d: ESP AES-GCM-16 128 (20 bytes), no PFS.
km = split(prf_plus('sha256', skd_a, ni2 + nr2, 40), [20, 20])
print("C1 encr_i", H(km[0])); print("C1 encr_r", H(km[1]))
# Child SA with PFS: ESP AES-CBC 128 + HMAC-SHA2-256-128: Ei, Ai, Er, Ar.
km = split(prf_plus('sha256', skd_a, gir2 + ni2 + nr2, 16+32+16+32), [16, 32, 16, 32])
for name, k in zip(['encr_i','integ_i','encr_r','integ_r'], km): print("C2", name, H(k))
