public import LwAFTRCore
public import PacketEngine
internal import PacketIO

/// Frames emitted on each side and the counters that changed, from one offline run.
public struct RunResult: Sendable {
    public var out4: [[UInt8]]
    public var out6: [[UInt8]]
    public var counters: [String: UInt64]
}

/// Runs the packet engine over captured input, the way `snabb lwaftr check` does: both inputs
/// are replayed once, then the engine runs until it has nothing more to emit.
public enum OfflineRunner {
    /// Counters that exist only in this implementation (the reference has no equivalent);
    /// they are reported but never compared against reference counter files.
    public static let extensionCounters: Set<String> = [
        "drop-malformed-ipv4-packets", "drop-malformed-ipv6-packets", "drop-no-buffer-packets",
        "drop-output-full-packets", "drop-filtered-packets", "drop-egress-df-over-mtu-packets",
        "drop-over-rate-limit-icmpv4-bytes", "drop-over-rate-limit-icmpv4-packets",
    ]

    /// Runs `config` over the given frames.
    public static func run(config: LwAFTRConfig, in4: [[UInt8]], in6: [[UInt8]], batch: Int = 256) throws -> RunResult {
        let engine = try LwAFTREngine(config: config, poolCapacity: max(4096, (in4.count + in6.count) * 4),
                                      batchCapacity: batch)
        var b4 = PacketBatch(capacity: batch)
        var b6 = PacketBatch(capacity: batch)
        var o4 = PacketBatch(capacity: batch * 16)
        var o6 = PacketBatch(capacity: batch * 16)
        var out4: [[UInt8]] = [], out6: [[UInt8]] = []
        func collect(_ o: inout PacketBatch, _ into: inout [[UInt8]]) {
            for i in 0..<o.count { into.append(Array(o[i].bytes)) }
            o.freeAll(to: engine.pool)
        }
        var i4 = 0, i6 = 0
        let now: UInt64 = 1_000_000_000
        repeat {
            while i4 < in4.count && !b4.isFull {
                in4[i4].withUnsafeBytes { if let p = engine.pool.make($0) { b4.append(p) } }
                i4 += 1
            }
            while i6 < in6.count && !b6.isFull {
                in6[i6].withUnsafeBytes { if let p = engine.pool.make($0) { b6.append(p) } }
                i6 += 1
            }
            engine.process(in4: &b4, in6: &b6, out4: &o4, out6: &o6, now: now)
            collect(&o4, &out4)
            collect(&o6, &out6)
        } while i4 < in4.count || i6 < in6.count
        engine.process(in4: &b4, in6: &b6, out4: &o4, out6: &o6, now: now)
        collect(&o4, &out4)
        collect(&o6, &out6)
        return RunResult(out4: out4, out6: out6, counters: engine.counters.nonZero())
    }

    /// Reads every frame of a pcap file; an empty path means no file (no frames).
    public static func frames(_ path: String) throws -> [[UInt8]] {
        path.isEmpty ? [] : try PcapReader.readAll(path: path)
    }

    /// Writes frames to a pcap file (zero timestamps).
    public static func write(_ frames: [[UInt8]], to path: String) throws {
        let w = try PcapWriter(path: path)
        for f in frames { f.withUnsafeBytes { w.write($0) } }
        w.close()
    }
}
