#!/usr/bin/env bash
# Regression guard: instructions per packet of `LwAFTREngine.process` (inclusive), counted by
# callgrind on a CI-sized in-memory replay, against the committed baseline
# Bench/results/instr-baseline.tsv. Fails when a run costs more than 10 % above its baseline.
#
#   Scripts/bench/instr-guard.sh            # check
#   Scripts/bench/instr-guard.sh --update   # re-record the baseline (then commit the file)
#
# Runs (1 k bindings, 2 k flows, 550-byte frames, PACKETS input packets each, default 100 k):
# both directions at once, encapsulation only (IPv4 side), decapsulation only (IPv6 side).
# Instructions are exact and repeatable (wall-clock time is not), so the threshold can be tight.
# Environment: BENCH_DIR trace cache (default /tmp/lwaftr-bench), LWAFTR binary (default: build
# release), PACKETS, THRESHOLD (percent, default 10).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$root"

update=0
[ "${1:-}" = --update ] && update=1
packets=${PACKETS:-100000}
threshold=${THRESHOLD:-10}
baseline=Bench/results/instr-baseline.tsv
bench_dir=${BENCH_DIR:-/tmp/lwaftr-bench}

command -v valgrind >/dev/null 2>&1 || ensure_packages valgrind
command -v jq >/dev/null 2>&1 || ensure_packages jq
if [ -z "${LWAFTR:-}" ]; then
  ensure_swift
  echo "== release build"
  swift build -c release --product lwaftr 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
  LWAFTR=$root/.build/release/lwaftr
fi
[ -x "$LWAFTR" ] || { echo "no lwaftr binary at $LWAFTR" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read Swift's DWARF 5: a copy without debug info keeps the symbol table.
cp "$LWAFTR" "$work/lwaftr"
strip --strip-debug "$work/lwaftr"
sym=$(nm "$work/lwaftr" | awk '$2 ~ /^[tT]$/ && $3 ~ /12LwAFTREngineC7process3in43in64out44out63nowy.*F$/ && !s { s = $3 } END { print s }')
[ -n "$sym" ] || { echo "LwAFTREngine.process not found in the symbol table (inlined?)" >&2; exit 1; }

dir=$bench_dir/b1000
"$LWAFTR" bench gen --bindings 1000 --flows 2000 --sizes 550 --out "$dir" >/dev/null
in4=$dir/f2000/ipv4-0550.pcap in6=$dir/f2000/ipv6-0550.pcap

measure() {  # name in4 in6 -> prints "name<TAB>instr_per_packet<TAB>packets"
  local out=$work/cg.$1
  valgrind --tool=callgrind --toggle-collect="$sym" --callgrind-out-file="$out" \
    "$work/lwaftr" bench --json --seed "${SEED:-1}" --packets "$packets" --snapshot "$dir/bindings.snap" "$dir/lwaftr.conf" "$2" "$3" \
    >"$work/json.$1" 2>"$work/log.$1" || { cat "$work/log.$1" >&2; return 1; }
  local ir n
  ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
  n=$(jq '.ipv4_in_packets + .ipv6_in_packets' "$work/json.$1")
  awk -v name="$1" -v ir="$ir" -v n="$n" 'BEGIN { printf "%s\t%.1f\t%d\n", name, ir / n, n }'
}

{
  measure both "$in4" "$in6"
  measure encap "$in4" -
  measure decap - "$in6"
} >"$work/now.tsv"

if [ "$update" = 1 ]; then
  {
    echo "# Instructions per input packet, LwAFTREngine.process inclusive (callgrind), written by"
    echo "# Scripts/bench/instr-guard.sh --update at $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo "# 1 k bindings, 2 k flows, 550-byte frames. Columns: run, instructions/packet, packets."
    cat "$work/now.tsv"
  } >"$baseline"
  echo "baseline written to $baseline:"
  grep -v '^#' "$baseline"
  exit 0
fi

[ -f "$baseline" ] || { echo "no baseline at $baseline: run $0 --update" >&2; exit 1; }
awk -F'\t' -v t="$threshold" '
  FNR == NR { if ($0 !~ /^#/ && NF >= 2) base[$1] = $2; next }
  {
    b = base[$1]
    if (b == "") { printf "%-6s %8.1f instructions/packet (no baseline)\n", $1, $2; next }
    change = ($2 - b) / b * 100
    verdict = change > t ? "FAIL" : "ok"
    if (change > t) failed = 1
    printf "%-6s %8.1f instructions/packet, baseline %8.1f (%+.1f %%) %s\n", $1, $2, b, change, verdict
  }
  END { if (failed) { printf "instructions per packet rose more than %s %% over the baseline\n", t; exit 1 } }
' "$baseline" "$work/now.tsv"
