import CAllocCounter
import LwAFTRCore
@testable import PacketEngine
import Testing

/// The per-packet path must not allocate: 10 k frames (encapsulation, decapsulation, hairpinning,
/// ICMP errors of both families, IPv6 fragmentation and IPv6 reassembly) after warm-up.
struct AllocationTests {
    typealias F = FrameBuilder

    @Test func perPacketPathAllocatesNothing() throws {
        let h = try EngineHarness(softwires: EngineTests.softwires) { c in c.internal.mtu = 1280 }
        let e = h.engine
        let remote = EngineTests.remote
        var v4: [[UInt8]] = []
        var v6: [[UInt8]] = []
        v4.append(F.ethernet(type: 0x0800) + F.ipv4TCP(src: remote, dst: EngineTests.a4, sport: 5, dport: 1234))
        v4.append(F.ethernet(type: 0x0800) + F.ipv4TCP(src: remote, dst: IPv4Address("192.0.2.99")!, sport: 5, dport: 6))
        v4.append(F.ethernet(type: 0x0800) + F.ipv4TCP(src: remote, dst: EngineTests.a4, sport: 5, dport: 1234, ttl: 1))
        v4.append(F.ethernet(type: 0x0800) + F.ipv4TCP(src: remote, dst: EngineTests.a4, sport: 5, dport: 1234, df: false, payload: 1500))
        let inner = F.ipv4TCP(src: EngineTests.c4, dst: remote, sport: 3100, dport: 80)
        v6.append(F.ethernet(type: 0x86DD) + F.ipv6Header(src: EngineTests.b4C, dst: EngineHarness.br, nextHeader: 4, payloadLength: inner.count) + inner)
        v6.append(F.ethernet(type: 0x86DD) + F.ipv6Header(src: IPv6Address("2001:db8::99")!, dst: EngineHarness.br, nextHeader: 4, payloadLength: inner.count) + inner)
        let hair = F.ipv4TCP(src: EngineTests.c4, dst: EngineTests.a4, sport: 3500, dport: 2257)
        v6.append(F.ethernet(type: 0x86DD) + F.ipv6Header(src: EngineTests.b4C, dst: EngineHarness.br, nextHeader: 4, payloadLength: hair.count) + hair)
        // Two IPv6 fragments of one tunnelled packet (reassembled, then decapsulated).
        let big = F.ipv4TCP(src: EngineTests.c4, dst: remote, sport: 3100, dport: 80, df: false, payload: 1300)
        let first = Array(big[0..<1232]), second = Array(big[1232...])
        let fragHdr: (Int, Bool) -> [UInt8] = { off, more in [4, 0] + F.be16(off | (more ? 1 : 0)) + [0, 0, 0x12, 0x34] }
        v6.append(F.ethernet(type: 0x86DD) + F.ipv6Header(src: EngineTests.b4C, dst: EngineHarness.br, nextHeader: 44, payloadLength: 8 + first.count) + fragHdr(0, true) + first)
        v6.append(F.ethernet(type: 0x86DD) + F.ipv6Header(src: EngineTests.b4C, dst: EngineHarness.br, nextHeader: 44, payloadLength: 8 + second.count) + fragHdr(1232, false) + second)

        var b4 = PacketBatch(capacity: 64), b6 = PacketBatch(capacity: 64)
        var o4 = PacketBatch(capacity: 512), o6 = PacketBatch(capacity: 512)
        var processed = 0
        // Frames are copied into pool buffers outside the counted region (the test's own arrays
        // are not the engine's business); the engine's whole pipeline runs inside it.
        var allocations: UInt64 = 0
        for iteration in 0..<(10 + 10_000 / (v4.count + v6.count) + 1) {
            for f in v4 { f.withUnsafeBytes { _ = b4.append(e.pool.make($0)!) } }
            for f in v6 { f.withUnsafeBytes { _ = b6.append(e.pool.make($0)!) } }
            alloc_counter_start()
            e.process(in4: &b4, in6: &b6, out4: &o4, out6: &o6, now: 5)
            o4.freeAll(to: e.pool)
            o6.freeAll(to: e.pool)
            let n = alloc_counter_stop()
            if iteration >= 10 {  // after warm-up
                allocations += n
                processed += v4.count + v6.count
            }
        }
        #expect(allocations == 0, "\(allocations) allocations for \(processed) packets")
        #expect(e.counters[.outIPv6Frag] > 0 && e.counters[.inIPv6FragReassembled] > 0)
        #expect(e.counters[.outICMPv4ErrorPackets] > 0 && e.counters[.outICMPv6ErrorPackets] > 0)
        #expect(e.pool.available == e.pool.capacity)
    }
}

/// Guards the guard: the interposed counter does see Swift heap allocations.
struct AllocationCounterSelfTest {
    @Test func counterSeesAllocations() {
        alloc_counter_start()
        let a = [Int](repeating: 7, count: Int.random(in: 100...200))
        let n = alloc_counter_stop()
        #expect(a.count >= 100)
        #expect(n >= 1)
    }
}
