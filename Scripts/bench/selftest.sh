#!/usr/bin/env bash
# Plumbing test of the benchmark scripts (not a measurement): the quick matrix with a short
# duration through the given binary (default: debug build), with the fake snabb beside it; checks
# that the CSV holds lwaftr and snabb rows with no drops and that the Markdown table is written.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$root"
command -v jq >/dev/null 2>&1 || ensure_packages jq
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SNABB=Scripts/bench/fake-snabb.sh LWAFTR=${LWAFTR:-$root/.build/debug/lwaftr} BENCH_DIR=${BENCH_DIR:-/tmp/lwaftr-bench} \
  Scripts/bench/run-matrix.sh --quick --duration 0.3 --out "$out/matrix.csv" >"$out/log" 2>&1 || { cat "$out/log"; exit 1; }
lw=$(grep -c ',lwaftr$' "$out/matrix.csv"); sn=$(grep -c ',snabb$' "$out/matrix.csv")
drops=$(awk -F, '$15 == "lwaftr" && $10 != 0' "$out/matrix.csv" | wc -l)
[ "$lw" -eq 15 ] && [ "$sn" -eq 6 ] && [ "$drops" -eq 0 ] && grep -q 'ours/snabb' "$out/log" && [ -s "$out/README-table.md" ] \
  || { echo "bench selftest failed: $lw lwaftr rows, $sn snabb rows, $drops rows with drops"; cat "$out/log"; exit 1; }
echo "bench scripts ok: $lw lwaftr rows, $sn snabb rows, ratio printed, table written"
