// Packet-path micro benchmarks through the package's public API: frame parse (ingress of a frame
// that is dropped for want of a binding), PSID extraction, binding lookup, encapsulation and
// decapsulation (whole `LwAFTREngine.process` on a batch of 128 550-byte frames), checksums.
//
// Run from Bench/:  swift package benchmark --target PacketPathBench
// Per-packet figures: divide the per-batch times by 128. The pcap replay matrix
// (Scripts/bench/run-matrix.sh) measures the same engine end to end.
import Benchmark
import BindingTable
import LwAFTRCore
import PacketEngine

/// A 1 M-softwire table (64 PSIDs per address from 100.64.0.0, like `lwaftr bench gen`), an engine
/// with static next hops, and 128-frame templates for each direction.
final class PathFixture: @unchecked Sendable {
    static let batch = 128
    static let base: UInt32 = 0x6440_0000
    static let br = IPv6Address(hi: 0x2001_0db8_ffff_0000, lo: 1)
    let table: BindingTable
    let reader: BindingTable.Reader
    let engine: LwAFTREngine
    let n: Int
    var frames4: [[UInt8]] = [], frames6: [[UInt8]] = [], unbound4: [[UInt8]] = []
    var keys: [(UInt32, UInt16)] = []

    static func softwire(_ i: Int) -> Softwire {
        Softwire(ipv4: IPv4Address(base &+ UInt32(i >> 6)), psid: UInt16(i & 63),
                 b4: IPv6Address(hi: 0x2001_0db8_0000_0000, lo: UInt64(i) + 1), br: br,
                 portSet: PortSet(psidLength: 6)!)
    }

    init(n: Int = 1_000_000, flows: Int = 20_000) throws {
        self.n = n
        var list: [Softwire] = []
        list.reserveCapacity(n)
        for i in 0..<n { list.append(Self.softwire(i)) }
        table = try BindingTable(softwires: list)
        reader = try table.makeReader()
        var ext = InterfacePolicy(mtu: 9000), int = InterfacePolicy(mtu: 9000)
        ext.generateICMPErrors = false
        int.generateICMPErrors = false
        let inst = InstanceConfig(
            device: "bench", queueID: 0,
            external: InterfaceAddressing(ipv4: IPv4Address(192, 0, 2, 1), mac: MACAddress(0x1212_1212_1212),
                                          nextHop: .mac(MACAddress(0x6868_6868_6868))),
            internal: InterfaceAddressing(ipv6: Self.br, mac: MACAddress(0x2222_2222_2222),
                                          nextHop: .mac(MACAddress(0x4444_4444_4444))))
        let config = LwAFTRConfig(softwires: [], external: ext, internal: int, instances: [inst])
        engine = try LwAFTREngine(settings: EngineSettings(config: config), table: table,
                                  pool: PacketPool(capacity: Self.batch * 16), batchCapacity: Self.batch)
        var rng: UInt64 = 42
        for j in 0..<flows {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            let i = Int((rng >> 20) % UInt64(n))
            let port = UInt16(i & 63) << 10 | UInt16(16 + j % 1000)
            keys.append((Self.base &+ UInt32(i >> 6), port))
            if j < Self.batch {
                let s = Self.softwire(i), host: UInt32 = 0xC612_0000 &+ UInt32(j)
                frames4.append(Frames.ipv4(length: 550, src: host, dst: s.ipv4.value, sport: 1024, dport: port))
                frames6.append(Frames.ipv6(length: 550, b4: s.b4, br: Self.br, src: s.ipv4.value, dst: host,
                                           sport: port, dport: 1024))
                unbound4.append(Frames.ipv4(length: 550, src: host, dst: 0x0A00_0001, sport: 1024, dport: port))
            }
        }
    }

    /// Copies the templates into pool buffers and runs one `process` call; returns frames emitted.
    func run(in4 t4: [[UInt8]], in6 t6: [[UInt8]]) -> Int {
        var b4 = PacketBatch(capacity: Self.batch), b6 = PacketBatch(capacity: Self.batch)
        var o4 = PacketBatch(capacity: Self.batch * 2), o6 = PacketBatch(capacity: Self.batch * 2)
        for f in t4 { if let p = f.withUnsafeBytes({ engine.pool.make($0) }) { _ = b4.append(p) } }
        for f in t6 { if let p = f.withUnsafeBytes({ engine.pool.make($0) }) { _ = b6.append(p) } }
        engine.process(in4: &b4, in6: &b6, out4: &o4, out6: &o6, now: 1)
        let emitted = o4.count + o6.count
        o4.freeAll(to: engine.pool)
        o6.freeAll(to: engine.pool)
        return emitted
    }
}

/// Ethernet + IPv4 + UDP frames (zero payload, valid IPv4 header checksum) and their 4in6 form.
enum Frames {
    static func ipv4(length: Int, src: UInt32, dst: UInt32, sport: UInt16, dport: UInt16) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: length)
        put(&f, 0, [0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x68, 0x68, 0x68, 0x68, 0x68, 0x68, 0x08, 0x00])
        inner(&f, at: 14, length: length - 14, src: src, dst: dst, sport: sport, dport: dport)
        return f
    }

    static func ipv6(length: Int, b4: IPv6Address, br: IPv6Address, src: UInt32, dst: UInt32, sport: UInt16,
                     dport: UInt16) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: length)
        put(&f, 0, [0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x86, 0xDD])
        let plen = length - 54
        put(&f, 14, [0x60, 0, 0, 0, UInt8(plen >> 8), UInt8(plen & 0xFF), 4, 64])
        put(&f, 22, b4.bytes)
        put(&f, 38, br.bytes)
        inner(&f, at: 54, length: plen, src: src, dst: dst, sport: sport, dport: dport)
        return f
    }

    static func inner(_ f: inout [UInt8], at o: Int, length: Int, src: UInt32, dst: UInt32, sport: UInt16, dport: UInt16) {
        put(&f, o, [0x45, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0, 0, 64, 17, 0, 0])
        put(&f, o + 12, be32(src) + be32(dst))
        let ck = f.withUnsafeBytes { Checksum.compute($0.baseAddress! + o, 20) }
        put(&f, o + 10, [UInt8(ck >> 8), UInt8(ck & 0xFF)])
        let ulen = length - 20
        put(&f, o + 20, [UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF),
                         UInt8(ulen >> 8), UInt8(ulen & 0xFF), 0, 0])
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func put(_ f: inout [UInt8], _ at: Int, _ bytes: [UInt8]) { for (k, b) in bytes.enumerated() { f[at + k] = b } }
}

let benchmarks: @Sendable () -> Void = {
    let perItem = Benchmark.Configuration(metrics: [.wallClock, .throughput], timeUnits: .nanoseconds,
                                          warmupIterations: 3, scalingFactor: .kilo, maxDuration: .seconds(2))
    let perBatch = Benchmark.Configuration(metrics: [.wallClock, .throughput], timeUnits: .microseconds,
                                           warmupIterations: 10, scalingFactor: .one, maxDuration: .seconds(2),
                                           maxIterations: 100_000)

    Benchmark("parse: ingress + drop, 128 × 550 B IPv4 to an unmanaged address (per batch)",
              configuration: perBatch) { benchmark, f in
        for _ in benchmark.scaledIterations { blackHole(f.run(in4: f.unbound4, in6: [])) }
    } setup: { try PathFixture() }

    Benchmark("psid: PortSet.psid(of:) (×1000)", configuration: perItem) { benchmark in
        let ps = PortSet(offset: 6, psidLength: 6)!
        var acc: UInt16 = 0
        for i in benchmark.scaledIterations { acc &+= ps.psid(of: UInt16(truncatingIfNeeded: i &* 40503)) }
        blackHole(acc)
    }

    Benchmark("lookup: Reader.lookup, 1 M bindings, 20 k flows (×1000)", configuration: perItem) { benchmark, f in
        var found = 0
        var k = 0
        for _ in benchmark.scaledIterations {
            let (ip, port) = f.keys[k]
            if f.reader.lookup(ipv4: ip, port: port) != nil { found &+= 1 }
            k = k + 1 == f.keys.count ? 0 : k + 1
        }
        blackHole(found)
    } setup: { try PathFixture() }

    Benchmark("encap: process 128 × 550 B IPv4, 1 M bindings (per batch)", configuration: perBatch) { benchmark, f in
        for _ in benchmark.scaledIterations { blackHole(f.run(in4: f.frames4, in6: [])) }
    } setup: { try PathFixture() }

    Benchmark("decap: process 128 × 550 B 4in6, 1 M bindings (per batch)", configuration: perBatch) { benchmark, f in
        for _ in benchmark.scaledIterations { blackHole(f.run(in4: [], in6: f.frames6)) }
    } setup: { try PathFixture() }

    let buffer: [UInt8] = (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    Benchmark("checksum: IPv4 header, 20 B (×1000)", configuration: perItem) { benchmark in
        var acc: UInt16 = 0
        buffer.withUnsafeBytes { b in
            for _ in benchmark.scaledIterations { acc &+= Checksum.compute(b.baseAddress!, 20) }
        }
        blackHole(acc)
    }
    Benchmark("checksum: 1500 B (×1000)", configuration: perItem) { benchmark in
        var acc: UInt16 = 0
        buffer.withUnsafeBytes { b in
            for _ in benchmark.scaledIterations { acc &+= Checksum.compute(b.baseAddress!, 1500) }
        }
        blackHole(acc)
    }
    Benchmark("checksum: incremental update RFC 1624 (×1000)", configuration: perItem) { benchmark in
        var c: UInt16 = 0x1234
        for i in benchmark.scaledIterations { c = Checksum.update(c, old: UInt16(truncatingIfNeeded: i), new: 0xBEEF) }
        blackHole(c)
    }
}
