public import Logging
public import NIOCore
import NIOPosix
public import BindingTable
public import LwAFTRCore
import Synchronization

/// The leasequery requestor of `lwaftr run`: keeps a `BindingTable` in sync with one or more
/// DHCP 4o6 leasequery servers (PROTOCOLS.md §7) on one NIO event loop — the control lane.
///
/// Lifecycle (async, or future-based for synchronous callers):
/// ```swift
/// let lq = try await LeasequeryService.start(configuration: cfg, table: table, logger: logger)
/// // … workers forward with `table` …
/// let s = lq.currentStatus            // cheap, refreshed every tick; `await lq.status()` is exact
/// await lq.stop()                     // closes sessions, writes the snapshot + T_last
/// ```
/// From synchronous code: `let lq = try LeasequeryService.startFuture(...).wait()` and
/// `lq.stopBlocking()` (not from an event-loop thread).
///
/// `start` loads the snapshot first (if configured) so forwarding resumes at once, then each
/// server's session runs a full bulk resync (built aside, published atomically) followed by an
/// active query for live changes; see `LeasequerySession` for the recovery rules. With no
/// `group` the service runs its own one-thread event loop group and shuts it down in `stop`.
public final class LeasequeryService: Sendable {
    public let configuration: LeasequeryConfiguration
    public let table: BindingTable
    /// The control lane's event loop.
    public let eventLoop: any EventLoop
    let core: NIOLoopBound<ServiceCore>
    let latest: StatusBox
    let ownedGroup: MultiThreadedEventLoopGroup?

    private init(configuration: LeasequeryConfiguration, table: BindingTable, eventLoop: any EventLoop,
                 core: NIOLoopBound<ServiceCore>, latest: StatusBox, ownedGroup: MultiThreadedEventLoopGroup?) {
        self.configuration = configuration; self.table = table; self.eventLoop = eventLoop
        self.core = core; self.latest = latest; self.ownedGroup = ownedGroup
    }

    /// Starts the requestor. Fails only for configuration errors (no servers, unreadable TLS
    /// files); unreachable servers are retried with backoff.
    /// - Parameters:
    ///   - existing: what to do with softwires already in `table` (configuration or snapshot):
    ///     `.replaceable` (dropped once every server resynced, unless claimed) or `.keep`.
    ///   - observer: called on the event loop after every live record (instrumentation).
    ///   - loadSnapshot: load the configured snapshot into the table first; false when the table
    ///     is already live (a reload that adds or restarts the requestor).
    ///   - staticSoftwires: the configuration's softwires, static from before any session runs
    ///     (marked where the table holds them already, inserted where not).
    public static func startFuture(configuration: LeasequeryConfiguration, table: BindingTable,
                                   logger: Logger = Logger(label: "lwaftr.leasequery"),
                                   existing: BindingSync.ExistingEntries = .replaceable,
                                   clock: (@Sendable () -> Double)? = nil,
                                   group: (any EventLoopGroup)? = nil,
                                   observer: (@Sendable (BindingRecord, ApplyOutcome) -> Void)? = nil,
                                   loadSnapshot: Bool = true, staticSoftwires: [Softwire] = [])
        -> EventLoopFuture<LeasequeryService> {
        let owned = group == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loop = (group ?? owned!).next()
        let latest = StatusBox()
        let started = loop.submit { () throws -> LeasequeryService in
            guard !configuration.servers.isEmpty else { throw LeasequeryConfigurationError("no leasequery servers configured") }
            let sync = BindingSync(table: table, brAddress: configuration.brAddress, logger: logger, existing: existing,
                                   clock: clock ?? BindingSync.uptime)
            if let observer { sync.observer = { observer($0, $1) } }
            let core = ServiceCore(loop: loop, config: configuration, sync: sync, logger: logger, latest: latest)
            try core.start(loadSnapshot: loadSnapshot)  // sessions run only after this closure returns
            sync.markStatic(staticSoftwires)
            logger.info("leasequery requestor started", metadata: ["servers": "\(configuration.servers.map(\.description))",
                                                                   "table": "\(sync.count)",
                                                                   "snapshot": "\(loadSnapshot ? "loaded if present" : "not loaded (live table)")"])
            return LeasequeryService(configuration: configuration, table: table, eventLoop: loop,
                                     core: NIOLoopBound(core, eventLoop: loop), latest: latest, ownedGroup: owned)
        }
        if let owned { started.whenFailure { _ in owned.shutdownGracefully { _ in } } }
        return started
    }

    /// Async `startFuture`.
    public static func start(configuration: LeasequeryConfiguration, table: BindingTable,
                             logger: Logger = Logger(label: "lwaftr.leasequery"),
                             existing: BindingSync.ExistingEntries = .replaceable,
                             clock: (@Sendable () -> Double)? = nil, group: (any EventLoopGroup)? = nil,
                             observer: (@Sendable (BindingRecord, ApplyOutcome) -> Void)? = nil,
                             loadSnapshot: Bool = true, staticSoftwires: [Softwire] = []) async throws -> LeasequeryService {
        try await startFuture(configuration: configuration, table: table, logger: logger, existing: existing,
                              clock: clock, group: group, observer: observer, loadSnapshot: loadSnapshot,
                              staticSoftwires: staticSoftwires).get()
    }

    /// Closes every session, writes the snapshot and T_last, and shuts down an owned event loop;
    /// blocks until done. Never call it from an event-loop thread.
    public func stopBlocking() {
        _ = try? eventLoop.submit { self.core.value.stop() }.wait()
        try? ownedGroup?.syncShutdownGracefully()
    }

    /// Closes every session, writes the snapshot and T_last, and shuts down an owned event loop.
    public func stop() async {
        _ = try? await eventLoop.submit { self.core.value.stop() }.get()
        try? await ownedGroup?.shutdownGracefully()
    }

    /// Status as of the last tick (≤ 1 s old); safe from any thread without waiting.
    public var currentStatus: SyncStatus { latest.value }

    /// Exact status, computed on the event loop.
    public func status() async throws -> SyncStatus {
        try await eventLoop.submit { self.core.value.status(exact: true) }.get()
    }

    /// Starts a full resync of every server beside the live streams (operator request).
    public func requestResync() async throws {
        try await eventLoop.submit { for d in self.core.value.drivers { d.perform(d.session.requestResync()) } }.get()
    }

    /// Writes the snapshot now (when a snapshot path is configured).
    public func saveSnapshot() async throws {
        try await eventLoop.submit { self.core.value.saveSnapshot(force: true) }.get()
    }

    /// Runs `body` on the event loop with the `BindingSync` (tests, diagnostics).
    public func withSync<T: Sendable>(_ body: @escaping @Sendable (BindingSync) -> T) async throws -> T {
        try await eventLoop.submit { body(self.core.value.sync) }.get()
    }
}

/// A `LeasequeryConfiguration` that cannot run.
public struct LeasequeryConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
