#!/usr/bin/env bash
# Removes the lab: kills processes left in its namespaces, deletes the namespaces (their veths go
# with them) and the state directory. Safe to run when nothing (or only part) is up.
set -uo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
lab_need_root

for ns in $(ip netns list | awk '{print $1}' | grep -E "^$LAB_PREFIX-(inet|aftr|acc|b4-[0-9]+)$"); do
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  [ -n "$pids" ] && sleep 0.2
  for p in $(ip netns pids "$ns" 2>/dev/null || true); do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$ns"
done
rm -rf "$LAB_STATE"
echo "lab down"
