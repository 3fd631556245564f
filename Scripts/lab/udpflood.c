/* The lab's traffic sender (Scripts/lab/throughput.sh, Bench/live-*.sh): sendmmsg bursts of UDP
   datagrams or of prebuilt 4in6 frames on an AF_PACKET socket; LWFLOOD_RATE paces it. */
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
