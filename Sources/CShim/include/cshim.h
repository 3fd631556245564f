#ifndef CSHIM_H
#define CSHIM_H
// Small C helpers for things Swift/Glibc do not expose. Keep this file small.
#include <stdint.h>
#include <stddef.h>
#include <linux/if_packet.h>

/// Hint the CPU to pull a cache line in for reading.
static inline void cshim_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Read the time-stamp counter (x86) or a monotonic fallback in nanoseconds.
uint64_t cshim_monotonic_ns(void);

// MARK: - TUN (linux/if_tun.h). Functions return a file descriptor or 0 on success, -errno on failure.

/// Opens /dev/net/tun (non-blocking, close-on-exec) and attaches it to TUN device `name` with
/// IFF_TUN | IFF_NO_PI (| IFF_MULTI_QUEUE when `multi_queue`), creating the device if needed. An
/// empty name lets the kernel pick one. The device's name is written to `name_out` (16 bytes).
int cshim_tun_open(const char *name, int multi_queue, char *name_out);
/// TUNSETPERSIST: keep the device after the last queue closes (or not).
int cshim_tun_set_persist(int fd, int persist);
/// TUNSETQUEUE: enable (attach) or disable (detach) this queue of a multi-queue device.
int cshim_tun_set_queue(int fd, int attach);

// MARK: - AF_PACKET. Functions return a file descriptor or 0 on success, -errno on failure.

/// socket(AF_PACKET, SOCK_RAW, 0), non-blocking, close-on-exec. Receives nothing until bound.
int cshim_packet_socket(void);
/// Sets TPACKET_V3 and a receive ring of `block_count` blocks of `block_size` bytes (a multiple of
/// the page size), blocks retired after `retire_ms` ms even when not full, and maps it.
int cshim_packet_rx_ring(int fd, unsigned block_size, unsigned block_count, unsigned frame_size,
                         unsigned retire_ms, void **ring_out, size_t *length_out);
/// Binds to interface `ifindex` receiving all protocols (ETH_P_ALL).
int cshim_packet_bind(int fd, int ifindex);
/// Joins fanout group `group` with mode `mode` (PACKET_FANOUT_HASH, ...) and `flags`
/// (PACKET_FANOUT_FLAG_*). Call after binding.
int cshim_packet_fanout(int fd, uint16_t group, uint16_t mode, uint16_t flags);
/// PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP with PACKET_MR_PROMISC.
int cshim_packet_promiscuous(int fd, int ifindex, int on);
/// Integer SOL_PACKET options (PACKET_QDISC_BYPASS, PACKET_IGNORE_OUTGOING, ...).
int cshim_packet_set_int(int fd, int option, int value);
/// PACKET_STATISTICS (tpacket_stats_v3); the kernel resets them on every read.
int cshim_packet_statistics(int fd, uint32_t *packets, uint32_t *drops, uint32_t *freezes);

// TPACKET_V3 ring walking. A block belongs to user space while its status has TP_STATUS_USER;
// hand it back with cshim_v3_block_release. Loads/stores of the status are acquire/release.
static inline uint32_t cshim_v3_block_status(const void *block) {
    return __atomic_load_n(&((const struct tpacket_block_desc *)block)->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
}
static inline void cshim_v3_block_release(void *block) {
    __atomic_store_n(&((struct tpacket_block_desc *)block)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}
static inline uint32_t cshim_v3_block_packets(const void *block) {
    return ((const struct tpacket_block_desc *)block)->hdr.bh1.num_pkts;
}
static inline uint8_t *cshim_v3_block_first(void *block) {
    return (uint8_t *)block + ((struct tpacket_block_desc *)block)->hdr.bh1.offset_to_first_pkt;
}
static inline uint8_t *cshim_v3_next(uint8_t *pkt) {
    return pkt + ((struct tpacket3_hdr *)pkt)->tp_next_offset;
}
static inline const uint8_t *cshim_v3_frame(const uint8_t *pkt) { return pkt + ((const struct tpacket3_hdr *)pkt)->tp_mac; }
static inline uint32_t cshim_v3_snaplen(const uint8_t *pkt) { return ((const struct tpacket3_hdr *)pkt)->tp_snaplen; }
static inline uint32_t cshim_v3_len(const uint8_t *pkt) { return ((const struct tpacket3_hdr *)pkt)->tp_len; }
static inline uint32_t cshim_v3_status(const uint8_t *pkt) { return ((const struct tpacket3_hdr *)pkt)->tp_status; }
static inline uint16_t cshim_v3_vlan_tci(const uint8_t *pkt) { return (uint16_t)((const struct tpacket3_hdr *)pkt)->hv1.tp_vlan_tci; }
static inline uint16_t cshim_v3_vlan_tpid(const uint8_t *pkt) { return (uint16_t)((const struct tpacket3_hdr *)pkt)->hv1.tp_vlan_tpid; }

// MARK: - sendmmsg / recvmmsg over caller-owned arrays (no allocation)

/// Bytes of scratch space (struct mmsghdr + struct iovec) that `n` messages need.
size_t cshim_mmsg_scratch_size(unsigned n);
/// Sends `n` buffers in one sendmmsg call on a bound or connected socket (MSG_DONTWAIT).
/// Returns the number sent (may be fewer than n) or -errno when the first one failed.
int cshim_sendmmsg(int fd, void *const *buffers, const uint32_t *lengths, unsigned n, void *scratch);
/// Receives up to `n` datagrams into `buffers` (each `capacity` bytes) in one recvmmsg call
/// (MSG_DONTWAIT). Lengths go to `lengths`. Returns the number received or -errno.
int cshim_recvmmsg(int fd, void *const *buffers, uint32_t capacity, uint32_t *lengths, unsigned n, void *scratch);

// MARK: - epoll (tokens instead of struct epoll_event, which is packed on x86-64)

/// epoll_create1(EPOLL_CLOEXEC): a descriptor or -errno.
int cshim_epoll_create(void);
/// Watches `fd` for input (EPOLLIN); epoll_wait reports `token`. 0 or -errno.
int cshim_epoll_add(int epfd, int fd, uint64_t token);
int cshim_epoll_remove(int epfd, int fd);
/// Waits up to `timeout_ms` (-1: forever); writes the tokens of ready descriptors (at most `max`,
/// at most 64). Returns how many, 0 on timeout, -errno on error.
int cshim_epoll_wait(int epfd, uint64_t *tokens, int max, int timeout_ms);

// MARK: - threads and namespaces

/// Pins the calling thread to CPU `cpu`. Returns 0 or -errno.
int cshim_pin_thread(int cpu);
/// The CPUs the calling thread may run on, written to `cpus` (at most `max`); returns how many, or -errno.
int cshim_allowed_cpus(int *cpus, int max);
/// Moves the calling thread into the network namespace at `path` (e.g. /run/netns/NAME). 0 or -errno.
int cshim_enter_netns(const char *path);

#endif
