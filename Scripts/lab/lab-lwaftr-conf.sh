#!/usr/bin/env bash
# Writes an lwAFTR JSON configuration for the lab (addresses and MACs from lab-lib.sh).
#
#   lab-lwaftr-conf.sh OUT.json [static|leasequery]
#
# With "static", the softwires recorded by lab-b4-lease.sh ($LAB_STATE/softwires) become the
# configuration's binding table (port ranges of 2^m ports at a multiple of 2^m: PSID length 16 - m,
# offset 0). With "leasequery" the table starts empty and the lwAFTR learns its bindings from the
# lab's dhcp4o6d (lab-dhcp.sh) over the control link: bulk leasequery, then active leasequery.
set -euo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
out=${1:?usage: lab-lwaftr-conf.sh OUT.json [static]}
mode=${2:-dynamic}

softwires=""
if [ "$mode" = static ] && [ -f "$LAB_STATE/softwires" ]; then
  while read -r _ addr v4 first last; do
    size=$((last - first + 1))
    m=0; while [ $((1 << m)) -lt "$size" ]; do m=$((m + 1)); done
    [ $((1 << m)) -eq "$size" ] && [ $((first % size)) -eq 0 ] || { echo "range $first-$last is not a PSID block" >&2; exit 1; }
    k=$((16 - m)); psid=$((first >> m))
    [ -n "$softwires" ] && softwires+=","
    softwires+=$'\n'"    {\"ipv4\": \"$v4\", \"psid\": $psid, \"psid_length\": $k, \"offset\": 0, \"b4\": \"$addr\", \"br\": \"$LAB_BR\"}"
  done < "$LAB_STATE/softwires"
fi

leasequery=""
if [ "$mode" = leasequery ]; then
  leasequery=",
  \"leasequery\": {\"servers\": [{\"address\": \"$LAB_CTL_ACC\", \"port\": 547}], \"br_address\": \"$LAB_BR\",
                 \"timers\": {\"connect\": 2, \"reconnect_min\": 1, \"reconnect_max\": 5}}"
fi

cat > "$out" <<JSON
{
  "softwires": [$softwires
  ],
  "external": {"mtu": 1500, "allow_incoming_icmp": true, "generate_icmp_errors": true,
               "error_rate_limiting": {"packets": 200, "period": 2}},
  "internal": {"mtu": 1500, "allow_incoming_icmp": true, "generate_icmp_errors": true, "hairpinning": true,
               "error_rate_limiting": {"packets": 200, "period": 2}},
  "instances": [
    {"device": "lab", "queue": 0,
     "external": {"ip": "$LAB_AFTR_V4", "mac": "$LAB_MAC_AFTR4", "next_hop": {"mac": "$LAB_MAC_INET"}},
     "internal": {"ip": "$LAB_AFTR_V6", "mac": "$LAB_MAC_AFTR6", "next_hop": {"mac": "$LAB_MAC_ACC"}}}
  ]$leasequery
}
JSON
echo "wrote $out"
