import Logging
import NIOCore
import NIOSSL
import LwAFTRCore
import Synchronization
import DHCPWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything a `LeasequeryService` mutates, confined to its event loop: the `BindingSync`, one
/// `SessionDriver` per server, and the periodic tasks (timeouts, lease expiry, snapshots,
/// status publication).
final class ServiceCore {
    let loop: any EventLoop
    let config: LeasequeryConfiguration
    let sync: BindingSync
    let logger: Logger
    let latest: StatusBox
    var drivers: [SessionDriver] = []
    var tasks: [RepeatedTask] = []
    var savedAt: Int = -1
    var stopped = false

    init(loop: any EventLoop, config: LeasequeryConfiguration, sync: BindingSync, logger: Logger, latest: StatusBox) {
        self.loop = loop; self.config = config; self.sync = sync; self.logger = logger; self.latest = latest
    }

    /// A session for `server` with owner id `index`, its driver, wired to this core and appended
    /// to `drivers` (not started).
    @discardableResult
    func addDriver(index: Int, server: LeasequeryServerAddress, tls: NIOSSLContext?) -> SessionDriver {
        let session = LeasequerySession(index: UInt16(index), server: server, configuration: config, sync: sync, logger: logger)
        session.keepOrphans = { [unowned self, unowned session] in
            drivers.contains { !$0.session.initialResyncDone && $0.session !== session }
        }
        let d = SessionDriver(loop: loop, session: session, tls: tls, logger: logger)
        d.onTableReplaced = { [unowned self] in publishStatus() }
        drivers.append(d)
        return d
    }

    static func tlsContext(_ t: LeasequeryTLSOptions) throws -> NIOSSLContext {
        var c = TLSConfiguration.makeClientConfiguration()
        c.minimumTLSVersion = .tlsv12
        c.trustRoots = .file(t.trustRootsFile)
        if let cert = t.certificateFile { c.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) } }
        if let key = t.privateKeyFile { c.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)) }
        c.certificateVerification = t.verifyHostname ? .fullVerification : .noHostnameVerification
        return try NIOSSLContext(configuration: c)
    }

    /// Loads the snapshot (unless `loadSnapshot` is false), builds the sessions and starts them
    /// and the periodic tasks.
    func start(loadSnapshot: Bool = true) throws {
        var resume: [String: UnixTime] = [:]
        if loadSnapshot, let path = config.snapshotPath {
            if fileExists(path) {
                do {
                    let (n, tl) = try sync.loadSnapshot(path: path)
                    resume = tl
                    logger.info("binding-table snapshot loaded", metadata: ["path": "\(path)", "softwires": "\(n)", "t-last": "\(tl.count)"])
                } catch {
                    logger.warning("binding-table snapshot not loaded; a full resync follows", metadata: ["path": "\(path)", "error": "\(error)"])
                }
            }
        }
        for (i, s) in config.servers.enumerated() {
            let d = addDriver(index: i, server: s, tls: try s.tls.map(Self.tlsContext))
            d.session.setResumePoint(resume["\(s)"])
        }
        let t = config.timers
        let tick = min(max(min(t.connectTimeout, t.activeReceiveTimeout, t.bulkDataTimeout) / 4, 0.01), 1)
        every(tick) { $0.tick() }
        every(max(config.expirySweepInterval, 0.01)) { $0.sync.expire() }
        if config.snapshotPath != nil && config.snapshotInterval > 0 { every(config.snapshotInterval) { $0.saveSnapshot() } }
        for d in drivers { d.perform(d.session.start()) }
        publishStatus()
    }

    private func every(_ seconds: Double, _ body: @escaping @Sendable (ServiceCore) -> Void) {
        let bound = NIOLoopBound(self, eventLoop: loop)
        let d = TimeAmount.nanoseconds(Int64(seconds * 1e9))
        tasks.append(loop.scheduleRepeatedTask(initialDelay: d, delay: d) { _ in
            let core = bound.value
            if !core.stopped { body(core) }
        })
    }

    func tick() {
        for d in drivers { d.perform(d.session.tick()) }
        sync.flushLogs()
        publishStatus()
    }

    /// Writes the snapshot and T_last when the table changed since the last write.
    func saveSnapshot(force: Bool = false) {
        guard let path = config.snapshotPath else { return }
        let c = sync.counters
        let version = c.applied + c.expired + c.resyncs
        guard force || version != savedAt else { return }
        var tl: [String: UnixTime] = [:]
        for d in drivers { if let t = d.session.tLast { tl["\(d.session.server)"] = t } }
        do {
            try sync.saveSnapshot(path: path, tLast: tl)
            savedAt = version
        } catch {
            logger.error("binding-table snapshot not written", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    func status(exact: Bool) -> SyncStatus {
        SyncStatus(sessions: drivers.map(\.session.status), tableSize: sync.count,
                   orphans: exact ? sync.orphanCount : latest.value.orphans, counters: sync.counters)
    }

    func publishStatus() {
        let s = status(exact: false)
        latest.value = s
    }

    func stop() {
        guard !stopped else { return }
        for d in drivers { d.stop() }
        saveSnapshot(force: true)
        stopped = true
        for t in tasks { t.cancel() }
        tasks.removeAll()
        sync.flushLogs()
        latest.value = status(exact: true)
        logger.info("leasequery requestor stopped", metadata: ["table": "\(sync.count)", "counters": "\(sync.counters)"])
    }
}

/// The last published `SyncStatus`, readable from any thread.
final class StatusBox: Sendable {
    private let m = Mutex(SyncStatus())
    var value: SyncStatus {
        get { m.withLock { $0 } }
        set { m.withLock { $0 = newValue } }
    }
}
