"""Streams (traffic.py) as TRex stateless objects.

Imported only inside a profile's get_streams(), which TRex calls with its
own trex_stl_lib (or trex.stl) on the path; nothing else in the kit needs
TRex. The field engine is TRex's documented one: STLVmFlowVar with op "inc",
STLVmWrFlowVar at a scapy field path, STLVmFixIpv4 for the IPv4 checksum.
"""


def _api():
    try:
        from trex.stl import api          # TRex v2.60 and later
    except ImportError:
        from trex_stl_lib import api      # older TRex
    return api


# Pre-encrypted ESP is one TRex stream per frame (no field engine can
# re-encrypt): past this many a port's scheduler spends its time switching
# streams. Fewer flows (n_flows) keep the ESP profile under it.
MAX_STREAMS = 10000


def to_stl(streams):
    """[STLStream]: each stream continuous at `weight` packets per second,
    so that TRex's multiplier ("-m 10mpps", ndr_search.py's rate) keeps the
    streams' ratios (IMIX's 28:16:4)."""
    from .esp import FixedFrames
    total = sum(len(s.frames) if isinstance(s, FixedFrames) else 1 for s in streams)
    if total > MAX_STREAMS:
        raise ValueError('%d TRex streams (one per pre-encrypted frame) is more than %d: lower n_flows'
                         % (total, MAX_STREAMS))
    api = _api()
    out = []
    for s in streams:
        if isinstance(s, FixedFrames):
            share = float(s.weight) / len(s.frames)
            for i, frame in enumerate(s.frames):
                out.append(api.STLStream(name='%s-%d' % (s.name, i),
                                         packet=api.STLPktBuilder(pkt_buffer=frame),
                                         mode=api.STLTXCont(pps=share)))
            continue
        instructions = [api.STLVmFlowVar(name=v.name, min_value=v.min_value, max_value=v.max_value,
                                         size=v.size, step=v.step, op='inc') for v in s.flow_vars]
        instructions += [api.STLVmWrFlowVar(fv_name=v.name, pkt_offset=v.offset) for v in s.flow_vars]
        if s.fix_ipv4_checksum:
            instructions.append(api.STLVmFixIpv4(offset='IP'))
        vm = api.STLScVmRaw(instructions) if instructions else None
        out.append(api.STLStream(name=s.name, packet=api.STLPktBuilder(pkt=s.packet, vm=vm),
                                 mode=api.STLTXCont(pps=s.weight)))
    return out
