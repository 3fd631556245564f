#!/usr/bin/env bash
# Instruction floor of the fast paths: builds Bench/instr-floor/Floor.swift (the smallest
# encapsulation and decapsulation loops that still do every per-packet check and rewrite; see the
# file's comment) with `swiftc -O` and counts, with callgrind, the instructions per packet of each
# loop. A lower bound for `LwAFTREngine.process` on this compiler and CPU (Scripts/bench/instr-guard.sh
# measures the engine itself).
#
#   Scripts/bench/instr-floor.sh      # prints "encap N" and "decap N" (instructions per packet)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$root"
command -v valgrind >/dev/null 2>&1 || ensure_packages valgrind
ensure_swift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swiftc -O -swift-version 6 Bench/instr-floor/Floor.swift -o "$work/floor"
"$work/floor"
packets=$("$work/floor" | awk '{ print $2 }')
for fn in encapsulate decapsulate; do
  valgrind --tool=callgrind --toggle-collect="*11${fn}*" --callgrind-out-file="$work/cg.$fn" \
    "$work/floor" >/dev/null 2>"$work/log.$fn" || { cat "$work/log.$fn" >&2; exit 1; }
  ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$work/cg.$fn")
  awk -v f="${fn%sulate}" -v ir="$ir" -v n="$packets" 'BEGIN { printf "%s\t%.1f instructions/packet (%d packets)\n", f, ir / n, n }'
done
