#!/usr/bin/python3
"""Self-test of tests/interop/ipsec_scapy.py, independent of Corridor.

Exit 0 when every check passes; otherwise prints each failure and exits 1.

Evidence that the oracle is right comes from three places, none of them the
oracle's own code:
  * published known answers: RFC 7634 Appendix A (ChaCha20-Poly1305 ESP) and
    four ESP packets of draft-mcgrew-gcm-test-01 (AES-GCM, with and without
    ESN, including a low half of zero and an all-ones 64-bit number);
  * a reference ESP/AH encoder written here from the RFCs on raw bytes, with
    its own GCM/GMAC (pure-Python GHASH, checked against the same vectors),
    CTR keystream, HMAC from Python's hashlib and RFC 4302 mutable-field
    zeroing; every packet the oracle encrypts must equal it byte for byte;
  * round trips and negative cases through the oracle's command line.
The oracle runs as a subprocess exactly as the C++ tests run it.
"""

import hashlib
import hmac
import ipaddress
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

ORACLE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'ipsec_scapy.py')
PYTHON = '/usr/bin/python3'
FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
    return condition


###############################################################################
# Packet building and checksums (raw bytes, no scapy)


def csum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def addr(text):
    return ipaddress.ip_address(text).packed


def set_ipv4_checksum(pkt):
    ihl = (pkt[0] & 0xf) * 4
    pkt[10:12] = b'\0\0'
    pkt[10:12] = struct.pack('!H', csum(bytes(pkt[:ihl])))


def ipv4(src, dst, proto, payload, tos=0, ident=1, flags=0, ttl=64,
         options=b''):
    assert len(options) % 4 == 0
    pkt = bytearray(struct.pack(
        '!BBHHHBBH4s4s', 0x45 + len(options) // 4, tos,
        20 + len(options) + len(payload), ident, flags << 13, ttl, proto, 0,
        addr(src), addr(dst)) + options)
    set_ipv4_checksum(pkt)
    return bytes(pkt) + payload


def ipv6(src, dst, nh, payload, tc=0, fl=0, hlim=64):
    return struct.pack('!LHBB16s16s', (6 << 28) | (tc << 20) | fl,
                       len(payload), nh, hlim, addr(src), addr(dst)) + payload


def udp(src, dst, sport, dport, data):
    """UDP with a valid checksum; src/dst are packed addresses."""
    seg = bytearray(struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data)
    if len(src) == 4:
        pseudo = src + dst + struct.pack('!xBH', 17, len(seg))
    else:
        pseudo = src + dst + struct.pack('!LxxxB', len(seg), 17)
    seg[6:8] = struct.pack('!H', csum(pseudo + bytes(seg)) or 0xffff)
    return bytes(seg)


V4_SRC, V4_DST = '198.51.100.5', '203.0.113.9'
V6_SRC, V6_DST = '2001:db8:1::5', '2001:db8:2::9'
PAYLOAD = bytes(range(37))  # odd length: padding is exercised

CLEAR = {
    'v4': ipv4(V4_SRC, V4_DST, 17,
               udp(addr(V4_SRC), addr(V4_DST), 1234, 5678, PAYLOAD),
               tos=0xb8, ident=0x4321, flags=2, ttl=61),
    # Router Alert (immutable, RFC 4302 App. A) + Record Route (mutable) + EOL
    'v4opt': ipv4(V4_SRC, V4_DST, 17,
                  udp(addr(V4_SRC), addr(V4_DST), 1234, 5678, PAYLOAD),
                  ttl=61, options=bytes([0x94, 4, 0, 0, 7, 7, 8])
                  + addr('192.0.2.77') + b'\0'),
    'v6': ipv6(V6_SRC, V6_DST, 17,
               udp(addr(V6_SRC), addr(V6_DST), 1234, 5678, PAYLOAD * 3),
               tc=0xb8, fl=0x12345, hlim=33),
    # hop-by-hop (Router Alert) then destination options (PadN), then UDP
    'v6ext': ipv6(V6_SRC, V6_DST, 0,
                  bytes([60, 0, 5, 2, 0, 0, 1, 0])
                  + bytes([17, 0, 1, 4, 0, 0, 0, 0])
                  + udp(addr(V6_SRC), addr(V6_DST), 1234, 5678, PAYLOAD),
                  hlim=33),
}
TUNNEL = {4: ('192.0.2.1', '192.0.2.2'), 6: ('2001:db8::1', '2001:db8::2')}


###############################################################################
# Reference crypto: GCM/GMAC with a pure-Python GHASH; AES block from
# python3-cryptography used only as the raw block cipher.


def aes_block(key, block):
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)


def gf_mul(x, y):
    z = 0
    for i in range(127, -1, -1):
        if (y >> i) & 1:
            z ^= x
        x = (x >> 1) ^ (0xe1 << 120) if x & 1 else x >> 1
    return z


def ghash(h, aad, ct):
    def blocks(data):
        data += b'\0' * (-len(data) % 16)
        return [data[i:i + 16] for i in range(0, len(data), 16)]
    y = 0
    for blk in blocks(aad) + blocks(ct) + [struct.pack('!QQ', len(aad) * 8,
                                                       len(ct) * 8)]:
        y = gf_mul(y ^ int.from_bytes(blk, 'big'), h)
    return y


def ref_gcm(key, nonce, pt, aad):
    """NIST SP 800-38D GCM, 96-bit nonce, 16-byte tag: returns ct || tag."""
    ct = bytearray()
    for i in range(0, len(pt), 16):
        ks = aes_block(key, nonce + struct.pack('!L', 2 + i // 16))
        ct += bytes(a ^ b for a, b in zip(pt[i:i + 16], ks))
    s = ghash(int.from_bytes(aes_block(key, b'\0' * 16), 'big'), aad,
              bytes(ct))
    j0 = aes_block(key, nonce + b'\0\0\0\1')
    return bytes(ct) + bytes(a ^ b for a, b in zip(j0, s.to_bytes(16, 'big')))


def ref_ctr(key, salt, iv, data):
    """RFC 3686 counter blocks: nonce || IV || counter starting at 1."""
    out = bytearray()
    for i in range(0, len(data), 16):
        ks = aes_block(key, salt + iv + struct.pack('!L', 1 + i // 16))
        out += bytes(a ^ b for a, b in zip(data[i:i + 16], ks))
    return bytes(out)


HASHES = {'HMAC-SHA2-256-128': (hashlib.sha256, 32, 16),
          'HMAC-SHA2-384-192': (hashlib.sha384, 48, 24),
          'HMAC-SHA2-512-256': (hashlib.sha512, 64, 32)}
SALT_LEN = {'AES-GCM': 4, 'AES-NULL-GMAC': 4, 'CHACHA20-POLY1305': 4,
            'AES-CBC': 0, 'AES-CTR': 4, 'NULL': 0}
IV_LEN = {'AES-GCM': 8, 'AES-NULL-GMAC': 8, 'CHACHA20-POLY1305': 8,
          'AES-CBC': 16, 'AES-CTR': 8, 'NULL': 0}


###############################################################################
# Reference ESP/AH encoder (RFC 4303, 4302, 3948) on raw bytes


def outer_header(version, proto, sa, outer):
    """Tunnel header: the request's "outer" fields (SA, then packet) over
    scapy's IP()/IPv6() defaults (TOS 0, ID 1, no flags, TTL 64; traffic
    class 0, flow label 0, hop limit 64). fix_lengths() sets the lengths."""
    src, dst = sa['tunnel_src'], sa['tunnel_dst']
    f = dict(sa.get('outer') or {}, **(outer or {}))
    if version == 4:
        return bytearray(ipv4(src, dst, proto, b'', tos=f.get('tos', 0),
                              ident=f.get('id', 1), flags=f.get('flags', 0),
                              ttl=f.get('ttl', 64))[:20])
    return bytearray(ipv6(src, dst, proto, b'', tc=f.get('tc', 0),
                          fl=f.get('fl', 0), hlim=f.get('hlim', 64))[:40])


def split_transport(clear):
    """Header part, payload, next-header value and the offset of the byte that
    will name ESP/AH. ESP/AH go after hop-by-hop, routing and destination
    options headers (a destination options header after a routing header
    stays behind), scapy's placement."""
    if clear[0] >> 4 == 4:
        ihl = (clear[0] & 0xf) * 4
        return bytearray(clear[:ihl]), clear[ihl:], clear[9], 9
    nh, off, nh_pos, seen_routing = clear[6], 40, 6, False
    while nh in (0, 43, 60):
        if nh == 60 and seen_routing:
            break
        seen_routing |= nh == 43
        nh_pos, nh = off, clear[off]
        off += (clear[off + 1] + 1) * 8
    return bytearray(clear[:off]), clear[off:], nh, nh_pos


def fix_lengths(pkt, header_len):
    if pkt[0] >> 4 == 4:
        pkt[2:4] = struct.pack('!H', len(pkt))
        set_ipv4_checksum(pkt)
    else:
        pkt[4:6] = struct.pack('!H', len(pkt) - 40)
    return pkt


def encapsulate(sa, clear, proto_number, outer=None):
    """Returns (header bytes, payload to protect, next header value, offset of
    the protocol byte) for tunnel or transport mode."""
    if sa['mode'] == 'tunnel':
        version = ipaddress.ip_address(sa['tunnel_src']).version
        nh = 4 if clear[0] >> 4 == 4 else 41
        return outer_header(version, proto_number, sa, outer), clear, nh, \
            (9 if version == 4 else 6)
    return split_transport(clear)


def ref_esp(sa, clear, seq, iv, outer=None):
    algo = sa['crypt_algo']
    ckey = bytes.fromhex(sa['crypt_key'])
    split = len(ckey) - SALT_LEN[algo]
    key, salt = ckey[:split], ckey[split:]
    header, payload, nh, nh_pos = encapsulate(sa, clear, 50, outer)
    align = 16 if algo == 'AES-CBC' else 4
    padlen = -(len(payload) + 2) % align
    plain = payload + bytes(range(1, padlen + 1)) + bytes([padlen, nh])
    hi, lo = seq >> 32, seq & 0xffffffff
    spi = struct.pack('!L', sa['spi'])
    esp_hdr = spi + struct.pack('!L', lo)
    aad = spi + (struct.pack('!L', hi) if sa['esn'] else b'') + \
        struct.pack('!L', lo)
    if algo == 'AES-GCM':
        body = iv + ref_gcm(key, salt + iv, plain, aad)
    elif algo == 'AES-NULL-GMAC':
        body = iv + plain + ref_gcm(key, salt + iv, b'', aad + iv + plain)
    elif algo == 'CHACHA20-POLY1305':
        body = iv + ChaCha20Poly1305(key).encrypt(salt + iv, plain, aad)
    else:
        if algo == 'AES-CBC':
            enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
            body = iv + enc.update(plain) + enc.finalize()
        elif algo == 'AES-CTR':
            body = iv + ref_ctr(key, salt, iv, plain)
        else:
            body = plain
        digest, _, icv_len = HASHES[sa['auth_algo']]
        extra = struct.pack('!L', hi) if sa['esn'] else b''
        body += hmac.new(bytes.fromhex(sa['auth_key']), esp_hdr + body + extra,
                         digest).digest()[:icv_len]
    esp = esp_hdr + body
    off = len(header)
    if sa['nat_t'] is not None:
        udp_len = 8 + len(esp)
        esp = struct.pack('!HHHH', sa['nat_t']['sport'], sa['nat_t']['dport'],
                          udp_len, 0) + esp
        header[nh_pos] = 17
    else:
        header[nh_pos] = 50
    pkt = fix_lengths(header + esp, off)
    if sa['nat_t'] is not None and pkt[0] >> 4 == 6:
        pseudo = bytes(pkt[8:40]) + struct.pack('!LxxxB', len(pkt) - off, 17)
        pkt[off + 6:off + 8] = struct.pack(
            '!H', csum(pseudo + bytes(pkt[off:])) or 0xffff)
    return bytes(pkt)


IMMUTABLE_V4_OPTIONS = (0, 1, 2, 5, 6, 20, 21)  # RFC 4302 Appendix A


def zero_mutable(pkt, ah_off):
    """RFC 4302 3.3.3.1 on a copy of the packet: mutable fields as zero."""
    z = bytearray(pkt)
    if z[0] >> 4 == 4:
        z[1] = 0                 # DSCP/ECN
        z[6:8] = b'\0\0'         # flags, fragment offset
        z[8] = 0                 # TTL
        z[10:12] = b'\0\0'       # header checksum
        i, end = 20, (z[0] & 0xf) * 4
        while i < end:
            kind = z[i]
            size = 1 if kind in (0, 1) else z[i + 1]
            if kind & 0x1f not in IMMUTABLE_V4_OPTIONS:
                z[i:i + size] = b'\0' * size
            if kind == 0:
                break
            i += size
    else:
        z[0:4] = b'\x60\0\0\0'   # traffic class, flow label
        z[7] = 0                 # hop limit
        nh, off = z[6], 40
        while nh in (0, 60) and off < ah_off:  # options with the change bit
            i, end = off + 2, off + (z[off + 1] + 1) * 8
            while i < end:
                if z[i] == 0:
                    i += 1
                    continue
                if z[i] & 0x20:
                    z[i + 2:i + 2 + z[i + 1]] = b'\0' * z[i + 1]
                i += 2 + z[i + 1]
            nh, off = z[off], end
    return bytes(z)


def ref_ah(sa, clear, seq, extra_padding=0, outer=None):
    digest, _, icv_len = HASHES[sa['auth_algo']]
    header, payload, nh, nh_pos = encapsulate(sa, clear, 51, outer)
    header[nh_pos] = 51
    align = 4 if header[0] >> 4 == 4 else 8
    ah_len = -(-(12 + icv_len) // align) * align + extra_padding  # RFC 4302 2.2
    hi, lo = seq >> 32, seq & 0xffffffff
    ah = bytearray(struct.pack('!BBHLL', nh, ah_len // 4 - 2, 0, sa['spi'], lo)
                   + b'\0' * (ah_len - 12))
    off = len(header)
    pkt = fix_lengths(header + ah + payload, off)
    extra = struct.pack('!L', hi) if sa['esn'] else b''
    icv = hmac.new(bytes.fromhex(sa['auth_key']),
                   zero_mutable(pkt, off) + extra, digest).digest()[:icv_len]
    pkt[off + 12:off + 12 + icv_len] = icv
    return bytes(pkt)


###############################################################################
# Running the oracle


def run_oracle(request, expect_rc=0):
    with tempfile.TemporaryDirectory() as tmp:
        req_path = os.path.join(tmp, 'request.json')
        resp_path = os.path.join(tmp, 'response.json')
        with open(req_path, 'w', encoding='utf-8') as f:
            if isinstance(request, str):
                f.write(request)
            else:
                json.dump(request, f)
        proc = subprocess.run([PYTHON, ORACLE, req_path, resp_path],
                              capture_output=True, text=True, timeout=120,
                              check=False)
        if not check(proc.returncode == expect_rc,
                     'oracle exit %d, expected %d; stderr: %s'
                     % (proc.returncode, expect_rc, proc.stderr.strip())):
            return None
        if expect_rc != 0:
            check(proc.stderr.strip() != '', 'exit %d without a message'
                  % expect_rc)
            return None
        with open(resp_path, encoding='utf-8') as f:
            return json.load(f)


def esp_suites():
    """(crypt name, key length without salt, auth) combinations."""
    return [('AES-GCM', 16, None), ('AES-GCM', 32, None),
            ('AES-NULL-GMAC', 16, None), ('AES-NULL-GMAC', 32, None),
            ('CHACHA20-POLY1305', 32, None),
            ('AES-CBC', 16, 'HMAC-SHA2-256-128'),
            ('AES-CBC', 32, 'HMAC-SHA2-512-256'),
            ('AES-CTR', 16, 'HMAC-SHA2-384-192'),
            ('AES-CTR', 24, 'HMAC-SHA2-256-128'),
            ('NULL', 0, 'HMAC-SHA2-256-128')]


def build_sa(proto, mode, outer_v, crypt, key_len, auth, esn, nat_t,
             spi=0x1000):
    rng = random.Random(repr((crypt, key_len, auth, esn, spi)))
    sa = {'proto': proto, 'spi': spi, 'mode': mode, 'esn': esn,
          'crypt_algo': crypt, 'crypt_key': None, 'auth_algo': auth,
          'auth_key': None,
          'nat_t': {'sport': 4500, 'dport': 4501} if nat_t else None}
    if mode == 'tunnel':
        sa['tunnel_src'], sa['tunnel_dst'] = TUNNEL[outer_v]
    if crypt is not None:
        sa['crypt_key'] = rng.randbytes(key_len + SALT_LEN[crypt]).hex()
        if auth is None:
            sa['icv_size'] = 16
    if auth is not None:
        sa['auth_key'] = rng.randbytes(HASHES[auth][1]).hex()
    return sa


LAYOUTS = [('tunnel', 4, 'v4'), ('tunnel', 4, 'v6'),   # 4-in-4, 6-in-4
           ('tunnel', 6, 'v4'), ('tunnel', 6, 'v6'),   # 4-in-6, 6-in-6
           ('transport', None, 'v4'), ('transport', None, 'v4opt'),
           ('transport', None, 'v6'), ('transport', None, 'v6ext')]
AUTHS = ['HMAC-SHA2-256-128', 'HMAC-SHA2-384-192', 'HMAC-SHA2-512-256']


def sequence_numbers(esn):
    if esn:  # high half 0 and not, low half 0 (scapy treats 0 as "unset")
        return [1, 1 << 32, (0xdeadbeef << 32) | 7]
    return [1, 0xffffffff]


def matrix():
    """Every algorithm x mode x outer/inner family x NAT-T x ESN, ESP and AH.
    Returns entries (label, sa, [(clear, seq, request extras, expected
    protected packet)]) where the extras are the packet's "iv" / "outer"."""
    entries = []
    rng = random.Random(4303)
    for mode, outer_v, inner in LAYOUTS:
        for esn in (False, True):
            for crypt, key_len, auth in esp_suites():
                for nat_t in (False, True):
                    sa = build_sa('esp', mode, outer_v, crypt, key_len, auth,
                                  esn, nat_t)
                    pkts = []
                    for seq in sequence_numbers(esn):
                        iv = rng.randbytes(IV_LEN[crypt])
                        pkts.append((CLEAR[inner], seq, {'iv': iv.hex()},
                                     ref_esp(sa, CLEAR[inner], seq, iv)))
                    entries.append(('ESP %s-%d/%s %s IPv%s/%s esn=%s natt=%s'
                                    % (crypt, key_len * 8, auth, mode,
                                       outer_v, inner, esn, nat_t), sa, pkts))
            for auth in AUTHS:
                sa = build_sa('ah', mode, outer_v, None, 0, auth, esn, False)
                pkts = [(CLEAR[inner], seq, {}, ref_ah(sa, CLEAR[inner], seq))
                        for seq in sequence_numbers(esn)]
                entries.append(('AH %s %s IPv%s/%s esn=%s'
                                % (auth, mode, outer_v, inner, esn), sa, pkts))
    # tunnel header fields from the request: SA defaults, packet overrides
    for version, sa_outer, pkt_outer in (
            (4, {'tos': 0x2e, 'ttl': 17}, {'id': 0x5151, 'flags': 2}),
            (6, {'tc': 0xb8, 'hlim': 9}, {'fl': 0xabcde})):
        for proto in ('esp', 'ah'):
            sa = build_sa(proto, 'tunnel', version,
                          'AES-GCM' if proto == 'esp' else None, 16,
                          None if proto == 'esp' else AUTHS[0], False, False)
            sa['outer'] = sa_outer
            pkts = []
            for seq, outer in ((1, None), (2, pkt_outer)):
                extra = {'outer': outer} if outer else {}
                if proto == 'esp':
                    extra['iv'] = bytes(8).hex()
                    ref = ref_esp(sa, CLEAR['v4'], seq, bytes(8), outer)
                else:
                    ref = ref_ah(sa, CLEAR['v4'], seq, outer=outer)
                pkts.append((CLEAR['v4'], seq, extra, ref))
            entries.append(('%s IPv%d outer header fields' % (proto, version),
                            sa, pkts))
    return entries


###############################################################################
# Known answers


RFC7634_A = {  # RFC 7634 Appendix A: tunnel-mode ESP, ChaCha20-Poly1305
    'key': '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'
           'a0a1a2a3',
    'spi': 0x01020304, 'seq': 5, 'iv': '1011121314151617',
    'inner': '45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10'
             '0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223'
             '2425262728292a2b2c2d2e2f3031323334353637',
    'ct_tag': '24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6'
              '14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3'
              'cbec163fac469b502773f6fb94e664da9165b82829f641e0'
              '76aaa8266b7fb0f7b11b369907e1ad43',
}

# draft-mcgrew-gcm-test-01 ESP packets. Their plaintexts end in a trailer with
# next header 1, so they are replayed as transport-mode ESP of an IPv4 packet
# with protocol 1 whose payload is the plaintext before the padding.
GCM_DRAFT = [
    {'key': '4c80cdefbb5d10da906ac73c3613a634' '2e443b68', 'esn': True,
     'spi': 0x4321, 'seq': 0x8765432100000000, 'iv': '4956ed7e3b244cfe',
     'plain': '45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000'
              '00000000045f736970045f756470037369700963796265726369747902646b00'
              '0021000101020201',
     'ct_tag': 'fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34'
               'cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce'
               '61bc17d768fd9732459018148f6cbe722fd04796562dfdb4'},
    {'key': 'abbccddef00112233445566778899aababbccddef00112233445566778899aab'
            '11223344', 'esn': False,
     'spi': 0x4a2cbfe3, 'seq': 2, 'iv': '0102030405060708',
     'plain': '4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000'
              '7002400020bf0000020405b40101040201020201',
     'ct_tag': 'ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763'
               '748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49'
               '15956c96'},
    {'key': 'abbccddef00112233445566778899aab' 'decaf888', 'esn': True,
     'spi': 0x100, 'seq': 1, 'iv': 'cafedebaceface74',
     'plain': '4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5'
              '00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95'
              '9b6266c04722b14923010101',
     'ct_tag': '18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f'
               '9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22'
               '6f2127b27db35724e7845d68651f57e65f354f75ff17015769623436'},
    {'key': '6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961'
            '7475726e', 'esn': True,
     'spi': 0x796b6963, 'seq': 0xffffffffffffffff, 'iv': '333021696765746d',
     'plain': '45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364'
              '65666768696a6b6c6d6e6f707172737401020201',
     'ct_tag': 'f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86'
               '4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9d0937ba2945f669368661a32'
               '9fb4c053'},
]


def kat_entries():
    """(label, sa, clear, seq, iv, expected protected packet) for the vectors.
    The reference GCM is also checked on the GCM vectors here."""
    out = []
    v = RFC7634_A
    sa = {'proto': 'esp', 'spi': v['spi'], 'mode': 'tunnel',
          'tunnel_src': TUNNEL[4][0], 'tunnel_dst': TUNNEL[4][1],
          'crypt_algo': 'CHACHA20-POLY1305', 'crypt_key': v['key'],
          'auth_algo': None, 'icv_size': 16, 'esn': False, 'nat_t': None}
    esp = struct.pack('!LL', v['spi'], v['seq']) + bytes.fromhex(v['iv']) + \
        bytes.fromhex(v['ct_tag'])
    out.append(('RFC 7634 A', sa, bytes.fromhex(v['inner']), v['seq'],
                bytes.fromhex(v['iv']), ipv4(*TUNNEL[4], 50, esp)))
    for i, v in enumerate(GCM_DRAFT):
        key = bytes.fromhex(v['key'])
        plain, iv = bytes.fromhex(v['plain']), bytes.fromhex(v['iv'])
        seq_lo = v['seq'] & 0xffffffff
        aad = struct.pack('!L', v['spi']) + \
            (struct.pack('!L', v['seq'] >> 32) if v['esn'] else b'') + \
            struct.pack('!L', seq_lo)
        check(ref_gcm(key[:-4], key[-4:] + iv, plain, aad).hex() == v['ct_tag'],
              'reference GCM does not reproduce draft-mcgrew-gcm-test-01 '
              'vector %d' % i)
        check(plain[-1] == 1, 'vector %d: next header is not 1' % i)
        payload = plain[:len(plain) - plain[-2] - 2]
        sa = {'proto': 'esp', 'spi': v['spi'], 'mode': 'transport',
              'crypt_algo': 'AES-GCM', 'crypt_key': v['key'],
              'auth_algo': None, 'icv_size': 16, 'esn': v['esn'],
              'nat_t': None}
        esp = struct.pack('!LL', v['spi'], seq_lo) + iv + \
            bytes.fromhex(v['ct_tag'])
        out.append(('draft-mcgrew-gcm-test-01 #%d' % i, sa,
                    ipv4(*TUNNEL[4], 1, payload), v['seq'], iv,
                    ipv4(*TUNNEL[4], 50, esp)))
    return out


###############################################################################
# Negative and edge cases for decryption: (label, sa, hex, seq, expected)
# where expected is clear bytes or an error substring.


def flip(data, index):
    b = bytearray(data)
    b[index] ^= 0x01
    return bytes(b)


def mutate_v4(data, **fields):
    b = bytearray(data)
    for name, (pos, value) in {'tos': (1, fields.get('tos')),
                               'ident': (4, fields.get('ident')),
                               'flags': (6, fields.get('flags')),
                               'ttl': (8, fields.get('ttl'))}.items():
        if value is None:
            continue
        if name in ('ident', 'flags'):
            b[pos:pos + 2] = struct.pack('!H', value)
        else:
            b[pos] = value
    set_ipv4_checksum(b)
    return bytes(b)


def reseal_null_esp(sa, pkt, index, value):
    """A NULL-encryption ESP packet (no NAT-T, no ESN) with one plaintext
    byte changed and a valid ICV again: tests the checks behind the ICV."""
    digest, _, icv_len = HASHES[sa['auth_algo']]
    b = bytearray(pkt[:len(pkt) - icv_len])
    b[index] = value
    off = (b[0] & 0xf) * 4 if b[0] >> 4 == 4 else 40
    return bytes(b) + hmac.new(bytes.fromhex(sa['auth_key']), bytes(b[off:]),
                               digest).digest()[:icv_len]


def negative_cases():
    cases = []
    sa = build_sa('esp', 'tunnel', 4, 'NULL', 0, 'HMAC-SHA2-256-128', False,
                  False)
    pkt = ref_esp(sa, CLEAR['v4'], 1, b'')
    trailer = len(pkt) - 16 - 2
    cases.append(('ESP pad length beyond the plaintext', sa,
                  reseal_null_esp(sa, pkt, trailer, 200), 1, 'pad length'))
    cases.append(('ESP dummy packet', sa,
                  reseal_null_esp(sa, pkt, trailer + 1, 59), 1,
                  'dummy packet'))
    cases.append(('ESP tunnel next header 41, inner IPv4', sa,
                  reseal_null_esp(sa, pkt, trailer + 1, 41), 1,
                  'inner packet is not IPv6'))
    hi, lo = 3, 9
    seq = (hi << 32) | lo
    clear = CLEAR['v4']
    for crypt, key_len, auth in esp_suites():
        sa = build_sa('esp', 'tunnel', 4, crypt, key_len, auth, True, False)
        pkt = ref_esp(sa, clear, seq, bytes(IV_LEN[crypt]))
        body = 20 + 8 + IV_LEN[crypt]
        tag = 'ESP %s-%d' % (crypt, key_len * 8)
        cases += [
            (tag + ' good', sa, pkt, seq, clear),
            (tag + ' flipped payload bit', sa, flip(pkt, body + 3), seq,
             'IPSecIntegrityError'),
            (tag + ' flipped ICV bit', sa, flip(pkt, len(pkt) - 1), seq,
             'IPSecIntegrityError'),
            (tag + ' wrong ESN high half', sa, pkt, ((hi + 1) << 32) | lo,
             'IPSecIntegrityError'),
            (tag + ' wrong SPI', dict(sa, spi=sa['spi'] + 1), pkt, seq,
             'does not match the SA spi'),
            (tag + ' seq low half mismatch', sa, pkt, seq + 1,
             'sequence number'),
        ]
    for auth in AUTHS:
        for inner in ('v4', 'v6'):
            sa = build_sa('ah', 'transport', None, None, 0, auth, True, False)
            pkt = ref_ah(sa, CLEAR[inner], seq)
            tag = 'AH %s %s' % (auth, inner)
            cases += [
                (tag + ' good', sa, pkt, seq, CLEAR[inner]),
                (tag + ' flipped payload bit', sa, flip(pkt, len(pkt) - 1),
                 seq, 'IPSecIntegrityError'),
                (tag + ' flipped ICV bit', sa,
                 flip(pkt, (20 if inner == 'v4' else 40) + 12), seq,
                 'IPSecIntegrityError'),
                (tag + ' wrong ESN high half', sa, pkt, ((hi + 1) << 32) | lo,
                 'IPSecIntegrityError'),
                (tag + ' wrong SPI', dict(sa, spi=sa['spi'] + 1), pkt, seq,
                 'does not match the SA spi'),
            ]
        # RFC 4302 3.3.3.1: mutable fields may change in transit, others not.
        pkt = ref_ah(sa, CLEAR['v4'], seq)
        cases.append(('AH %s v4 TTL/DSCP/DF changed in transit' % auth, sa,
                      mutate_v4(pkt, ttl=7, tos=0x04, flags=0),
                      seq, mutate_v4(CLEAR['v4'], ttl=7, tos=0x04, flags=0)))
        cases.append(('AH %s v4 identification changed' % auth, sa,
                      mutate_v4(pkt, ident=0x1111), seq,
                      'IPSecIntegrityError'))
        pkt6 = bytearray(ref_ah(sa, CLEAR['v6'], seq))
        pkt6[0:4], pkt6[7] = b'\x6f\xf0\x00\x01', 3  # tc, flow label, hops
        clear6 = bytearray(CLEAR['v6'])
        clear6[0:4], clear6[7] = b'\x6f\xf0\x00\x01', 3
        cases.append(('AH %s v6 TC/flow/hop limit changed in transit' % auth,
                      sa, bytes(pkt6), seq, bytes(clear6)))
        cases.append(('AH %s v4 with 4 bytes more padding than RFC 4302 2.2'
                      % auth, sa, ref_ah(sa, CLEAR['v4'], seq, 4), seq,
                      'AH length'))
        tun = build_sa('ah', 'tunnel', 4, None, 0, auth, False, False)
        pkt = ref_ah(tun, CLEAR['v6'], 1)
        cases.append(('AH %s tunnel outer TTL changed' % auth, tun,
                      mutate_v4(pkt, ttl=1), 1, CLEAR['v6']))
    # NAT-T and outer-header checks of the oracle
    for outer_v in (4, 6):
        sa = build_sa('esp', 'tunnel', outer_v, 'AES-GCM', 16, None, False,
                      True)
        pkt = ref_esp(sa, CLEAR['v4'], 1, bytes(8))
        off = 20 if outer_v == 4 else 40
        tag = 'NAT-T IPv%d' % outer_v
        cases.append((tag + ' good', sa, pkt, 1, CLEAR['v4']))
        cases.append((tag + ' wrong UDP port',
                      dict(sa, nat_t={'sport': 4500, 'dport': 4500}), pkt, 1,
                      'UDP ports'))
        cases.append((tag + ' without nat_t in the SA', dict(sa, nat_t=None),
                      pkt, 1, 'UDP-encapsulated'))
        bad = bytearray(pkt)
        bad[off + 6] ^= 0xff
        cases.append((tag + ' bad UDP checksum', sa, bytes(bad), 1,
                      'UDP checksum'))
        if outer_v == 6:
            bad[off + 6:off + 8] = b'\0\0'
            cases.append((tag + ' zero UDP checksum', sa, bytes(bad), 1,
                          'checksum is zero'))
        else:
            good = bytearray(pkt)  # a correct non-zero checksum is accepted
            pseudo = good[12:20] + struct.pack('!xBH', 17, len(good) - off)
            good[off + 6:off + 8] = struct.pack(
                '!H', csum(bytes(pseudo) + bytes(good[off:])))
            cases.append((tag + ' valid non-zero UDP checksum', sa,
                          bytes(good), 1, CLEAR['v4']))
    sa = build_sa('esp', 'tunnel', 4, 'AES-GCM', 16, None, False, False)
    pkt = ref_esp(sa, CLEAR['v4'], 1, bytes(8))
    bad = bytearray(pkt)
    bad[10] ^= 1
    cases.append(('bad outer IPv4 checksum', sa, bytes(bad), 1, 'checksum'))
    cases.append(('outer address not the tunnel', dict(sa, tunnel_src='192.0.2.9'),
                  pkt, 1, 'outer addresses'))
    v = GCM_DRAFT[1]  # transport packet with next header 1 given to a tunnel SA
    esp = struct.pack('!LL', v['spi'], v['seq']) + bytes.fromhex(v['iv']) + \
        bytes.fromhex(v['ct_tag'])
    sa = {'proto': 'esp', 'spi': v['spi'], 'mode': 'tunnel',
          'tunnel_src': TUNNEL[4][0], 'tunnel_dst': TUNNEL[4][1],
          'crypt_algo': 'AES-GCM', 'crypt_key': v['key'], 'auth_algo': None,
          'esn': False, 'nat_t': None}
    cases.append(('tunnel SA, next header 1', sa, ipv4(*TUNNEL[4], 50, esp),
                  v['seq'], 'next header 1'))
    return cases


MALFORMED = [
    ('not JSON', '{"cases": ['),
    ('unknown crypt_algo', {'crypt_algo': 'AES-OCB'}),
    ('AEAD with auth_algo', {'auth_algo': 'HMAC-SHA2-256-128',
                             'auth_key': '00' * 32}),
    ('GCM key without salt', {'crypt_key': '00' * 16}),
    ('GCM icv_size 12', {'icv_size': 12}),
    ('unknown SA key', {'tunnel_scr': '192.0.2.1'}),
    ('AH with nat_t', {'proto': 'ah', 'crypt_algo': None, 'crypt_key': None,
                       'auth_algo': 'HMAC-SHA2-256-128',
                       'auth_key': '00' * 32}),
    ('seq above 2^32 without ESN', 'seq'),
    ('bad packet hex', 'hex'),
]


def malformed_requests():
    base_sa = build_sa('esp', 'tunnel', 4, 'AES-GCM', 16, None, False, True)
    for label, change in MALFORMED:
        if isinstance(change, str) and change.startswith('{'):
            yield label, change
            continue
        sa = dict(base_sa)
        pkt = {'seq': 1, 'hex': CLEAR['v4'].hex()}
        if change == 'seq':
            pkt['seq'] = 1 << 32
        elif change == 'hex':
            pkt['hex'] = 'zz'
        else:
            sa.update(change)
        yield label, {'cases': [{'name': label, 'op': 'encrypt', 'sa': sa,
                                 'packets': [pkt]}]}


###############################################################################


def main():
    entries = matrix()
    kats = kat_entries()
    enc_cases = [{'name': label, 'op': 'encrypt', 'sa': sa,
                  'packets': [dict({'seq': seq, 'hex': clear.hex()}, **extra)
                              for clear, seq, extra, _ in pkts]}
                 for label, sa, pkts in entries]
    enc_cases += [{'name': label, 'op': 'encrypt', 'sa': sa,
                   'packets': [{'seq': seq, 'hex': clear.hex(),
                                'iv': iv.hex()}]}
                  for label, sa, clear, seq, iv, _ in kats]
    # random IVs (no "iv"): only the round trip can be checked
    random_iv = build_sa('esp', 'tunnel', 6, 'AES-CBC', 16,
                         'HMAC-SHA2-256-128', True, True)
    enc_cases.append({'name': 'random IV', 'op': 'encrypt', 'sa': random_iv,
                      'packets': [{'seq': 7 << 32, 'hex': CLEAR['v6'].hex()}]})
    resp = run_oracle({'cases': enc_cases})
    if resp is None:
        return report()
    check([c['name'] for c in resp['cases']] == [c['name'] for c in enc_cases]
          and len(resp['cases']) == len(enc_cases),
          'response case names differ from the request')
    got = [[p.get('hex', 'error: %s' % p.get('error')) for p in c['packets']]
           for c in resp['cases']]
    expected = [[ref.hex() for _, _, _, ref in pkts] for _, _, pkts in entries]
    expected += [[ref.hex()] for *_, ref in kats]
    for case, want, have in zip(enc_cases, expected, got):
        check(len(want) == len(have), 'encrypt %s: %d packets back, expected %d'
              % (case['name'], len(have), len(want)))
        for i, (w, h) in enumerate(zip(want, have)):
            check(w == h, 'encrypt %s packet %d:\n  oracle    %s\n  reference %s'
                  % (case['name'], i, h, w))

    # decrypt: the oracle's own output back, the KAT packets, the negatives
    dec_cases, dec_expected = [], []
    for (label, sa, pkts), outs in zip(entries, got):
        dec_cases.append({'name': label, 'op': 'decrypt', 'sa': sa,
                          'packets': [{'seq': seq, 'hex': h}
                                      for (_, seq, _, _), h in zip(pkts, outs)]})
        dec_expected.append([clear.hex() for clear, _, _, _ in pkts])
    for label, sa, clear, seq, _, protected in kats:
        dec_cases.append({'name': label, 'op': 'decrypt', 'sa': sa,
                          'packets': [{'seq': seq, 'hex': protected.hex()}]})
        dec_expected.append([clear.hex()])
    dec_cases.append({'name': 'random IV', 'op': 'decrypt', 'sa': random_iv,
                      'packets': [{'seq': 7 << 32, 'hex': got[-1][0]}]})
    dec_expected.append([CLEAR['v6'].hex()])
    for label, sa, pkt, seq, want in negative_cases():
        dec_cases.append({'name': label, 'op': 'decrypt', 'sa': sa,
                          'packets': [{'seq': seq, 'hex': pkt.hex()}]})
        dec_expected.append([want.hex() if isinstance(want, bytes)
                             else ('error', want)])
    resp = run_oracle({'cases': dec_cases})
    if resp is None:
        return report()
    check(len(resp['cases']) == len(dec_cases), 'decrypt: %d cases back, '
          'expected %d' % (len(resp['cases']), len(dec_cases)))
    for case, want, have in zip(dec_cases, dec_expected, resp['cases']):
        check(len(want) == len(have['packets']), 'decrypt %s: %d packets back'
              % (case['name'], len(have['packets'])))
        for i, (w, h) in enumerate(zip(want, have['packets'])):
            if isinstance(w, tuple):
                check(w[1] in h.get('error', ''),
                      'decrypt %s: expected an error containing %r, got %s'
                      % (case['name'], w[1], h))
            else:
                check(h.get('hex') == w, 'decrypt %s packet %d:\n  oracle   %s'
                      '\n  expected %s' % (case['name'], i, h, w))

    for label, request in malformed_requests():
        before = len(FAILURES)
        run_oracle(request, expect_rc=2)
        if len(FAILURES) > before:
            FAILURES[-1] = 'malformed request "%s": %s' % (label, FAILURES[-1])
    n_enc = sum(len(c['packets']) for c in enc_cases)
    n_dec = sum(len(c['packets']) for c in dec_cases)
    print('ipsec_scapy_selftest: %d packets encrypted, %d decrypted, '
          '%d malformed requests' % (n_enc, n_dec, len(MALFORMED)))
    return report()


def report():
    for failure in FAILURES:
        print('FAIL:', failure)
    print('ipsec_scapy_selftest: %s (%d failures)'
          % ('FAILED' if FAILURES else 'passed', len(FAILURES)))
    return 1 if FAILURES else 0


if __name__ == '__main__':
    sys.exit(main())
