#!/usr/bin/env bash
# Applies (or replaces) the softwire of one B4 in the lab:
#
#   lab-b4-lease.sh I B4ADDR IPV4 FIRST-LAST [BR]
#
#   I          B4 number (namespace $LAB_PREFIX-b4-I)
#   B4ADDR     the B4's softwire IPv6 address (/128; source of its 4in6 packets)
#   IPV4       the leased IPv4 address
#   FIRST-LAST the leased port range (TCP, UDP and ICMP identifiers are mapped into it)
#   BR         BR address (default $LAB_BR)
#
# In the B4: way out `ip route add default encap seg6 mode encap.red segs BR` in table 100 (one
# segment with encap.red gives a plain IPv6 header with next header 4, no SRH), outer source set by
# `ip sr tunsrc set B4ADDR`; way in `ip -6 route add B4ADDR/128 encap seg6local action End.DX4 nh4
# 0.0.0.0`; nftables SNAT of the LAN to IPV4:FIRST-LAST. In the access router: a route for B4ADDR.
# The softwire is recorded in $LAB_STATE/softwires for lab-kernel-aftr.sh.
set -euo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
lab_need_root

[ $# -ge 4 ] || { sed -n '2,10p' "$0"; exit 2; }
i=$1 addr=$2 v4=$3 ports=$4 br=${5:-$LAB_BR}
first=${ports%-*} last=${ports#*-}
[[ $first =~ ^[0-9]+$ && $last =~ ^[0-9]+$ && $first -le $last && $last -le 65535 ]] \
  || { echo "bad port range '$ports'" >&2; exit 2; }
b4=$(ns_b4 "$i")
ip netns list | grep -q "^$b4\b" || { echo "no namespace $b4 (run lab-up.sh)" >&2; exit 1; }

# Drop a previous lease of this B4.
old=$(awk -v i="$i" '$1 == i { print $2 }' "$LAB_STATE/softwires" 2>/dev/null || true)
if [ -n "$old" ]; then
  ip -n "$b4" -6 route del "$old/128" 2>/dev/null || true
  ip -n "$NS_ACC" -6 route del "$old/128" 2>/dev/null || true
fi
ip -n "$b4" route flush table 100 2>/dev/null || true
ip -n "$b4" route del "$v4/32" 2>/dev/null || true
nsx "$b4" nft delete table ip b4 2>/dev/null || true

# Way out.
nsx "$b4" ip sr tunsrc set "$addr"
ip -n "$b4" route add default encap seg6 mode encap.red segs "$br" dev up0 table 100
# Way in: decapsulate, then hand the leased address to the LAN side where conntrack un-NATs it.
ip -n "$b4" -6 route add "$addr/128" encap seg6local action End.DX4 nh4 0.0.0.0 dev up0
ip -n "$b4" route add "$v4/32" via "$LAB_LAN_HOST" dev cpe0
nsx "$b4" nft -f - <<EOF
table ip b4 {
  chain raw_pre {
    type filter hook prerouting priority raw; policy accept;
    iifname "cpe0" notrack
  }
  chain nat_post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "lan0" meta l4proto { tcp, udp } counter snat to $v4:$first-$last
    oifname "lan0" meta l4proto icmp counter snat to $v4:$first-$last
  }
}
EOF
# Access router: the softwire address is behind this B4's link.
ip -n "$NS_ACC" -6 route replace "$addr/128" via "$(b4_link_b4 "$i")" dev "b4-$i"

mkdir -p "$LAB_STATE"
touch "$LAB_STATE/softwires"
awk -v i="$i" '$1 != i' "$LAB_STATE/softwires" > "$LAB_STATE/softwires.new"
echo "$i $addr $v4 $first $last" >> "$LAB_STATE/softwires.new"
mv "$LAB_STATE/softwires.new" "$LAB_STATE/softwires"
echo "B4 $i: $addr -> $v4 ports $first-$last (BR $br)"
