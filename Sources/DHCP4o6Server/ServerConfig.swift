import Foundation

/// `dhcp4o6d` configuration (JSON). Every field but `pools` has a default; see `example`.
public struct ServerConfig: Codable, Sendable, Equatable {
    /// A listening socket.
    public struct Listen: Codable, Sendable, Equatable {
        public var address: String
        public var port: Int
        public init(address: String, port: Int) { self.address = address; self.port = port }
    }

    /// One IPv4 pool: a prefix shared with PSIDs (`psidLength > 0`) or leased as full addresses.
    public struct Pool: Codable, Sendable, Equatable {
        /// "192.0.2.0/24".
        public var prefix: String
        /// k; 0 = full addresses (allocated only to clients without 159, or when honoured).
        public var psidLength: UInt8
        /// a; RFC 7618 recommends 0 for lw4o6.
        public var offset: UInt8
        /// Port ranges never handed out in a shared set ("0-1023"); a PSID whose set touches one is skipped.
        public var reservedPorts: [String]
        /// Addresses of the prefix never allocated.
        public var excluded: [String]

        public init(prefix: String, psidLength: UInt8, offset: UInt8 = 0, reservedPorts: [String] = ["0-1023"],
                    excluded: [String] = []) {
            self.prefix = prefix; self.psidLength = psidLength; self.offset = offset
            self.reservedPorts = reservedPorts; self.excluded = excluded
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            prefix = try c.decode(String.self, forKey: .prefix)
            psidLength = try c.decodeIfPresent(UInt8.self, forKey: .psidLength) ?? 0
            offset = try c.decodeIfPresent(UInt8.self, forKey: .offset) ?? 0
            reservedPorts = try c.decodeIfPresent([String].self, forKey: .reservedPorts) ?? ["0-1023"]
            excluded = try c.decodeIfPresent([String].self, forKey: .excluded) ?? []
        }
    }

    /// TLS material for STARTTLS (PEM files); the server requires client certificates from `trustRoots`.
    public struct TLS: Codable, Sendable, Equatable {
        public var certificate: String
        public var privateKey: String
        public var trustRoots: String
        public init(certificate: String, privateKey: String, trustRoots: String) {
            self.certificate = certificate; self.privateKey = privateKey; self.trustRoots = trustRoots
        }
    }

    /// Leasequery service settings (RFC 5460 / 7653 timers and limits).
    public struct Leasequery: Codable, Sendable, Equatable {
        public var listen: Listen
        public var enabled: Bool = true
        /// RFC 7653: active support MUST be off by default.
        public var active: Bool = false
        /// Serve active queries on connections without TLS (RFC 7653 needs an explicit setting).
        public var allowInsecure: Bool = false
        public var tls: TLS?
        /// BULK_LQ_MAX_CONNS.
        public var maxConnections: Int = 10
        /// ACTIVE_LQ_IDLE_TIMEOUT: keep-alive period.
        public var keepAliveSeconds: Double = 60
        /// BULK_LQ_DATA_TIMEOUT: a connection with no query and no progress is closed.
        public var idleTimeoutSeconds: Double = 300
        /// ACTIVE_LQ_SEND_TIMEOUT: a connection that stays unwritable this long is closed.
        public var sendTimeoutSeconds: Double = 120

        public init(listen: Listen) { self.listen = listen }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            listen = try c.decode(Listen.self, forKey: .listen)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
            active = try c.decodeIfPresent(Bool.self, forKey: .active) ?? false
            allowInsecure = try c.decodeIfPresent(Bool.self, forKey: .allowInsecure) ?? false
            tls = try c.decodeIfPresent(TLS.self, forKey: .tls)
            maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections) ?? 10
            keepAliveSeconds = try c.decodeIfPresent(Double.self, forKey: .keepAliveSeconds) ?? 60
            idleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? 300
            sendTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .sendTimeoutSeconds) ?? 120
        }
    }

    /// UDP DHCPv4-over-DHCPv6 socket (RFC 7341; 547 needs root).
    public var dhcp: Listen
    public var leasequery: Leasequery
    public var pools: [Pool]
    /// Lease store directory (snapshot + journal); nil = in memory only.
    public var leaseDirectory: String?
    /// Hex DUID for SERVERID; nil = DUID-LL derived from `serverIdentifier`.
    public var serverDUID: String?
    /// DHCPv4 server identifier (option 54).
    public var serverIdentifier: String = "192.0.0.1"
    /// lwAFTR (BR) addresses sent in S46_BR (90) when asked.
    public var borderRouters: [String] = []
    /// DHCP 4o6 server addresses for option 88 in INFORMATION-REQUEST replies.
    public var dhcp4o6Servers: [String] = []
    public var leaseSeconds: UInt32 = 3600
    public var offerSeconds: UInt32 = 30
    /// Quarantine of a DECLINEd address+PSID.
    public var declineSeconds: UInt32 = 600
    /// How long released/expired leases are kept for catch-up and windowed bulk queries.
    public var historySeconds: UInt32 = 86_400
    /// RFC 8539: minimum interval between B4-address updates of one lease (0 = none).
    public var b4UpdateMinimumSeconds: UInt32 = 60
    /// RFC 7618 §5.1: serve clients that ask for 159 from full-address pools (no 159 sent).
    public var honourPortParamsWithFullAddress: Bool = false
    /// Seconds between expiry sweeps.
    public var sweepSeconds: Double = 1
    /// fsync the journal after every change (slow; off = the page cache decides).
    public var syncWrites: Bool = false

    public init(dhcp: Listen, leasequery: Leasequery, pools: [Pool]) {
        self.dhcp = dhcp; self.leasequery = leasequery; self.pools = pools
    }

    enum CodingKeys: String, CodingKey {
        case dhcp, leasequery, pools, leaseDirectory, serverDUID, serverIdentifier, borderRouters, dhcp4o6Servers,
             leaseSeconds, offerSeconds, declineSeconds, historySeconds, b4UpdateMinimumSeconds,
             honourPortParamsWithFullAddress, sweepSeconds, syncWrites
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dhcp = try c.decodeIfPresent(Listen.self, forKey: .dhcp) ?? Listen(address: "::", port: 547)
        leasequery = try c.decodeIfPresent(Leasequery.self, forKey: .leasequery)
            ?? Leasequery(listen: Listen(address: "::", port: 547))
        pools = try c.decode([Pool].self, forKey: .pools)
        leaseDirectory = try c.decodeIfPresent(String.self, forKey: .leaseDirectory)
        serverDUID = try c.decodeIfPresent(String.self, forKey: .serverDUID)
        serverIdentifier = try c.decodeIfPresent(String.self, forKey: .serverIdentifier) ?? "192.0.0.1"
        borderRouters = try c.decodeIfPresent([String].self, forKey: .borderRouters) ?? []
        dhcp4o6Servers = try c.decodeIfPresent([String].self, forKey: .dhcp4o6Servers) ?? []
        leaseSeconds = try c.decodeIfPresent(UInt32.self, forKey: .leaseSeconds) ?? 3600
        offerSeconds = try c.decodeIfPresent(UInt32.self, forKey: .offerSeconds) ?? 30
        declineSeconds = try c.decodeIfPresent(UInt32.self, forKey: .declineSeconds) ?? 600
        historySeconds = try c.decodeIfPresent(UInt32.self, forKey: .historySeconds) ?? 86_400
        b4UpdateMinimumSeconds = try c.decodeIfPresent(UInt32.self, forKey: .b4UpdateMinimumSeconds) ?? 60
        honourPortParamsWithFullAddress = try c.decodeIfPresent(Bool.self, forKey: .honourPortParamsWithFullAddress) ?? false
        sweepSeconds = try c.decodeIfPresent(Double.self, forKey: .sweepSeconds) ?? 1
        syncWrites = try c.decodeIfPresent(Bool.self, forKey: .syncWrites) ?? false
    }

    /// Reads and validates a JSON file.
    public static func load(path: String) throws -> ServerConfig {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let c = try JSONDecoder().decode(ServerConfig.self, from: data)
        _ = try c.validated()
        return c
    }

    /// A loopback example (high ports) with one shared and one full-address pool.
    public static var example: ServerConfig {
        var lq = Leasequery(listen: Listen(address: "::1", port: 10547))
        lq.active = true
        lq.allowInsecure = true
        var c = ServerConfig(dhcp: Listen(address: "::1", port: 10547), leasequery: lq, pools: [
            Pool(prefix: "192.0.2.0/24", psidLength: 6),
            Pool(prefix: "198.51.100.0/28", psidLength: 0),
        ])
        c.leaseDirectory = "/tmp/dhcp4o6d-leases"
        c.borderRouters = ["2001:db8:ffff::1"]
        return c
    }
}
