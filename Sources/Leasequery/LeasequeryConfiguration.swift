public import LwAFTRCore
public import DHCPWire

/// STARTTLS settings for one server (RFC 7653 §5.3, PROTOCOLS.md §7.2): the CA that signs the
/// server certificate, an optional client certificate for mutual authentication, and how the
/// server name is checked. PEM files.
public struct LeasequeryTLSOptions: Sendable, Hashable {
    /// CA certificate(s) the server certificate must chain to.
    public var trustRootsFile: String
    /// Client certificate chain (mutual authentication); nil = none offered.
    public var certificateFile: String?
    /// Private key of `certificateFile`.
    public var privateKeyFile: String?
    /// Check the server certificate's name against `serverHostname` (or the host) as well as its chain.
    public var verifyHostname: Bool
    /// Name for SNI and hostname verification; nil = the server's host when it is a name.
    public var serverHostname: String?

    public init(trustRootsFile: String, certificateFile: String? = nil, privateKeyFile: String? = nil,
                verifyHostname: Bool = true, serverHostname: String? = nil) {
        self.trustRootsFile = trustRootsFile; self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile; self.verifyHostname = verifyHostname; self.serverHostname = serverHostname
    }
}

/// One leasequery server: TCP address (port 547 by default) and optional STARTTLS.
public struct LeasequeryServerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var tls: LeasequeryTLSOptions?

    public init(host: String, port: Int = 547, tls: LeasequeryTLSOptions? = nil) {
        self.host = host; self.port = port; self.tls = tls
    }

    /// `host:port` (IPv6 literals in brackets); also the key under which T_last is persisted.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Timers of a requestor session, in seconds. Defaults are the RFC 7653 / RFC 5460 values;
/// tests shrink them.
public struct LeasequeryTimers: Sendable, Hashable {
    /// TCP connect (and STARTTLS answer) limit.
    public var connectTimeout: Double
    /// ACTIVE_LQ_RCV_TIMEOUT: an active connection that receives nothing this long is closed
    /// (the server's keep-alive comes every ACTIVE_LQ_IDLE_TIMEOUT = 60 s).
    public var activeReceiveTimeout: Double
    /// BULK_LQ_DATA_TIMEOUT: a bulk connection that receives nothing this long is closed.
    public var bulkDataTimeout: Double
    /// First reconnect delay; RFC 7653 makes ACTIVE_LQ_IDLE_TIMEOUT (60 s) the minimum retry interval.
    public var reconnectMinimum: Double
    /// Backoff cap (the delay doubles per failed attempt, ±10 % jitter).
    public var reconnectMaximum: Double
    /// A session that stayed live this long resets the backoff to `reconnectMinimum`.
    public var stableAfter: Double

    public init(connectTimeout: Double = 10, activeReceiveTimeout: Double = 120, bulkDataTimeout: Double = 300,
                reconnectMinimum: Double = 60, reconnectMaximum: Double = 600, stableAfter: Double = 300) {
        self.connectTimeout = connectTimeout; self.activeReceiveTimeout = activeReceiveTimeout
        self.bulkDataTimeout = bulkDataTimeout; self.reconnectMinimum = reconnectMinimum
        self.reconnectMaximum = reconnectMaximum; self.stableAfter = stableAfter
    }

    /// Delay before reconnect attempt `attempt` (0-based), before jitter.
    public func backoff(attempt: Int) -> Double {
        let d = reconnectMinimum * Double(1 << min(attempt, 20))
        return min(max(d, reconnectMinimum), max(reconnectMaximum, reconnectMinimum))
    }
}

/// Everything a `LeasequeryService` needs: the servers, the br-address the learnt softwires are
/// bound to, the requestor identity, timers, and where the snapshot and T_last live.
public struct LeasequeryConfiguration: Sendable, Hashable {
    /// One session per server (an active and, when needed, a bulk connection each).
    public var servers: [LeasequeryServerAddress]
    /// The lwAFTR's br-address stored with every softwire learnt from leasequery.
    public var brAddress: IPv6Address
    /// OPTION_CLIENTID of every request (PROTOCOLS.md §7.1.1); a DUID-LL by default.
    public var requestorDUID: [UInt8]
    public var timers: LeasequeryTimers
    /// Binding-table snapshot loaded at start and written every `snapshotInterval` and at stop;
    /// T_last is persisted beside it (`<path>.tlast`). nil = no persistence.
    public var snapshotPath: String?
    /// Seconds between snapshot writes while the table changes (0 = only at stop).
    public var snapshotInterval: Double
    /// With a loaded snapshot and a persisted T_last, start with an active catch-up instead of a
    /// full bulk resync (PROTOCOLS.md §7.5 "to allow catch-up after restart"). Off: every start
    /// resyncs in bulk, as the issue asks.
    public var catchUpOnStart: Bool
    /// Seconds subtracted from T_last when it is used as query-start-time (§7.5 resume rule).
    public var resumeMargin: UInt32
    /// Longest DHCPv6 message accepted from a server; a longer length prefix ends the session.
    public var maxMessageBytes: Int
    /// Seconds between local lease-expiry sweeps (§7.5 expiry).
    public var expirySweepInterval: Double
    /// Inner PRL (option 55) of bulk / active queries; the profile's lists by default (§7.3).
    public var bulkParameterRequestList: [UInt8]
    public var activeParameterRequestList: [UInt8]

    public init(servers: [LeasequeryServerAddress], brAddress: IPv6Address,
                requestorDUID: [UInt8] = DUIDOption.linkLayer([0x02, 0, 0, 0, 0, 0x01]),
                timers: LeasequeryTimers = LeasequeryTimers(), snapshotPath: String? = nil, snapshotInterval: Double = 60,
                catchUpOnStart: Bool = false, resumeMargin: UInt32 = 1, maxMessageBytes: Int = 16384,
                expirySweepInterval: Double = 1) {
        self.servers = servers; self.brAddress = brAddress; self.requestorDUID = requestorDUID
        self.timers = timers; self.snapshotPath = snapshotPath; self.snapshotInterval = snapshotInterval
        self.catchUpOnStart = catchUpOnStart; self.resumeMargin = resumeMargin
        self.maxMessageBytes = maxMessageBytes; self.expirySweepInterval = expirySweepInterval
        bulkParameterRequestList = LeasequeryRequest.bulkParameterRequestList
        activeParameterRequestList = LeasequeryRequest.activeParameterRequestList
    }
}
