import Glibc
import LwAFTRCore
import PacketEngine
import PacketIO
import Testing

/// A veth pair va <-> vb in a fresh namespace (IPv6 off so the kernel sends nothing of its own);
/// rings on both ends.
@Suite(.enabled(if: Privileges.canUseNamespaces, Privileges.message))
struct PacketRingTests {
    static let macA: UInt64 = 0x02_00_00_00_0A_01
    static let macB: UInt64 = 0x02_00_00_00_0B_01

    static func vethPair(_ tag: String) throws -> TestNamespace {
        let ns = try TestNamespace(tag)
        do {
            try ns.sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
            try ns.ip("link add va address 02:00:00:00:0a:01 type veth peer name vb address 02:00:00:00:0b:01")
            try ns.ip("link set va up")
            try ns.ip("link set vb up")
        } catch {
            ns.remove()
            throw error
        }
        return ns
    }

    /// `n` UDP frames va → vb, destination port i for frame i, each with `payload(i)`.
    static func udpFrames(_ n: Int, payload: (Int) -> [UInt8]) -> [[UInt8]] {
        (0..<n).map { i in
            var f = FrameBuilder()
            f.ethernet(dst: macB, src: macA, type: 0x0800)
            f.ipv4UDP(src: IPv4Address("192.0.2.1")!, dst: IPv4Address("192.0.2.2")!, sport: 5, dport: UInt16(i), payload: payload(i))
            return f.bytes
        }
    }

    /// Frames from `src` to `dst`: IPv4, IPv6, 802.1Q-tagged IPv4, 802.1ad-tagged IPv6, a large one.
    static func frames(src: UInt64, dst: UInt64) -> [[UInt8]] {
        let v4a = IPv4Address("192.0.2.1")!, v4b = IPv4Address("198.51.100.1")!
        let v6a = IPv6Address("2001:db8::1")!, v6b = IPv6Address("2001:db8::2")!
        var out: [[UInt8]] = []
        var f = FrameBuilder()
        f.ethernet(dst: dst, src: src, type: 0x0800)
        f.ipv4UDP(src: v4a, dst: v4b, sport: 1000, dport: 2000, payload: Array("plain IPv4".utf8))
        out.append(f.bytes)
        f = FrameBuilder()
        f.ethernet(dst: dst, src: src, type: 0x86DD)
        f.ipv6UDP(src: v6a, dst: v6b, sport: 1000, dport: 2000, payload: Array("plain IPv6".utf8))
        out.append(f.bytes)
        f = FrameBuilder()
        f.ethernet(dst: dst, src: src, type: 0x0800, vlan: (0x8100, 0x2064))  // PCP 1, VID 100
        f.ipv4UDP(src: v4a, dst: v4b, sport: 1001, dport: 2001, payload: Array("802.1Q IPv4".utf8))
        out.append(f.bytes)
        f = FrameBuilder()
        f.ethernet(dst: dst, src: src, type: 0x86DD, vlan: (0x88A8, 0x0FFE))  // VID 4094
        f.ipv6UDP(src: v6a, dst: v6b, sport: 1001, dport: 2001, payload: Array("802.1ad IPv6".utf8))
        out.append(f.bytes)
        f = FrameBuilder()
        f.ethernet(dst: dst, src: src, type: 0x0800)
        f.ipv4UDP(src: v4a, dst: v4b, sport: 1002, dport: 2002, payload: Array(repeating: 0x3C, count: 1400))
        out.append(f.bytes)
        return out
    }

    /// `frame` without its VLAN tag (if it has one).
    static func untagged(_ frame: [UInt8]) -> [UInt8] {
        let type = UInt16(frame[12]) << 8 | UInt16(frame[13])
        guard type == 0x8100 || type == 0x88A8 else { return frame }
        return Array(frame[0..<12] + frame[16...])
    }

    static func from(_ src: UInt64) -> ([UInt8]) -> Bool {
        let m = mac(src)
        return { $0.count >= 14 && Array($0[6..<12]) == m }
    }

    struct Exchange: Sendable {
        var sentAB = 0, sentBA = 0
        var atB: [[UInt8]] = []
        var atBStripped: [[UInt8]] = []
        var atA: [[UInt8]] = []
        var statsA = IOStats(), statsB = IOStats()
        var poolIntact = false
    }

    @Test func framesCrossByteForByteBothWaysWithVLANTagsReinserted() throws {
        let ns = try Self.vethPair("ring")
        defer { ns.remove() }
        let sentAB = Self.frames(src: Self.macA, dst: Self.macB)
        let sentBA = Self.frames(src: Self.macB, dst: Self.macA)
        let x = try ns.run { () throws -> Exchange in
            let a = try PacketRing(interface: "va")
            let b = try PacketRing(interface: "vb")
            var stripOptions = PacketRing.Options()
            stripOptions.vlan = .strip
            let bStrip = try PacketRing(interface: "vb", options: stripOptions)
            let pool = PacketPool(capacity: 256)
            var x = Exchange()
            var out = batch(of: sentAB, pool: pool)
            x.sentAB = a.send(&out, pool: pool)
            let fromA = Self.from(Self.macA), fromB = Self.from(Self.macB)
            x.atB = collect(b, pool: pool) { $0.filter(fromA).count >= sentAB.count }.filter(fromA)
            x.atBStripped = collect(bStrip, pool: pool) { $0.filter(fromA).count >= sentAB.count }.filter(fromA)
            out = batch(of: sentBA, pool: pool)
            x.sentBA = b.send(&out, pool: pool)
            x.atA = collect(a, pool: pool) { $0.filter(fromB).count >= sentBA.count }.filter(fromB)
            x.statsA = a.stats
            x.statsB = b.stats
            x.poolIntact = pool.available == pool.capacity
            return x
        }
        #expect(x.sentAB == sentAB.count)
        #expect(x.sentBA == sentBA.count)
        #expect(x.atB == sentAB)
        #expect(x.atA == sentBA)
        #expect(x.atBStripped == sentAB.map(Self.untagged))
        #expect(x.statsA.txPackets == UInt64(sentAB.count))
        #expect(x.statsA.txBytes == UInt64(sentAB.reduce(0) { $0 + $1.count }))
        #expect(x.statsB.rxPackets >= UInt64(sentAB.count))
        #expect(x.poolIntact)
    }

    /// A pool with 3 free buffers: receive stops, the frames wait in the ring, and the next calls
    /// (also limited by `max`) resume in the middle of the ring block, in order, nothing lost.
    @Test func receiveResumesWhereThePoolOrMaxStoppedIt() throws {
        let ns = try Self.vethPair("ringpool")
        defer { ns.remove() }
        let sent = Self.udpFrames(10) { [UInt8($0)] }
        let frames = sent
        let (got, firstCall, poolEmpty) = try ns.run { () throws -> ([[UInt8]], Int, UInt64) in
            let a = try PacketRing(interface: "va")
            let b = try PacketRing(interface: "vb")
            let bigPool = PacketPool(capacity: 64)
            var out = batch(of: frames, pool: bigPool)
            a.send(&out, pool: bigPool)
            let small = PacketPool(capacity: 3)
            var inbound = PacketBatch(capacity: 16)
            var got: [[UInt8]] = []
            // Wait for the block holding the frames, then read with too few buffers.
            _ = b.waitReadable(timeoutMs: 2000)
            usleep(50_000)  // every block retired (1 ms timeout)
            let firstCall = b.receive(into: &inbound, pool: small, max: 16)
            got += drain(&inbound, small)
            let deadline = monotonicMs() + 2000
            while got.count < frames.count && monotonicMs() < deadline {
                if b.waitReadable(timeoutMs: 100) {
                    _ = b.receive(into: &inbound, pool: small, max: 2)
                    got += drain(&inbound, small)
                }
            }
            return (got, firstCall, b.stats.rxPoolEmpty)
        }
        #expect(firstCall == 3)
        #expect(poolEmpty >= 1)
        #expect(got.filter(Self.from(Self.macA)) == sent)
    }

    /// Frames the kernel could not queue because nobody read the ring are counted: a one-block
    /// ring of 4 KiB fills after a few dozen frames, the rest of 400 are ring-full drops that
    /// `collectKernelStatistics` folds into `stats.rxRingFull` (and reads only once).
    @Test func ringFullDropsAreCounted() throws {
        let ns = try Self.vethPair("ringfull")
        defer { ns.remove() }
        let sent = Self.udpFrames(400) { _ in [UInt8](repeating: 7, count: 64) }
        let (queued, full, again) = try ns.run { () throws -> (Int, UInt64, UInt64) in
            let a = try PacketRing(interface: "va")
            var o = PacketRing.Options()
            o.blockSize = 4096
            o.blockCount = 1
            o.frameSize = 2048
            o.blockTimeoutMs = 1000
            let b = try PacketRing(interface: "vb", options: o)
            let pool = PacketPool(capacity: 512)
            var out = batch(of: sent, pool: pool)
            a.send(&out, pool: pool)
            usleep(50_000)
            var inbound = PacketBatch(capacity: 512)
            let n = b.receive(into: &inbound, pool: pool, max: 512)
            inbound.freeAll(to: pool)
            b.collectKernelStatistics()
            let full = b.stats.rxRingFull
            b.collectKernelStatistics()
            return (n, full, b.stats.rxRingFull)
        }
        #expect(queued > 0 && queued < 400)
        #expect(full > 0 && Int(full) + queued <= 400 && again == full)
    }

    /// Two rings in one PACKET_FANOUT (hash) group on vb: 200 frames of 200 flows are split between
    /// them, each gets some, together exactly what was sent.
    @Test func fanoutDistributesFlowsAcrossTwoSockets() throws {
        let ns = try Self.vethPair("fanout")
        defer { ns.remove() }
        var sent: [[UInt8]] = []
        for i in 0..<200 {
            var f = FrameBuilder()
            f.ethernet(dst: Self.macB, src: Self.macA, type: 0x0800)
            f.ipv4UDP(src: IPv4Address(0xC000_0200 | UInt32(i)), dst: IPv4Address("198.51.100.1")!,
                      sport: UInt16(20_000 + i), dport: 53, payload: [UInt8(i)])
            sent.append(f.bytes)
        }
        let frames = sent
        let (got0, got1) = try ns.run { () throws -> ([[UInt8]], [[UInt8]]) in
            let a = try PacketRing(interface: "va")
            var o = PacketRing.Options()
            o.fanout = .init(group: 4242, mode: .hash)
            let b0 = try PacketRing(interface: "vb", options: o)
            let b1 = try PacketRing(interface: "vb", options: o)
            let pool = PacketPool(capacity: 512)
            var out = batch(of: frames, pool: pool)
            a.send(&out, pool: pool)
            var got0: [[UInt8]] = [], got1: [[UInt8]] = []
            var inbound = PacketBatch(capacity: 64)
            let fromA = Self.from(Self.macA)
            let deadline = monotonicMs() + 3000
            while got0.count + got1.count < frames.count && monotonicMs() < deadline {
                _ = b0.waitReadable(timeoutMs: 20)
                _ = b0.receive(into: &inbound, pool: pool, max: 64)
                got0 += drain(&inbound, pool).filter(fromA)
                _ = b1.receive(into: &inbound, pool: pool, max: 64)
                got1 += drain(&inbound, pool).filter(fromA)
            }
            return (got0, got1)
        }
        #expect(got0.count + got1.count == frames.count)
        #expect(!got0.isEmpty && !got1.isEmpty, "fanout sent everything to one member: \(got0.count)/\(got1.count)")
        let key: ([UInt8]) -> [UInt8] = { Array($0[26..<30]) }  // IPv4 source address
        #expect(Set((got0 + got1).map(key)) == Set(frames.map(key)))
        // A flow stays on one member: no source address shows up on both.
        #expect(Set(got0.map(key)).isDisjoint(with: Set(got1.map(key))))
    }

    @Test func promiscuousModeLastsAsLongAsTheRing() throws {
        let ns = try Self.vethPair("promisc")
        defer { ns.remove() }
        let detailsWhileOpen = try ns.run { () throws -> String in
            var o = PacketRing.Options()
            o.promiscuous = true
            let ring = try PacketRing(interface: "vb", options: o)
            defer { ring.close() }
            return try Shell.check("ip -n \(ns.name) -d -j link show vb").filter { !$0.isWhitespace }
        }
        // A packet socket's membership raises the promiscuity count (not the IFF_PROMISC flag that
        // `ip link set promisc on` sets).
        let detailsAfter = try ns.ip("-d -j link show vb").filter { !$0.isWhitespace }
        #expect(detailsWhileOpen.contains("\"promiscuity\":1"))
        #expect(detailsAfter.contains("\"promiscuity\":0"))
    }

    @Test func missingInterfaceIsAnErrorWithItsName() throws {
        let ns = try TestNamespace("ringerr")
        defer { ns.remove() }
        let message = try ns.run { () -> String in
            do {
                _ = try PacketRing(interface: "nosuch0")
                return "no error"
            } catch let e as PacketIOError {
                return e.description
            }
        }
        #expect(message.contains("nosuch0"))
        #expect(message.contains("No such device"))
    }
}
