# Shared set-up of the live-path benchmarks (Bench/live-*.sh): root check, packages, release
# build, a one-B4 lab with a static lwAFTR configuration, CSV header, run identity.
#
#   live_setup CSV HEADER     sets bin (release lwaftr), work (temp dir, $work/lwaftr.json), rev, now;
#                             removes the lab and $work at exit after calling live_cleanup (if defined).
# shellcheck shell=bash
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source Scripts/lib.sh
source Scripts/lab/lab-lib.sh

live_setup() {
  local out=$1 header=$2
  [ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
  ensure_swift
  ensure_packages libpcap-dev libmnl-dev pkg-config iproute2 nftables ethtool util-linux
  swift build -c release --product lwaftr 2>&1 | tail -1
  bin=$root/.build/release/lwaftr
  work=$(mktemp -d)
  trap live_exit EXIT
  Scripts/lab/lab-down.sh >/dev/null 2>&1 || true
  Scripts/lab/lab-up.sh -n 1 | tail -n 1
  Scripts/lab/lab-lwaftr-conf.sh "$work/lwaftr.json" static >/dev/null
  mkdir -p "$(dirname "$out")"
  [ -f "$out" ] || echo "$header" > "$out"
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
}

live_exit() {
  declare -F live_cleanup >/dev/null && live_cleanup
  Scripts/lab/lab-down.sh >/dev/null 2>&1 || true
  rm -rf "$work"
}

# Median of the numbers in file $1, one per line.
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print ((NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
