#!/usr/bin/env bash
# A kernel-only reference lwAFTR in the lab's lwAFTR namespace: the throughput baseline.
#
#   lab-kernel-aftr.sh up [I,B4ADDR,IPV4,FIRST-LAST ...]   (default: the softwires lab-b4-lease.sh recorded)
#   lab-kernel-aftr.sh down
#
# seg6 lightweight tunnels stand in for ip6tnl (not in this kernel):
#   decapsulation: ip -6 route add BR/128 encap seg6local action End.DX4 nh4 0.0.0.0 dev aftr6
#   encapsulation, per softwire: ip rule add to IPV4 ipproto udp|tcp dport FIRST-LAST lookup T
#                                ip route add IPV4/32 encap seg6 mode encap.red segs B4ADDR dev aftr6 table T
#   outer source: ip sr tunsrc set BR
# Unlike a real lwAFTR it does not check that a B4's IPv4 source and port belong to its softwire,
# and it drops ICMP towards shared addresses (no port to route on); enough for a UDP baseline.
set -euo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
lab_need_root

cmd=${1:-}; shift || true
ns=$NS_AFTR
ip netns list | grep -q "^$ns\b" || { echo "no namespace $ns (run lab-up.sh)" >&2; exit 1; }

down() {
  for t in $(ip -n "$ns" rule show | awk '/lookup 1[0-9][0-9][0-9]/ { print $NF }' | sort -u); do
    while ip -n "$ns" rule del lookup "$t" 2>/dev/null; do :; done
    ip -n "$ns" route flush table "$t" 2>/dev/null || true
  done
  ip -n "$ns" -6 route del "$LAB_BR/128" 2>/dev/null || true
  ip -n "$ns" -6 route del "$LAB_B4_PREFIX/48" 2>/dev/null || true
  ip -n "$ns" route del "$LAB_PUBLIC_NET" 2>/dev/null || true
  ip -n "$ns" addr flush dev aftr4 2>/dev/null || true
  ip -n "$ns" addr flush dev aftr6 2>/dev/null || true
  sysctl_ns "$ns" net.ipv6.conf.aftr4.disable_ipv6=1
  sysctl_ns "$ns" net.ipv6.conf.aftr6.disable_ipv6=1
  sysctl_ns "$ns" net.ipv4.ip_forward=0
  sysctl_ns "$ns" net.ipv6.conf.all.forwarding=0
}

case $cmd in
  up)
    down
    sysctl_ns "$ns" net.ipv6.conf.aftr6.disable_ipv6=0
    sysctl_ns "$ns" net.ipv4.ip_forward=1
    sysctl_ns "$ns" net.ipv6.conf.all.forwarding=1
    sysctl_ns "$ns" net.ipv6.conf.all.seg6_enabled=1
    sysctl_ns "$ns" net.ipv6.conf.aftr6.seg6_enabled=1
    sysctl_ns "$ns" net.ipv4.conf.all.rp_filter=0
    sysctl_ns "$ns" net.ipv4.conf.aftr4.rp_filter=0
    ip -n "$ns" addr add "$LAB_AFTR_V4/$LAB_INET_PLEN" dev aftr4
    ip -n "$ns" addr add "$LAB_AFTR_V6/64" dev aftr6 nodad
    nsx "$ns" ip sr tunsrc set "$LAB_BR"
    ip -n "$ns" -6 route add "$LAB_BR/128" encap seg6local action End.DX4 nh4 0.0.0.0 dev aftr6
    if [ $# -gt 0 ]; then
      softwires=$(for s in "$@"; do IFS=, read -r i a v p <<<"$s"; echo "$i $a $v ${p%-*} ${p#*-}"; done)
    else
      softwires=$(cat "$LAB_STATE/softwires" 2>/dev/null || true)
    fi
    [ -n "$softwires" ] || { echo "no softwires (lab-b4-lease.sh records them)" >&2; exit 1; }
    t=1000
    while read -r i addr v4 first last; do
      t=$((t + 1))
      # The B4's softwire address is behind the access router.
      ip -n "$ns" -6 route replace "$addr/128" via "$LAB_ACC_V6" dev aftr6
      ip -n "$ns" route add "$v4/32" encap seg6 mode encap.red segs "$addr" dev aftr6 table "$t"
      if [ "$first" -eq 0 ] && [ "$last" -eq 65535 ]; then
        ip -n "$ns" rule add to "$v4/32" lookup "$t" pref "$t"
      else
        for proto in udp tcp; do
          ip -n "$ns" rule add to "$v4/32" ipproto "$proto" dport "$first-$last" lookup "$t" pref "$t"
        done
      fi
    done <<<"$softwires"
    echo "kernel lwAFTR up in $ns ($((t - 1000)) softwires)"
    ;;
  down)
    down
    # Remove the per-softwire /128 routes too.
    for a in $(ip -n "$ns" -6 route show | awk -v acc="$LAB_ACC_V6" '$2 == "via" && $3 == acc { print $1 }'); do
      ip -n "$ns" -6 route del "$a" 2>/dev/null || true
    done
    echo "kernel lwAFTR down"
    ;;
  *) sed -n '2,5p' "$0"; exit 2 ;;
esac
