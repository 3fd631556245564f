public import Logging
public import DHCPWire

/// The requestor state machine for one server (PROTOCOLS.md §7.5), free of sockets: feed it
/// connection events and received bytes, and it returns the `SessionAction`s to perform (bytes to
/// send, connections to open or close, when to retry) while it applies records through its
/// `BindingSync`. `SessionDriver` runs it on a NIO event loop; tests drive it directly.
///
/// Flow: start → full bulk on the bulk connection (table built aside, published atomically,
/// T0 = the REPLY's LQ_BASE_TIME) → active query with query-start-time T0 − margin → catch-up →
/// CatchUpComplete → live. DataMissing → live plus a gap fill [start, base-time] on the bulk
/// connection; DataMissing again → a full resync beside the live stream. Any failure (close,
/// silence, DONE, malformed bytes) closes both connections, keeps T_last as it was before a failed
/// catch-up, and schedules a reconnect with exponential backoff; the reconnect catches up from
/// T_last, or resyncs in full when no resume point is known.
///
/// Not thread-safe; confine it to one thread (the control lane's event loop).
public final class LeasequerySession {
    /// Index of the server in the configuration (owner id in `BindingSync`).
    public let index: UInt16
    public let server: LeasequeryServerAddress
    public let sync: BindingSync
    let config: LeasequeryConfiguration
    let logger: Logger

    public internal(set) var phase: SessionPhase = .idle
    /// Resume point: server-clock time an active query may catch up from (nil = full bulk needed).
    public internal(set) var tLast: UnixTime?
    /// Whether this session published a full resync since it started.
    public internal(set) var initialResyncDone = false
    /// Asked at publication: keep orphans because other servers have not resynced yet.
    public var keepOrphans: () -> Bool = { false }

    final class Conn {
        enum State: Equatable { case down, connecting(since: Double), startingTLS(xid: UInt32, since: Double), open }
        let role: ConnectionRole
        var state = State.down
        var generation = 0
        var frames: FrameReader
        var xid: UInt32?
        var replied = false
        var lastReceived = 0.0

        init(_ role: ConnectionRole, maxMessageBytes: Int) {
            self.role = role
            frames = FrameReader(maxMessageBytes: maxMessageBytes)
        }

        func reset(generation g: Int) {
            state = .down; generation = g; frames.reset(); xid = nil; replied = false
        }
    }

    enum Resync { case full(ResyncBuilder), gap(start: UnixTime, end: UnixTime, records: [BindingRecord]) }

    struct Failure: Error { var reason: String }

    let activeConn: Conn, bulkConn: Conn
    var generation = 0
    var nextXID: UInt32
    var out: [SessionAction] = []
    /// Active query: its query-start-time, the newest record stamp seen in catch-up and in live.
    var activeStart: UnixTime?
    var catchUpMax: UnixTime?
    var liveMax: UnixTime?
    /// The bulk query in progress, and the keys live records changed while it runs beside them.
    var resync: Resync?
    var touched: Set<UInt64>?
    var resumeAfterResync: UnixTime?
    var resyncStarted = 0.0
    var resyncReplied = 0.0
    var attempts = 0
    var liveSince: Double?
    var lastMessageAt: Double?
    var lastRecordAt: Double?
    var liveRecords = 0, bulkRecords = 0, reconnects = 0, resyncs = 0
    var lastError: String?
    var lastResyncSeconds: Double?
    var resyncRequested = false

    /// A session for `server` (default: the configuration's server number `index`); `index` is
    /// also the owner id of the bindings it learns.
    public init(index: UInt16, server: LeasequeryServerAddress? = nil, configuration: LeasequeryConfiguration,
                sync: BindingSync, logger: Logger) {
        self.index = index
        let server = server ?? configuration.servers[Int(index)]
        self.server = server
        config = configuration
        self.sync = sync
        var l = logger
        l[metadataKey: "lq-server"] = "\(server)"
        self.logger = l
        activeConn = Conn(.active, maxMessageBytes: configuration.maxMessageBytes)
        bulkConn = Conn(.bulk, maxMessageBytes: configuration.maxMessageBytes)
        nextXID = UInt32.random(in: 1...0xFF_FFF0)
    }

    var now: Double { sync.clock() }

    func conn(_ r: ConnectionRole) -> Conn { r == .active ? activeConn : bulkConn }

    func take() -> [SessionAction] { defer { out.removeAll() }; return out }

    func newXID() -> UInt32 {
        nextXID = nextXID >= 0xFF_FFFF ? 1 : nextXID + 1
        return nextXID
    }

    func setPhase(_ p: SessionPhase, _ detail: String = "", retryIn: Double? = nil) {
        guard p != phase else { return }
        var md: Logger.Metadata = ["from": "\(phase)", "to": "\(p)"]
        if !detail.isEmpty { md["detail"] = "\(detail)" }
        if let t = tLast { md["t-last"] = "\(t)" }
        if let r = retryIn { md["retry-in"] = "\((r * 1000).rounded() / 1000)" }
        logger.log(level: p == .backoff ? .notice : .info, "leasequery session state", metadata: md)
        phase = p
        if p == .live { liveSince = now } else if p != .live { liveSince = nil }
    }

    // MARK: - events

    /// Starts the session: a full bulk resync, or (with a resume point and `catchUpOnStart`) an
    /// active catch-up.
    public func start() -> [SessionAction] {
        guard phase == .idle else { return [] }
        if config.catchUpOnStart, let t = tLast { beginActive(from: t) } else { beginStartupResync() }
        return take()
    }

    /// Sets the resume point before `start` (T_last persisted beside the snapshot).
    public func setResumePoint(_ t: UnixTime?) { if phase == .idle { tLast = t } }

    /// The connection of `generation` is established.
    public func connected(_ role: ConnectionRole, generation g: Int) -> [SessionAction] {
        let c = conn(role)
        guard c.generation == g, case .connecting = c.state else { return [] }
        c.lastReceived = now
        if server.tls != nil {
            let xid = newXID()
            c.state = .startingTLS(xid: xid, since: now)
            do {
                out.append(.send(role, try TCPFraming.frame(try DHCPv6Message(type: .startTLS, transactionID: xid).encode())))
            } catch {
                fail("cannot encode STARTTLS: \(error)")
            }
        } else {
            c.state = .open
            sendQuery(c)
        }
        return take()
    }

    /// Connecting failed.
    public func connectFailed(_ role: ConnectionRole, generation g: Int, error: String) -> [SessionAction] {
        guard conn(role).generation == g, conn(role).state != .down else { return [] }
        fail("\(role) connection to \(server) failed: \(error)")
        return take()
    }

    /// The connection closed (by the peer, an error, or TLS).
    public func closed(_ role: ConnectionRole, generation g: Int, error: String? = nil) -> [SessionAction] {
        let c = conn(role)
        guard c.generation == g, c.state != .down else { return [] }
        let partial = c.frames.bufferedByteCount
        fail("\(role) connection closed" + (error.map { ": \($0)" } ?? "")
             + (partial > 0 ? " mid-message (\(partial) bytes of a frame dropped)" : ""))
        return take()
    }

    /// Bytes arrived on the connection of `generation`.
    public func received(_ role: ConnectionRole, generation g: Int, bytes: UnsafeRawBufferPointer) -> [SessionAction] {
        let c = conn(role)
        guard c.generation == g, c.state != .down else { return [] }
        c.lastReceived = now
        lastMessageAt = c.lastReceived
        c.frames.append(bytes)
        drain(c)
        return take()
    }

    /// Convenience for tests: bytes from an array.
    public func received(_ role: ConnectionRole, generation g: Int, bytes: [UInt8]) -> [SessionAction] {
        bytes.withUnsafeBytes { received(role, generation: g, bytes: $0) }
    }

    /// Periodic check (a few times per timeout): connect and receive timeouts.
    public func tick() -> [SessionAction] {
        let t = now, timers = config.timers
        for c in [activeConn, bulkConn] {
            switch c.state {
            case .down: continue
            case .connecting(let since), .startingTLS(_, let since):
                if t - since > timers.connectTimeout { fail("\(c.role) connect/STARTTLS timeout after \(timers.connectTimeout) s") }
            case .open:
                let limit = c.role == .active ? timers.activeReceiveTimeout : timers.bulkDataTimeout
                if t - c.lastReceived > limit { fail("\(c.role) connection silent for \(limit) s") }
            }
        }
        return take()
    }

    /// The backoff delay ended: reconnect, catching up from T_last when known.
    public func reconnectDue() -> [SessionAction] {
        guard phase == .backoff else { return [] }
        if let t = tLast { beginActive(from: t) } else { beginStartupResync() }
        return take()
    }

    /// Runs a full resync beside the live stream, now or as soon as the session is live.
    public func requestResync() -> [SessionAction] {
        resyncRequested = true
        if phase == .live { wentLive() }
        return take()
    }

    /// The session is live: run a requested resync.
    func wentLive() {
        guard resyncRequested, resync == nil, phase == .live else { return }
        resyncRequested = false
        startResync(.full(ResyncBuilder(server: index, expectedCount: sync.resyncSizeHint)), reason: "requested")
    }

    /// Closes everything for good.
    public func stop() -> [SessionAction] {
        for c in [activeConn, bulkConn] where c.state != .down { closeConn(c) }
        resync = nil; touched = nil
        setPhase(.stopped)
        return take()
    }

    // MARK: - flow

    func closeConn(_ c: Conn) {
        generation += 1
        c.reset(generation: generation)
        out.append(.close(c.role))
    }

    func open(_ c: Conn) {
        generation += 1
        c.reset(generation: generation)
        c.state = .connecting(since: now)
        out.append(.connect(c.role, generation: generation))
    }

    func beginStartupResync() {
        resync = .full(ResyncBuilder(server: index, expectedCount: sync.resyncSizeHint))
        resyncStarted = now
        touched = nil
        setPhase(.connecting, "full bulk resync")
        open(bulkConn)
    }

    func beginActive(from t: UnixTime) {
        let m = config.resumeMargin
        activeStart = UnixTime(seconds: t.seconds >= m ? t.seconds - m : 0)
        catchUpMax = nil
        setPhase(.connecting, "active query, catch-up from \(activeStart!)")
        open(activeConn)
    }

    /// Starts a bulk query beside the live active query.
    func startResync(_ r: Resync, reason: String) {
        resync = r
        resyncStarted = now
        touched = []
        if case .gap(let s, let e, _) = r {
            logger.notice("leasequery gap fill", metadata: ["start": "\(s)", "end": "\(e)", "reason": "\(reason)"])
        } else {
            logger.notice("leasequery full resync beside the live stream", metadata: ["reason": "\(reason)"])
        }
        if bulkConn.state == .open && bulkConn.xid == nil { sendQuery(bulkConn) } else if bulkConn.state == .down { open(bulkConn) }
    }

    func sendQuery(_ c: Conn) {
        let xid = newXID()
        c.xid = xid
        c.replied = false
        c.lastReceived = now
        let duid = config.requestorDUID
        let q: LeasequeryRequest
        switch c.role {
        case .active:
            q = LeasequeryRequest(kind: .active, transactionID: xid, requestorDUID: duid, requestBaseTime: true,
                                  parameterRequestList: config.activeParameterRequestList, queryStartTime: activeStart)
            setPhase(.active)
        case .bulk:
            switch resync {
            case .full?:
                q = LeasequeryRequest(kind: .bulk, transactionID: xid, requestorDUID: duid,
                                      parameterRequestList: config.bulkParameterRequestList)
            case .gap(let s, let e, _)?:
                q = LeasequeryRequest(kind: .bulk, transactionID: xid, requestorDUID: duid,
                                      parameterRequestList: config.bulkParameterRequestList, queryStartTime: s, queryEndTime: e)
            case nil:
                closeConn(c)
                return
            }
            if activeConn.state == .down { setPhase(.bulk) }
        }
        do { out.append(.send(c.role, try q.framed())) } catch { fail("cannot encode query: \(error)") }
    }

    /// Ends the session after a failure and schedules the reconnect.
    func fail(_ reason: String) {
        guard phase != .stopped, phase != .backoff else { return }
        if let since = liveSince, now - since >= config.timers.stableAfter { attempts = 0 }
        for c in [activeConn, bulkConn] where c.state != .down { closeConn(c) }
        resync = nil
        touched = nil
        reconnects += 1
        lastError = reason
        let delay = config.timers.backoff(attempt: attempts) * Double.random(in: 1.0...1.1)
        attempts += 1
        setPhase(.backoff, reason, retryIn: delay)
        out.append(.scheduleReconnect(after: delay))
    }

    /// Status for `SyncStatus`.
    public var status: SessionStatus {
        let t = now
        let rs: String? = switch resync {
        case .full?: "full"
        case .gap?: "gap"
        case nil: nil
        }
        return SessionStatus(server: "\(server)", phase: phase, resync: rs, tLast: tLast?.seconds,
                             lastMessageAge: lastMessageAt.map { t - $0 }, lastRecordAge: lastRecordAt.map { t - $0 },
                             liveRecords: liveRecords, bulkRecords: bulkRecords, reconnects: reconnects, resyncs: resyncs,
                             lastError: lastError, lastResyncSeconds: lastResyncSeconds, tls: server.tls != nil)
    }
}
