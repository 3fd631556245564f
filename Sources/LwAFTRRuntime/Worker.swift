internal import CShim
internal import Glibc
public import PacketEngine
public import PacketIO
public import Synchronization
public import Telemetry

/// One packet worker: receives from both sides, runs the engine, transmits, publishes its counters
/// every ~100 ms. Generic over the device types so the loop is specialised (no existentials).
/// Between batches it adopts new engine settings when a reload published them.
public struct Worker<External: PacketSource & PacketSink, Internal: PacketSource & PacketSink> {
    public let index: Int
    public let engine: LwAFTREngine
    public let external: External
    public let `internal`: Internal
    public let board: CounterBoard
    public let batch: Int
    public let busyPoll: Bool
    public let settings: SettingsCell
    /// The settings generation `engine` was built with.
    public let startGeneration: UInt64

    public init(index: Int, engine: LwAFTREngine, external: External, internal: Internal, board: CounterBoard,
                batch: Int, busyPoll: Bool, settings: SettingsCell, generation: UInt64) {
        self.index = index
        self.engine = engine
        self.external = external
        self.internal = `internal`
        self.board = board
        self.batch = batch
        self.busyPoll = busyPoll
        self.settings = settings
        startGeneration = generation
    }

    /// Runs until `stop` becomes true. Returns the number of frames received.
    public func run(stop: borrowing Atomic<Bool>) -> UInt64 {
        let pool = engine.pool
        var in4 = PacketBatch(capacity: batch), in6 = PacketBatch(capacity: batch)
        var out4 = PacketBatch(capacity: batch * 8), out6 = PacketBatch(capacity: batch * 8)
        var received: UInt64 = 0
        var lastPublish: UInt64 = 0
        var idleRounds = 0
        var lastProcess: UInt64 = 0
        let cell = settings  // hoisted: one atomic load per iteration, no reference counting in the loop
        // Starting from the engine's own generation, a reload published between building the
        // engine and starting this thread is adopted by the first iteration.
        var generation = startGeneration
        while !stop.load(ordering: .relaxed) {
            if cell.generation != generation {
                let (s, g) = cell.read()
                try? engine.update(settings: s)  // reload validated the filters already; cannot fail
                generation = g
            }
            let n6 = `internal`.receive(into: &in6, pool: pool, max: batch)
            let n4 = external.receive(into: &in4, pool: pool, max: batch)
            let now = cshim_monotonic_ns()
            // Idle workers still run the engine now and then: ARP/ND solicitations are timed.
            if n4 + n6 > 0 || now &- lastProcess >= 50_000_000 {
                engine.process(in4: &in4, in6: &in6, out4: &out4, out6: &out6, now: now)
                if out4.count > 0 { external.send(&out4, pool: pool) }
                if out6.count > 0 { `internal`.send(&out6, pool: pool) }
                received &+= UInt64(n4 + n6)
                lastProcess = now
            }
            if n4 + n6 > 0 {
                idleRounds = 0
            } else {
                idleRounds += 1
                if !busyPoll && idleRounds > 8 {
                    // Sleep until a side has frames (bounded so stop and timers are noticed).
                    engine.reader.offline()  // a sleeping worker must not hold back table reclamation
                    _ = waitEitherReadable(external.fileDescriptor, `internal`.fileDescriptor, timeoutMs: 10)
                    engine.reader.online()
                }
            }
            if now &- lastPublish >= 100_000_000 {
                publishCounters()
                lastPublish = now
            }
        }
        publishCounters()
        return received
    }
}

extension Worker {
    /// The engine's counters and both devices' (with the kernel's ring drops) to the board.
    func publishCounters() {
        board.publish(worker: index, from: engine.counters)
        external.collectKernelStatistics()
        `internal`.collectKernelStatistics()
        board.publish(worker: index, side: .external, device: external.stats)
        board.publish(worker: index, side: .internal, device: `internal`.stats)
    }
}

/// poll(2) on two descriptors.
func waitEitherReadable(_ a: Int32, _ b: Int32, timeoutMs: Int32) -> Bool {
    var fds = (pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0))
    return withUnsafeMutableBytes(of: &fds) { raw in
        poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, timeoutMs) > 0
    }
}
