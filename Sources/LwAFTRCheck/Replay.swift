public import LwAFTRCore
public import PacketEngine
internal import CShim

/// Figures from an in-memory replay benchmark.
public struct ReplayResult: Sendable {
    public var seconds: Double
    public var packets4: UInt64
    public var bytes4: UInt64
    public var packets6: UInt64
    public var bytes6: UInt64
    public var emitted4: UInt64
    public var emitted6: UInt64
    public var counters: [String: UInt64]

    public var mpps4: Double { Double(packets4) / seconds / 1e6 }
    public var mpps6: Double { Double(packets6) / seconds / 1e6 }
    public var gbps4: Double { Double(bytes4) * 8 / seconds / 1e9 }
    public var gbps6: Double { Double(bytes6) * 8 / seconds / 1e9 }
    /// Input packets not forwarded or answered (dropped by policy, no binding, …).
    public var dropped: UInt64 {
        let lost = Int64(packets4 + packets6) - Int64(emitted4 + emitted6)
        return lost > 0 ? UInt64(lost) : 0
    }
}

/// Replays captured frames through one engine as fast as it goes, both directions at once:
/// every round refills a batch per side by copying the next template frames into pool buffers
/// (the copy is part of the measured loop, as a NIC's DMA write would be), runs the engine and
/// recycles what it emits.
public enum Replay {
    public static func run(config: LwAFTRConfig, in4: [[UInt8]], in6: [[UInt8]], batch: Int = 128,
                           packets: UInt64? = nil, seconds: Double = 5,
                           progress: ((ReplayResult) -> Void)? = nil) throws -> ReplayResult {
        var settings = EngineSettings(config: config)
        settings.firstIPv4FragmentID = 1
        let table = try BindingTableFactory.make(config.softwires)
        let engine = try LwAFTREngine(settings: settings, table: table, pool: PacketPool(capacity: batch * 16),
                                      batchCapacity: batch)
        var b4 = PacketBatch(capacity: batch), b6 = PacketBatch(capacity: batch)
        var o4 = PacketBatch(capacity: batch * 8), o6 = PacketBatch(capacity: batch * 8)
        var r = ReplayResult(seconds: 0, packets4: 0, bytes4: 0, packets6: 0, bytes6: 0, emitted4: 0, emitted6: 0,
                             counters: [:])
        // Flatten templates into contiguous memory once.
        let t4 = Templates(in4), t6 = Templates(in6)
        defer { t4.free(); t6.free() }
        let start = cshim_monotonic_ns()
        var lastReport = start
        let limitNs = UInt64(seconds * 1e9)
        while true {
            let (n4, bytes4) = t4.fill(&b4, upTo: batch, from: engine.pool)
            let (n6, bytes6) = t6.fill(&b6, upTo: batch, from: engine.pool)
            r.packets4 &+= n4; r.bytes4 &+= bytes4
            r.packets6 &+= n6; r.bytes6 &+= bytes6
            let now = cshim_monotonic_ns()
            engine.process(in4: &b4, in6: &b6, out4: &o4, out6: &o6, now: now)
            r.emitted4 &+= UInt64(o4.count)
            r.emitted6 &+= UInt64(o6.count)
            o4.freeAll(to: engine.pool)
            o6.freeAll(to: engine.pool)
            if let packets, r.packets4 + r.packets6 >= packets { break }
            if packets == nil {
                if now &- start >= limitNs { break }
                if let progress, now &- lastReport >= 1_000_000_000 {
                    lastReport = now
                    var snap = r
                    snap.seconds = Double(now &- start) / 1e9
                    progress(snap)
                }
            }
        }
        r.seconds = Double(cshim_monotonic_ns() &- start) / 1e9
        r.counters = engine.counters.nonZero()
        return r
    }

    /// Template frames laid out back to back.
    final class Templates {
        let base: UnsafeMutableRawPointer
        let offsets: UnsafeMutablePointer<Int>
        let lengths: UnsafeMutablePointer<Int>
        let count: Int

        init(_ frames: [[UInt8]]) {
            count = frames.count
            let total = frames.reduce(0) { $0 + $1.count }
            base = .allocate(byteCount: max(total, 1), alignment: 64)
            offsets = .allocate(capacity: max(count, 1))
            lengths = .allocate(capacity: max(count, 1))
            var at = 0
            for (i, f) in frames.enumerated() {
                f.withUnsafeBytes { (base + at).copyMemory(from: $0.baseAddress!, byteCount: f.count) }
                offsets[i] = at
                lengths[i] = f.count
                at += f.count
            }
        }

        var next = 0

        /// Copies the next `upTo` templates (round robin) into fresh pool buffers appended to `batch`;
        /// returns the packets and bytes added.
        func fill(_ batch: inout PacketBatch, upTo n: Int, from pool: PacketPool) -> (UInt64, UInt64) {
            guard count > 0 else { return (0, 0) }
            var packets: UInt64 = 0, bytes: UInt64 = 0
            for _ in 0..<n {
                guard var p = pool.allocate() else { break }
                let len = lengths[next]
                p.data.copyMemory(from: base + offsets[next], byteCount: len)
                p.length = len
                batch.append(p)
                packets &+= 1
                bytes &+= UInt64(len)
                next = next + 1 == count ? 0 : next + 1
            }
            return (packets, bytes)
        }

        func free() {
            base.deallocate()
            offsets.deallocate()
            lengths.deallocate()
        }
    }
}
