#!/usr/bin/env bash
# Creates the lwAFTR network-namespace lab (see lab-lib.sh for the picture).
#
#   lab-up.sh [-n N] [--no-lease] [--softwire I,B4ADDR,IPV4,FIRST-LAST]...
#
#   -n N            number of B4 namespaces (default $LAB_B4S or 2)
#   --no-lease      bring the B4s up with IPv6 only (for a DHCPv4-over-DHCPv6 client); apply the
#                   lease later with lab-b4-lease.sh
#   --softwire ...  lease for B4 I (otherwise: B4 i gets $LAB_B4_PREFIX<i>, $LAB_DEFAULT_IPV4 and
#                   ports 1024*i .. 1024*i+1023)
#
# Everything it creates lives in namespaces named $LAB_PREFIX-* (default lw-*); lab-down.sh removes
# them. A failure part-way removes what was made.
set -euo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
lab_need_root
lab_need_tools

n=${LAB_B4S:-2}
lease=1
declare -A sw=()
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    --no-lease) lease=0; shift ;;
    --softwire) sw[${2%%,*}]=${2#*,}; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ "$n" -lt 1 ] || [ "$n" -gt 250 ]; then echo "-n must be 1..250" >&2; exit 2; fi

if ip netns list | grep -q "^$NS_AFTR\b"; then
  echo "lab already up ($NS_AFTR exists); run lab-down.sh first" >&2
  exit 1
fi

trap 'echo "lab-up failed; cleaning up" >&2; "$(dirname "$0")/lab-down.sh" >/dev/null 2>&1 || true' ERR

mkdir -p "$LAB_STATE"
: > "$LAB_STATE/softwires"
echo "$n" > "$LAB_STATE/b4-count"

for ns in "$NS_INET" "$NS_AFTR" "$NS_ACC"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done

# Internet host.
veth_pair "$NS_INET" inet0 "$NS_AFTR" aftr4
ip -n "$NS_INET" link set inet0 address "$LAB_MAC_INET"
ip -n "$NS_AFTR" link set aftr4 address "$LAB_MAC_AFTR4"
ip -n "$NS_INET" addr add "$LAB_INET_ADDR/$LAB_INET_PLEN" dev inet0
ip -n "$NS_INET" route add "$LAB_PUBLIC_NET" via "$LAB_AFTR_V4" dev inet0
sysctl_ns "$NS_INET" net.ipv6.conf.all.disable_ipv6=1

# lwAFTR <-> access router (data) and control link.
veth_pair "$NS_AFTR" aftr6 "$NS_ACC" acc0
ip -n "$NS_AFTR" link set aftr6 address "$LAB_MAC_AFTR6"
ip -n "$NS_ACC" link set acc0 address "$LAB_MAC_ACC"
veth_pair "$NS_AFTR" ctl0 "$NS_ACC" ctl0
ip -n "$NS_AFTR" addr add "$LAB_CTL_AFTR/64" dev ctl0 nodad
ip -n "$NS_ACC" addr add "$LAB_CTL_ACC/64" dev ctl0 nodad
# The lwAFTR's data interfaces: no kernel IPv6 chatter (router/neighbor solicitations, MLD).
sysctl_ns "$NS_AFTR" net.ipv6.conf.aftr4.disable_ipv6=1
sysctl_ns "$NS_AFTR" net.ipv6.conf.aftr6.disable_ipv6=1

# Access router.
sysctl_ns "$NS_ACC" net.ipv6.conf.all.forwarding=1
ip -n "$NS_ACC" addr add "$LAB_ACC_V6/64" dev acc0 nodad
ip -n "$NS_ACC" -6 route add "$LAB_BR/128" via "$LAB_AFTR_V6" dev acc0
if [ "$LAB_STATIC_NEIGH" = 1 ]; then
  ip -n "$NS_ACC" -6 neigh replace "$LAB_AFTR_V6" lladdr "$LAB_MAC_AFTR6" dev acc0 nud permanent
  ip -n "$NS_INET" neigh replace "$LAB_AFTR_V4" lladdr "$LAB_MAC_AFTR4" dev inet0 nud permanent
fi

for i in $(seq 1 "$n"); do
  b4=$(ns_b4 "$i")
  ip netns add "$b4"
  ip -n "$b4" link set lo up
  veth_pair "$NS_ACC" "b4-$i" "$b4" up0
  ip -n "$NS_ACC" addr add "$(b4_link_acc "$i")/64" dev "b4-$i" nodad
  ip -n "$b4" addr add "$(b4_link_b4 "$i")/64" dev up0 nodad
  ip -n "$b4" -6 route add default via "$(b4_link_acc "$i")" dev up0
  # The LAN host and the CPE's LAN port.
  ip -n "$b4" link add lan0 type veth peer name cpe0
  # IPv4 inside the softwire must fit the 1500-byte access link with 40 bytes of IPv6 around it.
  ip -n "$b4" link set lan0 mtu 1460 up
  ip -n "$b4" link set cpe0 mtu 1460 up
  no_offload "$b4" lan0
  no_offload "$b4" cpe0
  ip -n "$b4" addr add "$LAB_LAN_HOST/24" dev lan0
  ip -n "$b4" addr add "$LAB_LAN_GW/24" dev cpe0
  ip -n "$b4" route add default via "$LAB_LAN_GW" dev lan0
  sysctl_ns "$b4" net.ipv4.ip_forward=1
  sysctl_ns "$b4" net.ipv4.conf.all.rp_filter=0
  sysctl_ns "$b4" net.ipv4.conf.default.rp_filter=0
  sysctl_ns "$b4" net.ipv4.conf.cpe0.rp_filter=0
  sysctl_ns "$b4" net.ipv4.conf.lan0.rp_filter=0
  sysctl_ns "$b4" net.ipv4.conf.up0.rp_filter=0
  # lan0 and cpe0 are one namespace: ARP between them has a local source address.
  sysctl_ns "$b4" net.ipv4.conf.lan0.accept_local=1
  sysctl_ns "$b4" net.ipv4.conf.cpe0.accept_local=1
  # The encapsulated packet is forwarded (it entered on cpe0): IPv6 forwarding must be on.
  sysctl_ns "$b4" net.ipv6.conf.all.forwarding=1
  sysctl_ns "$b4" net.ipv6.conf.all.seg6_enabled=1
  sysctl_ns "$b4" net.ipv6.conf.up0.seg6_enabled=1
  sysctl_ns "$b4" net.ipv6.conf.lan0.disable_ipv6=1
  sysctl_ns "$b4" net.ipv6.conf.cpe0.disable_ipv6=1
  # Encapsulated traffic (what enters the CPE port) goes through the softwire table.
  ip -n "$b4" rule add iif cpe0 lookup 100 pref 100
done

if [ "$lease" -eq 1 ]; then
  for i in $(seq 1 "$n"); do
    if [ -n "${sw[$i]:-}" ]; then
      IFS=, read -r addr v4 ports <<<"${sw[$i]}"
    else
      addr=$(b4_default_addr "$i"); v4=$LAB_DEFAULT_IPV4; ports=$(b4_default_ports "$i")
    fi
    "$(dirname "$0")/lab-b4-lease.sh" "$i" "$addr" "$v4" "$ports"
  done
fi

trap - ERR
cat > "$LAB_STATE/lab.env" <<EOF
LAB_PREFIX=$LAB_PREFIX
LAB_B4S=$n
LAB_INET_ADDR=$LAB_INET_ADDR
LAB_AFTR_V4=$LAB_AFTR_V4
LAB_PUBLIC_NET=$LAB_PUBLIC_NET
LAB_AFTR_V6=$LAB_AFTR_V6
LAB_ACC_V6=$LAB_ACC_V6
LAB_BR=$LAB_BR
LAB_CTL_AFTR=$LAB_CTL_AFTR
LAB_CTL_ACC=$LAB_CTL_ACC
LAB_MAC_AFTR4=$LAB_MAC_AFTR4
LAB_MAC_INET=$LAB_MAC_INET
LAB_MAC_AFTR6=$LAB_MAC_AFTR6
LAB_MAC_ACC=$LAB_MAC_ACC
LAB_STATIC_NEIGH=$LAB_STATIC_NEIGH
EOF
echo "lab up: $NS_INET $NS_AFTR $NS_ACC and $n B4s; state in $LAB_STATE"
