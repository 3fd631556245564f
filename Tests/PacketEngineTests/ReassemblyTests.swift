import LwAFTRCore
@testable import PacketEngine
import Testing

/// Reassembly: bounded memory under a fragment flood, and the RFC 5722 rejection rules.
struct ReassemblyTests {
    typealias F = FrameBuilder

    /// An IPv4 fragment frame: `payload` bytes at byte offset `offset`.
    static func fragment4(id: Int, offset: Int, more: Bool, payload: Int, dst: IPv4Address = IPv4Address(192, 0, 2, 1)) -> [UInt8] {
        var h = F.ipv4Header(src: IPv4Address(93, 184, 216, 34), dst: dst, proto: 17, payloadLength: payload, id: id)
        let fo = offset >> 3 | (more ? 0x2000 : 0)
        h[6] = UInt8(fo >> 8); h[7] = UInt8(fo & 0xFF)
        return F.ethernet(type: 0x0800) + h + [UInt8](repeating: UInt8(offset & 0xFF), count: payload)
    }

    @Test func floodStaysWithinConfiguredBound() throws {
        let maxPackets = 10, maxFrags = 5
        let h = try EngineHarness(softwires: EngineTests.softwires) { c in
            c.external.maxFragmentedPackets = maxPackets
            c.external.maxFragmentsPerPacket = maxFrags
        }
        let pool = h.engine.pool
        var peakHeld = 0
        // 20 000 first fragments of distinct datagrams that never complete.
        for round in 0..<400 {
            let frames = (0..<50).map { i in Self.fragment4(id: round * 50 + i, offset: 0, more: true, payload: 64) }
            _ = h.run(v4: frames)
            peakHeld = max(peakHeld, pool.capacity - pool.available)
            #expect(h.engine.reassembler4.pending <= maxPackets)
        }
        #expect(peakHeld <= maxPackets * maxFrags)
        #expect(h.engine.reassembler4.heldBuffers <= maxPackets)
        #expect(h.counter(.inIPv4FragNeedsReassembly) == 20_000)
        #expect(h.counter(.dropIPv4FragRandomEvicted) == UInt64(20_000 - maxPackets))
    }

    @Test func tooManyFragmentsInvalidateThePacket() throws {
        let h = try EngineHarness(softwires: EngineTests.softwires) { c in c.external.maxFragmentsPerPacket = 3 }
        let frames = (0..<5).map { Self.fragment4(id: 7, offset: $0 * 8, more: true, payload: 8) }
        _ = h.run(v4: frames)
        #expect(h.counter(.dropIPv4FragInvalidReassembly) >= 1)
        #expect(h.engine.reassembler4.heldBuffers <= 3)
    }

    @Test func reloadedLimitsApplyAndDropWhatWasBeingReassembled() throws {
        let h = try EngineHarness(softwires: EngineTests.softwires) { c in c.external.maxFragmentsPerPacket = 8 }
        let pool = h.engine.pool
        // Five fragments of one datagram held under the limit of 8.
        _ = h.run(v4: (0..<5).map { Self.fragment4(id: 9, offset: $0 * 8, more: true, payload: 8) })
        #expect(h.engine.reassembler4.heldBuffers == 5 && h.counter(.dropIPv4FragInvalidReassembly) == 0)
        // A reload that keeps the limits keeps the datagram.
        var same = h.engine.settings
        same.flowLabel = 7
        try h.engine.update(settings: same)
        #expect(h.engine.reassembler4.heldBuffers == 5)
        // Limit 3: the held fragments go back to the pool and a fourth fragment is now too many.
        var s = h.engine.settings
        s.extMaxFragmentsPerPacket = 3
        try h.engine.update(settings: s)
        #expect(h.engine.reassembler4.pending == 0 && pool.available == pool.capacity)
        _ = h.run(v4: (0..<5).map { Self.fragment4(id: 10, offset: $0 * 8, more: true, payload: 8) })
        #expect(h.counter(.dropIPv4FragInvalidReassembly) >= 1 && h.engine.reassembler4.heldBuffers <= 3)
    }

    @Test func overlapsAndDuplicatesAreRejected() throws {
        let h = try EngineHarness(softwires: EngineTests.softwires)
        _ = h.run(v4: [Self.fragment4(id: 1, offset: 0, more: true, payload: 16),
                       Self.fragment4(id: 1, offset: 8, more: false, payload: 16)])  // overlaps 8..<16
        _ = h.run(v4: [Self.fragment4(id: 2, offset: 0, more: true, payload: 16),
                       Self.fragment4(id: 2, offset: 0, more: true, payload: 16)])  // duplicate
        _ = h.run(v4: [Self.fragment4(id: 3, offset: 0, more: true, payload: 12)])  // not a multiple of 8
        #expect(h.counter(.dropIPv4FragInvalidReassembly) == 3)
        #expect(h.counter(.inIPv4FragReassembled) == 0)
        #expect(h.engine.pool.available == h.engine.pool.capacity)
    }

    @Test func outOfOrderFragmentsReassembleWhole() throws {
        let h = try EngineHarness(softwires: EngineTests.softwires)
        // UDP to 192.0.2.1:1234 (psid 0x34), split in three, sent last-first.
        let udp = F.be16(9) + F.be16(1234) + F.be16(8 + 40) + [0, 0] + [UInt8](repeating: 0x5A, count: 40)
        func frag(_ off: Int, _ len: Int, _ more: Bool) -> [UInt8] {
            var f = Self.fragment4(id: 99, offset: off, more: more, payload: len)
            f.replaceSubrange(34..<(34 + len), with: udp[off..<(off + len)])
            return f
        }
        let out = h.run(v4: [frag(32, 16, false), frag(16, 16, true), frag(0, 16, true)])
        #expect(h.counter(.inIPv4FragReassembled) == 1)
        let f = try #require(out.out6.first)
        #expect(Array(f[(54 + 20)...]) == udp)
        #expect(f[54 + 6] == 0 && f[54 + 7] == 0)  // flags and offset cleared
        #expect(F.sum(Array(f[54..<(54 + 20)])) == 0xFFFF)
    }
}

/// ICMP error rate limiting (RFC 7596 §9): a token bucket per side.
struct RateLimitTests {
    typealias F = FrameBuilder

    @Test func icmpv4ErrorsAreRateLimited() throws {
        let h = try EngineHarness(softwires: EngineTests.softwires) { c in
            c.external.errorRatePackets = 3
            c.external.errorRatePeriod = 2
        }
        let unbound = (0..<10).map { i in
            F.ethernet(type: 0x0800) + F.ipv4TCP(src: EngineTests.remote, dst: IPv4Address(192, 0, 2, 99), sport: i, dport: 6)
        }
        let out = h.run(v4: unbound)
        #expect(out.out4.count == 3)
        #expect(h.counter(.outICMPv4ErrorPackets) == 3)
        #expect(h.counter(.dropOverRateLimitICMPv4Packets) == 7)
    }

    @Test func bucketRefillsOverTime() {
        var b = TokenBucket(burst: 2, periodNs: 1_000_000_000)
        var got: [Bool] = []
        for t: UInt64 in [10, 10, 10, 10 + 400_000_000, 10 + 600_000_000, 20_000_000_000, 20_000_000_000, 20_000_000_000] {
            got.append(b.take(now: t))
        }
        // Burst of 2, empty; 0.4 s earns 0.8 token (no); 0.6 s in total earns 1.2 (one); a long pause refills to 2.
        #expect(got == [true, true, false, false, true, true, true, false])
    }
}
