#!/usr/bin/env bash
# Measures lwAFTR forwarding in the lab: UDP from the B4 side to the internet host for a fixed time;
# reports packets/s sent and received (counted by nftables in the internet host).
#
#   throughput.sh [-m softwire|lan] [-t SECONDS] [-s PAYLOAD] [-f FLOWS] [-b B4S] [--pin]
#                 [--rps MASK] [--aftr "COMMAND"] [--warmup SECONDS]
#
#   -m MODE      softwire (default), direct or lan.
#                softwire: prebuilt 4in6 frames (outer source = the B4's softwire address,
#                inner source = its leased IPv4 and FLOWS ports of its range) sent with sendmmsg on
#                an AF_PACKET socket on the B4's uplink, so the B4 costs next to nothing and the
#                access router + lwAFTR are what is measured.
#                direct: the same prebuilt 4in6 frames, injected on the access router's port towards
#                the lwAFTR (acc0), so no kernel forwarding runs before the lwAFTR: the router is what
#                is measured (use with --pin, --rps 2 and a pinned lwAFTR on CPU 1).
#                lan: UDP sockets on the B4's LAN host, through the B4's NAT and seg6 encapsulation
#                (end to end; the B4's own path is then the bottleneck).
#   -t SECONDS   sending time (default 5)
#   -s PAYLOAD   UDP payload bytes (default 18: 46-byte inner IPv4 packets)
#   -f FLOWS     UDP source ports per sender (default 8; spreads the load across fanout members)
#   -b B4S       which B4s send: "1", "1 2", or "all" (default 1)
#   --pin        pin the senders to CPU 0
#   --rps MASK   hex CPU mask for receive packet steering on the lwAFTR's access interface (aftr6),
#                e.g. 2: the lwAFTR namespace's receive work leaves the sender's core
#   --aftr CMD   start CMD inside the lwAFTR namespace first (our lwAFTR); it is stopped at the end.
#                Without it, whatever already forwards in the lwAFTR namespace is measured (e.g. after
#                lab-kernel-aftr.sh up).
#   --warmup S   seconds to wait after starting CMD before measuring (default 2)
#   --rate PPS   pace every sender to PPS packets/s (default: as fast as it can)
#
# Prints "throughput: rx_pps=... tx_pps=... loss=...%" and KEY=VALUE lines. Needs the lab (lab-up.sh).
set -euo pipefail
# shellcheck source=lab-lib.sh disable=SC1091
source "$(dirname "$0")/lab-lib.sh"
lab_need_root

mode=softwire secs=5 size=18 flows=8 b4s=1 pin=0 rps="" aftr_cmd="" warmup=2
while [ $# -gt 0 ]; do
  case $1 in
    -m) mode=$2; shift 2 ;;
    -t) secs=$2; shift 2 ;;
    -s) size=$2; shift 2 ;;
    -f) flows=$2; shift 2 ;;
    -b) b4s=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    --rps) rps=$2; shift 2 ;;
    --aftr) aftr_cmd=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --rate) export LWFLOOD_RATE=$2; shift 2 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ "$secs" -lt 1 ] || [ "$secs" -gt 120 ]; then echo "-t must be 1..120" >&2; exit 2; fi
case $mode in softwire|direct|lan) ;; *) echo "-m must be softwire, direct or lan" >&2; exit 2 ;; esac
ip netns list | grep -q "^$NS_INET\b" || { echo "lab not up (run lab-up.sh)" >&2; exit 1; }
[ "$b4s" = all ] && b4s=$(seq 1 "$(lab_b4_count)")

port=9
work=$(mktemp -d)
aftr_pid=""
old_rps=""
cleanup() {
  if [ -n "$aftr_pid" ]; then
    kill "$aftr_pid" 2>/dev/null || true
    wait "$aftr_pid" 2>/dev/null || true
  fi
  if [ -n "$old_rps" ]; then
    nsx "$NS_AFTR" sh -c "echo $old_rps > /sys/class/net/aftr6/queues/rx-0/rps_cpus" 2>/dev/null || true
  fi
  nsx "$NS_INET" nft delete table ip lwtput 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

cat > "$work/udpflood.c" <<'CSRC'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int parse_mac(const char *s, uint8_t *m) {
    return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}
enum { B = 64, MAXF = 256 };
static struct mmsghdr msgs[B];
static struct iovec iov[B];
static uint8_t frames[MAXF][1600];
static size_t lens[MAXF];
/* Sends bursts of B for `secs` seconds, cycling through sockets (udp) or frames (softwire). */
static int run(const int *fds, int nfd, double secs, int nframes) {
    unsigned long long sent = 0, errors = 0;
    double start = now(), end = start + secs;
    const char *r = getenv("LWFLOOD_RATE");           /* packets/s; unset or 0: as fast as possible */
    double rate = r ? atof(r) : 0;
    for (unsigned long k = 0;; k++) {
        if (rate > 0) {                                 /* pace: burst k may start at k*B/rate */
            double due = start + (double)k * B / rate, t;
            while ((t = now()) < due) { if (due - t > 0.0002) usleep((useconds_t)((due - t) * 1e6 * 0.8)); }
            if (t >= end) break;
        } else if ((k & 15) == 0 && now() >= end) break;
        if (nframes > 0)
            for (int i = 0; i < B; i++) {
                int f = (int)((k * B + i) % nframes);
                iov[i].iov_base = frames[f]; iov[i].iov_len = lens[f];
            }
        int n = sendmmsg(fds[k % nfd], msgs, B, 0);
        if (n > 0) sent += n; else errors++;
    }
    printf("%llu %.3f %llu\n", sent, now() - start, errors);
    return 0;
}
int main(int argc, char **argv) {
    for (int i = 0; i < B; i++) { msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1; }
    if (argc == 7 && strcmp(argv[1], "udp") == 0) {   /* udp DST PORT SECONDS FLOWS PAYLOAD */
        struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
        if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) return 2;
        int flows = atoi(argv[5]), size = atoi(argv[6]);
        if (flows < 1 || flows > MAXF || size < 0 || size > 1400) return 2;
        static int fds[MAXF];
        for (int i = 0; i < flows; i++) {
            fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
            if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&dst, sizeof dst) < 0) { perror("socket"); return 1; }
        }
        memset(frames[0], 0x5a, size);
        for (int i = 0; i < B; i++) { iov[i].iov_base = frames[0]; iov[i].iov_len = size; }
        return run(fds, flows, atof(argv[4]), 0);
    }
    if (argc == 14 && strcmp(argv[1], "softwire") == 0) {
        /* softwire IF DSTMAC SRCMAC B4ADDR BR V4SRC V4DST PORT FIRSTPORT SECONDS FLOWS PAYLOAD */
        uint8_t dmac[6], smac[6], b4[16], br[16]; struct in_addr s4, d4;
        if (parse_mac(argv[3], dmac) || parse_mac(argv[4], smac) || inet_pton(AF_INET6, argv[5], b4) != 1 ||
            inet_pton(AF_INET6, argv[6], br) != 1 || inet_pton(AF_INET, argv[7], &s4) != 1 ||
            inet_pton(AF_INET, argv[8], &d4) != 1) { fprintf(stderr, "bad address\n"); return 2; }
        int dport = atoi(argv[9]), first = atoi(argv[10]), flows = atoi(argv[12]), size = atoi(argv[13]);
        if (flows < 1 || flows > MAXF || size < 0 || size > 1400) return 2;
        for (int f = 0; f < flows; f++) {
            uint8_t *p = frames[f];
            int l4 = 8 + size, l3 = 20 + l4;
            memcpy(p, dmac, 6); memcpy(p + 6, smac, 6); p[12] = 0x86; p[13] = 0xdd;
            uint8_t *ip6 = p + 14;
            memset(ip6, 0, 40); ip6[0] = 0x60; ip6[4] = l3 >> 8; ip6[5] = l3 & 255; ip6[6] = 4; ip6[7] = 64;
            memcpy(ip6 + 8, b4, 16); memcpy(ip6 + 24, br, 16);
            uint8_t *ip4 = ip6 + 40;
            memset(ip4, 0, 20); ip4[0] = 0x45; ip4[2] = l3 >> 8; ip4[3] = l3 & 255; ip4[8] = 64; ip4[9] = 17;
            memcpy(ip4 + 12, &s4, 4); memcpy(ip4 + 16, &d4, 4);
            uint32_t sum = 0;
            for (int i = 0; i < 20; i += 2) sum += (uint32_t)(ip4[i] << 8 | ip4[i + 1]);
            while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
            sum = ~sum & 0xffff; ip4[10] = sum >> 8; ip4[11] = sum & 255;
            uint8_t *udp = ip4 + 20; int sport = first + f;
            udp[0] = sport >> 8; udp[1] = sport & 255; udp[2] = dport >> 8; udp[3] = dport & 255;
            udp[4] = l4 >> 8; udp[5] = l4 & 255; udp[6] = 0; udp[7] = 0;   /* no UDP checksum (IPv4) */
            memset(udp + 8, 0x5a, size);
            lens[f] = 14 + 40 + l3;
        }
        int fd = socket(AF_PACKET, SOCK_RAW, 0);
        if (fd < 0) { perror("AF_PACKET"); return 1; }
        int one = 1;
        setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
        struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[2]) };
        if (!ll.sll_ifindex || bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0) { perror("bind"); return 1; }
        return run(&fd, 1, atof(argv[11]), flows);
    }
    fprintf(stderr, "usage: udpflood udp DST PORT SECONDS FLOWS PAYLOAD\n"
                    "       udpflood softwire IF DSTMAC SRCMAC B4ADDR BR V4SRC V4DST PORT FIRST SECONDS FLOWS PAYLOAD\n");
    return 2;
}
CSRC
cc=$(command -v cc || command -v gcc || command -v clang || echo /opt/swift/usr/bin/clang)
"$cc" -O2 -o "$work/udpflood" "$work/udpflood.c"

mac_of() { ip -n "$1" -j link show "$2" | grep -o '"address": *"[0-9a-f:]*"' | head -1 | grep -o '[0-9a-f:]\{17\}'; }

# The namespace the sender of B4 $1 runs in.
sender_ns() { if [ "$mode" = direct ]; then echo "$NS_ACC"; else ns_b4 "$1"; fi; }
# The sender command for B4 $1, sending for $2 seconds with $3 flows.
sender() {
  local i=$1 t=$2 f=$3
  if [ "$mode" = lan ]; then
    echo "$work/udpflood udp $LAB_INET_ADDR $port $t $f $size"
  else
    local line addr v4 first
    line=$(awk -v i="$i" '$1 == i' "$LAB_STATE/softwires")
    [ -n "$line" ] || { echo "B4 $i has no softwire (lab-b4-lease.sh)" >&2; exit 1; }
    read -r _ addr v4 first _ <<<"$line"
    if [ "$mode" = direct ]; then
      echo "$work/udpflood softwire acc0 $(mac_of "$NS_AFTR" aftr6) $(mac_of "$NS_ACC" acc0)" \
        "$addr $LAB_BR $v4 $LAB_INET_ADDR $port $first $t $f $size"
      return
    fi
    echo "$work/udpflood softwire up0 $(mac_of "$NS_ACC" "b4-$i") $(mac_of "$(ns_b4 "$i")" up0)" \
      "$addr $LAB_BR $v4 $LAB_INET_ADDR $port $first $t $f $size"
  fi
}

# Count what reaches the internet host (and drop it there: no ICMP port unreachable back).
nsx "$NS_INET" nft -f - <<EOF
table ip lwtput {
  counter rx { }
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    udp dport $port counter name rx drop
  }
}
EOF

if [ -n "$rps" ]; then
  old_rps=$(nsx "$NS_AFTR" cat /sys/class/net/aftr6/queues/rx-0/rps_cpus)
  nsx "$NS_AFTR" sh -c "echo $rps > /sys/class/net/aftr6/queues/rx-0/rps_cpus"
fi

if [ -n "$aftr_cmd" ]; then
  ip netns exec "$NS_AFTR" sh -c "exec $aftr_cmd" > "$work/aftr.log" 2>&1 &
  aftr_pid=$!
  sleep "$warmup"
  if ! kill -0 "$aftr_pid" 2>/dev/null; then
    echo "the lwAFTR command exited early:" >&2
    cat "$work/aftr.log" >&2
    exit 1
  fi
fi

# A short burst first (ARP/NDP resolution on the way), then reset the counter.
for i in $b4s; do
  # shellcheck disable=SC2046
  nsx "$(sender_ns "$i")" $(sender "$i" 0.1 1) >/dev/null
done
sleep 0.5
nsx "$NS_INET" nft reset counter ip lwtput rx >/dev/null

pin_cmd=()
[ "$pin" -eq 1 ] && command -v taskset >/dev/null && pin_cmd=(taskset -c 0)
cpu_sample() { awk '/^cpu[0-9]/ { busy = $2 + $3 + $4 + $7 + $8; print $1, busy, busy + $5 + $6 }' /proc/stat; }
cpu_sample > "$work/cpu-before"
pids=()
for i in $b4s; do
  # shellcheck disable=SC2046
  nsx "$(sender_ns "$i")" "${pin_cmd[@]}" $(sender "$i" "$secs" "$flows") > "$work/sent-$i" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cpu_sample > "$work/cpu-after"
sleep 0.5   # let queues drain

rx=$(nsx "$NS_INET" nft -j list counter ip lwtput rx | grep -o '"packets": *[0-9]*' | grep -o '[0-9]*$')
tx=0 dur=0
for i in $b4s; do
  read -r s d _ < "$work/sent-$i"
  tx=$((tx + s))
  dur=$d
done
awk -v rx="$rx" -v tx="$tx" -v d="$dur" -v m="$mode" 'BEGIN {
  rxp = rx / d; txp = tx / d; loss = tx > 0 ? 100 * (tx - rx) / tx : 0
  printf "throughput (%s): rx_pps=%.0f tx_pps=%.0f loss=%.1f%% (rx=%d tx=%d in %.2fs)\n", m, rxp, txp, loss, rx, tx, d
  printf "RX_PPS=%.0f\nTX_PPS=%.0f\nRX_PACKETS=%d\nTX_PACKETS=%d\n", rxp, txp, rx, tx
}'
# Busy share of every CPU while the senders ran (user + system + irq + softirq).
awk 'NR == FNR { b[$1] = $2; t[$1] = $3; next }
     { d = $3 - t[$1]; printf "CPU_BUSY_%s=%.1f\n", toupper($1), (d > 0 ? 100 * ($2 - b[$1]) / d : 0) }' "$work/cpu-before" "$work/cpu-after"
