import Glibc
import LwAFTRCore
import PacketEngine
import PacketIO
import Testing

/// Two TUN devices in one namespace with forwarding on: a frame sent into `tuna` comes back out of
/// `tunb` byte for byte, except the TTL/hop limit (and IPv4 header checksum) the router changes.
@Suite(.enabled(if: Privileges.canUseNamespaces, Privileges.message))
struct TunDeviceTests {
    static let local = MACAddress(0x02_00_00_00_AA_01)
    static let peer = MACAddress(0x02_00_00_00_AA_02)
    static let options = TunDevice.Options(localMAC: local, peerMAC: peer)

    static let a4 = IPv4Address("192.0.2.2")!, b4 = IPv4Address("198.51.100.2")!
    static let a6 = IPv6Address("2001:db8:a::2")!, b6 = IPv6Address("2001:db8:b::2")!

    /// Sets up tuna (192.0.2.1/24, 2001:db8:a::1/64) and tunb (198.51.100.1/24, 2001:db8:b::1/64).
    static func setUp(_ ns: TestNamespace) throws {
        try ns.sh("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=0")
    }

    static func configure(_ nl: Netlink, _ name: String, _ v4: String, _ v6: String) throws {
        let idx = try nl.interfaceIndex(named: name)
        try nl.setLink(idx, up: true)
        try nl.addAddress(IPv4Address(v4)!, prefixLength: 24, interface: idx)
        try nl.addAddress(IPv6Address(v6)!, prefixLength: 64, interface: idx)
    }

    /// The frame `tunb` should deliver for an IP packet `ip` forwarded by the kernel.
    static func forwarded(_ ip: [UInt8]) -> [UInt8] {
        var out = ip
        if out[0] >> 4 == 4 {
            out[8] -= 1
            out[10] = 0
            out[11] = 0
            let c = checksum(Array(out[0..<20]))
            out[10] = UInt8(c >> 8)
            out[11] = UInt8(c & 0xFF)
            return mac(local.value) + mac(peer.value) + [0x08, 0x00] + out
        }
        out[7] -= 1
        return mac(local.value) + mac(peer.value) + [0x86, 0xDD] + out
    }

    struct Result: Sendable {
        var sent = 0
        var received: [[UInt8]] = []
        var expected: [[UInt8]] = []
        var txStats = IOStats()
        var rxStats = IOStats()
        var name = ""
        var poolIntact = false
    }

    @Test func forwardsIPv4AndIPv6ByteForByte() throws {
        let ns = try TestNamespace("tun")
        defer { ns.remove() }
        try Self.setUp(ns)
        let r = try ns.run { () throws -> Result in
            let a = try TunDevice(name: "tuna", options: Self.options)
            let b = try TunDevice(name: "tunb", options: Self.options)
            let nl = try Netlink()
            try Self.configure(nl, "tuna", "192.0.2.1", "2001:db8:a::1")
            try Self.configure(nl, "tunb", "198.51.100.1", "2001:db8:b::1")
            let pool = PacketPool(capacity: 256)
            var f4 = FrameBuilder(), f6 = FrameBuilder()
            f4.ethernet(dst: Self.local.value, src: Self.peer.value, type: 0x0800)
            f4.ipv4UDP(src: Self.a4, dst: Self.b4, sport: 1111, dport: 2222, payload: Array("hello over IPv4".utf8))
            f6.ethernet(dst: Self.local.value, src: Self.peer.value, type: 0x86DD)
            f6.ipv6UDP(src: Self.a6, dst: Self.b6, sport: 3333, dport: 4444, payload: Array(repeating: 0xA5, count: 1200))
            var out = batch(of: [f4.bytes, f6.bytes], pool: pool)
            var result = Result()
            result.sent = a.send(&out, pool: pool)
            let expected = [Self.forwarded(Array(f4.bytes[14...])), Self.forwarded(Array(f6.bytes[14...]))]
            result.expected = expected
            // The kernel may send its own IPv6 chatter (MLD, router solicitations) on tunb: keep ours.
            let ours: ([UInt8]) -> Bool = { f in expected.contains(where: { $0.count == f.count && $0[14..<30] == f[14..<30] }) }
            result.received = collect(b, pool: pool) { $0.filter(ours).count >= 2 }.filter(ours)
            result.txStats = a.stats
            result.rxStats = b.stats
            result.name = b.name
            result.poolIntact = pool.available == pool.capacity
            return result
        }
        #expect(r.name == "tunb")
        #expect(r.poolIntact)
        #expect(r.sent == 2)
        #expect(r.txStats.txPackets == 2)
        #expect(r.received.count == 2)
        // Order between the two families is not guaranteed: compare as sets.
        for e in r.expected { #expect(r.received.contains(e), "missing forwarded frame of \(e.count) bytes") }
        #expect(r.rxStats.rxPackets >= 2)
    }

    @Test func dropsAndCountsWhatATunLinkCannotCarry() throws {
        let ns = try TestNamespace("tunnd")
        defer { ns.remove() }
        try Self.setUp(ns)
        let (sent, left, poolIntact, stats) = try ns.run { () throws -> (Int, Int, Bool, IOStats) in
            let a = try TunDevice(name: "tuna", options: Self.options)
            let nl = try Netlink()
            try Self.configure(nl, "tuna", "192.0.2.1", "2001:db8:a::1")
            let pool = PacketPool(capacity: 16)
            var arp = FrameBuilder(), ns6 = FrameBuilder(), ip = FrameBuilder(), runt = FrameBuilder()
            arp.ethernet(dst: 0xFFFF_FFFF_FFFF, src: Self.local.value, type: 0x0806)
            arp.arpRequest(senderMAC: Self.local.value, sender: IPv4Address("192.0.2.1")!, target: Self.a4)
            ns6.ethernet(dst: 0x3333_FF00_0000, src: Self.local.value, type: 0x86DD)
            ns6.neighborSolicitation(src: IPv6Address("2001:db8:a::1")!, target: Self.a6)
            ip.ethernet(dst: Self.peer.value, src: Self.local.value, type: 0x0800, vlan: (0x8100, 7))
            ip.ipv4UDP(src: IPv4Address("192.0.2.1")!, dst: Self.a4, sport: 1, dport: 2, payload: [1, 2, 3])
            runt.bytes = [1, 2, 3]
            var out = batch(of: [arp.bytes, ns6.bytes, ip.bytes, runt.bytes], pool: pool)
            let sent = a.send(&out, pool: pool)
            return (sent, out.count, pool.available == pool.capacity, a.stats)
        }
        #expect(sent == 1)  // the VLAN-tagged IPv4 packet, tag removed
        #expect(left == 0)
        #expect(poolIntact)
        #expect(stats.txPackets == 1)
        #expect(stats.txNotIP == 2)  // the ARP request and the 3-byte runt
        #expect(stats.txNeighborDiscovery == 1)
    }

    /// Two queues of one multi-queue device: the kernel spreads 64 flows over both; a `Poller`
    /// watches the two descriptors.
    @Test func multiQueueSpreadsFlowsOverQueues() throws {
        let ns = try TestNamespace("tunmq")
        defer { ns.remove() }
        try Self.setUp(ns)
        let (sent, counts) = try ns.run { () throws -> (Int, [Int]) in
            let a = try TunDevice(name: "tuna", options: Self.options)
            let b = try TunDevice(name: "tunb", options: Self.options)
            let b2 = try b.openQueue()
            let nl = try Netlink()
            try Self.configure(nl, "tuna", "192.0.2.1", "2001:db8:a::1")
            try Self.configure(nl, "tunb", "198.51.100.1", "2001:db8:b::1")
            let pool = PacketPool(capacity: 512)
            var frames: [[UInt8]] = []
            for i in 0..<64 {
                var f = FrameBuilder()
                f.ethernet(dst: Self.local.value, src: Self.peer.value, type: 0x0800)
                f.ipv4UDP(src: Self.a4, dst: Self.b4, sport: UInt16(10_000 + i), dport: 9, payload: [UInt8(i)])
                frames.append(f.bytes)
            }
            var out = batch(of: frames, pool: pool)
            let sent = a.send(&out, pool: pool)
            let poller = try Poller()
            try poller.add(b.fileDescriptor, token: 0)
            try poller.add(b2.fileDescriptor, token: 1)
            let queues = [b, b2]
            var counts = [0, 0]
            var inbound = PacketBatch(capacity: 64)
            let deadline = monotonicMs() + 3000
            while counts[0] + counts[1] < 64 && monotonicMs() < deadline {
                let n = poller.wait(timeoutMs: 100)
                for k in 0..<n {
                    let q = Int(poller.ready[k])
                    _ = queues[q].receive(into: &inbound, pool: pool, max: 64)
                    for f in drain(&inbound, pool) where f.count == 14 + 29 && f[14 + 9] == 17 { counts[q] += 1 }
                }
            }
            return (sent, counts)
        }
        #expect(sent == 64)
        #expect(counts[0] + counts[1] == 64)
        #expect(counts[0] > 0 && counts[1] > 0, "one queue got everything: \(counts)")
    }

    @Test func openingAQueueOfAMissingNamespaceFails() {
        #expect(throws: PacketIOError.self) {
            try NetworkNamespace.run(path: "/nonexistent/netns") { 1 }
        }
    }
}
