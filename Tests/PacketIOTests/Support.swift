import Glibc
import LwAFTRCore
import PacketEngine
import PacketIO
import Testing
@_exported import TestSupport

// How these tests reach the kernel: each test makes its own network namespace with `ip netns add`
// (shell `ip` is fine in test setup), runs its body on a dedicated thread that joins that namespace
// with setns(2) (`NetworkNamespace.run`), so TUN queues, AF_PACKET rings, netlink and UDP sockets
// opened there live in it, and deletes the namespace afterwards (its veths and TUNs go with it).
// They need root; as another user they are skipped with a message.

extension TestNamespace {
    /// A namespace named `pio-…`.
    convenience init(_ tag: String) throws { try self.init(tag, prefix: "pio") }
}

// MARK: - frames

struct FrameBuilder {
    var bytes: [UInt8] = []

    mutating func ethernet(dst: UInt64, src: UInt64, type: UInt16, vlan: (tpid: UInt16, tci: UInt16)? = nil) {
        bytes += mac(dst) + mac(src)
        if let vlan { bytes += be16(vlan.tpid) + be16(vlan.tci) }
        bytes += be16(type)
    }

    /// IPv4 + UDP (UDP checksum 0: allowed over IPv4).
    mutating func ipv4UDP(src: IPv4Address, dst: IPv4Address, sport: UInt16, dport: UInt16, payload: [UInt8], ttl: UInt8 = 64) {
        let total = 20 + 8 + payload.count
        var ip: [UInt8] = [0x45, 0] + be16(UInt16(total)) + [0x12, 0x34, 0x40, 0, ttl, 17, 0, 0]
        ip += be32(src.value) + be32(dst.value)
        let c = checksum(ip)
        ip[10] = UInt8(c >> 8)
        ip[11] = UInt8(c & 0xFF)
        bytes += ip + be16(sport) + be16(dport) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
    }

    /// IPv6 + UDP with its checksum.
    mutating func ipv6UDP(src: IPv6Address, dst: IPv6Address, sport: UInt16, dport: UInt16, payload: [UInt8], hopLimit: UInt8 = 64) {
        var udp = be16(sport) + be16(dport) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
        let c = checksum(src.bytes + dst.bytes + be32(UInt32(udp.count)) + [0, 0, 0, 17] + udp)
        udp[6] = UInt8(c >> 8)
        udp[7] = UInt8(c & 0xFF)
        bytes += [0x60, 0, 0, 0] + be16(UInt16(udp.count)) + [17, hopLimit] + src.bytes + dst.bytes + udp
    }

    /// An IPv6 neighbor solicitation (ICMPv6 type 135) for `target`.
    mutating func neighborSolicitation(src: IPv6Address, target: IPv6Address) {
        var icmp: [UInt8] = [135, 0, 0, 0, 0, 0, 0, 0] + target.bytes
        let dst = IPv6Address("ff02::1:ff00:0")!
        let c = checksum(src.bytes + dst.bytes + be32(UInt32(icmp.count)) + [0, 0, 0, 58] + icmp)
        icmp[2] = UInt8(c >> 8)
        icmp[3] = UInt8(c & 0xFF)
        bytes += [0x60, 0, 0, 0] + be16(UInt16(icmp.count)) + [58, 255] + src.bytes + dst.bytes + icmp
    }

    /// An ARP request.
    mutating func arpRequest(senderMAC: UInt64, sender: IPv4Address, target: IPv4Address) {
        bytes += [0, 1, 8, 0, 6, 4, 0, 1] + mac(senderMAC) + be32(sender.value) + mac(0) + be32(target.value)
    }
}

func mac(_ v: UInt64) -> [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: v >> (40 - 8 * UInt64($0))) } }
func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

/// The Internet checksum (RFC 1071) of `data`.
func checksum(_ data: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var i = 0
    while i + 1 < data.count {
        sum += UInt32(data[i]) << 8 | UInt32(data[i + 1])
        i += 2
    }
    if i < data.count { sum += UInt32(data[i]) << 8 }
    while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
    return ~UInt16(sum)
}

/// The bytes of every packet in `batch`; frees them.
func drain(_ batch: inout PacketBatch, _ pool: PacketPool) -> [[UInt8]] {
    var out: [[UInt8]] = []
    for i in 0..<batch.count { out.append(Array(batch[i].bytes)) }
    batch.freeAll(to: pool)
    return out
}

/// Receives from `source` until `done` says so or `timeoutMs` passes; returns every frame.
func collect<S: PacketSource>(_ source: S, pool: PacketPool, timeoutMs: Int = 2000,
                              until done: ([[UInt8]]) -> Bool) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    var batch = PacketBatch(capacity: 64)
    let deadline = monotonicMs() + timeoutMs
    while !done(frames) {
        let left = deadline - monotonicMs()
        if left <= 0 { break }
        if source.waitReadable(timeoutMs: Int32(min(left, 100))) {
            _ = source.receive(into: &batch, pool: pool, max: 64)
            frames += drain(&batch, pool)
        }
    }
    return frames
}

func monotonicMs() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}

/// A batch holding copies of `frames`.
func batch(of frames: [[UInt8]], pool: PacketPool) -> PacketBatch {
    var b = PacketBatch(capacity: max(frames.count, 1))
    for f in frames {
        let p = f.withUnsafeBytes { pool.make($0) }!
        b.append(p)
    }
    return b
}
