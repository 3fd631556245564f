#!/usr/bin/env bash
# The lab's DHCPv4-over-DHCPv6 server: the project's reference dhcp4o6d in the access-router
# namespace, handing out shared IPv4 addresses with port sets (RFC 7341/7618/8539) to the B4s over
# UDP 547 and serving bulk + active leasequery to the lwAFTR over TCP 547 on the control link.
#
#   lab-dhcp.sh up DHCP4O6D-BINARY [POOL-PREFIX] [PSID-LENGTH]   (default $LAB_DEFAULT_IPV4/32, 6)
#   lab-dhcp.sh down
#
# Pool: offset 0 (each port set is one contiguous range, which the B4's nftables SNAT needs),
# ports 0-1023 reserved (PSID 0 is never handed out). State (config, leases, log, pid) lives in
# $LAB_STATE/dhcp.
set -euo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
lab_need_root
dir=$LAB_STATE/dhcp

case ${1:-} in
  up)
    bin=${2:?usage: lab-dhcp.sh up DHCP4O6D-BINARY [POOL] [PSID-LENGTH]}
    pool=${3:-$LAB_DEFAULT_IPV4/32} k=${4:-6}
    mkdir -p "$dir"
    cat > "$dir/dhcp4o6d.json" <<JSON
{
  "borderRouters": ["$LAB_BR"],
  "dhcp": {"address": "::", "port": 547},
  "leaseDirectory": "$dir/leases",
  "leaseSeconds": 3600,
  "leasequery": {"enabled": true, "active": true, "allowInsecure": true,
                 "listen": {"address": "$LAB_CTL_ACC", "port": 547}},
  "pools": [{"prefix": "$pool", "psidLength": $k, "offset": 0, "reservedPorts": ["0-1023"], "excluded": []}],
  "serverIdentifier": "192.0.0.1"
}
JSON
    nsx "$NS_ACC" "$bin" serve -c "$dir/dhcp4o6d.json" > "$dir/log" 2>&1 &
    echo $! > "$dir/pid"
    for _ in $(seq 100); do grep -q "listening" "$dir/log" 2>/dev/null && break; sleep 0.1; done
    grep -q "listening" "$dir/log" || { echo "dhcp4o6d did not start:" >&2; cat "$dir/log" >&2; exit 1; }
    echo "dhcp4o6d up in $NS_ACC: DHCP 4o6 on UDP [::]:547, leasequery on TCP [$LAB_CTL_ACC]:547, pool $pool PSID length $k"
    ;;
  down)
    if [ -f "$dir/pid" ]; then
      kill "$(cat "$dir/pid")" 2>/dev/null || true
      rm -f "$dir/pid"
    fi
    ;;
  *) sed -n '2,11p' "$0"; exit 2 ;;
esac
