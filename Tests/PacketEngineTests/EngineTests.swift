import LwAFTRCore
@testable import PacketEngine
import Testing

/// Encapsulation, decapsulation, hairpinning and ICMP generation on hand-built frames.
struct EngineTests {
    typealias F = FrameBuilder
    static let a4 = IPv4Address("192.0.2.1")!, b4A = IPv6Address("2001:db8::1")!
    static let c4 = IPv4Address("203.0.113.5")!, b4C = IPv6Address("2001:db8::3")!
    static let whole4 = IPv4Address("198.51.100.7")!, b4W = IPv6Address("2001:db8::2")!
    static let remote = IPv4Address("93.184.216.34")!

    static let softwires = [
        // RFC 7597 example: a = 6, k = 8, PSID 0x34 owns 1232–1235, 2256–2259, …
        Softwire(ipv4: a4, psid: 0x34, b4: b4A, br: EngineHarness.br, portSet: PortSet(offset: 6, psidLength: 8)!),
        // a = 0, k = 6: PSID 3 owns 3072–4095.
        Softwire(ipv4: c4, psid: 3, b4: b4C, br: EngineHarness.br, portSet: PortSet(offset: 0, psidLength: 6)!),
        Softwire(ipv4: whole4, psid: 0, b4: b4W, br: EngineHarness.br, portSet: PortSet(offset: 0, psidLength: 0)!),
    ]

    func harness(icmp: Bool = true, tweak: (inout LwAFTRConfig) -> Void = { _ in }) throws -> EngineHarness {
        try EngineHarness(softwires: Self.softwires) { c in
            c.external.generateICMPErrors = icmp
            c.internal.generateICMPErrors = icmp
            tweak(&c)
        }
    }

    @Test func encapsulatesToTheBoundB4() throws {
        let h = try harness()
        let ip4 = F.ipv4TCP(src: Self.remote, dst: Self.a4, sport: 443, dport: 1234, ttl: 64, tos: 0x89, payload: 10)
        let out = h.run(v4: [F.ethernet(type: 0x0800) + ip4])
        #expect(out.out4.isEmpty)
        let f = try #require(out.out6.first)
        #expect(f.count == 14 + 40 + ip4.count)
        #expect(Array(f[0..<12]) == MACAddress("44:44:44:44:44:44")!.bytes + MACAddress("22:22:22:22:22:22")!.bytes)
        #expect(f[12] == 0x86 && f[13] == 0xDD)
        let ip6 = Array(f[14..<54])
        #expect(ip6[0] == 0x68 && ip6[1] == 0x90)  // version 6, traffic class 0x89 from the TOS
        #expect(Int(ip6[4]) << 8 | Int(ip6[5]) == ip4.count)
        #expect(ip6[6] == 4 && ip6[7] == 255)
        #expect(Array(ip6[8..<24]) == EngineHarness.br.bytes)
        #expect(Array(ip6[24..<40]) == Self.b4A.bytes)
        let inner = Array(f[54...])
        #expect(inner[8] == 63)  // TTL decremented
        #expect(F.sum(Array(inner[0..<20])) == 0xFFFF)  // header checksum still valid
        var expected = ip4
        expected[8] = 63
        expected[10] = inner[10]; expected[11] = inner[11]
        #expect(inner == expected)
        #expect(h.counter(.outIPv6Packets) == 1 && h.counter(.inIPv4Packets) == 1)
    }

    @Test func portOutsideThePortSetIsDropped() throws {
        let h = try harness(icmp: false)
        // psid(1236) = 0x35 for a = 6, k = 8; port 80 is below 2^(16-6) (reserved by the offset).
        let frames = [1236, 80].map { F.ethernet(type: 0x0800) + F.ipv4TCP(src: Self.remote, dst: Self.a4, sport: 1, dport: $0) }
        let out = h.run(v4: frames)
        #expect(out.out4.isEmpty && out.out6.isEmpty)
        #expect(h.counter(.dropNoDestSoftwireIPv4Packets) == 2)
        #expect(h.counter(.dropOutByPolicyICMPv4Packets) == 2)
    }

    @Test func wholeAddressSoftwireTakesEveryPort() throws {
        let h = try harness()
        let frames = [0, 1, 80, 65535].map { F.ethernet(type: 0x0800) + F.ipv4TCP(src: Self.remote, dst: Self.whole4, sport: 9, dport: $0) }
        let out = h.run(v4: frames)
        #expect(out.out6.count == 4)
        #expect(out.out6.allSatisfy { Array($0[38..<54]) == Self.b4W.bytes })
    }

    @Test func decapsulatesFromTheRightB4Only() throws {
        let h = try harness()
        let inner = F.ipv4TCP(src: Self.c4, dst: Self.remote, sport: 3100, dport: 80, ttl: 17)
        let good = F.ethernet(type: 0x86DD) + F.ipv6Header(src: Self.b4C, dst: EngineHarness.br, nextHeader: 4, payloadLength: inner.count) + inner
        let out = h.run(v6: [good])
        let f = try #require(out.out4.first)
        #expect(Array(f[0..<14]) == MACAddress("68:68:68:68:68:68")!.bytes + MACAddress("12:12:12:12:12:12")!.bytes + [0x08, 0x00])
        #expect(Array(f[14...]) == inner)  // TTL and checksum untouched on decapsulation
        #expect(h.counter(.outIPv4Packets) == 1)
    }

    @Test func spoofedB4GetsICMPv6SourcePolicyFailure() throws {
        let h = try harness()
        let spoofer = IPv6Address("2001:db8::99")!
        let inner = F.ipv4TCP(src: Self.c4, dst: Self.remote, sport: 3100, dport: 80)
        let ip6 = F.ipv6Header(src: spoofer, dst: EngineHarness.br, nextHeader: 4, payloadLength: inner.count) + inner
        let out = h.run(v6: [F.ethernet(type: 0x86DD) + ip6])
        #expect(out.out4.isEmpty)
        let f = try #require(out.out6.first)
        let err = Array(f[14...])
        #expect(err[6] == 58 && err[7] == 255)
        #expect(Array(err[8..<24]) == EngineHarness.br.bytes && Array(err[24..<40]) == spoofer.bytes)
        let icmp = Array(err[40...])
        #expect(icmp[0] == 1 && icmp[1] == 5)
        #expect(F.sum(icmp, initial: F.ipv6PseudoSum(err)) == 0xFFFF)
        #expect(Array(icmp[8...]) == ip6)  // quotes the offending packet
        #expect(h.counter(.dropNoSourceSoftwireIPv6Packets) == 1 && h.counter(.outICMPv6ErrorPackets) == 1)
    }

    @Test func unboundDestinationGetsICMPv4HostUnreachable() throws {
        let h = try harness()
        let ip4 = F.ipv4TCP(src: Self.remote, dst: IPv4Address("192.0.2.99")!, sport: 5, dport: 6)
        let out = h.run(v4: [F.ethernet(type: 0x0800) + ip4])
        let f = try #require(out.out4.first)
        let ip = Array(f[14...])
        #expect(F.sum(Array(ip[0..<20])) == 0xFFFF)
        #expect(ip[8] == 255 && ip[9] == 1)
        #expect(Array(ip[12..<16]) == [10, 10, 10, 10])
        #expect(Array(ip[16..<20]) == [93, 184, 216, 34])
        let icmp = Array(ip[20...])
        #expect(icmp[0] == 3 && icmp[1] == 1 && F.sum(icmp) == 0xFFFF)
        #expect(Array(icmp[8...]) == ip4)
    }

    @Test func ttlExpiryAndDontFragmentTooBig() throws {
        let h = try harness { $0.internal.mtu = 1280 }
        let expiring = F.ipv4TCP(src: Self.remote, dst: Self.a4, sport: 5, dport: 1234, ttl: 1)
        let big = F.ipv4TCP(src: Self.remote, dst: Self.a4, sport: 5, dport: 1234, df: true, payload: 1400)
        let out = h.run(v4: [F.ethernet(type: 0x0800) + expiring, F.ethernet(type: 0x0800) + big])
        #expect(out.out4.count == 2)
        #expect(out.out4[0][34] == 11 && out.out4[0][35] == 0)
        #expect(out.out4[1][34] == 3 && out.out4[1][35] == 4)
        #expect(Int(out.out4[1][40]) << 8 | Int(out.out4[1][41]) == 1240)  // next-hop MTU = 1280 - 40
        #expect(out.out4[1].count == 14 + 576)  // RFC 1812: at most 576 bytes
        #expect(h.counter(.dropTTLZeroIPv4Packets) == 1 && h.counter(.dropOverMTUButDontFragmentIPv4Packets) == 1)
    }

    @Test func hairpinsBetweenB4s() throws {
        let h = try harness()
        let inner = F.ipv4TCP(src: Self.c4, dst: Self.a4, sport: 3500, dport: 2257, ttl: 30)
        let out = h.run(v6: [F.ethernet(type: 0x86DD) + F.ipv6Header(src: Self.b4C, dst: EngineHarness.br, nextHeader: 4, payloadLength: inner.count) + inner])
        #expect(out.out4.isEmpty)
        let f = try #require(out.out6.first)
        #expect(Array(f[38..<54]) == Self.b4A.bytes)
        #expect(f[54 + 8] == 29)
        #expect(h.counter(.hairpinIPv4Packets) == 1 && h.counter(.outIPv4Packets) == 0)
    }

    @Test func fragmentsOverMTUAndReassembles() throws {
        let h = try harness { $0.internal.mtu = 1280 }
        let big = F.ipv4TCP(src: Self.remote, dst: Self.a4, sport: 5, dport: 1234, df: false, payload: 2000)
        let out = h.run(v4: [F.ethernet(type: 0x0800) + big])
        #expect(out.out6.count == 2)
        #expect(out.out6.allSatisfy { $0.count - 14 <= 1280 && $0[14 + 6] == 44 })
        // Feed the fragments back in from the B4 side, with the B4 as source: they reassemble
        // and decapsulate (port 1234 is the B4's own port now, as a source port).
        var back: [[UInt8]] = []
        for var f in out.out6 {
            f.replaceSubrange(22..<38, with: Self.b4A.bytes)
            f.replaceSubrange(38..<54, with: EngineHarness.br.bytes)
            back.append(f)
        }
        let h2 = try harness()
        let inner = F.ipv4TCP(src: Self.a4, dst: Self.remote, sport: 1234, dport: 5, df: false, payload: 2000)
        let ip6 = F.ipv6Header(src: Self.b4A, dst: EngineHarness.br, nextHeader: 4, payloadLength: inner.count) + inner
        _ = ip6
        let r = h2.run(v6: back)
        #expect(h2.counter(.inIPv6FragReassembled) == 1)
        #expect(h2.counter(.inIPv6FragNeedsReassembly) == 2)
        // The reassembled inner packet is the encapsulated one (TTL 63, dst a4), not bound as a
        // source, so it is refused; what matters here is that it was rebuilt whole.
        #expect(h2.counter(.inIPv6Bytes) == UInt64(14 + 40 + big.count))
        _ = r
    }

    @Test func answersEchoToItself() throws {
        let h = try harness()
        let ping = F.ipv4Echo(src: Self.remote, dst: EngineHarness.extIP, type: 8, id: 77, ttl: 9)
        let out = h.run(v4: [F.ethernet(type: 0x0800) + ping])
        let f = try #require(out.out4.first)
        let ip = Array(f[14...])
        #expect(Array(ip[12..<16]) == [10, 10, 10, 10] && ip[8] == 64)
        #expect(F.sum(Array(ip[0..<20])) == 0xFFFF && ip[20] == 0 && F.sum(Array(ip[20...])) == 0xFFFF)
        #expect(h.counter(.inICMPv4EchoPackets) == 1)
    }

    @Test func malformedFramesAreCountedNotFatal() throws {
        let h = try harness()
        var junk: [[UInt8]] = [[], [1, 2, 3], F.ethernet(type: 0x0800), F.ethernet(type: 0x0800) + [0x4F, 0, 0xFF, 0xFF]]
        junk.append(F.ethernet(type: 0x0800) + [0x45, 0, 0, 20] + [UInt8](repeating: 0, count: 16))  // no L4 at all
        let six: [[UInt8]] = [F.ethernet(type: 0x86DD) + [0x60, 0, 0, 0, 0, 4, 4, 64] + [UInt8](repeating: 0, count: 36)]
        let out = h.run(v4: junk, v6: six)
        #expect(out.out4.isEmpty && out.out6.isEmpty)
        #expect(h.engine.pool.available == h.engine.pool.capacity)  // every buffer came back
    }
}
