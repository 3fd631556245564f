#!/usr/bin/env bash
# The offline demo (no root needed): installs what is
# missing, builds, and runs `lwaftr check` on representative conformance cases, then shows what
# the engine emitted for one of them (decoded with tshark when available).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"
ensure_swift
ensure_packages libpcap-dev libmnl-dev pkg-config tshark
swift build --product lwaftr 2>&1 | tail -1
bin=.build/debug/lwaftr
d=$shared/conformance/snabb-lwaftr/data
[ -d "$d" ] || { echo "conformance data not found at $d"; exit 1; }
e=$d/empty.pcap
run() {  # name conf in4 in6 out4 out6 counters
  printf '%-62s ' "$1"
  "$bin" check --counters "$d/counters/$7" "$d/$2" "$3" "$4" "$5" "$6" | tail -1
}
run "encapsulate: internet -> B4"             icmp_on_fail.conf "$d/tcp-frominet-bound.pcap" "$e" "$e" "$d/tcp-afteraftr-ipv6.pcap" in-1p-ipv4-out-1p-ipv6-1.lua
run "decapsulate: B4 -> internet"             no_icmp.conf "$e" "$d/tcp-fromb4-ipv6.pcap" "$d/decap-ipv4.pcap" "$e" in-1p-ipv6-out-1p-ipv4-4.lua
run "spoofed B4 refused with ICMPv6 1/5"       icmp_on_fail.conf "$e" "$d/tcp-fromb4-ipv6-unbound.pcap" "$e" "$d/icmpv6-nogress.pcap" in-1p-ipv6-out-1p-icmpv6-1.lua
run "port outside the PSID: ICMPv4 3/1"       icmp_on_fail.conf "$d/tcp-frominet-ip-bound-port-unbound.pcap" "$e" "$d/icmpv4-dst-host-unreachable-ip-bound-port-unbound.pcap" "$e" in-1p-ipv4-out-1p-icmpv4.lua
run "hairpinning B4 -> B4"                    no_icmp.conf "$e" "$d/tcp-fromb4-tob4-ipv6.pcap" "$e" "$d/recap-ipv6.pcap" from-to-b4-ipv6-hairpin.lua
run "IPv6 fragmentation at MTU 1280"          small_ipv6_mtu_no_icmp.conf "$d/tcp-frominet-bound1494.pcap" "$e" "$e" "$d/tcp-afteraftr-ipv6-2frags.pcap" in-1p-ipv4-out-1p-ipv6-3.lua
run "IPv6 reassembly then decapsulation"      big_mtu_no_icmp.conf "$e" "$d/tcp-ipv6-2frags-bound.pcap" "$d/tcp-ipv4-2ipv6frags-reassembled-1p.pcap" "$e" in-1p-ipv6-out-1p-ipv4-3.lua
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo
echo "== what the engine emits for the spoofed-B4 case (lwaftr process):"
"$bin" process --counters-out "$tmp/counters.lua" "$d/icmp_on_fail.conf" "$e" "$d/tcp-fromb4-ipv6-unbound.pcap" "$tmp/out4.pcap" "$tmp/out6.pcap"
if command -v tshark >/dev/null; then tshark -r "$tmp/out6.pcap" 2>/dev/null | sed 's/^/  /'; fi
echo "counters:"; sed 's/^/  /' "$tmp/counters.lua"
echo
echo "== full conformance table"
SHARED_DIR=$shared Scripts/conformance.sh "$bin" "$shared/conformance/snabb-lwaftr/cases.tsv" | tail -2
