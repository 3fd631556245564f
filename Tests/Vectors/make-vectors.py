#!/usr/bin/env python3
"""Generates the project's own conformance vectors (Tests/Vectors/data) with scapy.

Each vector's expected output is built here from the RFC text, never by running our engine.
Run with Debian's python3 (apt: python3-scapy): /usr/bin/python3 Tests/Vectors/make-vectors.py
"""
import os
from scapy.all import Ether, IP, IPv6, TCP, UDP, wrpcap, conf as scapy_conf

scapy_conf.verb = 0
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, 'data')
os.makedirs(out, exist_ok=True)

EXT_MAC, NH4_MAC = '12:12:12:12:12:12', '68:68:68:68:68:68'
INT_MAC, NH6_MAC = '22:22:22:22:22:22', '44:44:44:44:44:44'
BR = '8:9:a:b:c:d:e:f'
B4 = '2001:db8:12:3400:0:c000:201:34'   # RFC 8539/7596 style /128 for 192.0.2.1 PSID 0x34
SHARED = '192.0.2.1'
REMOTE = '198.51.100.20'

def write(name, pkts):
    wrpcap(os.path.join(out, name), pkts, linktype=1)

def inbound(dport, ttl=64):
    return Ether(src='02:00:00:00:00:01', dst=EXT_MAC) / IP(src=REMOTE, dst=SHARED, ttl=ttl, id=7, flags='DF') / \
        TCP(sport=443, dport=dport, flags='A', seq=1, ack=1, window=1000) / b'rfc7597'

def encapsulated(dport):
    inner = IP(bytes(inbound(dport, ttl=63)[IP]))   # TTL decremented by one, checksum recomputed
    del inner.chksum
    inner = IP(bytes(inner))
    return Ether(src=INT_MAC, dst=NH6_MAC) / IPv6(src=BR, dst=B4, nh=4, hlim=255, tc=0, fl=0) / inner

# RFC 7597 §5.1 with offset a = 6, PSID length k = 8, PSID 0x34: the softwire owns
# A·1024 | 0x34·4 | j for A in 1..63 (1232–1235, 2256–2259, …, 64720–64723). Ports with A = 0
# (0–1023) belong to nobody. The reference implementation instead drops only ports < 2^a = 64 and
# would map port 208 (= 0x34·4) to PSID 0x34; the RFC says it is reserved.
ports = [208, 209, 1232, 1235, 64723, 2260]
write('rfc7597-offset6-in.pcap', [inbound(p) for p in ports])
write('rfc7597-offset6-out.pcap', [encapsulated(p) for p in (1232, 1235, 64723)])
print('wrote', sorted(os.listdir(out)))

write('empty.pcap', [])
