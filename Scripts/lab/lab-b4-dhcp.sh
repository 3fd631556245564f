#!/usr/bin/env bash
# B4 I obtains its softwire from the lab's dhcp4o6d (DHCPv4 over DHCPv6, from inside its own
# namespace, with `dhcp4o6d lease` as the B4 agent) and applies it with lab-b4-lease.sh.
#
#   lab-b4-dhcp.sh DHCP4O6D-BINARY I [B4ADDR]     (B4ADDR defaults to the lab's softwire /128 of B4 I)
set -euo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
lab_need_root
bin=${1:?usage: lab-b4-dhcp.sh DHCP4O6D-BINARY I [B4ADDR]} i=${2:?B4 number}
addr=${3:-$(b4_default_addr "$i")}
b4=$(ns_b4 "$i")
out=$(nsx "$b4" "$bin" lease --server "[$LAB_CTL_ACC]:547" --b4 "$addr" --client-id "$i")
ipv4="" first="" last="" br=""
for kv in $out; do
  case $kv in
    ipv4=*) ipv4=${kv#ipv4=} ;;
    first=*) first=${kv#first=} ;;
    last=*) last=${kv#last=} ;;
    br=*) br=${kv#br=} ;;
  esac
done
[ -n "$ipv4" ] && [ -n "$first" ] || { echo "B4 $i: unusable lease: $out" >&2; exit 1; }
echo "B4 $i leased: $out"
"$(dirname "$0")/lab-b4-lease.sh" "$i" "$addr" "$ipv4" "$first-$last" "${br:-$LAB_BR}"
