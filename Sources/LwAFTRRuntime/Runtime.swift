public import BindingTable
internal import CShim
internal import Glibc
public import LwAFTRCore
public import PacketEngine
internal import PacketIO
import Synchronization
public import Telemetry

/// What a run did, for the exit report.
public struct RunSummary: Sendable {
    public var seconds: Double
    public var received: UInt64
    public var counters: [String: UInt64]
}

/// `lwaftr run`: sets up the devices, starts one pinned worker thread per queue, serves metrics,
/// and stops cleanly on SIGTERM/SIGINT (or after `duration`).
public final class LwAFTRRuntime: @unchecked Sendable {
    public let config: LwAFTRConfig
    public let options: RunOptions
    public let table: BindingTable
    public let board: CounterBoard
    let stop = Atomic<Bool>(false)
    let received = Atomic<UInt64>(0)

    public init(config: LwAFTRConfig, options: RunOptions, table: BindingTable) {
        self.config = config
        self.options = options
        self.table = table
        board = CounterBoard(workers: options.workers)
    }

    /// Asks the workers to stop (from any thread).
    public func requestStop() { stop.store(true, ordering: .relaxed) }

    /// Runs until stopped; returns the summary. Throws when devices cannot be set up.
    public func run(log: @escaping @Sendable (String) -> Void) throws -> RunSummary {
        let waitSignal = blockTerminationSignals()
        let start = cshim_monotonic_ns()
        var metrics: MetricsServer?
        if let m = options.metricsListen {
            let exporter = MetricsExporter(board: board)
            let table = self.table
            let softwires = exporter.gauge("lwaftr_binding_table_softwires")
            exporter.onScrape { softwires.set(Double(table.count)) }
            metrics = try MetricsServer.start(host: m.host, port: m.port, exporter: exporter)
            log("metrics on http://\(m.host):\(metrics?.port ?? m.port)/metrics")
        }
        defer { try? metrics?.closeSync() }

        let threads: [OSThread]
        switch options.io {
        case .tun: threads = try startTunWorkers()
        case .afPacket: threads = try startPacketRingWorkers()
        }
        log("\(options.workers) worker(s) running on \(options.io.rawValue) \(options.externalDevice)/\(options.internalDevice), \(table.count) softwires")

        // A watcher thread turns signals into a stop request.
        let watcher = OSThread.start { [self] in
            while !stop.load(ordering: .relaxed) {
                let sig = waitSignal()
                if sig == SIGUSR1 { continue }
                if sig == SIGHUP {
                    log("SIGHUP: configuration reload is not supported yet; ignoring")
                    continue
                }
                log("signal \(sig): stopping")
                requestStop()
            }
        }
        if let d = options.duration {
            let end = start &+ UInt64(d * 1e9)
            while !stop.load(ordering: .relaxed) && cshim_monotonic_ns() < end { usleep(20_000) }
            requestStop()
        } else {
            while !stop.load(ordering: .relaxed) { usleep(50_000) }
        }
        for t in threads { t.join() }
        pthread_kill_watcher(watcher)
        return RunSummary(seconds: Double(cshim_monotonic_ns() &- start) / 1e9,
                          received: received.load(ordering: .relaxed), counters: board.nonZeroTotals())
    }

    /// Wakes the signal watcher so it can exit (it re-checks `stop` after any signal).
    private func pthread_kill_watcher(_ t: OSThread) {
        kill(getpid(), SIGUSR1)
        t.join()
    }

    func makeEngine(worker: Int) throws -> LwAFTREngine {
        try LwAFTREngine(settings: EngineSettings(config: config), table: table,
                         pool: PacketPool(capacity: max(1024, options.batch * 32)), batchCapacity: options.batch)
    }

    private func pin(_ worker: Int) {
        if let base = options.pinBaseCPU { _ = cshim_pin_thread(Int32(base + worker)) }
    }

    private func startTunWorkers() throws -> [OSThread] {
        let opts = TunDevice.Options(multiQueue: true)
        // Queue 0 of each device is opened here so the links exist before they are configured.
        let ext0 = try TunDevice(name: options.externalDevice, options: opts)
        let int0 = try TunDevice(name: options.internalDevice, options: opts)
        let nl = try Netlink()
        let ext = try nl.interfaceIndex(named: ext0.name), int = try nl.interfaceIndex(named: int0.name)
        try nl.setMTU(ext, options.mtu4 ?? config.external.mtu)
        try nl.setMTU(int, options.mtu6 ?? config.internal.mtu)
        try nl.setLink(ext, up: true)
        try nl.setLink(int, up: true)
        for (p, len) in options.ipv4Routes { try nl.addRoute(to: p, prefixLength: len, interface: ext) }
        for (p, len) in options.ipv6Routes { try nl.addRoute(to: p, prefixLength: len, interface: int) }
        var threads: [OSThread] = []
        for w in 0..<options.workers {
            let engine = UncheckedBox(try makeEngine(worker: w))
            let e: TunDevice = w == 0 ? ext0 : try TunDevice(name: options.externalDevice, options: opts)
            let i: TunDevice = w == 0 ? int0 : try TunDevice(name: options.internalDevice, options: opts)
            let devices = UncheckedBox((e, i))
            threads.append(OSThread.start { [self] in
                pin(w)
                let worker = Worker(index: w, engine: engine.value, external: devices.value.0, internal: devices.value.1,
                                    board: board, batch: options.batch, busyPoll: options.busyPoll)
                received.add(worker.run(stop: stop), ordering: .relaxed)
            })
        }
        return threads
    }

    private func startPacketRingWorkers() throws -> [OSThread] {
        var threads: [OSThread] = []
        let group = UInt16(truncatingIfNeeded: getpid())
        for w in 0..<options.workers {
            let engine = UncheckedBox(try makeEngine(worker: w))
            var o4 = PacketRing.Options(), o6 = PacketRing.Options()
            if options.workers > 1 {
                o4.fanout = PacketRing.Fanout(group: group)
                o6.fanout = PacketRing.Fanout(group: group &+ 1)
            }
            let devices = UncheckedBox((try PacketRing(interface: options.externalDevice, options: o4),
                                        try PacketRing(interface: options.internalDevice, options: o6)))
            threads.append(OSThread.start { [self] in
                pin(w)
                let worker = Worker(index: w, engine: engine.value, external: devices.value.0, internal: devices.value.1,
                                    board: board, batch: options.batch, busyPoll: options.busyPoll)
                received.add(worker.run(stop: stop), ordering: .relaxed)
            })
        }
        return threads
    }
}

/// Moves a non-Sendable value into a thread that becomes its only user.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
