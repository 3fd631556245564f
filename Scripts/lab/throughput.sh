#!/usr/bin/env bash
# Measures lwAFTR forwarding in the lab: UDP from the B4 side to the internet host for a fixed time;
# reports packets/s sent and received (counted by nftables in the internet host).
#
#   throughput.sh [-m softwire|lan] [-t SECONDS] [-s PAYLOAD] [-f FLOWS] [-b B4S] [--pin]
#                 [--rps MASK] [--aftr "COMMAND"] [--warmup SECONDS]
#
#   -m MODE      softwire (default), direct or lan.
#                softwire: prebuilt 4in6 frames (outer source = the B4's softwire address,
#                inner source = its leased IPv4 and FLOWS ports of its range) sent with sendmmsg on
#                an AF_PACKET socket on the B4's uplink, so the B4 costs next to nothing and the
#                access router + lwAFTR are what is measured.
#                direct: the same prebuilt 4in6 frames, injected on the access router's port towards
#                the lwAFTR (acc0), so no kernel forwarding runs before the lwAFTR: the router is what
#                is measured (use with --pin, --rps 2 and a pinned lwAFTR on CPU 1).
#                lan: UDP sockets on the B4's LAN host, through the B4's NAT and seg6 encapsulation
#                (end to end; the B4's own path is then the bottleneck).
#   -t SECONDS   sending time (default 5)
#   -s PAYLOAD   UDP payload bytes (default 18: 46-byte inner IPv4 packets)
#   -f FLOWS     UDP source ports per sender (default 8; spreads the load across fanout members)
#   -b B4S       which B4s send: "1", "1 2", or "all" (default 1)
#   --pin        pin the senders to CPU 0
#   --rps MASK   hex CPU mask for receive packet steering on the lwAFTR's access interface (aftr6),
#                e.g. 2: the lwAFTR namespace's receive work leaves the sender's core
#   --aftr CMD   start CMD inside the lwAFTR namespace first (our lwAFTR); it is stopped at the end.
#                Without it, whatever already forwards in the lwAFTR namespace is measured (e.g. after
#                lab-kernel-aftr.sh up).
#   --warmup S   seconds to wait after starting CMD before measuring (default 2)
#   --rate PPS   pace every sender to PPS packets/s (default: as fast as it can)
#
# Prints "throughput: rx_pps=... tx_pps=... loss=...%" and KEY=VALUE lines. Needs the lab (lab-up.sh).
set -euo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
lab_need_root

mode=softwire secs=5 size=18 flows=8 b4s=1 pin=0 rps="" aftr_cmd="" warmup=2
while [ $# -gt 0 ]; do
  case $1 in
    -m) mode=$2; shift 2 ;;
    -t) secs=$2; shift 2 ;;
    -s) size=$2; shift 2 ;;
    -f) flows=$2; shift 2 ;;
    -b) b4s=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    --rps) rps=$2; shift 2 ;;
    --aftr) aftr_cmd=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --rate) export LWFLOOD_RATE=$2; shift 2 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ "$secs" -lt 1 ] || [ "$secs" -gt 120 ]; then echo "-t must be 1..120" >&2; exit 2; fi
case $mode in softwire|direct|lan) ;; *) echo "-m must be softwire, direct or lan" >&2; exit 2 ;; esac
ip netns list | grep -q "^$NS_INET\b" || { echo "lab not up (run lab-up.sh)" >&2; exit 1; }
[ "$b4s" = all ] && b4s=$(seq 1 "$(lab_b4_count)")

port=9
work=$(mktemp -d)
aftr_pid=""
old_rps=""
cleanup() {
  if [ -n "$aftr_pid" ]; then
    kill "$aftr_pid" 2>/dev/null || true
    wait "$aftr_pid" 2>/dev/null || true
  fi
  if [ -n "$old_rps" ]; then
    nsx "$NS_AFTR" sh -c "echo $old_rps > /sys/class/net/aftr6/queues/rx-0/rps_cpus" 2>/dev/null || true
  fi
  nsx "$NS_INET" nft delete table ip lwtput 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

cc=$(command -v cc || command -v gcc || command -v clang || echo /opt/swift/usr/bin/clang)
"$cc" -O2 -o "$work/udpflood" "$(dirname "$0")/udpflood.c"

mac_of() { ip -n "$1" -j link show "$2" | grep -o '"address": *"[0-9a-f:]*"' | head -1 | grep -o '[0-9a-f:]\{17\}'; }

# The namespace the sender of B4 $1 runs in.
sender_ns() { if [ "$mode" = direct ]; then echo "$NS_ACC"; else ns_b4 "$1"; fi; }
# The sender command for B4 $1, sending for $2 seconds with $3 flows.
sender() {
  local i=$1 t=$2 f=$3
  if [ "$mode" = lan ]; then
    echo "$work/udpflood udp $LAB_INET_ADDR $port $t $f $size"
  else
    local line addr v4 first
    line=$(awk -v i="$i" '$1 == i' "$LAB_STATE/softwires")
    [ -n "$line" ] || { echo "B4 $i has no softwire (lab-b4-lease.sh)" >&2; exit 1; }
    read -r _ addr v4 first _ <<<"$line"
    if [ "$mode" = direct ]; then
      echo "$work/udpflood softwire acc0 $(mac_of "$NS_AFTR" aftr6) $(mac_of "$NS_ACC" acc0)" \
        "$addr $LAB_BR $v4 $LAB_INET_ADDR $port $first $t $f $size"
      return
    fi
    echo "$work/udpflood softwire up0 $(mac_of "$NS_ACC" "b4-$i") $(mac_of "$(ns_b4 "$i")" up0)" \
      "$addr $LAB_BR $v4 $LAB_INET_ADDR $port $first $t $f $size"
  fi
}

# Count what reaches the internet host (and drop it there: no ICMP port unreachable back).
nsx "$NS_INET" nft -f - <<EOF
table ip lwtput {
  counter rx { }
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    udp dport $port counter name rx drop
  }
}
EOF

if [ -n "$rps" ]; then
  old_rps=$(nsx "$NS_AFTR" cat /sys/class/net/aftr6/queues/rx-0/rps_cpus)
  nsx "$NS_AFTR" sh -c "echo $rps > /sys/class/net/aftr6/queues/rx-0/rps_cpus"
fi

if [ -n "$aftr_cmd" ]; then
  ip netns exec "$NS_AFTR" sh -c "exec $aftr_cmd" > "$work/aftr.log" 2>&1 &
  aftr_pid=$!
  sleep "$warmup"
  if ! kill -0 "$aftr_pid" 2>/dev/null; then
    echo "the lwAFTR command exited early:" >&2
    cat "$work/aftr.log" >&2
    exit 1
  fi
fi

# A short burst first (ARP/NDP resolution on the way), then reset the counter.
for i in $b4s; do
  # shellcheck disable=SC2046
  nsx "$(sender_ns "$i")" $(sender "$i" 0.1 1) >/dev/null
done
sleep 0.5
nsx "$NS_INET" nft reset counter ip lwtput rx >/dev/null

pin_cmd=()
[ "$pin" -eq 1 ] && command -v taskset >/dev/null && pin_cmd=(taskset -c 0)
cpu_sample() { awk '/^cpu[0-9]/ { busy = $2 + $3 + $4 + $7 + $8; print $1, busy, busy + $5 + $6 }' /proc/stat; }
cpu_sample > "$work/cpu-before"
pids=()
for i in $b4s; do
  # shellcheck disable=SC2046
  nsx "$(sender_ns "$i")" "${pin_cmd[@]}" $(sender "$i" "$secs" "$flows") > "$work/sent-$i" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cpu_sample > "$work/cpu-after"
sleep 0.5   # let queues drain

rx=$(nsx "$NS_INET" nft -j list counter ip lwtput rx | grep -o '"packets": *[0-9]*' | grep -o '[0-9]*$')
tx=0 dur=0
for i in $b4s; do
  read -r s d _ < "$work/sent-$i"
  tx=$((tx + s))
  dur=$d
done
awk -v rx="$rx" -v tx="$tx" -v d="$dur" -v m="$mode" 'BEGIN {
  rxp = rx / d; txp = tx / d; loss = tx > 0 ? 100 * (tx - rx) / tx : 0
  printf "throughput (%s): rx_pps=%.0f tx_pps=%.0f loss=%.1f%% (rx=%d tx=%d in %.2fs)\n", m, rxp, txp, loss, rx, tx, d
  printf "RX_PPS=%.0f\nTX_PPS=%.0f\nRX_PACKETS=%d\nTX_PACKETS=%d\n", rxp, txp, rx, tx
}'
# Busy share of every CPU while the senders ran (user + system + irq + softirq).
awk 'NR == FNR { b[$1] = $2; t[$1] = $3; next }
     { d = $3 - t[$1]; printf "CPU_BUSY_%s=%.1f\n", toupper($1), (d > 0 ? 100 * ($2 - b[$1]) / d : 0) }' "$work/cpu-before" "$work/cpu-after"
