public import BindingTable
public import LwAFTRCore
internal import PacketEngine

/// Frame size of a benchmark trace: one fixed Ethernet frame length or the simple IMIX.
///
/// Sizes follow the reference's `benchdata` naming: the captured Ethernet frame length without
/// FCS, the same on both sides (`ipv4-0550.pcap` and `ipv6-0550.pcap` both hold 550-byte frames).
/// A 4in6 frame cannot be shorter than 82 bytes (Ethernet, IPv6, IPv4, UDP): below that the IPv6
/// side uses 82-byte frames. IMIX is the classic 7:4:1 mix of 64, 576 and 1500-byte frames.
public enum BenchFrameSize: Hashable, Sendable, CustomStringConvertible {
    case fixed(Int)
    case imix

    /// The 7:4:1 IMIX pattern, one cycle.
    public static let imixPattern = [64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1500]
    /// Shortest IPv4 frame (Ethernet + IPv4 + UDP, padded as Ethernet requires).
    public static let minIPv4Frame = 60
    /// Shortest 4in6 frame (Ethernet + IPv6 + IPv4 + UDP).
    public static let minIPv6Frame = 82

    /// Parses `550`, `0550` or `imix`.
    public init?(_ text: some StringProtocol) {
        if text.lowercased() == "imix" { self = .imix; return }
        guard let n = Int(text), n >= Self.minIPv4Frame, n <= 9000 else { return nil }
        self = .fixed(n)
    }

    /// File-name tag: `0550`, `imix`.
    public var description: String {
        switch self {
        case .imix: return "imix"
        case let .fixed(n):
            let s = String(n)
            return String(repeating: "0", count: max(0, 4 - s.count)) + s
        }
    }

    /// Frame lengths of packet `j` on each side.
    public func lengths(_ j: Int) -> (ipv4: Int, ipv6: Int) {
        let n: Int
        switch self {
        case let .fixed(f): n = f
        case .imix: n = Self.imixPattern[j % Self.imixPattern.count]
        }
        return (max(n, Self.minIPv4Frame), max(n, Self.minIPv6Frame))
    }

    /// Packets in a trace of `flows` flows: one per flow, at least one whole IMIX cycle.
    public func packetCount(flows: Int) -> Int {
        guard self == .imix else { return flows }
        let c = Self.imixPattern.count
        return (flows + c - 1) / c * c
    }
}

/// A deterministic synthetic workload: `bindings` softwires (64 per IPv4 address, PSID length 6,
/// no reserved ports, one B4 each) and `flows` active flows spread over them. Flow `j` is one UDP
/// conversation between an internet host in 198.18.0.0/15 and a port of one softwire; the IPv4
/// trace carries it from the internet, the IPv6 trace carries the reply 4in6 from the bound B4.
public struct BenchWorkload: Sendable {
    public static let psidLength: UInt8 = 6
    /// First shared IPv4 address (100.64.0.0, so 10 M bindings fit in 100.64.0.0/10).
    public static let firstIPv4: UInt32 = 0x6440_0000
    public static let b4Prefix: UInt64 = 0x2001_0db8_0000_0000
    /// br-address and the lwAFTR's own IPv6 address.
    public static let br = IPv6Address(hi: 0x2001_0db8_ffff_0000, lo: 1)
    public static let lwaftrIPv4 = IPv4Address(192, 0, 2, 1)
    public static let internetHosts: UInt32 = 0xC612_0000  // 198.18.0.0/15
    public static let externalMAC = MACAddress(0x1212_1212_1212)
    public static let externalNextHop = MACAddress(0x6868_6868_6868)
    public static let internalMAC = MACAddress(0x2222_2222_2222)
    public static let internalNextHop = MACAddress(0x4444_4444_4444)

    public let bindings: Int
    public let flows: Int
    /// Step between the bindings of consecutive flows (coprime with `bindings`, ~0.618 × bindings).
    let stride: Int

    public init(bindings: Int, flows: Int) {
        precondition(bindings > 0 && flows > 0)
        self.bindings = bindings
        self.flows = flows
        var s = max(1, Int(Double(bindings) * 0.6180339887))
        while gcd(s, bindings) != 1 { s += 1 }
        stride = s
    }

    /// Softwire number `i` (0 ..< bindings).
    public func softwire(_ i: Int) -> Softwire {
        Softwire(ipv4: IPv4Address(Self.firstIPv4 &+ UInt32(i >> 6)), psid: UInt16(i & 63),
                 b4: IPv6Address(hi: Self.b4Prefix, lo: UInt64(i) &+ 1), br: Self.br,
                 portSet: PortSet(offset: 0, psidLength: Self.psidLength)!)
    }

    /// The endpoints of flow `j`: softwire, its port, the internet host and its port.
    public func flow(_ j: Int) -> (binding: Int, port: UInt16, host: UInt32, hostPort: UInt16) {
        let f = j % flows
        let b = Int((UInt64(f % bindings) &* UInt64(stride)) % UInt64(bindings))
        let round = f / bindings  // more flows than bindings: further ports of the same softwire
        let low = 16 + (round % 1008)
        let port = UInt16(truncatingIfNeeded: (b & 63) << 10 | low)
        return (b, port, Self.internetHosts &+ UInt32(f % 131_072), UInt16(1024 + (f / 131_072) % 60_000))
    }

    /// A binding table holding every softwire.
    public func makeTable() throws -> BindingTable {
        let t = BindingTable(capacity: bindings)
        for i in 0..<bindings { _ = try t.insert(softwire(i)) }
        return t
    }

    /// The lwAFTR configuration: static next hops, MTU 9000 both sides (no fragmentation),
    /// softwires included only when asked (large tables travel as snapshots).
    public func config(includeSoftwires: Bool) -> LwAFTRConfig {
        var ext = InterfacePolicy(mtu: 9000), int = InterfacePolicy(mtu: 9000)
        ext.errorRatePackets = 600_000
        int.errorRatePackets = 600_000
        let inst = InstanceConfig(
            device: "bench", queueID: 0,
            external: InterfaceAddressing(ipv4: Self.lwaftrIPv4, mac: Self.externalMAC, nextHop: .mac(Self.externalNextHop)),
            internal: InterfaceAddressing(ipv6: Self.br, mac: Self.internalMAC, nextHop: .mac(Self.internalNextHop)))
        let sw = includeSoftwires ? (0..<bindings).map(softwire) : []
        return LwAFTRConfig(softwires: sw, external: ext, internal: int, instances: [inst])
    }

    /// Packet `j` of the IPv4 (internet → B4) trace, written into `buf` (at least `len` bytes, zeroed).
    public func ipv4Frame(_ j: Int, length len: Int, into buf: UnsafeMutableRawPointer) {
        let fl = flow(j)
        let sw = softwire(fl.binding)
        ethernet(buf, dst: Self.externalMAC, src: Self.externalNextHop, type: 0x0800)
        udp4(buf + 14, ipLength: len - 14, src: fl.host, dst: sw.ipv4.value, sport: fl.hostPort, dport: fl.port,
             id: UInt16(truncatingIfNeeded: j))
    }

    /// Packet `j` of the IPv6 (B4 → internet, 4in6) trace, written into `buf` (zeroed, `len` bytes).
    public func ipv6Frame(_ j: Int, length len: Int, into buf: UnsafeMutableRawPointer) {
        let fl = flow(j)
        let sw = softwire(fl.binding)
        ethernet(buf, dst: Self.internalMAC, src: Self.internalNextHop, type: 0x86DD)
        let ip6 = buf + 14
        put32(ip6, 0x6000_0000)
        put16(ip6 + 4, UInt16(len - 54))
        ip6.storeBytes(of: 4, toByteOffset: 6, as: UInt8.self)  // IPv4-in-IPv6
        ip6.storeBytes(of: 64, toByteOffset: 7, as: UInt8.self)
        put64(ip6 + 8, sw.b4.hi); put64(ip6 + 16, sw.b4.lo)
        put64(ip6 + 24, sw.br.hi); put64(ip6 + 32, sw.br.lo)
        udp4(ip6 + 40, ipLength: len - 54, src: sw.ipv4.value, dst: fl.host, sport: fl.port, dport: fl.hostPort,
             id: UInt16(truncatingIfNeeded: j))
    }

    private func ethernet(_ p: UnsafeMutableRawPointer, dst: MACAddress, src: MACAddress, type: UInt16) {
        for k in 0..<6 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: dst.value >> (40 - 8 * k)), toByteOffset: k, as: UInt8.self)
            p.storeBytes(of: UInt8(truncatingIfNeeded: src.value >> (40 - 8 * k)), toByteOffset: 6 + k, as: UInt8.self)
        }
        put16(p + 12, type)
    }

    /// IPv4 + UDP headers (zero payload) with valid checksums; Ethernet padding below 60 bytes stays outside.
    private func udp4(_ p: UnsafeMutableRawPointer, ipLength: Int, src: UInt32, dst: UInt32, sport: UInt16,
                      dport: UInt16, id: UInt16) {
        let total = ipLength  // ≥ 28: frames are never shorter than the minimums above
        put16(p, 0x4500); put16(p + 2, UInt16(total)); put16(p + 4, id); put16(p + 6, 0)
        put16(p + 8, 0x4011); put16(p + 10, 0); put32(p + 12, src); put32(p + 16, dst)
        put16(p + 10, Checksum.compute(p, 20))
        let u = p + 20, ulen = UInt16(total - 20)
        put16(u, sport); put16(u + 2, dport); put16(u + 4, ulen); put16(u + 6, 0)
        // Pseudo-header + UDP header; the payload is zeros.
        let pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 17 + UInt32(ulen)
        let c = Checksum.compute(u, 8, initial: pseudo)
        put16(u + 6, c == 0 ? 0xFFFF : c)
    }
}

private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
private func put16(_ p: UnsafeMutableRawPointer, _ v: UInt16) { p.storeBytes(of: v.bigEndian, as: UInt16.self) }
private func put32(_ p: UnsafeMutableRawPointer, _ v: UInt32) { p.storeBytes(of: v.bigEndian, as: UInt32.self) }
private func put64(_ p: UnsafeMutableRawPointer, _ v: UInt64) { p.storeBytes(of: v.bigEndian, as: UInt64.self) }
