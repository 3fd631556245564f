/// One of a server's two TCP connections (RFC 7653: an active query and a bulk query need
/// separate connections).
public enum ConnectionRole: String, Hashable, Sendable, CustomStringConvertible {
    case active, bulk
    public var description: String { rawValue }
}

/// Where a session is in PROTOCOLS.md §7.5: `connecting → bulk → active → catching-up → live`,
/// `backoff` after a failure. A gap fill or resync that runs beside a live active query keeps
/// the phase `live` (see `SessionStatus.resync`).
public enum SessionPhase: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Not started.
    case idle
    /// TCP connect (and STARTTLS) in progress.
    case connecting
    /// Full bulk resync streaming; the table is being rebuilt off to the side.
    case bulk
    /// Active query sent, waiting for its REPLY.
    case active
    /// Active query replaying changes since T_last (until CatchUpComplete).
    case catchingUp = "catching-up"
    /// Receiving live updates.
    case live
    /// Waiting to reconnect after a failure.
    case backoff
    /// Stopped for good.
    case stopped

    public var description: String { rawValue }
}

/// What a `LeasequerySession` asks its driver to do (the machine itself never touches a socket).
public enum SessionAction: Hashable, Sendable {
    /// Open a TCP connection; tag its events with `generation`.
    case connect(ConnectionRole, generation: Int)
    /// Write these bytes (already framed) and flush.
    case send(ConnectionRole, [UInt8])
    /// Insert the TLS client handler now (the STARTTLS REPLY allowed it); later sends go inside TLS.
    case startTLS(ConnectionRole)
    /// Close the connection (events of its generation are ignored from now on).
    case close(ConnectionRole)
    /// Call `reconnectDue()` after this many seconds.
    case scheduleReconnect(after: Double)
    /// A full resync replaced the table (a good moment to write a snapshot).
    case tableReplaced
}

/// Per-session status (`lwaftr bindings`, metrics).
public struct SessionStatus: Hashable, Sendable {
    /// `host:port`.
    public var server: String
    public var phase: SessionPhase
    /// "full" or "gap" while a bulk query runs beside the active one (or during start-up bulk).
    public var resync: String?
    /// Resume point (server-clock Unix seconds) an active query would use; nil = a full bulk is needed.
    public var tLast: UInt32?
    /// Seconds since the last message from the server (keep-alives included); nil = none yet.
    public var lastMessageAge: Double?
    /// Seconds since the last record was applied; nil = none yet.
    public var lastRecordAge: Double?
    /// Live records received (active query and gap fills) and bulk records received.
    public var liveRecords: Int
    public var bulkRecords: Int
    /// Failures that led to a reconnect.
    public var reconnects: Int
    /// Full resyncs this session published.
    public var resyncs: Int
    /// Why the session last failed.
    public var lastError: String?
    /// Seconds the last full resync took (connect + bulk stream + publication).
    public var lastResyncSeconds: Double?
    /// STARTTLS configured.
    public var tls: Bool
}

/// Everything `SyncStatus` reports for the whole requestor.
public struct SyncStatus: Hashable, Sendable {
    public var sessions: [SessionStatus]
    /// Softwires in the binding table.
    public var tableSize: Int
    /// Softwires not yet claimed by any server (from the snapshot or configuration).
    public var orphans: Int
    public var counters: SyncCounters

    public init(sessions: [SessionStatus] = [], tableSize: Int = 0, orphans: Int = 0, counters: SyncCounters = SyncCounters()) {
        self.sessions = sessions; self.tableSize = tableSize; self.orphans = orphans; self.counters = counters
    }

    /// Every session is live (forwarding state follows the servers).
    public var allLive: Bool { !sessions.isEmpty && sessions.allSatisfy { $0.phase == .live && $0.resync == nil } }
}
