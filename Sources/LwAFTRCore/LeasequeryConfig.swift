/// STARTTLS settings of one leasequery server (`leasequery.servers[i].tls`): PEM file paths.
public struct LeasequeryTLSConfig: Hashable, Sendable {
    /// CA certificate(s) the server certificate must chain to (`ca`).
    public var ca: String
    /// Client certificate chain for mutual authentication (`certificate`), with `privateKey`.
    public var certificate: String?
    public var privateKey: String?
    /// Check the server certificate's name as well as its chain (`verify_hostname`).
    public var verifyHostname: Bool
    /// Name for SNI and hostname verification (`server_name`); nil = the server address.
    public var serverName: String?

    public init(ca: String, certificate: String? = nil, privateKey: String? = nil, verifyHostname: Bool = true,
                serverName: String? = nil) {
        self.ca = ca
        self.certificate = certificate
        self.privateKey = privateKey
        self.verifyHostname = verifyHostname
        self.serverName = serverName
    }
}

/// One leasequery server (`leasequery.servers[i]`): address (IP literal or host name), TCP port, optional STARTTLS.
public struct LeasequeryServerConfig: Hashable, Sendable, CustomStringConvertible {
    public var address: String
    public var port: Int
    public var tls: LeasequeryTLSConfig?

    /// The DHCPv6 server port, where leasequery over TCP listens too (RFC 5460 §5.2).
    public static let defaultPort = 547

    public init(address: String, port: Int = defaultPort, tls: LeasequeryTLSConfig? = nil) {
        self.address = address
        self.port = port
        self.tls = tls
    }

    /// `address:port`, IPv6 literals in brackets.
    public var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }
}

/// Requestor timers in seconds (`leasequery.timers`); defaults are the RFC 7653 values.
public struct LeasequeryTimersConfig: Hashable, Sendable {
    public var connect: Double = 10
    public var activeReceive: Double = 120
    public var bulkData: Double = 300
    public var reconnectMin: Double = 60
    public var reconnectMax: Double = 600

    public init() {}
}

/// The `leasequery` section: the servers the binding table is kept in sync with, and how.
public struct LeasequeryConfig: Hashable, Sendable {
    public var servers: [LeasequeryServerConfig]
    /// br-address of learnt softwires; nil = `LwAFTRConfig.leasequeryBRAddress`'s default.
    public var brAddress: IPv6Address?
    /// OPTION_CLIENTID value (a DUID) of the requestor; nil = the built-in DUID-LL.
    public var requestorDUID: [UInt8]?
    /// Binding-table snapshot (T_last is kept at `<snapshot>.tlast`).
    public var snapshot: String?
    /// Seconds between snapshot writes while the table changes (0 = only at shutdown).
    public var snapshotInterval: Double = 60
    /// Start from the snapshot with an active catch-up instead of a full bulk resync.
    public var catchUpOnStart = false
    public var timers = LeasequeryTimersConfig()

    public init(servers: [LeasequeryServerConfig] = []) { self.servers = servers }
}

extension LwAFTRConfig {
    /// The br-address learnt softwires get: `leasequery.br_address`, else the first instance's
    /// internal address, else the first static softwire's br-address.
    public var leasequeryBRAddress: IPv6Address? {
        leasequery?.brAddress ?? instances.first?.internal.ipv6 ?? softwires.first?.br
    }
}
