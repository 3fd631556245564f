import LwAFTRCore
@testable import PacketEngine

/// Builds Ethernet frames byte by byte for the engine tests, with correct checksums.
enum FrameBuilder {
    static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func checksum(_ b: [UInt8], initial: UInt32 = 0) -> UInt16 {
        b.withUnsafeBytes { Checksum.compute($0.baseAddress!, b.count, initial: initial) }
    }

    /// Sum of the bytes as 16-bit words, folded (0xFFFF means "checksum verifies").
    static func sum(_ b: [UInt8], initial: UInt32 = 0) -> UInt16 {
        b.withUnsafeBytes { Checksum.sum($0.baseAddress!, b.count, initial: initial) }
    }

    static func ethernet(dst: UInt64 = 0x0202_0202_0202, src: UInt64 = 0x0404_0404_0404, type: Int) -> [UInt8] {
        MACAddress(dst).bytes + MACAddress(src).bytes + be16(type)
    }

    /// IPv4 header + TCP header (20 bytes, no checksum care) + payload.
    static func ipv4TCP(src: IPv4Address, dst: IPv4Address, sport: Int, dport: Int, ttl: UInt8 = 64,
                        tos: UInt8 = 0, df: Bool = true, payload: Int = 0, proto: UInt8 = 6) -> [UInt8] {
        var tcp = be16(sport) + be16(dport) + [UInt8](repeating: 0, count: 16)
        tcp[12] = 0x50
        tcp += [UInt8](repeating: 0xAB, count: payload)
        return ipv4Header(src: src, dst: dst, proto: proto, ttl: ttl, tos: tos, df: df, payloadLength: tcp.count) + tcp
    }

    static func ipv4Header(src: IPv4Address, dst: IPv4Address, proto: UInt8, ttl: UInt8 = 64, tos: UInt8 = 0,
                           df: Bool = false, payloadLength: Int, id: Int = 0x1234) -> [UInt8] {
        let s = src.bytes, d = dst.bytes
        var h: [UInt8] = [0x45, tos] + be16(20 + payloadLength) + be16(id) + [df ? 0x40 : 0, 0, ttl, proto, 0, 0]
        h += [s.0, s.1, s.2, s.3, d.0, d.1, d.2, d.3]
        let c = checksum(h)
        h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xFF)
        return h
    }

    static func ipv6Header(src: IPv6Address, dst: IPv6Address, nextHeader: UInt8, payloadLength: Int,
                           hopLimit: UInt8 = 64) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payloadLength) + [nextHeader, hopLimit] + src.bytes + dst.bytes
    }

    /// An IPv4 ICMP echo (type 8 or 0) with identifier `id`.
    static func ipv4Echo(src: IPv4Address, dst: IPv4Address, type: UInt8, id: Int, ttl: UInt8 = 64) -> [UInt8] {
        var icmp: [UInt8] = [type, 0, 0, 0] + be16(id) + be16(1) + [UInt8](repeating: 0x61, count: 8)
        let c = checksum(icmp)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xFF)
        return ipv4Header(src: src, dst: dst, proto: 1, ttl: ttl, payloadLength: icmp.count) + icmp
    }

    static func ipv6PseudoSum(_ ip6: [UInt8]) -> UInt32 {
        let plen = Int(ip6[4]) << 8 | Int(ip6[5])
        var s: UInt32 = UInt32(sum(Array(ip6[8..<40])))
        s += UInt32(plen >> 16) + UInt32(plen & 0xFFFF) + UInt32(ip6[6])
        return s
    }
}

/// Small engine harness: builds an engine from softwires and pushes frames through it.
final class EngineHarness {
    let engine: LwAFTREngine
    static let br = IPv6Address("8:9:a:b:c:d:e:f")!
    static let extIP = IPv4Address("10.10.10.10")!

    init(softwires: [Softwire], tweak: (inout LwAFTRConfig) -> Void = { _ in }) throws {
        var config = LwAFTRConfig(softwires: softwires)
        config.instances = [InstanceConfig(
            device: "test", queueID: 0,
            external: InterfaceAddressing(ipv4: Self.extIP, mac: MACAddress("12:12:12:12:12:12")!,
                                          nextHop: .mac(MACAddress("68:68:68:68:68:68")!)),
            internal: InterfaceAddressing(ipv6: Self.br, mac: MACAddress("22:22:22:22:22:22")!,
                                          nextHop: .mac(MACAddress("44:44:44:44:44:44")!)))]
        tweak(&config)
        engine = try LwAFTREngine(config: config, poolCapacity: 1024, batchCapacity: 64)
    }

    /// Runs the frames through the engine; returns what came out of each side.
    func run(v4: [[UInt8]] = [], v6: [[UInt8]] = []) -> (out4: [[UInt8]], out6: [[UInt8]]) {
        var b4 = PacketBatch(capacity: 64), b6 = PacketBatch(capacity: 64)
        var o4 = PacketBatch(capacity: 512), o6 = PacketBatch(capacity: 512)
        for f in v4 { f.withUnsafeBytes { _ = b4.append(engine.pool.make($0)!) } }
        for f in v6 { f.withUnsafeBytes { _ = b6.append(engine.pool.make($0)!) } }
        engine.process(in4: &b4, in6: &b6, out4: &o4, out6: &o6, now: 1)
        var r4: [[UInt8]] = [], r6: [[UInt8]] = []
        for i in 0..<o4.count { r4.append(Array(o4[i].bytes)) }
        for i in 0..<o6.count { r6.append(Array(o6[i].bytes)) }
        o4.freeAll(to: engine.pool)
        o6.freeAll(to: engine.pool)
        return (r4, r6)
    }

    func counter(_ c: Counter) -> UInt64 { engine.counters[c] }
}
