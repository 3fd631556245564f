#!/usr/bin/env bash
# Runs every case of the Snabb lwAFTR conformance table through `lwaftr check`.
# Usage: Scripts/conformance.sh [LWAFTR_BINARY] [cases.tsv]
# Prints one line per failing case and a summary; exits non-zero if a case fails that is not
# listed in Tests/ConformanceTests/known-failures.tsv.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/.build/debug/lwaftr}
shared=${SHARED_DIR:-$here/../shared}
table=${2:-$shared/conformance/snabb-lwaftr/cases.tsv}
data=$(dirname "$table")/data

counters_dir=$(dirname "$table")/data
known=$here/Tests/ConformanceTests/known-failures.tsv
pass=0; fail=0; unexpected=0
while IFS=$'\t' read -r name conf in4 in6 out4 out6 counters; do
  [ "$name" = "name" ] && continue
  p() { if [ "$1" = "-" ]; then echo "$counters_dir/empty.pcap"; elif [ -f "$data/$1" ]; then echo "$data/$1"; else echo "$counters_dir/$1"; fi; }
  c="$data/$conf"; [ -f "$c" ] || c="$counters_dir/$conf"
  if out=$("$bin" check --counters "$counters_dir/$counters" "$c" "$(p "$in4")" "$(p "$in6")" "$(p "$out4")" "$(p "$out6")" 2>&1); then
    pass=$((pass+1))
  else
    fail=$((fail+1))
    if [ -f "$known" ] && cut -f1 "$known" | grep -qxF -- "$name"; then
      echo "known failure: $name"
    else
      unexpected=$((unexpected+1))
      echo "FAIL: $name"
      echo "$out" | head -12 | sed 's/^/    /'
    fi
  fi
done < <(awk -F'\t' 'BEGIN{OFS="\t"} {for(i=1;i<=NF;i++) if($i=="") $i="-"; print}' "$table")
echo "conformance ($(basename "$table")): $pass passed, $fail failed ($unexpected unexpected)"
[ "$unexpected" -eq 0 ]
