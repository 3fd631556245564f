public import BindingTable
internal import CShim
internal import Glibc
public import Leasequery
public import Logging
public import LwAFTRCore
import PacketEngine
public import PacketIO
import ServiceLifecycle
import Synchronization
public import Telemetry

/// What a run did, for the exit report.
public struct RunSummary: Sendable {
    public var seconds: Double
    public var received: UInt64
    public var counters: [String: UInt64]
    /// Device counters summed over the workers, indexed by `DeviceSide.rawValue`.
    public var devices: [IOStats] = []
    /// The requestor's final state, when leasequery ran.
    public var leasequery: SyncStatus?
}

/// `lwaftr run`: opens the devices, starts the leasequery requestor and the metrics server, then
/// runs a ServiceGroup (packet plane, control lane, metrics, reload) until SIGTERM/SIGINT (or
/// `duration`). SIGHUP reloads the configuration file (see `reload()`).
///
/// Shutdown order (reverse of start): packet workers stop first, then reload and metrics, then
/// the requestor (snapshot + T_last written).
public final class LwAFTRRuntime: @unchecked Sendable {
    public let options: RunOptions
    public let table: BindingTable
    public let board: CounterBoard
    /// Engine settings the workers follow (published by reload).
    public let settings: SettingsCell
    public let exporter: MetricsExporter
    public let logger: Logger
    let state: Mutex<RuntimeState>
    let stop = Atomic<Bool>(false)
    let received = Atomic<UInt64>(0)
    let running = Atomic<Bool>(false)
    let reloadCount = Atomic<Int>(0)
    let reloadFailureCount = Atomic<Int>(0)
    let started = cshim_monotonic_ns()
    let mirror: CounterMirror
    /// Set up by `prepare()`, consumed by the packet-plane service (one thread each).
    var starters: [() -> OSThread] = []
    var tunLinks: (external: Int32, internal: Int32)?
    var metricsServer: MetricsServer?

    struct RuntimeState {
        var config: LwAFTRConfig
        var leasequery: LeasequeryService?
        var group: ServiceGroup?
        var lastReloadError: String?
        var reloading = false
        var shutdownRequested = false
    }

    /// Builds the table from the configuration's softwires (with `options` applied to it).
    public init(config: LwAFTRConfig, options: RunOptions, logger: Logger = Logger(label: "lwaftr")) throws {
        let config = options.effective(config)
        self.options = options
        self.logger = logger
        table = try BindingTable(softwires: config.softwires)
        board = CounterBoard(workers: options.io == .none ? 1 : options.workers)
        let engineSettings = EngineSettings(config: config)
        try Self.validateFilters(config, file: options.configPath ?? "(configuration)")
        settings = SettingsCell(engineSettings)
        exporter = MetricsExporter(board: board)
        mirror = CounterMirror(exporter: exporter)
        state = Mutex(RuntimeState(config: config))
        exporter.onScrape { [weak self] in self?.sampleControlMetrics() }
    }

    /// The configuration in force (after the last successful reload).
    public var config: LwAFTRConfig { state.withLock { $0.config } }

    /// The leasequery requestor, when configured and started.
    public var leasequery: LeasequeryService? { state.withLock { $0.leasequery } }

    /// The bound metrics port (after `prepare`), or nil.
    public var metricsPort: Int? { metricsServer?.port }

    /// True once the packet plane (workers, or none) runs and until shutdown begins.
    public var isRunning: Bool { running.load(ordering: .acquiring) }

    public var reloads: Int { reloadCount.load(ordering: .relaxed) }
    public var reloadFailures: Int { reloadFailureCount.load(ordering: .relaxed) }

    // MARK: - start

    /// Starts the control lane (snapshot, requestor), binds the metrics server and opens the
    /// devices. Errors here stop `lwaftr run` before anything forwards.
    public func prepare() async throws {
        let config = self.config
        if let lq = LeasequeryMapping.configuration(for: config) {
            // A loaded snapshot is adopted as "unclaimed"; the configuration's softwires stay static.
            let svc = try await LeasequeryService.start(configuration: lq, table: table, logger: child("lwaftr.leasequery"),
                                                        existing: .keep, staticSoftwires: config.softwires)
            state.withLock { $0.leasequery = svc }
        } else if let path = options.snapshotPath, fileExists(path) {
            let n = try table.loadSnapshot(path: path)
            for s in config.softwires { _ = try? table.insert(s) }
            logger.info("binding-table snapshot loaded", metadata: ["path": "\(path)", "softwires": "\(n)"])
        }
        if let m = options.metricsListen {
            metricsServer = try await MetricsServer(host: m.host, port: m.port, exporter: exporter,
                                                    status: { [weak self] text in (text ? self?.statusText() : self?.statusJSON()) ?? "{}" })
            logger.info("metrics listening", metadata: ["url": "http://\(m.host):\(metricsServer?.port ?? m.port)/metrics"])
        }
        let open: @Sendable () throws -> Void = { [self] in
            switch options.io {
            case .tun: try prepareTunWorkers()
            case .afPacket: try preparePacketRingWorkers()
            case .none: break
            }
        }
        if let ns = options.namespace { try NetworkNamespace.run(named: ns, open) } else { try open() }
    }

    /// Runs `prepare()` and the service group until shutdown; returns the summary.
    ///
    /// When `ControlSignals.install()` ran (`lwaftr run`), SIGTERM/SIGINT stop the group
    /// gracefully and SIGHUP reloads — also when they arrive during `prepare()`: a stop is then
    /// carried out as soon as the group runs (snapshot written), a reload once it runs.
    public func run() async throws -> RunSummary {
        let signals = ControlSignals.current
        let subscription = signals?.subscribe()
        let stopWatcher = subscription.map { sub in
            Task { [self] in
                for await _ in sub.stops {
                    logger.info("SIGTERM/SIGINT: shutting down")
                    await requestShutdown()
                }
            }
        }
        defer {
            stopWatcher?.cancel()
            if let subscription { signals?.unsubscribe(subscription) }
        }
        do { try await prepare() } catch {
            await stopControlLane()
            try? await metricsServer?.close()
            throw error
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ControlLaneService(runtime: self), serviceName: "control-lane"),
            .init(service: MetricsService(runtime: self), serviceName: "metrics"),
        ]
        if let subscription {
            services.append(.init(service: ReloadService(runtime: self, hangups: subscription.hangups), serviceName: "reload"))
        }
        if let d = options.duration {
            services.append(.init(service: DurationService(seconds: d), successTerminationBehavior: .gracefullyShutdownGroup,
                                  serviceName: "duration"))
        }
        services.append(.init(service: PacketPlaneService(runtime: self), serviceName: "packet-plane"))
        // Signals come through `ControlSignals` (above), not the group's own dispatch sources.
        var groupConfig = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [],
                                                    logger: child("lwaftr.lifecycle"))
        // Below the unit's TimeoutStopSec=20: 15 s graceful, then cancellation (the packet plane
        // gives up joining stuck workers after `joinTimeout`), then at most 3 s more.
        groupConfig.maximumGracefulShutdownDuration = .seconds(15)
        groupConfig.maximumCancellationDuration = .seconds(3)
        let group = ServiceGroup(configuration: groupConfig)
        let early = state.withLock { s -> Bool in
            s.group = group
            return s.shutdownRequested
        }
        if early { await group.triggerGracefulShutdown() }
        try await group.run()
        let lq = lastLeasequeryStatus.withLock { $0 }
        return RunSummary(seconds: Double(cshim_monotonic_ns() &- started) / 1e9,
                          received: received.load(ordering: .relaxed), counters: board.nonZeroTotals(),
                          devices: DeviceSide.allCases.map { board.deviceTotal(side: $0) }, leasequery: lq)
    }

    /// Starts a graceful shutdown (what SIGTERM does), from any thread.
    public func requestShutdown() async {
        let group = state.withLock { s -> ServiceGroup? in
            s.shutdownRequested = true
            return s.group
        }
        await group?.triggerGracefulShutdown()
    }

    /// The runtime's logger tagged with a component (`lwaftr.leasequery` → `component=leasequery`).
    func child(_ label: String) -> Logger {
        var l = logger
        l[metadataKey: "component"] = "\(label.split(separator: ".").last ?? "")"
        return l
    }

    // MARK: - packet plane

    /// An engine built with the current settings, and the settings generation it follows (the
    /// worker's starting point: a reload published after this is adopted by its first iteration).
    func makeEngine() throws -> (LwAFTREngine, UInt64) {
        let (s, generation) = settings.read()
        return (try LwAFTREngine(settings: s, table: table, pool: PacketPool(capacity: max(1024, options.batch * 32)),
                                 batchCapacity: options.batch), generation)
    }

    private func pin(_ worker: Int) {
        if let base = options.pinBaseCPU { _ = cshim_pin_thread(Int32(base + worker)) }
    }

    private func prepareTunWorkers() throws {
        let opts = TunDevice.Options(multiQueue: true)
        // Queue 0 of each device is opened here so the links exist before they are configured.
        let ext0 = try TunDevice(name: options.externalDevice, options: opts)
        let int0 = try TunDevice(name: options.internalDevice, options: opts)
        let nl = try Netlink()
        let ext = try nl.interfaceIndex(named: ext0.name), int = try nl.interfaceIndex(named: int0.name)
        let config = self.config
        try nl.setMTU(ext, options.mtu4 ?? config.external.mtu)
        try nl.setMTU(int, options.mtu6 ?? config.internal.mtu)
        try nl.setLink(ext, up: true)
        try nl.setLink(int, up: true)
        for (p, len) in options.ipv4Routes { try nl.addRoute(to: p, prefixLength: len, interface: ext) }
        for (p, len) in options.ipv6Routes { try nl.addRoute(to: p, prefixLength: len, interface: int) }
        tunLinks = (ext, int)
        for w in 0..<options.workers {
            let made = try makeEngine()
            let engine = UncheckedBox(made.0), generation = made.1
            let e: TunDevice = w == 0 ? ext0 : try TunDevice(name: options.externalDevice, options: opts)
            let i: TunDevice = w == 0 ? int0 : try TunDevice(name: options.internalDevice, options: opts)
            let devices = UncheckedBox((e, i))
            addStarter(worker: w, engine: engine, generation: generation, devices: devices)
        }
    }

    /// Queues the start of worker `w` (a pinned thread with every asynchronous signal blocked).
    private func addStarter<E: PacketSource & PacketSink, I: PacketSource & PacketSink>(
        worker w: Int, engine: UncheckedBox<LwAFTREngine>, generation: UInt64, devices: UncheckedBox<(E, I)>) {
        starters.append { [self] in
            OSThread.start { [self] in
                blockAllSignalsInThisThread()
                pin(w)
                let worker = Worker(index: w, engine: engine.value, external: devices.value.0, internal: devices.value.1,
                                    board: board, batch: options.batch, busyPoll: options.busyPoll, settings: settings,
                                    generation: generation)
                received.add(worker.run(stop: stop), ordering: .relaxed)
            }
        }
    }

    private func preparePacketRingWorkers() throws {
        let group = UInt16(truncatingIfNeeded: getpid())
        for w in 0..<options.workers {
            let made = try makeEngine()
            let engine = UncheckedBox(made.0), generation = made.1
            var o4 = PacketRing.Options(), o6 = PacketRing.Options()
            if let b = options.ringBlockSize { o4.blockSize = b; o6.blockSize = b }
            if let n = options.ringBlocks { o4.blockCount = n; o6.blockCount = n }
            if options.workers > 1 {
                o4.fanout = PacketRing.Fanout(group: group)
                o6.fanout = PacketRing.Fanout(group: group &+ 1)
            }
            let devices = UncheckedBox((try PacketRing(interface: options.externalDevice, options: o4),
                                        try PacketRing(interface: options.internalDevice, options: o6)))
            addStarter(worker: w, engine: engine, generation: generation, devices: devices)
        }
    }

    /// Packet-plane service body: starts the workers, waits for shutdown, stops and joins them.
    func runPacketPlane() async {
        let threads = starters.map { $0() }
        starters = []
        if options.io == .none {
            logger.info("no data plane (--io none): control lane and metrics only", metadata: ["softwires": "\(table.count)"])
        } else {
            logger.info("packet plane running", metadata: [
                "workers": "\(threads.count)", "io": "\(options.io.rawValue)",
                "devices": "\(options.externalDevice)/\(options.internalDevice)", "softwires": "\(table.count)"])
        }
        running.store(true, ordering: .releasing)
        try? await gracefulShutdown()
        running.store(false, ordering: .releasing)
        stop.store(true, ordering: .relaxed)
        if !(await joinWorkers(threads, timeout: Self.joinTimeout)) {
            logger.error("packet workers did not stop; exiting without them", metadata: ["seconds": "\(Self.joinTimeout)"])
            return
        }
        if !threads.isEmpty {
            logger.info("packet plane stopped", metadata: ["frames": "\(received.load(ordering: .relaxed))"])
        }
    }

    /// How long shutdown waits for the packet workers to leave their loops (they check `stop`
    /// at least every ~10 ms).
    static let joinTimeout = 5.0

    /// Joins `threads` on a helper thread; false when they are not all done within `timeout`.
    func joinWorkers(_ threads: [OSThread], timeout: Double) async -> Bool {
        let once = ResumeOnce()
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            once.set(c)
            let box = UncheckedBox(threads)
            _ = OSThread.start {
                for t in box.value { t.join() }
                once.resume(true)
            }
            Task {
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                once.resume(false)
            }
        }
    }

    /// Control-lane service shutdown: stops the requestor (snapshot + T_last), or writes the
    /// `--snapshot` file when there is no requestor.
    func stopControlLane() async {
        let svc = state.withLock { s -> LeasequeryService? in
            defer { s.leasequery = nil }
            return s.leasequery
        }
        if let svc {
            await svc.stop()
            lastLeasequeryStatus.withLock { $0 = svc.currentStatus }
        } else if let path = options.snapshotPath {
            do {
                try table.saveSnapshot(to: path)
                logger.info("binding-table snapshot written", metadata: ["path": "\(path)", "softwires": "\(table.count)"])
            } catch {
                logger.error("binding-table snapshot not written", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }

    let lastLeasequeryStatus = Mutex<SyncStatus?>(nil)
    /// Servers seen by the last metrics sample.
    let knownServers = Mutex<Set<String>>([])

    func closeMetrics() async {
        try? await metricsServer?.close()
    }

    /// Compiles the configuration's four filters; the first that does not compile is reported
    /// as a configuration error naming its field (at start and at reload alike).
    static func validateFilters(_ c: LwAFTRConfig, file: String) throws(ConfigError) {
        for (f, field) in [(c.external.ingressFilter, "external.ingress_filter"), (c.external.egressFilter, "external.egress_filter"),
                           (c.internal.ingressFilter, "internal.ingress_filter"), (c.internal.egressFilter, "internal.egress_filter")] {
            guard let f else { continue }
            do { _ = try PacketFilter(f) } catch {
                throw ConfigError(file: file, line: 0, field: field, message: "\(error)")
            }
        }
    }
}

/// A continuation resumed by whichever of two parties comes first.
final class ResumeOnce: Sendable {
    private let c = Mutex<CheckedContinuation<Bool, Never>?>(nil)
    func set(_ k: CheckedContinuation<Bool, Never>) { c.withLock { $0 = k } }
    func resume(_ value: Bool) { c.withLock { $0.take() }?.resume(returning: value) }
}

/// Moves a non-Sendable value into a thread that becomes its only user.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
