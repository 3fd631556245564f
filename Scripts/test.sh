#!/usr/bin/env bash
# Installs what is missing, builds, runs the conformance suite through the CLI, then `swift test`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"
ensure_swift
ensure_packages libpcap-dev libmnl-dev pkg-config tshark valgrind jq

echo "== build"
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' || true
swift build --build-tests >/dev/null   # fail here if the build failed

if [ -d "$shared/conformance/snabb-lwaftr" ]; then
  echo "== conformance through 'lwaftr check' (untagged and 802.1Q tables)"
  SHARED_DIR=$shared Scripts/conformance.sh .build/debug/lwaftr "$shared/conformance/snabb-lwaftr/cases.tsv"
  SHARED_DIR=$shared Scripts/conformance.sh .build/debug/lwaftr "$shared/conformance/snabb-lwaftr/cases-vlan.tsv"
else
  echo "== conformance vectors not found at $shared (skipping the upstream tables)"
fi
echo "== project vectors (RFC behaviour where the reference deviates)"
Scripts/conformance.sh .build/debug/lwaftr Tests/Vectors/cases.tsv

if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1; then
  echo "== end-to-end: network-namespace lab with 2 B4s through 'lwaftr run' (AF_PACKET)"
  B4S=2 Scripts/demo.sh
else
  echo "== end-to-end lab skipped: needs root and iproute2"
fi

echo "== fuzz smoke run (the long runs are documented in README)"
Scripts/fuzz.sh 50000

echo "== bench scripts (plumbing, fake snabb) and the instructions-per-packet guard (callgrind, release build)"
Scripts/bench/selftest.sh
if command -v valgrind >/dev/null 2>&1; then Scripts/bench/instr-guard.sh; else echo "valgrind missing: guard skipped"; fi

echo "== swift test"
swift test --skip-build 2>&1
