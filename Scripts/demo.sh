#!/usr/bin/env bash
# The main job: a network-namespace lab with an internet host, the lwAFTR (AF_PACKET on its two
# interfaces), an access router running the reference DHCP4o6 server (dhcp4o6d), and B4 hosts built
# from Linux itself (seg6 4in6 + nftables SNAT to their port sets). The lwAFTR starts with an empty
# binding table and learns every softwire by leasequery (bulk, then active) while the B4s obtain
# their shared IPv4 address + port set from dhcp4o6d over DHCPv4-over-DHCPv6. Then: ping, a 1 MiB
# TCP transfer and a UDP exchange both ways through the lwAFTR from every B4, a spoofing B4 refused
# with ICMPv6 1/5, a port outside every port set dropped; counters printed.
# Cleans up after itself. Without root (no network namespaces) it runs the offline pcap demo.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: network namespaces unavailable, running the offline demo (Scripts/demo-pcap.sh)"
  exec Scripts/demo-pcap.sh
fi
ensure_swift
ensure_packages libpcap-dev libmnl-dev pkg-config iproute2 iputils-ping curl nftables ethtool python3-scapy tcpdump
B4S=${B4S:-3}

echo "== build"
swift build --product lwaftr 2>&1 | tail -1
swift build --product dhcp4o6d 2>&1 | tail -1
bin=$root/.build/debug/lwaftr
dhcp=$root/.build/debug/dhcp4o6d

work=$(mktemp -d)
cleanup() {
  [ -n "${aftr_pid:-}" ] && kill "$aftr_pid" 2>/dev/null && wait "$aftr_pid" 2>/dev/null
  Scripts/lab/lab-dhcp.sh down >/dev/null 2>&1 || true
  Scripts/lab/lab-down.sh >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
Scripts/lab/lab-down.sh >/dev/null 2>&1 || true

echo "== lab: internet host, lwAFTR, access router, $B4S B4s (IPv6 only until they lease)"
Scripts/lab/lab-up.sh -n "$B4S" --no-lease | tail -n 1
source /run/lw-lab/lab.env

echo "== dhcp4o6d in the access router (pool 192.0.2.1/32, 1024 ports per B4)"
Scripts/lab/lab-dhcp.sh up "$dhcp"

echo "== lwAFTR configuration: no softwires, leasequery from dhcp4o6d"
Scripts/lab/lab-lwaftr-conf.sh "$work/lwaftr.json" leasequery
"$bin" config check "$work/lwaftr.json"

echo "== lwaftr run (AF_PACKET on aftr4/aftr6 in lw-aftr, metrics on 127.0.0.1:9099 there)"
ip netns exec lw-aftr "$bin" run "$work/lwaftr.json" --io af-packet --external aftr4 --internal aftr6 \
  --metrics 127.0.0.1:9099 > "$work/lwaftr.out" 2> "$work/lwaftr.err" &
aftr_pid=$!
for _ in $(seq 50); do grep -q "running" "$work/lwaftr.err" 2>/dev/null && break; sleep 0.1; done
sed 's/^/  /' "$work/lwaftr.err"
softwires() {
  ip netns exec lw-aftr curl -s 127.0.0.1:9099/metrics 2>/dev/null \
    | awk '/^lwaftr_binding_table_softwires/ { print int($2) }' | head -n 1
}

echo "== B4s lease from dhcp4o6d (DHCPv4 over DHCPv6)"
for i in $(seq 1 "$B4S"); do Scripts/lab/lab-b4-dhcp.sh "$dhcp" "$i" | sed 's/^/  /'; done

echo "== the lwAFTR learns the bindings by active leasequery"
n=0
for _ in $(seq 100); do n=$(softwires); [ "${n:-0}" -ge "$B4S" ] && break; sleep 0.1; done
echo "  binding table: ${n:-0} softwires (want $B4S)"
[ "${n:-0}" -ge "$B4S" ] || { echo "demo: bindings did not arrive by leasequery"; sed 's/^/  /' "$work/lwaftr.err"; exit 1; }
ip netns exec lw-aftr "$bin" bindings status --metrics 127.0.0.1:9099 | sed 's/^/  /' || true

echo "== traffic"
status=0
Scripts/lab/lab-traffic.py || status=$?

echo "== metrics (excerpt from /metrics)"
ip netns exec lw-aftr curl -s 127.0.0.1:9099/metrics 2>/dev/null | grep -E '^lwaftr_(in|out)_ipv[46]_packets|^lwaftr_drop_no_(source|dest)|^lwaftr_out_icmpv[46]_error_packets|softwires' | sed 's/^/  /' || true

echo "== stopping the lwAFTR (SIGTERM): counters"
kill -TERM "$aftr_pid"; wait "$aftr_pid" || true; aftr_pid=""
sed 's/^/  /' "$work/lwaftr.out"
[ "$status" -eq 0 ] && echo "demo: all checks passed" || echo "demo: some checks FAILED"
exit "$status"
