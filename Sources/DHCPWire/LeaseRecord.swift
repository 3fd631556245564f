public import LwAFTRCore

/// A DHCPv4 leasequery status code (option 151, 8-bit; RFC 6926/7724). Not the DHCPv6 numbers.
public struct LeasequeryStatusCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ v: UInt8) { rawValue = v }

    public static let success = Self(0), unspecFail = Self(1), queryTerminated = Self(2)
    public static let malformedQuery = Self(3), notAllowed = Self(4), dataMissing = Self(5)
    public static let connectionActive = Self(6), catchUpComplete = Self(7), tlsConnectionRefused = Self(8)

    public var description: String {
        let names = ["Success", "UnspecFail", "QueryTerminated", "MalformedQuery", "NotAllowed", "DataMissing",
                     "ConnectionActive", "CatchUpComplete", "TLSConnectionRefused"]
        return Int(rawValue) < names.count ? names[Int(rawValue)] : "status-\(rawValue)"
    }
}

/// DHCPv4 dhcp-state (option 156, RFC 6926).
public struct DHCPLeaseState: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ v: UInt8) { rawValue = v }
    public static let available = Self(1), active = Self(2), expired = Self(3), released = Self(4)
    public static let abandoned = Self(5), reset = Self(6), remote = Self(7), transitioning = Self(8)
}

/// The binding table key: a public IPv4 address and the PSID (0 for a full address).
public struct SoftwireKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var ipv4: IPv4Address
    public var psid: UInt16
    public init(ipv4: IPv4Address, psid: UInt16) { self.ipv4 = ipv4; self.psid = psid }
    public static func < (l: Self, r: Self) -> Bool { (l.ipv4, l.psid) < (r.ipv4, r.psid) }
    public var description: String { "\(ipv4)#\(psid)" }
}

/// One binding as carried by the project's leasequery profile (PROTOCOLS.md §7.4): the inner
/// DHCPv4 DHCPLEASEACTIVE (13), DHCPLEASEUNASSIGNED (11) or DHCPLEASEUNKNOWN (12).
///
/// Times: `baseTime` (152) is absolute Unix seconds in the server's clock, stamped with the time
/// of the change the record carries; `leaseTime` (51), `clientLastTransaction` (91) and
/// `startTimeOfState` (153) are relative to it.
public struct LeaseRecord: Hashable, Sendable, CustomStringConvertible {
    /// Which inner message carries the record.
    public enum Kind: UInt8, Hashable, Sendable {
        case unassigned = 11, unknown = 12, active = 13
    }

    public var kind: Kind
    public var ipv4: IPv4Address
    /// Option 159; nil means a full address (k = 0, PSID 0).
    public var portParams: PortParams?
    /// Option 109: the B4 softwire /128 (mandatory in ACTIVE records).
    public var b4: IPv6Address?
    /// Option 61 client identifier, raw.
    public var clientID: [UInt8]?
    /// Option 51: lease seconds remaining after `baseTime`.
    public var leaseTime: UInt32?
    /// Option 152.
    public var baseTime: UnixTime
    /// Option 91: seconds between the client's last transaction and `baseTime`.
    public var clientLastTransaction: UInt32?
    /// Option 153: seconds between the start of the current state and `baseTime`.
    public var startTimeOfState: UInt32?
    /// Option 156.
    public var state: DHCPLeaseState?
    /// Option 157 flags.
    public var dataSource: UInt8?

    public init(kind: Kind, ipv4: IPv4Address, portParams: PortParams?, b4: IPv6Address?, baseTime: UnixTime,
                clientID: [UInt8]? = nil, leaseTime: UInt32? = nil, clientLastTransaction: UInt32? = nil,
                startTimeOfState: UInt32? = nil, state: DHCPLeaseState? = nil, dataSource: UInt8? = nil) {
        self.kind = kind; self.ipv4 = ipv4; self.portParams = portParams; self.b4 = b4
        self.baseTime = baseTime; self.clientID = clientID; self.leaseTime = leaseTime
        self.clientLastTransaction = clientLastTransaction; self.startTimeOfState = startTimeOfState
        self.state = state; self.dataSource = dataSource
    }

    /// The binding-table key (PSID 0 for a full address).
    public var key: SoftwireKey { SoftwireKey(ipv4: ipv4, psid: portParams?.psid ?? 0) }

    /// `baseTime + leaseTime` (server clock), when a lease time is present.
    public var expiry: UnixTime? { leaseTime.map { baseTime.adding($0) } }

    /// The inner DHCPv4 message (op 2, `xid`), options in the order of test vector B:
    /// 53, 61, 51, 152, 91, 153, 156, 157, 159, 109, END.
    public func message(xid: UInt32) -> DHCPv4Message {
        var o: [DHCPv4Option] = [.u8(.messageType, kind.rawValue)]
        if let c = clientID { o.append(DHCPv4Option(code: .clientID, data: c)) }
        if let l = leaseTime { o.append(.u32(.leaseTime, l)) }
        o.append(.u32(.baseTime, baseTime.seconds))
        if let c = clientLastTransaction { o.append(.u32(.clientLastTransactionTime, c)) }
        if let s = startTimeOfState { o.append(.u32(.startTimeOfState, s)) }
        if let s = state { o.append(.u8(.dhcpState, s.rawValue)) }
        if let d = dataSource { o.append(.u8(.dataSource, d)) }
        if let p = portParams { o.append(DHCPv4Option(code: .portParams, data: p.bytes)) }
        if let b = b4 { o.append(DHCPv4Message.s46SourceAddressOption(b)) }
        return DHCPv4Message(op: 2, xid: xid, ciaddr: ipv4, options: o)
    }

    /// Validates and decodes an inner server message: type 11/12/13, 152 present, well-formed
    /// 159/109/61/51/91/153/156/157, and 109 present in ACTIVE records. A 159 with k = 0 is
    /// read as a full address (nil).
    public init(message m: DHCPv4Message) throws(DHCPWireError) {
        guard let t = m.messageType, let kind = Kind(rawValue: t.rawValue) else {
            throw .invalid("leasequery record message type \(m.messageType?.description ?? "absent")")
        }
        guard let base = try m.u32(.baseTime) else { throw .missing("option 152 base-time") }
        self.kind = kind
        ipv4 = m.ciaddr
        baseTime = UnixTime(seconds: base)
        let pp = try m.portParams()
        portParams = (pp?.psidLength ?? 0) == 0 ? nil : pp
        b4 = try m.s46SourceAddress()
        clientID = m.option(.clientID)?.data
        leaseTime = try m.u32(.leaseTime)
        clientLastTransaction = try m.u32(.clientLastTransactionTime)
        startTimeOfState = try m.u32(.startTimeOfState)
        state = try m.u8(.dhcpState).map { DHCPLeaseState($0) }
        dataSource = try m.u8(.dataSource)
        if kind == .active && b4 == nil { throw .missing("option 109 in DHCPLEASEACTIVE for \(ipv4)") }
    }

    /// The softwire this record binds (ACTIVE records only).
    public func softwire(br: IPv6Address) -> Softwire? {
        guard kind == .active, let b4 else { return nil }
        let p = portParams
        return Softwire(ipv4: ipv4, psid: p?.psid ?? 0, b4: b4, br: br,
                        portSet: p?.portSet ?? PortSet(offset: 0, psidLength: 0)!)
    }

    public var description: String {
        "\(kind) \(ipv4) \(portParams?.description ?? "full") b4 \(b4?.description ?? "-") @\(baseTime)"
    }
}
