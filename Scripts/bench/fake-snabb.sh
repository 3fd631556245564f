#!/usr/bin/env bash
# Test double for `snabb`: answers `fake-snabb.sh lwaftr bench [-D S] CONF IN4 IN6` with the CSV
# that `snabb lwaftr bench` prints (header, then one line per second), without running anything.
# Rates: FAKE_DECAP_MPPS / FAKE_ENCAP_MPPS (defaults 2.0 / 2.5). Used to test the SNABB=
# plumbing of run-matrix.sh: SNABB=Scripts/bench/fake-snabb.sh Scripts/bench/run-matrix.sh --quick
set -euo pipefail
[ "${1:-}" = lwaftr ] && [ "${2:-}" = bench ] || { echo "usage: $0 lwaftr bench [-D S] CONF IN4 IN6" >&2; exit 1; }
shift 2
duration=5
while [ $# -gt 3 ]; do
  case $1 in
    -D|--duration) duration=$2; shift 2 ;;
    -b|--bench-file|-n|--name|--cpu) shift 2 ;;
    *) shift ;;
  esac
done
[ $# -eq 3 ] || { echo "fake-snabb: expected CONF IN4 IN6" >&2; exit 1; }
for f in "$@"; do [ -r "$f" ] || { echo "fake-snabb: cannot read $f" >&2; exit 1; }; done
grep -q 'softwire {' "$1" || { echo "fake-snabb: $1 has no softwires" >&2; exit 1; }
d=${FAKE_DECAP_MPPS:-2.0} e=${FAKE_ENCAP_MPPS:-2.5}
echo "loading compiled configuration from ${1%.conf}.o"   # Snabb logs before its CSV
echo "Time (s),Decap. MPPS,Decap. Gbps,Encap. MPPS,Encap. Gbps"
for ((i = 1; i <= ${duration%.*} || i == 1; i++)); do
  awk -v t="$i" -v d="$d" -v e="$e" 'BEGIN { printf "%.6f,%.6f,%.6f,%.6f,%.6f\n", t, d, d * 4.08, e, e * 4.72 }'
done
