#!/usr/bin/env bash
# Live-path throughput: the lwAFTR on AF_PACKET against the kernel's own 4in6 forwarding (seg6
# End.DX4 decap / encap.red encap standing in for ip6tnl, Scripts/lab/lab-kernel-aftr.sh) on the
# same veth lab, in the same run, alternating rounds.
#
#   Bench/live-throughput.sh [-t SECONDS] [-r ROUNDS] [-s "PAYLOADS"] [-o CSV] [--rates "PPS ..."]
#
# Method: decapsulation direction (B4 → internet). Prebuilt 4in6 frames are injected on the access
# router's port facing the lwAFTR (throughput.sh -m direct) by a sendmmsg sender pinned to CPU 0;
# receive packet steering moves the lwAFTR namespace's receive work to CPU 1, and our lwAFTR's worker
# is pinned to CPU 1 (busy polling): the router — kernel or ours — has CPU 1 to itself. What reaches
# the internet host is counted (and dropped) by nftables there. "2 workers" pins workers to CPUs 0
# and 1 with RPS over both; on a 2-core machine the sender then shares CPU 0 with a worker, so that
# row is a lower bound, not a scaling figure (see the note it prints).
# Two figures per path. Throughput in the RFC 2544 sense: the sender is paced at rising rates
# (--rates) and the highest rate forwarded without loss (≤ 0.01 %) is the path's throughput; the
# router core's busy share at a rate both paths carry says which does the work with less CPU. Then
# overload: the sender unpaced (as fast as it goes), which shows how each path degrades.
# Writes CSV rows: date,rev,payload,path,workers,round,tx_pps,rx_pps,loss_pct,cpu1_busy_pct,offered_pps
# (round "paced" for the rate search, offered_pps empty when unpaced).
set -euo pipefail
source "$(dirname "$0")/live-lib.sh"
secs=5 rounds=3 payloads="18 512" out=Bench/results/live-throughput.csv
rates="200000 300000 400000 500000 550000 600000 650000 700000 800000 900000 1000000"
while [ $# -gt 0 ]; do
  case $1 in
    -t) secs=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    -s) payloads=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
live_cleanup() { Scripts/lab/lab-kernel-aftr.sh down >/dev/null 2>&1 || true; }
live_setup "$out" "date,rev,payload,path,workers,round,tx_pps,rx_pps,loss_pct,cpu1_busy_pct,offered_pps"

measure() {   # payload path workers round -- throughput.sh args...
  local p=$1 path=$2 w=$3 r=$4; shift 4
  local all line cpu1
  all=$(Scripts/lab/throughput.sh -m direct -t "$secs" -s "$p" -f 16 --pin "$@")
  line=$(head -n 1 <<<"$all")
  cpu1=$(sed -n 's/^CPU_BUSY_CPU1=//p' <<<"$all")
  local rx tx loss
  rx=$(sed -n 's/.*rx_pps=\([0-9]*\).*/\1/p' <<<"$line")
  tx=$(sed -n 's/.*tx_pps=\([0-9]*\).*/\1/p' <<<"$line")
  loss=$(sed -n 's/.*loss=\([0-9.]*\)%.*/\1/p' <<<"$line")
  echo "$now,$rev,$p,$path,$w,$r,$tx,$rx,$loss,${cpu1:-},${LWFLOOD_RATE:-}" >> "$out"
  [ "$r" = paced ] || echo "$rx" >> "$work/$path-$w-$p"
  last_loss=$loss last_cpu1=${cpu1:-} last_rx=$rx
  printf '  %-7s %d worker(s) payload %4d B %-6s: tx %8d pps  rx %8d pps  loss %5s%%  cpu1 %5s%%\n' \
    "$path" "$w" "$p" "$r" "$tx" "$rx" "$loss" "${cpu1:-?}"
}


ours="$bin run $work/lwaftr.json --io af-packet --external aftr4 --internal aftr6 --pin-cpu 1"
# Highest loss-free paced rate of one path: search PAYLOAD PATH -- throughput.sh args…
search() {
  local p=$1 path=$2 best=0 r; shift 2
  for r in $rates; do
    export LWFLOOD_RATE=$r
    measure "$p" "$path" 1 paced "$@"
    unset LWFLOOD_RATE
    awk -v l="$last_loss" 'BEGIN { exit !(l <= 0.01) }' || break
    echo "$last_cpu1" > "$work/cpu-$path-$p-$r"
    best=$r
    # A sender that cannot reach the rate any more ends the search (sender-bound from here on).
    awk -v rx="$last_rx" -v r="$r" 'BEGIN { exit !(rx < 0.98 * r) }' && { best=$last_rx; echo "$last_cpu1" > "$work/cpu-$path-$p-$best"; echo "  ($path: the sender tops out at $last_rx pps: a lower bound)"; break; }
  done
  echo "$best" > "$work/best-$path-$p"
}
for p in $payloads; do
  Scripts/lab/lab-kernel-aftr.sh up >/dev/null
  search "$p" kernel --rps 2
  Scripts/lab/lab-kernel-aftr.sh down >/dev/null
  search "$p" lwaftr --rps 2 --aftr "$ours"
done

for p in $payloads; do
  for r in $(seq 1 "$rounds"); do
    Scripts/lab/lab-kernel-aftr.sh up >/dev/null
    measure "$p" kernel 1 "$r" --rps 2
    Scripts/lab/lab-kernel-aftr.sh down >/dev/null
    measure "$p" lwaftr 1 "$r" --rps 2 --aftr "$ours"
    measure "$p" lwaftr 2 "$r" --rps 3 --aftr "$bin run $work/lwaftr.json --io af-packet --external aftr4 --internal aftr6 --workers 2 --pin-cpu 0"
  done
done

echo "== throughput (highest paced rate forwarded with ≤ 0.01 % loss; router core busy share at the"
echo "   highest rate both carried)"
for p in $payloads; do
  k=$(cat "$work/best-kernel-$p") o=$(cat "$work/best-lwaftr-$p")
  both=$(( k < o ? k : o ))
  kc=$(cat "$work/cpu-kernel-$p-$both" 2>/dev/null || echo "?") oc=$(cat "$work/cpu-lwaftr-$p-$both" 2>/dev/null || echo "?")
  awk -v p="$p" -v k="$k" -v o="$o" -v b="$both" -v kc="$kc" -v oc="$oc" 'BEGIN {
    printf "payload %4d B: kernel %8d pps | lwaftr 1 worker %8d pps (%.2fx kernel) | at %d pps cpu1 busy: kernel %s%%, lwaftr %s%%\n",
      p, k, o, (k > 0 ? o / k : 0), b, kc, oc }'
done
echo "== overload: medians of unpaced runs (rx packets/s reaching the internet host)"
for p in $payloads; do
  k=$(median "$work/kernel-1-$p") o=$(median "$work/lwaftr-1-$p") t=$(median "$work/lwaftr-2-$p")
  awk -v p="$p" -v k="$k" -v o="$o" -v t="$t" 'BEGIN {
    printf "payload %4d B: kernel %8d pps | lwaftr 1 worker %8d pps (%.2fx kernel) | 2 workers %8d pps (%.2fx 1 worker)\n",
      p, k, o, (k > 0 ? o / k : 0), t, (o > 0 ? t / o : 0) }'
done
echo "cores: $(nproc) (with 2 cores the 2-worker row shares CPU 0 with the sender; not a scaling figure)"
echo "rows appended to $out"
