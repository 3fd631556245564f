import Logging
import NIOCore
import NIOSSL
import LwAFTRCore
import DHCPWire

/// Everything the server mutates, confined to its one event loop (DESIGN.md: one control-lane
/// loop). Reached from handlers and timers through `NIOLoopBound`.
final class ServerCore {
    let loop: any EventLoop
    let cfg: ValidatedConfig
    let clock: any ServerClock
    let logger: Logger
    let store: LeaseStore
    let engine: DHCPv4Engine
    let responder: DHCP4o6Responder
    let tls: NIOSSLContext?
    /// Open leasequery connections.
    var sessions: [ObjectIdentifier: LeasequeryHandler] = [:]
    var stopping = false

    init(loop: any EventLoop, cfg: ValidatedConfig, clock: any ServerClock, logger: Logger) throws {
        self.loop = loop
        self.cfg = cfg
        self.clock = clock
        self.logger = logger
        let journal = try cfg.raw.leaseDirectory.map { try LeaseJournal(directory: $0, sync: cfg.raw.syncWrites) }
        store = try LeaseStore(journal: journal)
        if store.droppedJournalLines > 0 {
            logger.warning("dropped a torn journal tail", metadata: ["lines": "\(store.droppedJournalLines)"])
        }
        engine = DHCPv4Engine(cfg: cfg, store: store, logger: logger)
        responder = DHCP4o6Responder(engine: engine, logger: logger)
        if let t = cfg.raw.leasequery.tls {
            let conf = TLSConfiguration.makeServerConfigurationWithMTLS(
                certificateChain: try NIOSSLCertificate.fromPEMFile(t.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: t.privateKey, format: .pem)),
                trustRoots: .file(t.trustRoots))
            tls = try NIOSSLContext(configuration: conf)
        } else {
            tls = nil
        }
        logger.info("lease store loaded", metadata: ["active": "\(store.activeCount)", "keys": "\(store.leases.count)"])
    }

    var stats: ServerStats {
        get { engine.stats }
        set { engine.stats = newValue }
    }

    func now() -> UInt32 { clock.now() }

    func sweep() { engine.sweep(now: now()) }

    /// Ends every leasequery session (DONE + QueryTerminated) and writes a final snapshot.
    func shutdown() {
        stopping = true
        for s in sessions.values { s.terminate() }
        do { try store.compactIfNeeded(force: true) } catch {
            logger.error("final snapshot failed", metadata: ["error": "\(error)"])
        }
    }
}
