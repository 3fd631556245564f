#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/ package, -sanitize=fuzzer,address) and runs them.
#   Scripts/fuzz.sh [RUNS] [TARGET...]     default: 200000 runs of FuzzEngine and FuzzReassembler
# CI runs a short pass; for the long run use e.g. `Scripts/fuzz.sh 10000000` (see README).
# Seeds come from the conformance pcaps (../shared), converted to the targets' input format.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"
ensure_swift
runs=${1:-200000}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(FuzzEngine FuzzReassembler)
scratch=$root/.build-fuzz
swift build --package-path Fuzz --scratch-path "$scratch" -c release \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -E "error|warning: unre|Compiling Fuzz|Build" || true
bin=$scratch/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seeds=$work/seeds
mkdir -p "$seeds"
if [ -d "$shared/conformance/snabb-lwaftr/data" ]; then
  python3 - "$shared/conformance/snabb-lwaftr/data" "$seeds" <<'PY'
import os, struct, sys
src, out = sys.argv[1], sys.argv[2]
def frames(path):
    b = open(path, 'rb').read()
    if len(b) < 24: return []
    le = b[:4] == b'\xd4\xc3\xb2\xa1'
    e = '<' if le else '>'
    at, res = 24, []
    while at + 16 <= len(b):
        incl = struct.unpack(e + 'I', b[at + 8:at + 12])[0]
        res.append(b[at + 16:at + 16 + incl]); at += 16 + incl
    return res
n = 0
for name in sorted(os.listdir(src)):
    if not name.endswith('.pcap'): continue
    fs = frames(os.path.join(src, name))[:8]
    if not fs: continue
    v6 = any(f[12:14] == b'\x86\xdd' for f in fs)
    for sel in (0x00, 0x1f, 0x2f):
        sel = sel if v6 else sel & 0xF0
        data = bytes([sel]) + b''.join(struct.pack('>H', len(f)) + f for f in fs)
        open(os.path.join(out, f'{n:04d}'), 'wb').write(data); n += 1
PY
fi
status=0
for t in "${targets[@]}"; do
  corpus=$work/corpus-$t
  mkdir -p "$corpus"
  echo "== $t: $runs runs"
  args=(-runs="$runs" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1)
  [ "$t" = FuzzEngine ] && args+=("$corpus" "$seeds") || args+=("$corpus")
  if ! ASAN_OPTIONS=detect_leaks=0 "$bin/$t" "${args[@]}" > "$work/$t.log" 2>&1; then
    status=1
    tail -40 "$work/$t.log"
  fi
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$work/$t.log" | tail -2 || true
done
exit $status
