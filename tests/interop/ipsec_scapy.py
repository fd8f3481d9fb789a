#!/usr/bin/python3
"""ESP/AH oracle for Corridor's packet-engine tests, built on Debian's scapy 2.5.

    /usr/bin/python3 tests/interop/ipsec_scapy.py REQUEST.json RESPONSE.json

The request lists cases (an SA, an operation and packets); the response gives,
per packet, the protected or clear packet as hex, or {"error": ...}. Exit status:
0 when the request was understood (even if some packets failed), 2 with a
message on stderr when it was malformed. tests/interop/README.md documents the
format and every place where this script departs from plain scapy.

The point of the oracle is independence from Corridor: the packet layout, the
padding, the ICV coverage and the mutable-field handling all come from scapy's
SecurityAssociation. This file only adds what scapy 2.5 lacks or gets wrong,
each addition marked "SCAPY GAP" or "SCAPY FIX" with the RFC it follows.
"""

import hmac
import ipaddress
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.exceptions import InvalidTag
from scapy.compat import raw
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import (AH, AUTH_ALGOS, CRYPT_ALGOS, ESP, AuthAlgo,
                                CryptAlgo, IPSecIntegrityError,
                                SecurityAssociation, _ESPPlain)

IPPROTO_IPIP = 4
IPPROTO_UDP = 17
IPPROTO_IPV6 = 41
IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_NONE = 59  # RFC 4303 2.6 dummy packet
IPV6_EXT_HEADERS = (0, 43, 60)  # hop-by-hop, routing, destination options
IPV6_FRAGMENT = 44


class RequestError(Exception):
    """The request itself is malformed: exit 2."""


class PacketError(Exception):
    """This packet cannot be processed: its output is {"error": ...}."""


###############################################################################
# SCAPY GAP: scapy 2.5 has no AES-GMAC (ENCR_NULL_AUTH_AES_GMAC, RFC 4543).
# Implemented here as a scapy CryptAlgo so that scapy's SecurityAssociation
# still does the headers, padding and trailer. The Payload Data is not
# encrypted; the ICV is the GCM tag over an empty plaintext with
#   nonce = salt(4) || IV(8)
#   AAD   = SPI || [seq high] || seq low || IV || payload || padding
#           || pad length || next header
# i.e. with ESN the high half sits in the header position, as in RFC 4106
# (and as Linux's rfc4543(gcm(aes)) is fed by esp4/esp6).


class AesNullGmac(CryptAlgo):
    def __init__(self):
        super().__init__('AES-NULL-GMAC', cipher=None, mode=None,
                         block_size=1, iv_size=8, key_size=(16, 24, 32),
                         icv_size=16, salt_size=4)

    @staticmethod
    def _aad(esp, esn_en, esn, iv, trailer_data):
        if esn_en:
            head = struct.pack('!LLL', esp.spi, esn, esp.seq)
        else:
            head = struct.pack('!LL', esp.spi, esp.seq)
        return head + iv + trailer_data

    def encrypt(self, sa, esp, key, icv_size=None, esn_en=False, esn=0):
        data = esp.data_for_encryption()
        aad = self._aad(esp, esn_en, esn, esp.iv, data)
        tag = AESGCM(key).encrypt(sa.crypt_salt + esp.iv, b'', aad)
        return ESP(spi=esp.spi, seq=esp.seq, data=esp.iv + data + tag)

    def decrypt(self, sa, esp, key, icv_size=None, esn_en=False, esn=0):
        if len(esp.data) < self.iv_size + 2 + self.icv_size:
            raise PacketError('ESP payload too short for AES-NULL-GMAC')
        iv = esp.data[:self.iv_size]
        data = esp.data[self.iv_size:-self.icv_size]
        icv = esp.data[-self.icv_size:]
        aad = self._aad(esp, esn_en, esn, iv, data)
        try:
            AESGCM(key).decrypt(sa.crypt_salt + iv, icv, aad)
        except InvalidTag as err:
            raise IPSecIntegrityError('AES-GMAC ICV mismatch') from err
        padlen = data[-2]
        nh = data[-1]
        return _ESPPlain(spi=esp.spi, seq=esp.seq, iv=iv,
                         data=data[:len(data) - padlen - 2],
                         padding=data[len(data) - padlen - 2:-2],
                         padlen=padlen, nh=nh, icv=icv)


# Registered in scapy's table (this process only) so that
# SecurityAssociation(crypt_algo='AES-NULL-GMAC') splits key and salt itself.
CRYPT_ALGOS['AES-NULL-GMAC'] = AesNullGmac()


###############################################################################
# SCAPY FIX: scapy 2.5's AuthAlgo.sign()/verify() ignore the ESN for ESP
# (_encrypt_esp calls sign(esp, key) without it), so an HMAC ICV never covers
# the high half. RFC 4303 2.2.1 / 3.3.2.1: with ESN the high-order 32 bits are
# appended after the Next Header field for the ICV computation only. AH is
# unaffected: scapy's AH path already appends them (RFC 4302 2.5.1).


class EspEsnHmac(AuthAlgo):
    def __init__(self, base, seq_hi):
        super().__init__(base.name, base.mac, base.digestmod, base.icv_size,
                         base.key_size)
        self.seq_hi = seq_hi

    def _icv(self, esp_without_icv, key):
        mac = self.new_mac(key)
        mac.update(raw(esp_without_icv) + struct.pack('!L', self.seq_hi))
        return mac.finalize()[:self.icv_size]

    def sign(self, pkt, key, esn_en=False, esn=0):
        if not pkt.haslayer(ESP):
            return super().sign(pkt, key, esn_en, esn)
        pkt[ESP].data += self._icv(pkt[ESP], key)
        return pkt

    def verify(self, pkt, key, esn_en=False, esn=0):
        if not isinstance(pkt, ESP):
            return super().verify(pkt, key, esn_en, esn)
        if len(pkt.data) < self.icv_size:
            raise IPSecIntegrityError('ESP payload shorter than the ICV')
        received = pkt.data[len(pkt.data) - self.icv_size:]
        clone = pkt.copy()
        clone.data = clone.data[:len(clone.data) - self.icv_size]
        if not hmac.compare_digest(received, self._icv(clone, key)):
            raise IPSecIntegrityError('HMAC ICV mismatch (ESN high half %#x)'
                                      % self.seq_hi)
        return None


class CapturePlain:
    """Wraps a scapy CryptAlgo to keep the _ESPPlain its decrypt() returns.

    SecurityAssociation.decrypt() drops the ESP trailer; the oracle needs the
    pad length and next header to check them."""

    def __init__(self, algo):
        self._algo = algo
        self.plain = None

    def __getattr__(self, name):
        return getattr(self._algo, name)

    def decrypt(self, *args, **kwargs):
        self.plain = self._algo.decrypt(*args, **kwargs)
        return self.plain


###############################################################################
# Request parsing


CRYPT = {
    # name: (scapy name, accepted key lengths incl. salt, AEAD)
    'AES-GCM': ('AES-GCM', (20, 28, 36), True),
    'AES-NULL-GMAC': ('AES-NULL-GMAC', (20, 28, 36), True),
    'CHACHA20-POLY1305': ('CHACHA20-POLY1305', (36,), True),
    'AES-CBC': ('AES-CBC', (16, 24, 32), False),
    'AES-CTR': ('AES-CTR', (20, 28, 36), False),
    'NULL': ('NULL', (0,), False),
}
AUTH = {
    # name: (scapy name, key length (RFC 4868 / RFC 2404))
    'HMAC-SHA2-256-128': ('SHA2-256-128', 32),
    'HMAC-SHA2-384-192': ('SHA2-384-192', 48),
    'HMAC-SHA2-512-256': ('SHA2-512-256', 64),
    'HMAC-SHA1-96': ('HMAC-SHA1-96', 20),
}
SA_KEYS = {'proto', 'spi', 'mode', 'tunnel_src', 'tunnel_dst', 'crypt_algo',
           'crypt_key', 'auth_algo', 'auth_key', 'icv_size', 'esn', 'nat_t',
           'outer'}
OUTER_KEYS = {4: {'tos', 'id', 'flags', 'ttl'}, 6: {'tc', 'fl', 'hlim'}}
OUTER_LIMITS = {'tos': 0xff, 'id': 0xffff, 'flags': 7, 'ttl': 0xff,
                'tc': 0xff, 'fl': 0xfffff, 'hlim': 0xff}


def _hex(value, what):
    if not isinstance(value, str):
        raise RequestError('%s must be a hex string' % what)
    try:
        return bytes.fromhex(value)
    except ValueError as err:
        raise RequestError('%s is not valid hex: %s' % (what, err)) from err


def _int(value, what, limit):
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 0 <= value <= limit:
        raise RequestError('%s must be an integer in [0, %d]' % (what, limit))
    return value


def _keys(obj, allowed, what):
    if not isinstance(obj, dict):
        raise RequestError('%s must be an object' % what)
    unknown = set(obj) - allowed
    if unknown:
        raise RequestError('%s has unknown keys %s' % (what, sorted(unknown)))


def _outer(obj, version, what):
    if obj is None:
        return {}
    _keys(obj, OUTER_KEYS[version], '%s (IPv%d outer header)' % (what, version))
    return {k: _int(v, '%s.%s' % (what, k), OUTER_LIMITS[k])
            for k, v in obj.items()}


class SaConfig:
    def __init__(self, sa, where):
        _keys(sa, SA_KEYS, where)
        self.proto = sa.get('proto')
        if self.proto not in ('esp', 'ah'):
            raise RequestError('%s.proto must be "esp" or "ah"' % where)
        self.spi = _int(sa.get('spi'), where + '.spi', 0xffffffff)
        self.mode = sa.get('mode')
        if self.mode not in ('tunnel', 'transport'):
            raise RequestError('%s.mode must be "tunnel" or "transport"' % where)
        self.esn = sa.get('esn', False)
        if not isinstance(self.esn, bool):
            raise RequestError('%s.esn must be true or false' % where)
        self._parse_tunnel(sa, where)
        self._parse_algorithms(sa, where)
        self._parse_nat_t(sa, where)

    def _parse_tunnel(self, sa, where):
        self.tunnel_src = self.tunnel_dst = None
        self.outer = {}
        if self.mode != 'tunnel':
            if sa.get('outer') is not None:
                raise RequestError('%s.outer is for tunnel mode only' % where)
            return
        try:
            self.tunnel_src = ipaddress.ip_address(sa.get('tunnel_src'))
            self.tunnel_dst = ipaddress.ip_address(sa.get('tunnel_dst'))
        except ValueError as err:
            raise RequestError('%s: tunnel_src/tunnel_dst: %s'
                               % (where, err)) from err
        if self.tunnel_src.version != self.tunnel_dst.version:
            raise RequestError('%s: tunnel_src and tunnel_dst differ in '
                               'address family' % where)
        self.outer = _outer(sa.get('outer'), self.tunnel_src.version,
                            where + '.outer')

    def _parse_algorithms(self, sa, where):
        crypt = sa.get('crypt_algo')
        auth = sa.get('auth_algo')
        self.aead = False
        self.crypt_name = self.crypt_key = None
        self.auth_name = self.auth_key = None
        if self.proto == 'ah':
            if crypt is not None or sa.get('crypt_key') is not None:
                raise RequestError('%s: AH takes no crypt_algo' % where)
            if auth is None:
                raise RequestError('%s: AH needs an auth_algo' % where)
        else:
            if crypt not in CRYPT:
                raise RequestError('%s.crypt_algo must be one of %s'
                                   % (where, sorted(CRYPT)))
            self.crypt_name, key_lens, self.aead = CRYPT[crypt]
            key = sa.get('crypt_key')
            key = b'' if key is None else _hex(key, where + '.crypt_key')
            if len(key) not in key_lens:
                raise RequestError('%s.crypt_key for %s must be %s bytes '
                                   '(salt included), not %d'
                                   % (where, crypt, key_lens, len(key)))
            self.crypt_key = key
            if self.aead and auth is not None:
                raise RequestError('%s: %s is combined mode, auth_algo must be '
                                   'null' % (where, crypt))
            if not self.aead and auth is None:
                raise RequestError('%s: %s needs an auth_algo' % (where, crypt))
        if auth is not None:
            if auth not in AUTH:
                raise RequestError('%s.auth_algo must be one of %s or null'
                                   % (where, sorted(AUTH)))
            self.auth_name, key_len = AUTH[auth]
            self.auth_key = _hex(sa.get('auth_key'), where + '.auth_key')
            if len(self.auth_key) != key_len:
                raise RequestError('%s.auth_key for %s must be %d bytes, not %d'
                                   % (where, auth, key_len, len(self.auth_key)))
        elif sa.get('auth_key') is not None:
            raise RequestError('%s.auth_key given without auth_algo' % where)
        icv = sa.get('icv_size')
        expected = 16 if self.aead else AUTH_ALGOS[self.auth_name].icv_size
        if icv is not None and icv != expected:
            # Corridor implements the 16-octet AEAD ICVs only (RFC 8221);
            # scapy 2.5's AES-GCM (cryptography's AESGCM) cannot truncate.
            raise RequestError('%s.icv_size must be %d for this SA, not %r'
                               % (where, expected, icv))
        self.icv_size = expected

    def _parse_nat_t(self, sa, where):
        self.nat_t = sa.get('nat_t')
        if self.nat_t is None:
            return
        if self.proto != 'esp':
            raise RequestError('%s.nat_t is for ESP only (RFC 3948)' % where)
        _keys(self.nat_t, {'sport', 'dport'}, where + '.nat_t')
        self.nat_t = (_int(self.nat_t.get('sport'), where + '.nat_t.sport',
                           0xffff),
                      _int(self.nat_t.get('dport'), where + '.nat_t.dport',
                           0xffff))

    def scapy_sa(self, seq, outer=None):
        """One scapy SA per packet: its sequence number and ESN high half."""
        seq_hi, seq_lo = seq >> 32, seq & 0xffffffff
        tunnel_header = None
        if self.mode == 'tunnel':
            fields = dict(self.outer)
            fields.update(outer or {})
            cls = IP if self.tunnel_src.version == 4 else IPv6
            tunnel_header = cls(src=str(self.tunnel_src),
                                dst=str(self.tunnel_dst), **fields)
        # No nat_t_header: scapy's is broken (see udp_encapsulate()).
        sa = SecurityAssociation(
            ESP if self.proto == 'esp' else AH, spi=self.spi, seq_num=seq_lo,
            crypt_algo=self.crypt_name, crypt_key=self.crypt_key,
            auth_algo=self.auth_name, auth_key=self.auth_key,
            tunnel_header=tunnel_header, esn_en=self.esn, esn=seq_hi)
        if self.proto == 'esp' and self.esn and self.auth_name is not None:
            sa.auth_algo = EspEsnHmac(sa.auth_algo, seq_hi)
        return sa


def parse_request(req):
    _keys(req, {'cases'}, 'request')
    if not isinstance(req.get('cases'), list):
        raise RequestError('request.cases must be a list')
    cases = []
    for i, case in enumerate(req['cases']):
        where = 'cases[%d]' % i
        _keys(case, {'name', 'op', 'sa', 'packets'}, where)
        name = case.get('name', '')
        if not isinstance(name, str):
            raise RequestError(where + '.name must be a string')
        op = case.get('op')
        if op not in ('encrypt', 'decrypt'):
            raise RequestError(where + '.op must be "encrypt" or "decrypt"')
        cfg = SaConfig(case.get('sa'), where + '.sa')
        if not isinstance(case.get('packets'), list):
            raise RequestError(where + '.packets must be a list')
        packets = [parse_packet(p, cfg, op, '%s.packets[%d]' % (where, j))
                   for j, p in enumerate(case['packets'])]
        cases.append((name, op, cfg, packets))
    return cases


def parse_packet(pkt, cfg, op, where):
    allowed = {'seq', 'hex'} | ({'iv', 'outer'} if op == 'encrypt' else set())
    _keys(pkt, allowed, where)
    data = _hex(pkt.get('hex'), where + '.hex')
    seq_limit = 0xffffffffffffffff if cfg.esn else 0xffffffff
    seq = pkt.get('seq')
    if seq is None:
        if op == 'encrypt' or cfg.esn:
            raise RequestError(where + '.seq is required (always for encrypt, '
                               'and for decrypt with ESN)')
    else:
        seq = _int(seq, where + '.seq', seq_limit)
    iv = None
    if pkt.get('iv') is not None:
        if cfg.proto != 'esp':
            raise RequestError(where + '.iv: AH has no IV')
        iv = _hex(pkt['iv'], where + '.iv')
        want = CRYPT_ALGOS[cfg.crypt_name].iv_size
        if len(iv) != want:
            raise RequestError('%s.iv must be %d bytes for %s'
                               % (where, want, cfg.crypt_name))
    outer = None
    if pkt.get('outer') is not None:
        if cfg.mode != 'tunnel':
            raise RequestError(where + '.outer is for tunnel mode only')
        outer = _outer(pkt['outer'], cfg.tunnel_src.version, where + '.outer')
    return {'hex': data, 'seq': seq, 'iv': iv, 'outer': outer}


###############################################################################
# Byte-level helpers (the oracle's own checks, not scapy's)


def inet_checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def udp6_checksum(src, dst, udp):
    pseudo = src + dst + struct.pack('!LxxxB', len(udp), IPPROTO_UDP)
    value = inet_checksum(pseudo + udp)
    return value or 0xffff  # RFC 768: a computed zero is sent as all ones


def fix_ip_lengths(buf, version, header_len):
    """After inserting/removing bytes behind the IP header (and its IPv6
    extension headers): total/payload length and the IPv4 header checksum."""
    if version == 4:
        buf[2:4] = struct.pack('!H', len(buf))
        buf[10:12] = b'\0\0'
        buf[10:12] = struct.pack('!H', inet_checksum(bytes(buf[:header_len])))
    else:
        buf[4:6] = struct.pack('!H', len(buf) - 40)


def parse_clear(data):
    if not data:
        raise PacketError('empty packet')
    version = data[0] >> 4
    if version == 4:
        return IP(data)
    if version == 6:
        return IPv6(data)
    raise PacketError('not an IPv4/IPv6 packet (version %d)' % version)


def locate_next(data):
    """Checks the outer IP header; returns (version, protocol, offset of the
    protocol's header, offset of the byte holding the protocol number)."""
    version = data[0] >> 4 if data else 0
    if version == 4:
        if len(data) < 20:
            raise PacketError('truncated IPv4 header')
        ihl = (data[0] & 0xf) * 4
        if ihl < 20 or len(data) < ihl:
            raise PacketError('bad IPv4 header length %d' % ihl)
        if struct.unpack('!H', data[2:4])[0] != len(data):
            raise PacketError('IPv4 total length %d != packet length %d'
                              % (struct.unpack('!H', data[2:4])[0], len(data)))
        if inet_checksum(data[:ihl]) != 0:
            raise PacketError('bad IPv4 header checksum')
        if struct.unpack('!H', data[6:8])[0] & 0x3fff:
            raise PacketError('outer IPv4 packet is a fragment')
        return 4, data[9], ihl, 9
    if version == 6:
        if len(data) < 40:
            raise PacketError('truncated IPv6 header')
        if struct.unpack('!H', data[4:6])[0] != len(data) - 40:
            raise PacketError('IPv6 payload length %d != %d'
                              % (struct.unpack('!H', data[4:6])[0],
                                 len(data) - 40))
        nh, off, nh_pos = data[6], 40, 6
        while nh in IPV6_EXT_HEADERS:
            if len(data) < off + 8:
                raise PacketError('truncated IPv6 extension header')
            nh_pos, nh = off, data[off]
            off += (data[off + 1] + 1) * 8
        if nh == IPV6_FRAGMENT:
            raise PacketError('outer IPv6 packet is a fragment')
        return 6, nh, off, nh_pos
    raise PacketError('not an IPv4/IPv6 packet')


def check_and_strip_outer(data, cfg):
    """Validates the received outer headers and removes the RFC 3948 UDP
    header itself (scapy 2.5 keeps it on IPv6 transport-mode decryption)."""
    version, nh, off, nh_pos = locate_next(data)
    if cfg.mode == 'tunnel':
        addr_len = 4 if version == 4 else 16
        src_at = 12 if version == 4 else 8
        src = ipaddress.ip_address(data[src_at:src_at + addr_len])
        dst = ipaddress.ip_address(data[src_at + addr_len:
                                        src_at + 2 * addr_len])
        if (src, dst) != (cfg.tunnel_src, cfg.tunnel_dst):
            raise PacketError('outer addresses %s -> %s are not the SA\'s '
                              'tunnel %s -> %s' % (src, dst, cfg.tunnel_src,
                                                   cfg.tunnel_dst))
    want = IPPROTO_ESP if cfg.proto == 'esp' else IPPROTO_AH
    if cfg.nat_t is None:
        if nh == IPPROTO_UDP and cfg.proto == 'esp':
            raise PacketError('packet is UDP-encapsulated but the SA has no '
                              'nat_t')
        if nh != want:
            raise PacketError('outer next protocol %d, expected %d'
                              % (nh, want))
        return data, version
    if nh != IPPROTO_UDP:
        raise PacketError('SA has nat_t but the packet is not UDP (protocol '
                          '%d)' % nh)
    udp = data[off:off + 8]
    if len(udp) < 8:
        raise PacketError('truncated UDP header')
    sport, dport, length, checksum = struct.unpack('!HHHH', udp)
    if (sport, dport) != cfg.nat_t:
        raise PacketError('UDP ports %d -> %d, SA has %d -> %d'
                          % ((sport, dport) + cfg.nat_t))
    if length != len(data) - off:
        raise PacketError('UDP length %d != %d' % (length, len(data) - off))
    if version == 6:
        # RFC 8200 8.1: IPv6 UDP needs a checksum (Linux esp6 computes it).
        if checksum == 0:
            raise PacketError('IPv6 UDP checksum is zero')
        if inet_checksum(data[8:40] + struct.pack('!LxxxB', length,
                                                  IPPROTO_UDP)
                         + data[off:]) != 0:
            raise PacketError('bad IPv6 UDP checksum')
    elif checksum != 0:
        # RFC 3948 2.1 says send zero; a non-zero one must still be right.
        pseudo = data[12:20] + struct.pack('!xBH', IPPROTO_UDP, length)
        if inet_checksum(pseudo + data[off:]) != 0:
            raise PacketError('bad IPv4 UDP checksum')
    if data[off + 8:off + 12] == b'\0\0\0\0':
        raise PacketError('non-ESP marker: an IKE packet, not ESP')
    stripped = bytearray(data[:off] + data[off + 8:])
    stripped[nh_pos] = IPPROTO_ESP
    fix_ip_lengths(stripped, version, off)
    return bytes(stripped), version


def udp_encapsulate(data, ports):
    """SCAPY FIX: RFC 3948 2.1 UDP encapsulation done here around scapy's ESP.

    scapy 2.5's nat_t_header writes UDP length 8 on IPv4 (it rebuilds the IP
    header before appending ESP), leaves next header 50 in the last IPv6
    extension header in front of the UDP header, and writes checksum 0 on
    IPv6. Here: protocol 17, IP and UDP lengths fixed, checksum 0 on IPv4
    (RFC 3948 2.1) and a real one on IPv6 (RFC 8200 8.1, as Linux esp6 does)."""
    version, nh, off, nh_pos = locate_next(data)
    if nh != IPPROTO_ESP:
        raise PacketError('scapy produced protocol %d, not ESP' % nh)
    udp = struct.pack('!HHHH', ports[0], ports[1], len(data) - off + 8, 0)
    out = bytearray(data[:off] + udp + data[off:])
    out[nh_pos] = IPPROTO_UDP
    fix_ip_lengths(out, version, off)
    if version == 6:
        out[off + 6:off + 8] = struct.pack(
            '!H', udp6_checksum(bytes(out[8:24]), bytes(out[24:40]),
                                bytes(out[off:])))
    return bytes(out)


###############################################################################
# Operations


def encrypt_one(cfg, pkt):
    clear = parse_clear(pkt['hex'])
    seq = pkt['seq']
    sa = cfg.scapy_sa(seq, pkt['outer'])
    kwargs = {'seq_num': seq & 0xffffffff}
    if cfg.proto == 'esp':
        kwargs['iv'] = pkt['iv']
    out = raw(sa.encrypt(clear, **kwargs))
    if cfg.nat_t is not None:
        out = udp_encapsulate(out, cfg.nat_t)
    return out


def decrypt_one(cfg, pkt):
    data, version = check_and_strip_outer(pkt['hex'], cfg)
    received = IP(data) if version == 4 else IPv6(data)
    layer = ESP if cfg.proto == 'esp' else AH
    if not received.haslayer(layer):
        raise PacketError('no %s header found' % layer.__name__)
    header_seq = received[layer].seq
    seq = pkt['seq']
    if seq is None:
        seq = header_seq
    elif seq & 0xffffffff != header_seq:
        raise PacketError('%s sequence number %d, expected low half %d'
                          % (layer.__name__, header_seq, seq & 0xffffffff))
    sa = cfg.scapy_sa(seq)
    if cfg.proto == 'esp':
        return decrypt_esp(cfg, sa, received)
    return decrypt_ah(cfg, sa, received, version)


def decrypt_esp(cfg, sa, received):
    capture = CapturePlain(sa.crypt_algo)
    sa.crypt_algo = capture
    esp_len = len(received[ESP].data)
    iv_size = CRYPT_ALGOS[cfg.crypt_name].iv_size
    if esp_len < iv_size + 2 + cfg.icv_size:
        raise PacketError('ESP payload of %d bytes is too short' % esp_len)
    result = raw(sa.decrypt(received))
    plain = capture.plain
    trailer_len = esp_len - iv_size - cfg.icv_size
    # scapy slices the data off without checking that the pad length fits.
    if len(plain.data) + plain.padlen + 2 != trailer_len:
        raise PacketError('pad length %d does not fit a %d-byte plaintext'
                          % (plain.padlen, trailer_len))
    if plain.nh == IPPROTO_NONE:
        raise PacketError('dummy packet (next header 59): RFC 4303 2.6 says '
                          'discard')
    if cfg.mode == 'tunnel':
        check_inner(plain.nh, raw(plain.data))
    return result


def decrypt_ah(cfg, sa, received, version):
    ah = received[AH]
    align = 4 if version == 4 else 8
    want_len = -(-(12 + cfg.icv_size) // align) * align  # RFC 4302 2.2
    if (ah.payloadlen + 2) * 4 != want_len:
        raise PacketError('AH length %d, expected %d for a %d-byte ICV on IPv%d'
                          % ((ah.payloadlen + 2) * 4, want_len, cfg.icv_size,
                             version))
    nh = ah.nh
    result = raw(sa.decrypt(received))
    if cfg.mode == 'tunnel':
        check_inner(nh, result)
    return result


def check_inner(nh, inner):
    version = {IPPROTO_IPIP: 4, IPPROTO_IPV6: 6}.get(nh)
    if version is None:
        raise PacketError('tunnel mode: next header %d is not IPv4 (4) or '
                          'IPv6 (41)' % nh)
    if not inner or inner[0] >> 4 != version:
        raise PacketError('tunnel mode: next header %d but the inner packet '
                          'is not IPv%d' % (nh, version))


def run(cases):
    response = []
    for name, op, cfg, packets in cases:
        outputs = []
        for pkt in packets:
            try:
                if op == 'encrypt':
                    outputs.append({'hex': encrypt_one(cfg, pkt).hex()})
                else:
                    outputs.append({'hex': decrypt_one(cfg, pkt).hex()})
            # Besides PacketError and IPSecIntegrityError, scapy and
            # cryptography raise assorted exceptions on malformed packets.
            except Exception as err:  # pylint: disable=broad-except
                text = str(err)
                if isinstance(err, IPSecIntegrityError) and not text:
                    text = 'ICV mismatch'  # cryptography's InvalidTag is bare
                outputs.append({'error': '%s: %s' % (type(err).__name__, text)})
        response.append({'name': name, 'packets': outputs})
    return {'cases': response}


def main(argv):
    if len(argv) != 3:
        sys.stderr.write('usage: %s REQUEST.json RESPONSE.json\n' % argv[0])
        return 2
    try:
        with open(argv[1], encoding='utf-8') as f:
            request = json.load(f)
        cases = parse_request(request)
    except (OSError, ValueError, RequestError) as err:
        sys.stderr.write('ipsec_scapy: malformed request: %s\n' % err)
        return 2
    response = run(cases)
    tmp = argv[2] + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(response, f, indent=1)
        f.write('\n')
    os.replace(tmp, argv[2])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
