#!/usr/bin/env python3
"""Traffic checks for the lab, run as root from the host (each step enters the namespace it needs).

  lab-traffic.py [--b4s N]

Prints one line per check ("PASS name: detail" / "FAIL name: detail") and exits non-zero if any
check failed. Needs the lab up, an lwAFTR forwarding in the lwAFTR namespace, and Debian's
python3-scapy for the spoofing check.
"""
import os, subprocess, sys, time, json

PREFIX = os.environ.get("LAB_PREFIX", "lw")
STATE = os.environ.get("LAB_STATE", f"/run/{PREFIX}-lab")
INET = os.environ.get("LAB_INET_ADDR", "198.18.0.2")
results = []

def ns(name): return f"{PREFIX}-{name}"

def run(namespace, args, timeout=20, input=None):
    return subprocess.run(["ip", "netns", "exec", namespace] + args, capture_output=True, text=True,
                          timeout=timeout, input=input)

def report(name, ok, detail):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

def softwires():
    out = []
    with open(os.path.join(STATE, "softwires")) as f:
        for line in f:
            i, addr, v4, first, last = line.split()
            out.append((int(i), addr, v4, int(first), int(last)))
    return out

PY_UDP_ECHO = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 7007)); s.settimeout(15)
seen = set()
try:
    while True:
        d, a = s.recvfrom(2048); s.sendto(d, a); seen.add(a[1]); print(a[0], a[1], flush=True)
except socket.timeout:
    pass
'''
PY_TCP_SERVER = r'''
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8080)); s.listen(8)
s.settimeout(15)
try:
    while True:
        c, a = s.accept(); print(a[0], a[1], flush=True)
        n = 0
        while True:
            d = c.recv(65536)
            if not d: break
            n += len(d)
        c.sendall(b"%d\n" % n + b"y" * (1 << 20)); c.close()
except socket.timeout:
    pass
'''
PY_UDP_CLIENT = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
ok = 0
for i in range(5):
    s.sendto(b"lwaftr-%d" % i, (sys.argv[1], 7007))
    try:
        d, _ = s.recvfrom(2048); ok += d == b"lwaftr-%d" % i
    except socket.timeout:
        pass
print(ok)
'''
PY_TCP_CLIENT = r'''
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
payload = b"x" * (1 << 20)
s.sendall(payload); s.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = s.recv(1 << 16)
    if not d: break
    data += d
head, _, body = data.partition(b"\n")
print(head.decode(), len(body))
'''

def main():
    sws = softwires()
    servers = [subprocess.Popen(["ip", "netns", "exec", ns("inet"), sys.executable, "-c", code],
                                stdout=subprocess.PIPE, text=True) for code in (PY_UDP_ECHO, PY_TCP_SERVER)]
    time.sleep(0.5)
    try:
        for (i, addr, v4, first, last) in sws:
            b4 = ns(f"b4-{i}")
            r = run(b4, ["ping", "-c", "3", "-i", "0.2", "-W", "2", INET])
            got = r.stdout.count("bytes from")
            report(f"ping B4 {i} -> internet", got == 3, f"{got}/3 replies")
            r = run(b4, [sys.executable, "-c", PY_UDP_CLIENT, INET])
            echoed = r.stdout.strip()
            report(f"UDP B4 {i} <-> internet", echoed == "5", f"{echoed or 0}/5 datagrams echoed back")
            r = run(b4, [sys.executable, "-c", PY_TCP_CLIENT, INET], timeout=30)
            want = f"{1 << 20} {1 << 20}"
            report(f"TCP 1 MiB each way B4 {i} <-> internet", r.stdout.strip() == want,
                   f"sent/received {r.stdout.strip() or 'nothing'} {r.stderr.strip()[-80:]}")
    finally:
        time.sleep(0.2)
        for s in servers: s.terminate()
        seen = [s.communicate(timeout=5)[0] for s in servers]
    # Source ports seen by the internet host must lie in each B4's port set.
    ports = [int(line.split()[1]) for out in seen for line in out.split("\n") if line.strip()]
    ranges = [(first, last) for (_, _, _, first, last) in sws]
    inside = all(any(a <= p <= b for a, b in ranges) for p in ports)
    report("source ports inside the leased port sets", inside and len(ports) > 0,
           f"{len(ports)} flows, ports {sorted(set(ports))[:6]}{'...' if len(set(ports)) > 6 else ''}")

    if len(sws) >= 2:
        # A spoofing B4: B4 2 sends a 4in6 packet claiming B4 1's IPv4 port set from its own address.
        (i1, a1, v41, f1, l1), (i2, a2, v42, f2, l2) = sws[0], sws[1]
        br = os.environ.get("LAB_BR", "2001:db8:ffff::1")
        spoof = f'''
from scapy.all import IPv6, IP, UDP, ICMPv6DestUnreach, send, sniff, conf, AsyncSniffer
conf.verb = 0
sn = AsyncSniffer(iface="up0", filter="icmp6 and ip6[40] == 1", count=1, timeout=4)
sn.start()
import time; time.sleep(0.5)
send(IPv6(src="{a2}", dst="{br}", nh=4) / IP(src="{v41}", dst="{INET}") / UDP(sport={f1}, dport=9999) / b"spoof", iface="up0")
sn.join()
pk = sn.results
print("icmpv6", pk[0][ICMPv6DestUnreach].type, pk[0][ICMPv6DestUnreach].code if pk else "") if pk else print("none")
'''
        r = run(ns(f"b4-{i2}"), ["/usr/bin/python3", "-c", spoof], timeout=20)
        out = r.stdout.strip()
        report("spoofed B4 refused with ICMPv6 1/5", out == "icmpv6 1 5", out or r.stderr.strip()[-200:])

    # A port no softwire owns: the lwAFTR drops it (and answers ICMPv4 host unreachable).
    v4 = sws[0][2]
    taken = [(f, l) for (_, _, a, f, l) in sws if a == v4]
    port = next(p for p in range(65000, 1024, -1) if not any(f <= p <= l for f, l in taken))
    probe = f'''
from scapy.all import IP, UDP, ICMP, sr1, conf
conf.verb = 0
r = sr1(IP(dst="{v4}") / UDP(sport=40000, dport={port}) / b"nobody", timeout=3)
print("icmp", r[ICMP].type, r[ICMP].code) if r is not None and r.haslayer(ICMP) else print("none")
'''
    r = run(ns("inet"), ["/usr/bin/python3", "-c", probe], timeout=20)
    out = r.stdout.strip()
    report(f"port {port} outside every port set dropped", out == "icmp 3 1", f"answer: {out or r.stderr.strip()[-200:]}")
    return 0 if all(results) else 1

if __name__ == "__main__":
    sys.exit(main())
