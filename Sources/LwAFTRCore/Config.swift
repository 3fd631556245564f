/// What to do with the next hop's link-layer address on one side.
public enum NextHop: Hashable, Sendable {
    /// A static MAC address from configuration.
    case mac(MACAddress)
    /// Resolve this IPv4 next hop by ARP.
    case ipv4(IPv4Address)
    /// Resolve this IPv6 next hop by Neighbour Discovery.
    case ipv6(IPv6Address)
}

/// Global per-side settings (Snabb's `external-interface` / `internal-interface` containers).
public struct InterfacePolicy: Hashable, Sendable {
    public var allowIncomingICMP = true
    public var generateICMPErrors = true
    public var mtu: Int
    /// ICMP errors allowed per `errorRatePeriod` seconds (token bucket).
    public var errorRatePackets = 200
    public var errorRatePeriod = 2
    public var maxFragmentsPerPacket = 20
    public var maxFragmentedPackets = 20_000
    /// Only meaningful on the internal side.
    public var hairpinning = true
    public var ingressFilter: String?
    public var egressFilter: String?
    public var flowLabel: UInt32 = 0

    public init(mtu: Int) { self.mtu = mtu }

    public static let externalDefault = InterfacePolicy(mtu: 1460)
    public static let internalDefault = InterfacePolicy(mtu: 1500)
}

/// Per-queue addresses of one side of the lwAFTR.
public struct InterfaceAddressing: Hashable, Sendable {
    public var ipv4: IPv4Address?
    public var ipv6: IPv6Address?
    public var mac: MACAddress
    public var nextHop: NextHop
    public var vlanTag: UInt16?

    public init(ipv4: IPv4Address? = nil, ipv6: IPv6Address? = nil, mac: MACAddress, nextHop: NextHop,
                vlanTag: UInt16? = nil) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.mac = mac
        self.nextHop = nextHop
        self.vlanTag = vlanTag
    }
}

/// One data-plane instance (Snabb `instance { device; queue { ... } }`).
public struct InstanceConfig: Hashable, Sendable {
    public var device: String
    public var queueID: Int
    /// External (IPv4) side: `ipv4` is the lwAFTR's own IPv4 address.
    public var external: InterfaceAddressing
    /// Internal (IPv6) side: `ipv6` is the lwAFTR's own IPv6 address.
    public var `internal`: InterfaceAddressing

    public init(device: String, queueID: Int, external: InterfaceAddressing, internal: InterfaceAddressing) {
        self.device = device
        self.queueID = queueID
        self.external = external
        self.internal = `internal`
    }
}

/// The whole lwAFTR configuration, read from Snabb `.conf` or native JSON.
public struct LwAFTRConfig: Hashable, Sendable {
    public var softwires: [Softwire]
    public var external: InterfacePolicy
    public var `internal`: InterfacePolicy
    public var instances: [InstanceConfig]
    /// The leasequery requestor (native JSON only); nil = static softwires only.
    public var leasequery: LeasequeryConfig?

    public init(softwires: [Softwire] = [], external: InterfacePolicy = .externalDefault,
                internal: InterfacePolicy = .internalDefault, instances: [InstanceConfig] = [],
                leasequery: LeasequeryConfig? = nil) {
        self.leasequery = leasequery
        self.softwires = softwires
        self.external = external
        self.internal = `internal`
        self.instances = instances
    }
}

/// A configuration error that names the file, the line and the field.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var field: String
    public var message: String

    public init(file: String, line: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// One line: `file:line: field: message`.
    public var description: String { "\(file):\(line): \(field): \(message)" }
}
