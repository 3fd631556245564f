#define _GNU_SOURCE
#include "cshim.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

uint64_t cshim_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// MARK: - TUN

int cshim_tun_open(const char *name, int multi_queue, char *name_out) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multi_queue ? IFF_MULTI_QUEUE : 0);
    if (name) strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (name_out) {
        memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
        name_out[IFNAMSIZ - 1] = 0;
    }
    return fd;
}

int cshim_tun_set_persist(int fd, int persist) {
    return ioctl(fd, TUNSETPERSIST, (unsigned long)(persist != 0)) < 0 ? -errno : 0;
}

int cshim_tun_set_queue(int fd, int attach) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
    return ioctl(fd, TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}

// MARK: - AF_PACKET

int cshim_packet_socket(void) {
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

int cshim_packet_rx_ring(int fd, unsigned block_size, unsigned block_count, unsigned frame_size,
                         unsigned retire_ms, void **ring_out, size_t *length_out) {
    int version = TPACKET_V3;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) return -errno;
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = block_size;
    req.tp_block_nr = block_count;
    req.tp_frame_size = frame_size;
    req.tp_frame_nr = (unsigned)(((unsigned long)block_size * block_count) / frame_size);
    req.tp_retire_blk_tov = retire_ms;
    req.tp_feature_req_word = 0;
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) return -errno;
    size_t length = (size_t)block_size * block_count;
    void *ring = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd, 0);
    if (ring == MAP_FAILED) {
        // MAP_LOCKED can fail under RLIMIT_MEMLOCK; the ring works without it.
        ring = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
        if (ring == MAP_FAILED) return -errno;
    }
    *ring_out = ring;
    *length_out = length;
    return 0;
}

int cshim_packet_bind(int fd, int ifindex) {
    struct sockaddr_ll ll;
    memset(&ll, 0, sizeof ll);
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_ALL);
    ll.sll_ifindex = ifindex;
    return bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0 ? -errno : 0;
}

int cshim_packet_fanout(int fd, uint16_t group, uint16_t mode, uint16_t flags) {
    int arg = (int)group | ((int)(mode | flags) << 16);
    return setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0 ? -errno : 0;
}

int cshim_packet_promiscuous(int fd, int ifindex, int on) {
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    int opt = on ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
    return setsockopt(fd, SOL_PACKET, opt, &mr, sizeof mr) < 0 ? -errno : 0;
}

int cshim_packet_set_int(int fd, int option, int value) {
    return setsockopt(fd, SOL_PACKET, option, &value, sizeof value) < 0 ? -errno : 0;
}

int cshim_packet_statistics(int fd, uint32_t *packets, uint32_t *drops, uint32_t *freezes) {
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    memset(&st, 0, sizeof st);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) return -errno;
    *packets = st.tp_packets;
    *drops = st.tp_drops;
    *freezes = st.tp_freeze_q_cnt;
    return 0;
}

// MARK: - sendmmsg / recvmmsg

size_t cshim_mmsg_scratch_size(unsigned n) {
    return (size_t)n * (sizeof(struct mmsghdr) + sizeof(struct iovec));
}

int cshim_sendmmsg(int fd, void *const *buffers, const uint32_t *lengths, unsigned n, void *scratch) {
    struct mmsghdr *msgs = scratch;
    struct iovec *iov = (struct iovec *)(msgs + n);
    for (unsigned i = 0; i < n; i++) {
        iov[i].iov_base = buffers[i];
        iov[i].iov_len = lengths[i];
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, n, MSG_DONTWAIT);
    return r < 0 ? -errno : r;
}

int cshim_recvmmsg(int fd, void *const *buffers, uint32_t capacity, uint32_t *lengths, unsigned n, void *scratch) {
    struct mmsghdr *msgs = scratch;
    struct iovec *iov = (struct iovec *)(msgs + n);
    for (unsigned i = 0; i < n; i++) {
        iov[i].iov_base = buffers[i];
        iov[i].iov_len = capacity;
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
    if (r < 0) return -errno;
    for (int i = 0; i < r; i++) lengths[i] = msgs[i].msg_len;
    return r;
}

// MARK: - epoll

int cshim_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cshim_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int cshim_epoll_remove(int epfd, int fd) {
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

int cshim_epoll_wait(int epfd, uint64_t *tokens, int max, int timeout_ms) {
    struct epoll_event evs[64];
    if (max > 64) max = 64;
    if (max < 1) return -EINVAL;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) tokens[i] = evs[i].data.u64;
    return n;
}

// MARK: - threads and namespaces

int cshim_pin_thread(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int e = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    return e ? -e : 0;
}

int cshim_allowed_cpus(int *cpus, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    int e = pthread_getaffinity_np(pthread_self(), sizeof set, &set);
    if (e) return -e;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set)) cpus[n++] = c;
    return n;
}

int cshim_enter_netns(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int r = setns(fd, CLONE_NEWNET);
    int e = errno;
    close(fd);
    return r < 0 ? -e : 0;
}
