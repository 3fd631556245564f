#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import BindingTable
import LwAFTRCheck
import LwAFTRCore
import Testing

/// The benchmark workload generator and the replay harness of `lwaftr bench`.
@Suite struct BenchTests {
    static func tempDir() -> String {
        var template = Array("/tmp/lwaftr-bench-test-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    /// Removes a test's folder and everything in it.
    static func removeTree(_ path: String) {
        guard let d = opendir(path) else { unlink(path); return }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { removeTree(path + "/" + name) }
        }
        closedir(d)
        rmdir(path)
    }

    static func be16(_ f: [UInt8], _ o: Int) -> Int { Int(f[o]) << 8 | Int(f[o + 1]) }

    @Test func flowsSpreadOverDistinctBindings() {
        let w = BenchWorkload(bindings: 1000, flows: 1000)
        let bound = Set((0..<1000).map { w.flow($0).binding })
        #expect(bound.count == 1000)
        // More flows than bindings: the extra flows use other ports of the same softwires.
        let w2 = BenchWorkload(bindings: 10, flows: 30)
        let keys = Set((0..<30).map { j -> Int in let f = w2.flow(j); return f.binding << 16 | Int(f.port) })
        #expect(keys.count == 30)
        for j in 0..<30 {
            let f = w2.flow(j), s = w2.softwire(f.binding)
            #expect(s.portSet.psid(of: f.port) == s.psid)
        }
    }

    @Test func frameSizesFollowTheReferenceNaming() {
        #expect(BenchFrameSize("550") == .fixed(550))
        #expect(BenchFrameSize("imix") == .imix)
        #expect(BenchFrameSize("20") == nil)
        #expect("\(BenchFrameSize.fixed(64))" == "0064")
        #expect(BenchFrameSize.fixed(64).lengths(0) == (64, 82))  // 4in6 cannot be shorter than 82
        #expect(BenchFrameSize.fixed(1500).lengths(0) == (1500, 1500))
        #expect(BenchFrameSize.imix.packetCount(flows: 1) == 12)
        let mix = (0..<12).map { BenchFrameSize.imix.lengths($0).ipv4 }
        #expect(mix.filter { $0 == 64 }.count == 7 && mix.filter { $0 == 576 }.count == 4 && mix.filter { $0 == 1500 }.count == 1)
    }

    /// Generated traces, configuration and snapshot agree: every packet is forwarded, to the right B4.
    @Test func generatedTracesAreForwardedToTheirSoftwires() throws {
        let dir = Self.tempDir()
        defer { Self.removeTree(dir) }
        try BenchTraceWriter.writeTable(bindings: 256, dir: dir, fullConf: true)
        try BenchTraceWriter.writeTraces(bindings: 256, flows: 100, size: .fixed(550), dir: dir)
        let in4 = try OfflineRunner.frames(dir + "/f100/ipv4-0550.pcap")
        let in6 = try OfflineRunner.frames(dir + "/f100/ipv6-0550.pcap")
        #expect(in4.count == 100 && in6.count == 100)
        #expect(in4.allSatisfy { $0.count == 550 } && in6.allSatisfy { $0.count == 550 })

        let w = BenchWorkload(bindings: 256, flows: 100)
        let snap = try BindingTable(snapshot: dir + "/bindings.snap")
        #expect(snap.stats.count == 256)
        let f7 = w.flow(7)
        #expect(snap.lookup(ipv4: w.softwire(f7.binding).ipv4.value, port: f7.port)?.b4 == w.softwire(f7.binding).b4)

        let config = try ConfigLoader.load(path: dir + "/full.conf")
        #expect(config.softwires.count == 256)
        let r = try OfflineRunner.run(config: config, in4: in4, in6: in6)
        #expect(r.out6.count == 100 && r.out4.count == 100)
        // First encapsulated frame: outer destination is the B4 of flow 0.
        let b4 = w.softwire(w.flow(0).binding).b4
        let outer = r.out6[0]
        #expect(Self.be16(outer, 12) == 0x86DD && outer[20] == 4)
        #expect(Array(outer[38..<54]) == b4.bytes)
        // Inner packet: the IPv4 packet as received, TTL decremented (checksum updated to match).
        var expected = Array(in4[0][14...])
        expected[8] -= 1
        let ck = Self.be16(expected, 10) + 0x0100
        let folded = (ck & 0xFFFF) + (ck >> 16)
        expected[10] = UInt8(folded >> 8); expected[11] = UInt8(folded & 0xFF)
        #expect(Array(outer[54...]) == expected)
        // First decapsulated frame: the inner IPv4 packet of IPv6 frame 0.
        #expect(Array(r.out4[0][14...]) == Array(in6[0][54...]))
        #expect(r.counters["drop-all-ipv4-iface-packets"] == nil && r.counters["drop-all-ipv6-iface-packets"] == nil)
    }

    /// Several workers share one table and add up; a side given as no frames stays at zero.
    @Test func replayWorkersSumAndOneSidedRuns() throws {
        let w = BenchWorkload(bindings: 64, flows: 64)
        let dir = Self.tempDir()
        defer { Self.removeTree(dir) }
        try BenchTraceWriter.writeTable(bindings: 64, dir: dir, fullConf: false)
        try BenchTraceWriter.writeTraces(bindings: 64, flows: 64, size: .fixed(128), dir: dir)
        let in4 = try OfflineRunner.frames(dir + "/f64/ipv4-0128.pcap")
        let in6 = try OfflineRunner.frames(dir + "/f64/ipv6-0128.pcap")
        let table = try w.makeTable()
        var o = ReplayOptions()
        o.batch = 32
        o.packets = 3200
        o.workers = 2
        let both = try Replay.run(config: w.config(includeSoftwires: false), table: table, in4: in4, in6: in6, options: o)
        #expect(both.workers == 2)
        #expect(both.packets4 == 3200 && both.packets6 == 3200)  // 2 workers × 1600 per side
        #expect(both.bytes4 == 3200 * 128)
        #expect(both.emitted6 == 3200 && both.emitted4 == 3200 && both.dropped == 0)
        #expect(both.counters["in-ipv4-packets"] == 3200)

        o.workers = 1
        let encap = try Replay.run(config: w.config(includeSoftwires: false), table: table, in4: in4, in6: [], options: o)
        #expect(encap.packets4 == 3200 && encap.packets6 == 0 && encap.emitted6 == 3200 && encap.emitted4 == 0)
        #expect(encap.mpps6 == 0 && encap.mpps4 > 0)
    }

    /// A table that does not hold the flows' bindings: everything is counted as dropped.
    @Test func replayCountsDrops() throws {
        let traces = BenchWorkload(bindings: 64, flows: 64)
        let dir = Self.tempDir()
        defer { Self.removeTree(dir) }
        try BenchTraceWriter.writeTraces(bindings: 64, flows: 64, size: .fixed(128), dir: dir)
        let in6 = try OfflineRunner.frames(dir + "/f64/ipv6-0128.pcap")
        var o = ReplayOptions()
        o.packets = 640
        o.batch = 64
        var config = traces.config(includeSoftwires: false)
        config.internal.generateICMPErrors = false
        let r = try Replay.run(config: config, table: BindingTable(), in4: [], in6: in6, options: o)
        #expect(r.packets6 == 640 && r.emitted4 == 0 && r.emitted6 == 0)
        #expect(r.dropped == 640)
        #expect(r.counters["drop-no-source-softwire-ipv6-packets"] == 640)
    }
}
