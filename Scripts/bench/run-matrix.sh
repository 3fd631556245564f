#!/usr/bin/env bash
# Benchmark matrix: `lwaftr bench` (release build, in-memory replay, one worker) over frame sizes ×
# binding-table sizes × active flows; writes Bench/results/matrix.csv, then the plots and table.
#
#   Scripts/bench/run-matrix.sh [--quick | --full] [--duration S] [--repeat R] [--instr] [--out CSV] [--no-plot]
#
# Default matrix: every size at 1 M bindings × 20 k flows; 550 B at 1 M bindings × 1 / 2 k / 1 M
# flows; 550 B at 1 k and 10 M bindings × 20 k flows. --quick: a CI-sized subset (1 k bindings,
# 2 k flows, 64/550/1500 B, 1 s). --full: every size × 1 k/1 M/10 M bindings × 1/2 k/20 k/1 M flows.
#
# Every point is run three times: IPv4 side alone (encapsulation), IPv6 side alone
# (decapsulation), and both at once (the engine's usual mix; the per-direction figures of that run
# share the core). Rows: direction v4_to_v6 | v6_to_v4 | total, mode alone | shared. mpps/gbps are
# per wall-clock second; mpps_cpu/gbps_cpu per CPU second of the worker thread (what a loaded,
# shared machine disturbs least: descheduled time does not count). --repeat R runs every measurement
# R times and keeps the run with the median Mpps per CPU second. --instr also counts instructions
# per packet of `LwAFTREngine.process` (callgrind, 100 k packets, as Scripts/bench/instr-guard.sh)
# for every run of up to 1 M bindings (loading 10 M under valgrind takes too long).
#
# Environment: BENCH_DIR trace cache (default /tmp/lwaftr-bench; never inside the repository),
# LWAFTR binary (default: build release), MACHINE_NOTE free text for the CSV, SNABB path to a snabb
# binary: also runs `$SNABB lwaftr bench -D S full.conf IN4 IN6` on the same traces and prints the
# ratio (up to 1 M bindings; the inline configuration of 10 M softwires is too large).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$root"

mode=default duration=3 repeat=1 instr=0 out=Bench/results/matrix.csv plot=1
while [ $# -gt 0 ]; do
  case $1 in
    --quick) mode=quick; duration=1 ;;
    --full) mode=full ;;
    --duration) duration=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --instr) instr=1 ;;
    --out) out=$2; shift ;;
    --no-plot) plot=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

bench_dir=${BENCH_DIR:-/tmp/lwaftr-bench}
command -v jq >/dev/null 2>&1 || ensure_packages jq
if [ -z "${LWAFTR:-}" ]; then
  ensure_swift
  echo "== release build" >&2
  swift build -c release --product lwaftr 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' >&2 || true
  LWAFTR=$root/.build/release/lwaftr
fi
[ -x "$LWAFTR" ] || { echo "no lwaftr binary at $LWAFTR" >&2; exit 1; }

sizes_all="64 128 256 550 1046 1460 1500 imix"
points=()
case $mode in
  quick)
    for s in 64 550 1500; do points+=("$s 1000 2000"); done ;;
  full)
    for b in 1000 1000000 10000000; do for f in 1 2000 20000 1000000; do
      for s in $sizes_all; do points+=("$s $b $f"); done; done; done ;;
  default)
    for s in $sizes_all; do points+=("$s 1000000 20000"); done
    for f in 1 2000 1000000; do points+=("550 1000000 $f"); done
    for b in 1000 10000000; do points+=("550 $b 20000"); done ;;
esac

rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || rev="$rev-dirty"
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
note=${MACHINE_NOTE:-"$(nproc) cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) load $(cut -d' ' -f1 /proc/loadavg)"}
note=${note//,/;}
mkdir -p "$(dirname "$out")"
echo "size,bindings,flows,direction,mode,mpps,gbps,mpps_cpu,gbps_cpu,dropped,instr_per_packet,date,git_rev,machine,impl" >"$out"

row() {  # size bindings flows direction mode mpps gbps mpps_cpu gbps_cpu dropped impl [instr_per_packet]
  printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" \
    "${12:-}" "$date" "$rev" "$note" "${11}" >>"$out"
}

# Instructions per input packet inside LwAFTREngine.process for `lwaftr bench ARGS` (empty when
# not measured).
stripped= sym=
if [ "$instr" = 1 ]; then
  command -v valgrind >/dev/null 2>&1 || ensure_packages valgrind
  stripped=$(mktemp)
  trap 'rm -f "$stripped" "$stripped".cg' EXIT
  cp "$LWAFTR" "$stripped" && chmod 755 "$stripped" && strip --strip-debug "$stripped"  # valgrind 3.19 cannot read Swift's DWARF 5
  sym=$(nm "$stripped" | awk '$2 ~ /^[tT]$/ && $3 ~ /12LwAFTREngineC7process3in43in64out44out63nowy.*F$/ && !s { s = $3 } END { print s }')
fi
instr_per_packet() {
  [ -n "$sym" ] || return 0
  local j
  j=$(valgrind --tool=callgrind --toggle-collect="$sym" --callgrind-out-file="$stripped.cg" \
        "$stripped" bench --json --seed "${SEED:-1}" --packets 100000 "$@" 2>/dev/null) || return 0
  awk -v n="$(jq '.ipv4_in_packets + .ipv6_in_packets' <<<"$j")" \
    '/^(summary|totals):/ { printf "%.1f", $2 / n; exit }' "$stripped.cg"
}

# Figures of one direction from a bench JSON: "mpps gbps mpps_cpu gbps_cpu" (3 decimals).
figs() {  # json suffix (v4_to_v6 | v6_to_v4 | total)
  jq -r --arg d "$2" 'def r: . * 1000 | round / 1000;
    (if $d == "total" then [.mpps_total, .gbps_v4_to_v6 + .gbps_v6_to_v4, .mpps_per_cpu_total]
     else [.["mpps_" + $d], .["gbps_" + $d], .["mpps_per_cpu_" + $d]] end) as [$m, $g, $c]
    | [$m, $g, $c, (if $m > 0 then $g * $c / $m else 0 end)] | map(r) | join(" ")' <<<"$1"
}

# Average Decap./Encap. MPPS over the rows of Snabb's bench CSV (log lines before its header are
# ignored; the first row is skipped as warm-up when there are more): prints "ENCAP DECAP".
snabb_rates() {
  awk -F, '/Decap\. MPPS/ { for (i = 1; i <= NF; i++) { if ($i ~ /^Decap\. MPPS/) d = i; if ($i ~ /^Encap\. MPPS/) e = i }; next }
           d && e && $1 ~ /^[0-9.]+$/ { n++; de[n] = $d; en[n] = $e }
           END { s = (n > 1) ? 2 : 1; c = 0; for (i = s; i <= n; i++) { sd += de[i]; se += en[i]; c++ }
                 if (c == 0) exit 1; printf "%.3f %.3f\n", se / c, sd / c }'
}

# Runs `lwaftr bench --json ARGS` $repeat times; prints the JSON of the median run (by Mpps per CPU s).
bench_json() {
  local i runs=()
  for ((i = 0; i < repeat; i++)); do runs+=("$("$LWAFTR" "$@")"); done
  printf '%s\n' "${runs[@]}" | jq -s -c 'sort_by(.mpps_per_cpu_total) | .[(length - 1) / 2 | floor]'
}

for p in "${points[@]}"; do
  read -r size bindings flows <<<"$p"
  dir=$bench_dir/b$bindings
  full=()
  if [ -n "${SNABB:-}" ] && [ "$bindings" -le 1000000 ]; then full=(--full-conf); fi
  "$LWAFTR" bench gen --bindings "$bindings" --flows "$flows" --sizes "$size" --out "$dir" "${full[@]}" >/dev/null
  if [ "$size" = imix ]; then tag=imix; else tag=$(printf '%04d' "$size"); fi
  in4=$dir/f$flows/ipv4-$tag.pcap in6=$dir/f$flows/ipv6-$tag.pcap
  common=(bench --json --duration "$duration" --snapshot "$dir/bindings.snap" "$dir/lwaftr.conf")
  e=$(bench_json "${common[@]}" "$in4" -)
  d=$(bench_json "${common[@]}" - "$in6")
  b=$(bench_json "${common[@]}" "$in4" "$in6")
  j() { jq -r "$2" <<<"$1"; }
  ie= id= ib=
  if [ "$instr" = 1 ] && [ "$bindings" -le 1000000 ]; then
    snap=(--snapshot "$dir/bindings.snap" "$dir/lwaftr.conf")
    ie=$(instr_per_packet "${snap[@]}" "$in4" -)
    id=$(instr_per_packet "${snap[@]}" - "$in6")
    ib=$(instr_per_packet "${snap[@]}" "$in4" "$in6")
  fi
  # shellcheck disable=SC2046
  {
    row "$size" "$bindings" "$flows" v4_to_v6 alone $(figs "$e" v4_to_v6) "$(j "$e" .dropped)" lwaftr "$ie"
    row "$size" "$bindings" "$flows" v6_to_v4 alone $(figs "$d" v6_to_v4) "$(j "$d" .dropped)" lwaftr "$id"
    row "$size" "$bindings" "$flows" v4_to_v6 shared $(figs "$b" v4_to_v6) "$(j "$b" .dropped)" lwaftr
    row "$size" "$bindings" "$flows" v6_to_v4 shared $(figs "$b" v6_to_v4) "$(j "$b" .dropped)" lwaftr
    row "$size" "$bindings" "$flows" total shared $(figs "$b" total) "$(j "$b" .dropped)" lwaftr "$ib"
  }
  printf '%-5s %8s bindings %8s flows: v4→v6 %6.3f Mpps alone, v6→v4 %6.3f alone, both %6.3f (per CPU s: %6.3f %6.3f %6.3f) dropped %s\n' \
    "$size" "$bindings" "$flows" "$(j "$e" .mpps_v4_to_v6)" "$(j "$d" .mpps_v6_to_v4)" "$(j "$b" .mpps_total)" \
    "$(j "$e" .mpps_per_cpu_v4_to_v6)" "$(j "$d" .mpps_per_cpu_v6_to_v4)" "$(j "$b" .mpps_per_cpu_total)" "$(j "$b" .dropped)"
  [ -n "$ie$id$ib" ] && echo "      instructions/packet in process: v4→v6 ${ie:-–}, v6→v4 ${id:-–}, both ${ib:-–}"

  if [ ${#full[@]} -gt 0 ]; then
    if s=$("$SNABB" lwaftr bench -D "$duration" "$dir/full.conf" "$in4" "$in6" 2>/dev/null | snabb_rates); then
      read -r se sd <<<"$s"
      row "$size" "$bindings" "$flows" v4_to_v6 shared "$se" "" "" "" "" snabb
      row "$size" "$bindings" "$flows" v6_to_v4 shared "$sd" "" "" "" "" snabb
      awk -v oe="$(j "$b" .mpps_v4_to_v6)" -v od="$(j "$b" .mpps_v6_to_v4)" -v se="$se" -v sd="$sd" \
        'BEGIN { printf "      snabb (same traces, both at once): v4→v6 %.3f Mpps (ours/snabb %.2f), v6→v4 %.3f Mpps (ours/snabb %.2f)\n",
                 se, (se > 0 ? oe / se : 0), sd, (sd > 0 ? od / sd : 0) }'
    else
      echo "      snabb: no rates parsed from '$SNABB lwaftr bench' output" >&2
    fi
  fi
done
echo "wrote $out"

if [ "$plot" = 1 ]; then
  /usr/bin/python3 -c 'import matplotlib' 2>/dev/null || ensure_packages python3-matplotlib
  readme=()
  [ "$out" = Bench/results/matrix.csv ] && readme=(--readme README.md)
  /usr/bin/python3 Scripts/bench/plot.py --csv "$out" --outdir "$(dirname "$out")" "${readme[@]}" || echo "plot failed" >&2
fi
