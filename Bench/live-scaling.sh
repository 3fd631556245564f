#!/usr/bin/env bash
# Worker scaling on the AF_PACKET path, measured by ring drain (for machines too small to run a
# sender beside two pinned workers).
#
#   Bench/live-scaling.sh [-n FRAMES] [-r ROUNDS] [-s PAYLOAD] [-o CSV]
#
# Method, per worker count W in 1 and 2: the lwAFTR runs with W workers pinned to CPUs 0..W-1 and
# large receive rings; it is stopped (SIGSTOP) while a sendmmsg sender injects FRAMES prebuilt 4in6
# frames (256 flows, so PACKET_FANOUT spreads them) on the access router's port facing it — the
# kernel keeps filling the rings of the stopped process. Then the sender is gone, the lwAFTR is
# continued (SIGCONT), and a poller in the internet host's namespace samples its interface's
# rx_packets every millisecond: forwarding rate = frames forwarded / (last arrival − first arrival).
# Nothing else competes for the CPUs while the rings drain, so the rate is the workers' own
# forwarding capacity (ring read, engine, sendmmsg, and the veth delivery the transmit costs).
# Writes CSV rows: date,rev,payload,workers,round,frames_sent,frames_forwarded,seconds,mpps
set -euo pipefail
source "$(dirname "$0")/live-lib.sh"
frames=400000 rounds=3 payload=18 out=Bench/results/live-scaling.csv
while [ $# -gt 0 ]; do
  case $1 in
    -n) frames=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    -s) payload=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
aftr_pid=""
live_cleanup() {
  [ -n "$aftr_pid" ] && { kill -CONT "$aftr_pid" 2>/dev/null; kill "$aftr_pid" 2>/dev/null; wait "$aftr_pid" 2>/dev/null; }
  true
}
live_setup "$out" "date,rev,payload,workers,round,frames_sent,frames_forwarded,seconds,mpps"

# The sender: the lab's frame builder in its softwire mode.
cc=$(command -v cc || command -v gcc || command -v clang)
"$cc" -O2 -o "$work/udpflood" Scripts/lab/udpflood.c
mac_of() { ip -n "$1" -j link show "$2" | grep -o '"address": *"[0-9a-f:]*"' | head -1 | grep -o '[0-9a-f:]\{17\}'; }
read -r _ addr v4 first _ < "$LAB_STATE/softwires"
send() {   # SECONDS — sends for SECONDS at full speed; prints "sent seconds errors"
  nsx "$NS_ACC" taskset -c 0 "$work/udpflood" softwire acc0 "$(mac_of "$NS_AFTR" aftr6)" "$(mac_of "$NS_ACC" acc0)" \
    "$addr" "$LAB_BR" "$v4" "$LAB_INET_ADDR" 9 "$first" "$1" 256 "$payload"
}

cat > "$work/poll.py" <<'PY'
import sys, time
path = "/sys/class/net/inet0/statistics/rx_packets"
def read():
    with open(path) as f: return int(f.read())
base = read(); first = None; last = None; lastv = base
open(sys.argv[1], "w").close()          # ready
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    v = read(); t = time.monotonic()
    if v != lastv:
        if first is None: first = t; firstv = lastv
        last = t; lastv = v
    elif last is not None and t - last > 0.3:
        break
    time.sleep(0.001)
if first is None: print("0 0 0"); sys.exit()
print(lastv - base, lastv - firstv, f"{last - first:.6f}")
PY

# The kernel retires a TPACKET_V3 block after its 1 ms timeout even when it is not full, so a
# stopped reader's ring holds about (blocks × 1 ms) of traffic: one 256 KiB block per ~1000 frames
# (the sender makes about 1–1.5 Mpps), with room to spare.
blocks=$(( frames / 500 + 64 ))
ring_args=${RING_ARGS-"--ring-block-kb 256 --ring-blocks $blocks"}
for r in $(seq 1 "$rounds"); do
  for w in 1 2; do
    nsx "$NS_INET" nft -f - <<EOF
table ip lwscale {
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    udp dport 9 drop
  }
}
EOF
    ip netns exec "$NS_AFTR" "$bin" run "$work/lwaftr.json" --io af-packet --external aftr4 --internal aftr6 \
      --workers "$w" --pin-cpu 0 $ring_args > "$work/aftr.log" 2>&1 &
    aftr_pid=$!
    sleep 2
    kill -0 "$aftr_pid" 2>/dev/null || { echo "lwaftr exited:" >&2; cat "$work/aftr.log" >&2; exit 1; }
    send 0.2 >/dev/null          # neighbours resolved, rings warm
    sleep 0.5
    kill -STOP "$aftr_pid"
    rm -f "$work/ready"
    nsx "$NS_INET" python3 "$work/poll.py" "$work/ready" > "$work/poll.out" &
    poller=$!
    while [ ! -f "$work/ready" ]; do sleep 0.05; done
    # Send FRAMES (roughly: the sender runs for the time they take, then stops).
    sent=0
    while [ "$sent" -lt "$frames" ]; do
      read -r s _ _ < <(send 0.05)
      sent=$((sent + s))
    done
    sleep 0.2
    kill -CONT "$aftr_pid"
    wait "$poller"
    read -r got drained secs < "$work/poll.out"
    kill "$aftr_pid"; wait "$aftr_pid" 2>/dev/null || true; aftr_pid=""
    nsx "$NS_INET" nft delete table ip lwscale 2>/dev/null || true
    mpps=$(awk -v d="$drained" -v s="$secs" 'BEGIN { printf "%.4f", (s > 0 ? d / s / 1e6 : 0) }')
    echo "$now,$rev,$payload,$w,$r,$sent,$got,$secs,$mpps" >> "$out"
    echo "$mpps" >> "$work/w$w"
    printf '  %d worker(s) round %d: %d frames queued, %d forwarded, drain %.3f s → %s Mpps\n' "$w" "$r" "$sent" "$got" "$secs" "$mpps"
  done
done
m1=$(median "$work/w1") m2=$(median "$work/w2")
awk -v a="$m1" -v b="$m2" 'BEGIN { printf "median drain rate: 1 worker %.3f Mpps, 2 workers %.3f Mpps: %.2fx\n", a, b, (a > 0 ? b / a : 0) }'
echo "rows appended to $out"
