# shellcheck shell=bash disable=SC2034
# Shared settings and helpers for the network-namespace lab. Source it; do not run it.
#
# Topology (defaults; every value can be overridden from the environment):
#
#   lw-inet                 lw-aftr                      lw-acc                    lw-b4-<i>
#   internet host           the lwAFTR router            access router             B4 (CPE + LAN host)
#   inet0 198.18.0.2/24 ── aftr4 [198.18.0.1/24]
#                           aftr6 [2001:db8:0:1::1/64] ── acc0 2001:db8:0:1::2/64
#                           ctl0  2001:db8:0:c::1/64  ── ctl0 2001:db8:0:c::2/64
#                                                         b4-<i> 2001:db8:1:<i>::1/64 ── up0 2001:db8:1:<i>::2/64
#                                                                                       lan0 192.168.1.1/24 ─┐ (veth pair
#                                                                                       cpe0 192.168.1.254/24┘  inside lw-b4-<i>)
#
# Addresses in [brackets] belong to whoever plays the lwAFTR: `lab-kernel-aftr.sh up` puts them on
# the kernel's interfaces; our lwAFTR owns them itself (AF_PACKET on aftr4/aftr6, answering ARP/NDP),
# so by default the lwAFTR's data interfaces carry no kernel address. ctl0 is a plain kernel link for
# the control lane (leasequery TCP to a dhcp4o6d that can run in lw-acc).
#
# Why an access router (lw-acc) and not a bridge: this kernel has no bridge driver, and the lwAFTR
# forwards to one next hop per side (as the reference does), so the B4s sit behind a router.
#
# Why lan0/cpe0 inside each B4: seg6 encap routes bypass IPv4 POSTROUTING (the lwtunnel output
# redirect jumps straight to the encapsulation), so an nftables SNAT on the encapsulating hop never
# runs. The LAN host (lan0) therefore sends through the CPE's LAN port (cpe0) in the same namespace:
# SNAT to the leased IPv4 and port set happens on lan0's POSTROUTING, the packet enters cpe0, and a
# policy rule (iif cpe0) picks the seg6 route. On the way back End.DX4 decapsulates, the leased
# address is routed out cpe0 to lan0, and conntrack reverses the SNAT on lan0's PREROUTING. Traffic
# entering cpe0 is not tracked (it would clash with the lan0 entry).

LAB_PREFIX=${LAB_PREFIX:-lw}
NS_INET=$LAB_PREFIX-inet
NS_AFTR=$LAB_PREFIX-aftr
NS_ACC=$LAB_PREFIX-acc
ns_b4() { echo "$LAB_PREFIX-b4-$1"; }

LAB_STATE=${LAB_STATE:-/run/$LAB_PREFIX-lab}

# Internet side.
LAB_INET_ADDR=${LAB_INET_ADDR:-198.18.0.2}        # the internet host
LAB_AFTR_V4=${LAB_AFTR_V4:-198.18.0.1}            # the lwAFTR's IPv4 address (next hop of the public pool)
LAB_INET_PLEN=${LAB_INET_PLEN:-24}
LAB_PUBLIC_NET=${LAB_PUBLIC_NET:-192.0.2.0/24}    # leased IPv4 addresses live here
# Access side.
LAB_AFTR_V6=${LAB_AFTR_V6:-2001:db8:0:1::1}       # the lwAFTR's IPv6 address on the access link
LAB_ACC_V6=${LAB_ACC_V6:-2001:db8:0:1::2}         # the access router (the lwAFTR's IPv6 next hop)
LAB_BR=${LAB_BR:-2001:db8:ffff::1}                # BR address (softwire tunnel endpoint)
LAB_B4_PREFIX=${LAB_B4_PREFIX:-2001:db8:b4::}     # default softwire /128 of B4 i: <prefix><i in hex>
LAB_CTL_AFTR=${LAB_CTL_AFTR:-2001:db8:0:c::1}
LAB_CTL_ACC=${LAB_CTL_ACC:-2001:db8:0:c::2}
LAB_LAN_HOST=${LAB_LAN_HOST:-192.168.1.1}         # the B4's private LAN address (same in every B4)
LAB_LAN_GW=${LAB_LAN_GW:-192.168.1.254}
# Fixed MACs so a static next-hop configuration is possible.
LAB_MAC_AFTR4=${LAB_MAC_AFTR4:-02:00:00:00:04:01}
LAB_MAC_INET=${LAB_MAC_INET:-02:00:00:00:04:02}
LAB_MAC_AFTR6=${LAB_MAC_AFTR6:-02:00:00:00:06:01}
LAB_MAC_ACC=${LAB_MAC_ACC:-02:00:00:00:06:02}
# 1: the internet host and the access router get permanent neighbor entries for the lwAFTR's
# addresses (no ARP/NDP towards it needed); 0: they resolve them (the lwAFTR must answer).
LAB_STATIC_NEIGH=${LAB_STATIC_NEIGH:-1}

b4_link_acc() { printf '2001:db8:1:%x::1' "$1"; }
b4_link_b4() { printf '2001:db8:1:%x::2' "$1"; }
b4_default_addr() { printf '%s%x' "$LAB_B4_PREFIX" "$1"; }
b4_default_ports() { echo "$((1024 * $1))-$((1024 * $1 + 1023))"; }
LAB_DEFAULT_IPV4=${LAB_DEFAULT_IPV4:-192.0.2.1}

lab_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib.sh disable=SC1091
source "$lab_root/Scripts/lib.sh"

lab_need_root() {
  [ "$(id -u)" -eq 0 ] || { echo "the lab needs root (network namespaces)" >&2; exit 1; }
}

lab_need_tools() {
  local pkgs=()
  command -v ip >/dev/null 2>&1 || pkgs+=(iproute2)
  command -v nft >/dev/null 2>&1 || pkgs+=(nftables)
  command -v ethtool >/dev/null 2>&1 || pkgs+=(ethtool)
  [ ${#pkgs[@]} -eq 0 ] || ensure_packages "${pkgs[@]}"
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Turns off checksum/segmentation offloads: a veth hands CHECKSUM_PARTIAL packets on, and a packet
# read through AF_PACKET and sent out again by a user-space forwarder would then reach its
# destination with an unfinished checksum.
no_offload() { nsx "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true; }

# veth pair between two namespaces: veth_pair NS_A IF_A NS_B IF_B
veth_pair() {
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
  no_offload "$1" "$2"
  no_offload "$3" "$4"
}

sysctl_ns() { nsx "$1" sysctl -qw "$2" >/dev/null; }

lab_b4_count() { cat "$LAB_STATE/b4-count" 2>/dev/null || echo 0; }
