public import BindingTable
public import LwAFTRCore
internal import PacketEngine
internal import CShim
internal import Synchronization
internal import PacketIO

#if canImport(Glibc)
internal import Glibc
#endif

/// Figures from an in-memory replay benchmark (one worker, or the sum over workers).
public struct ReplayResult: Sendable {
    /// Wall-clock seconds (the longest worker's, when there are several).
    public var seconds: Double
    public var packets4: UInt64 = 0
    public var bytes4: UInt64 = 0
    public var packets6: UInt64 = 0
    public var bytes6: UInt64 = 0
    public var emitted4: UInt64 = 0
    public var emitted6: UInt64 = 0
    public var workers = 1
    /// CPU time the workers' threads used (summed): on a shared machine the rate per CPU second
    /// is the figure that other processes disturb least.
    public var cpuSeconds = 0.0
    public var counters: [String: UInt64] = [:]

    public init(seconds: Double) { self.seconds = seconds }

    public var mpps4: Double { seconds > 0 ? Double(packets4) / seconds / 1e6 : 0 }
    public var mpps6: Double { seconds > 0 ? Double(packets6) / seconds / 1e6 : 0 }
    public var gbps4: Double { seconds > 0 ? Double(bytes4) * 8 / seconds / 1e9 : 0 }
    public var gbps6: Double { seconds > 0 ? Double(bytes6) * 8 / seconds / 1e9 : 0 }
    /// Million packets per CPU second of the worker threads.
    public var mppsPerCPU4: Double { cpuSeconds > 0 ? Double(packets4) / cpuSeconds / 1e6 : 0 }
    public var mppsPerCPU6: Double { cpuSeconds > 0 ? Double(packets6) / cpuSeconds / 1e6 : 0 }
    /// Input packets not forwarded or answered (dropped by policy, no binding, …).
    public var dropped: UInt64 {
        let lost = Int64(bitPattern: packets4 &+ packets6) - Int64(bitPattern: emitted4 &+ emitted6)
        return lost > 0 ? UInt64(lost) : 0
    }

    /// Adds another worker's figures (packets, bytes, counters; the longer time).
    public mutating func add(_ o: ReplayResult) {
        seconds = max(seconds, o.seconds)
        cpuSeconds += o.cpuSeconds
        packets4 &+= o.packets4; bytes4 &+= o.bytes4
        packets6 &+= o.packets6; bytes6 &+= o.bytes6
        emitted4 &+= o.emitted4; emitted6 &+= o.emitted6
        for (k, v) in o.counters { counters[k, default: 0] &+= v }
    }
}

/// How a replay runs.
public struct ReplayOptions: Sendable {
    /// Packets per side per batch.
    public var batch = 128
    /// Stop after this many input packets per worker (both sides together) instead of after `seconds`.
    public var packets: UInt64?
    public var seconds = 5.0
    /// Engines, each on its own thread with its own copy of the traces, sharing one binding table.
    public var workers = 1

    public init() {}
}

/// Replays captured frames through engines as fast as they go, both directions at once:
/// every round refills a batch per side by copying the next template frames into pool buffers
/// (the copy is part of the measured loop, as a NIC's DMA write would be), runs the engine and
/// recycles what it emits. With several workers each runs this loop on its own thread.
public enum Replay {
    /// Runs `options.workers` engines over `table`; `progress` gets the running sum about once a
    /// second (on the calling thread, which only watches).
    public static func run(config: LwAFTRConfig, table: BindingTable, in4: [[UInt8]], in6: [[UInt8]],
                           options: ReplayOptions, progress: ((ReplayResult) -> Void)? = nil) throws -> ReplayResult {
        var settings = EngineSettings(config: config)
        settings.firstIPv4FragmentID = 1
        let n = max(1, options.workers)
        // Engines are built here so a bad setting fails before any thread starts.
        let boxes = try (0..<n).map { _ in
            try WorkerBox(engine: LwAFTREngine(settings: settings, table: table,
                                               pool: PacketPool(capacity: options.batch * 16),
                                               batchCapacity: options.batch))
        }
        let stop = StopFlag()
        let start = cshim_monotonic_ns()
        let threads = boxes.map { box in
            OSThread.start { box.result = loop(box, in4: in4, in6: in6, options: options, stop: stop) }
        }
        let limitNs = UInt64(options.seconds * 1e9)
        var lastReport = start
        while !boxes.allSatisfy({ $0.done.load(ordering: .acquiring) }) {
            usleep(50_000)
            let now = cshim_monotonic_ns()
            if options.packets == nil && now &- start >= limitNs { stop.flag.store(true, ordering: .relaxed) }
            if let progress, now &- lastReport >= 1_000_000_000 {
                lastReport = now
                var snap = ReplayResult(seconds: Double(now &- start) / 1e9)
                for b in boxes { snap.add(b.live.snapshot(seconds: snap.seconds)) }
                snap.workers = n
                progress(snap)
            }
        }
        for t in threads { t.join() }
        var total = ReplayResult(seconds: 0)
        for b in boxes { total.add(b.result) }
        total.workers = n
        return total
    }

    /// One worker's measured loop.
    static func loop(_ box: WorkerBox, in4: [[UInt8]], in6: [[UInt8]], options: ReplayOptions,
                     stop: StopFlag) -> ReplayResult {
        let engine = box.engine
        let batch = options.batch
        var b4 = PacketBatch(capacity: batch), b6 = PacketBatch(capacity: batch)
        var o4 = PacketBatch(capacity: batch * 8), o6 = PacketBatch(capacity: batch * 8)
        var r = ReplayResult(seconds: 0)
        let t4 = Templates(in4), t6 = Templates(in6)  // this worker's own copy, contiguous
        defer { t4.free(); t6.free(); box.done.store(true, ordering: .releasing) }
        let start = cshim_monotonic_ns(), cpuStart = threadCPUSeconds()
        while true {
            let (n4, bytes4) = t4.fill(&b4, upTo: batch, from: engine.pool)
            let (n6, bytes6) = t6.fill(&b6, upTo: batch, from: engine.pool)
            r.packets4 &+= n4; r.bytes4 &+= bytes4
            r.packets6 &+= n6; r.bytes6 &+= bytes6
            engine.process(in4: &b4, in6: &b6, out4: &o4, out6: &o6, now: cshim_monotonic_ns())
            r.emitted4 &+= UInt64(o4.count)
            r.emitted6 &+= UInt64(o6.count)
            o4.freeAll(to: engine.pool)
            o6.freeAll(to: engine.pool)
            box.live.publish(r)
            if let limit = options.packets {
                if r.packets4 &+ r.packets6 >= limit || n4 + n6 == 0 { break }
            } else if stop.flag.load(ordering: .relaxed) || n4 + n6 == 0 {
                break
            }
        }
        r.seconds = Double(cshim_monotonic_ns() &- start) / 1e9
        r.cpuSeconds = threadCPUSeconds() - cpuStart
        r.counters = engine.counters.nonZero()
        return r
    }

    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// A worker's engine, its running figures and its final result.
    final class WorkerBox: @unchecked Sendable {
        let engine: LwAFTREngine
        let live = LiveFigures()
        let done = Atomic<Bool>(false)
        var result = ReplayResult(seconds: 0)  // written by the worker, read after join
        init(engine: LwAFTREngine) { self.engine = engine }
    }

    /// Set by the watching thread when the time is up.
    final class StopFlag: Sendable {
        let flag = Atomic<Bool>(false)
    }

    /// Running totals a worker publishes after every batch for the progress line.
    final class LiveFigures: Sendable {
        let p4 = Atomic<UInt64>(0), b4 = Atomic<UInt64>(0), p6 = Atomic<UInt64>(0), b6 = Atomic<UInt64>(0)

        @inline(__always) func publish(_ r: ReplayResult) {
            p4.store(r.packets4, ordering: .relaxed); b4.store(r.bytes4, ordering: .relaxed)
            p6.store(r.packets6, ordering: .relaxed); b6.store(r.bytes6, ordering: .relaxed)
        }

        func snapshot(seconds: Double) -> ReplayResult {
            var r = ReplayResult(seconds: seconds)
            r.packets4 = p4.load(ordering: .relaxed); r.bytes4 = b4.load(ordering: .relaxed)
            r.packets6 = p6.load(ordering: .relaxed); r.bytes6 = b6.load(ordering: .relaxed)
            return r
        }
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
