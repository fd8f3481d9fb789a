"""Section 14: IKEv1 SAs through the API.

A version 1 connection is added live to both gateways (POST /connections)
and gateway A initiates it: Main Mode, then Quick Mode. Both lists show the
ISAKMP SA in the IKEv1 shape. Then, each through the API:
POST /sas/{id}/rekey re-establishes it (new cookies on both sides, the same
IPsec SA carried over); POST /sas/{id}/children/{spi}/rekey renews the IPsec
SA (new SPIs that match across A and B); 404 for an SPI it does not hold;
DELETE /sas/{id}/children/{spi} deletes it on both sides; 409 for a rekey of
an ISAKMP SA that holds no IPsec SA; DELETE /sas/{id}; B's event stream
told each step; the connection is removed again, so the sections after
this one find the gateways as before.
"""

from . import events
from .client import check_accepted, check_problem
from .common import ADDR_A, ADDR_B, ID_A, ID_B, Ctx, check, require, wait_until

V1, V1_CHILD = 'legacy-v1', 'old-lan'
NET_A9, NET_B9 = '10.1.9.0/24', '10.2.9.0/24'


def v1_connection(local, remote, local_id, remote_id, local_net, remote_net):
    return {
        'name': V1,
        'version': 1,
        'local_addrs': [local], 'remote_addrs': [remote],
        'proposals': ['aes256-sha256-modp2048'],
        'local': {'auth': 'psk', 'id': local_id},
        'remote': {'auth': 'psk', 'id': remote_id},
        'children': {V1_CHILD: {'local_ts': [local_net], 'remote_ts': [remote_net],
                                'esp_proposals': ['aes128gcm16'], 'start_action': 'none'}},
    }


def v1_sas(client):
    return [s for s in client.sas() if s.get('version') == 1]


def current(client):
    """The ISAKMP SAs in MM_DONE that no newer one superseded."""
    return [s for s in v1_sas(client) if s['state'] == 'MM_DONE' and not s['superseded']]


def done(sa):
    return [c for c in sa['children'] if c['state'] == 'QM_DONE']


def agreed_pair(not_cookie=None):
    """A's and B's one current ISAKMP SA, the same (cookies), each with one QM_DONE IPsec SA whose SPIs
    mirror the other's; None otherwise."""
    la, lb = current(Ctx.a), current(Ctx.b)
    if len(la) != 1 or len(lb) != 1:
        return None
    a, b = la[0], lb[0]
    if (a['spi_i'], a['spi_r']) != (b['spi_i'], b['spi_r']) or a['spi_i'] == not_cookie:
        return None
    ca, cb = done(a), done(b)
    if len(ca) != 1 or len(cb) != 1 or ca[0]['spi_in'] != cb[0]['spi_out'] or ca[0]['spi_out'] != cb[0]['spi_in']:
        return None
    return a, b, ca[0]


def check_events_on_b():
    """B's event stream (open since before section 1) told the ISAKMP SA's life in IKEv2's words: up with its
    IPsec SA, re-established (ike-rekey), renewed (child-rekey), the renewed IPsec SA deleted, the ISAKMP SA deleted;
    nothing for the re-established SA's end or the renewed pair's retirement."""
    stream = events.Probe.stream
    if stream is None:
        return

    def v1_events():
        return [(k, d.get('up')) for k, d, _ in stream.events() if isinstance(d, dict) and d.get('connection') == V1]
    want = [('ike-updown', True), ('child-updown', True), ('ike-rekey', None), ('child-rekey', None),
            ('child-updown', False), ('ike-updown', False)]
    stream.wait_for(lambda items: len(v1_events()) >= len(want), 5)
    check(v1_events() == want, 'B\'s event stream: the IKEv1 SA\'s life as ike-updown, child-updown, ike-rekey, '
          'child-rekey, child-updown (down), ike-updown (down)', str(v1_events()))


def section_ikev1():
    a, b = Ctx.a, Ctx.b
    r = a.request('POST', '/connections', body=v1_connection(ADDR_A, ADDR_B, ID_A, ID_B, NET_A9, NET_B9))
    require(r.status == 201, 'POST /connections adds IKEv1 connection %s on A' % V1, str(r))
    r = b.request('POST', '/connections', body=v1_connection(ADDR_B, ADDR_A, ID_B, ID_A, NET_B9, NET_A9))
    require(r.status == 201, 'POST /connections adds IKEv1 connection %s on B' % V1, str(r))
    try:
        check_accepted(a.request('POST', '/connections/%s/children/%s/initiate' % (V1, V1_CHILD)),
                       'initiate %s/%s (Main Mode, Quick Mode)' % (V1, V1_CHILD))
        sa_a, sa_b, child = wait_until(agreed_pair, 15, 'one ISAKMP SA with its IPsec SA, the same on A and B')
        check(sa_a['connection'] == V1 and sa_a['initiator'] and not sa_b['initiator'] and
              sa_a['proposal'] == 'IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048' and
              child['proposal'] == 'ESP:AES_GCM_16_128/NO_EXT_SEQ' and child['local_ts'] == [NET_A9],
              'GET /sas: the ISAKMP SA and its IPsec SA in the IKEv1 shape', str(sa_a))
        check(a.get('/sas/%d' % sa_a['id']).json.get('spi_i') == sa_a['spi_i'], 'GET /sas/{id} of an ISAKMP SA')
        spi = child['spi_in']

        # Phase 1 re-established on request; the IPsec SA is carried over on both sides.
        check_accepted(a.request('POST', '/sas/%d/rekey' % sa_a['id']), 'POST /sas/{id}/rekey of an ISAKMP SA')
        new_a, new_b, moved = wait_until(lambda: agreed_pair(not_cookie=sa_a['spi_i']), 15,
                                         'a new ISAKMP SA on A and B')
        check(new_a['id'] != sa_a['id'] and moved['spi_in'] == spi,
              'the re-established ISAKMP SA (new cookies on both sides) holds the same IPsec SA %s' % spi,
              '%s %s' % (new_a['spi_i'], moved['spi_in']))
        check_problem(a.request('POST', '/sas/%d/rekey' % sa_a['id']), 404, 'not-found',
                      'POST /sas/{id}/rekey of the replaced ISAKMP SA')

        # Phase 2 renewed on request.
        check_problem(a.request('POST', '/sas/%d/children/0x00000001/rekey' % new_a['id']), 404, 'not-found',
                      'POST .../children/{spi}/rekey of an SPI the ISAKMP SA does not hold')
        check_accepted(a.request('POST', '/sas/%d/children/%s/rekey' % (new_a['id'], spi)),
                       'POST /sas/{id}/children/{spi}/rekey of an IPsec SA')
        _, _, fresh = wait_until(lambda: (lambda p: p if p and p[2]['spi_in'] != spi else None)(agreed_pair()), 10,
                                 'a renewed IPsec SA whose SPIs match on A and B')
        check(a.get('/stats').json['ikev1']['ipsec_sas_rekeyed'] >= 1, 'the renewal is counted')

        # Deleted on request, on both sides.
        check_accepted(a.request('DELETE', '/sas/%d/children/%s' % (new_a['id'], fresh['spi_in'])),
                       'DELETE /sas/{id}/children/{spi} of an IPsec SA')
        wait_until(lambda: not any(c['spi_out'] == fresh['spi_in'] for s in v1_sas(b) for c in s['children']), 10,
                   'B deletes the IPsec SA on A\'s Delete')
        # Once the renewed pair's predecessor is retired too, nothing is left to carry over.
        wait_until(lambda: all(not s['children'] for s in current(a)), 10, 'A holds no IPsec SA')
        check_problem(a.request('POST', '/sas/%d/rekey' % new_a['id']), 409, 'conflict',
                      'POST /sas/{id}/rekey of an ISAKMP SA without IPsec SA', detail_has='no IPsec SA')

        check_accepted(a.request('DELETE', '/sas/%d' % new_a['id']), 'DELETE /sas/{id} of an ISAKMP SA')
        wait_until(lambda: not current(a) and not current(b), 10, 'the ISAKMP SA gone on A and B')
        check_events_on_b()
    finally:
        for client, name in ((a, 'A'), (b, 'B')):
            r = client.request('DELETE', '/connections/' + V1)
            check(r.status == 200, 'DELETE /connections/%s on %s' % (V1, name), str(r))
        wait_until(lambda: not v1_sas(a) and not v1_sas(b), 10, 'no IKEv1 SA left on A or B')
