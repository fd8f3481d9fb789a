"""Corridor's TRex kit: traffic definitions shared by the TRex profiles,
render_pcap.py (the built-in benchmark's pcaps) and ndr_search.py.

Nothing here imports TRex at module level: the traffic is described once
(traffic.py, esp.py), turned into TRex STL objects only when TRex loads a
profile (stl.py), and into pcaps by render_pcap.py without TRex.
"""
