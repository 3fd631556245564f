public import LwAFTRCore
public import DHCPWire

/// One binding carried by a leasequery record, reduced to what the table and the expiry timer
/// need (PROTOCOLS.md §7.4). Built from a fully decoded and validated `LeaseRecord`.
public struct BindingRecord: Hashable, Sendable, CustomStringConvertible {
    public var kind: LeaseRecord.Kind
    public var ipv4: IPv4Address
    /// Option 159; nil = full address (k = 0, PSID 0).
    public var portParams: PortParams?
    /// Option 109.
    public var b4: IPv6Address?
    /// Option 152: server time of the change the record carries.
    public var baseTime: UnixTime
    /// Option 51: lease seconds remaining after `baseTime`.
    public var leaseTime: UInt32?
    /// Option 156.
    public var state: DHCPLeaseState?

    public init(kind: LeaseRecord.Kind, ipv4: IPv4Address, portParams: PortParams?, b4: IPv6Address?,
                baseTime: UnixTime, leaseTime: UInt32? = nil, state: DHCPLeaseState? = nil) {
        self.kind = kind; self.ipv4 = ipv4; self.portParams = portParams; self.b4 = b4
        self.baseTime = baseTime; self.leaseTime = leaseTime; self.state = state
    }

    public init(_ r: LeaseRecord) {
        self.init(kind: r.kind, ipv4: r.ipv4, portParams: r.portParams, b4: r.b4, baseTime: r.baseTime,
                  leaseTime: r.leaseTime, state: r.state)
    }

    /// PSID (0 for a full address).
    public var psid: UInt16 { portParams?.psid ?? 0 }

    /// The 64-bit table key (`softwireKey(ipv4, psid)`).
    public var key: UInt64 { UInt64(ipv4.value) << 32 | UInt64(psid) }

    /// Port-set parameters of the address (k = 0 for a full address).
    public var portSet: PortSet { portParams?.portSet ?? PortSet(offset: 0, psidLength: 0)! }

    public var description: String {
        "\(kind) \(ipv4) \(portParams?.description ?? "full") b4 \(b4?.description ?? "-") @\(baseTime)"
    }
}

/// A server → requestor leasequery message (REPLY / DATA / DONE, PROTOCOLS.md §7.4), decoded
/// with the same acceptance rules as `LeasequeryResponse.decode`, except that a record whose
/// inner DHCPv4 message is well-formed but fails `LeaseRecord` validation is reported as
/// `.invalidRecord` (skip and count) instead of failing the whole message (end the session).
public struct ServerMessage: Hashable, Sendable {
    /// The inner payload (option 87).
    public enum Payload: Hashable, Sendable {
        case none
        case record(BindingRecord)
        /// DHCPLEASEACTIVE/UNASSIGNED/UNKNOWN that failed validation, and why.
        case invalidRecord(String)
        /// DHCPLEASEQUERYSTATUS.
        case status(LeasequeryStatus)
        /// DHCPLEASEQUERYDONE.
        case done(LeasequeryStatus)
    }

    public var kind: LeasequeryResponse.Kind
    public var transactionID: UInt32
    /// SERVERID present.
    public var hasServerID: Bool
    /// CLIENTID echo (decoded only when present).
    public var clientDUID: [UInt8]?
    /// Outer OPTION_STATUS_CODE.
    public var status: DHCPv6StatusCode?
    /// Outer LQ_BASE_TIME as Unix time.
    public var baseTime: UnixTime?
    /// Inner DHCPv4 op and xid (profile: 2 and the outer xid).
    public var innerOp: UInt8?
    public var innerTransactionID: UInt32?
    public var payload: Payload

    public init(kind: LeasequeryResponse.Kind, transactionID: UInt32, hasServerID: Bool = false, clientDUID: [UInt8]? = nil,
                status: DHCPv6StatusCode? = nil, baseTime: UnixTime? = nil, innerOp: UInt8? = nil,
                innerTransactionID: UInt32? = nil, payload: Payload = .none) {
        self.kind = kind; self.transactionID = transactionID; self.hasServerID = hasServerID
        self.clientDUID = clientDUID; self.status = status; self.baseTime = baseTime
        self.innerOp = innerOp; self.innerTransactionID = innerTransactionID; self.payload = payload
    }

    /// The inner status (DHCPLEASEQUERYSTATUS or DHCPLEASEQUERYDONE), if any.
    public var innerStatus: LeasequeryStatus? {
        switch payload {
        case .status(let s), .done(let s): s
        default: nil
        }
    }

    /// CatchUpComplete at either layer (inner 7 / outer 13).
    public var isCatchUpComplete: Bool { status?.status == .catchUpComplete || innerStatus?.code == .catchUpComplete }

    /// DataMissing at either layer (inner 5 / outer 12).
    public var isDataMissing: Bool { status?.status == .dataMissing || innerStatus?.code == .dataMissing }

    /// An error status at either layer (not Success, CatchUpComplete, DataMissing, ConnectionActive).
    public var errorDescription: String? {
        if let s = status, ![.success, .catchUpComplete, .dataMissing].contains(s.status) {
            return "\(s.status)\(s.message.isEmpty ? "" : " (\(s.message))")"
        }
        if let i = innerStatus, ![.success, .connectionActive, .catchUpComplete, .dataMissing].contains(i.code) {
            return "\(i.code)\(i.message.isEmpty ? "" : " (\(i.message))")"
        }
        return nil
    }

    /// Server "now" carried by the message: outer 100, else the inner status's 152.
    public var serverTime: UnixTime? { baseTime ?? innerStatus?.baseTime }

    /// Decodes one de-framed message: the allocation-free path for plain DATA records, the
    /// `DHCPWire` codecs for everything else (and for any record the fast path does not accept).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DHCPWireError) -> ServerMessage {
        if let m = FastRecordDecoder.decode(bytes) { return m }
        return try decodeFull(Array(bytes))
    }

    /// Decodes with the `DHCPWire` codecs only.
    public static func decodeFull(_ bytes: [UInt8]) throws(DHCPWireError) -> ServerMessage {
        let m = try DHCPv6Message.decode(bytes)
        let kind: LeasequeryResponse.Kind
        switch m.type {
        case .leasequeryReply: kind = .reply
        case .leasequeryData: kind = .data
        case .leasequeryDone: kind = .done
        default: throw .invalid("leasequery response type \(m.type)")
        }
        var out = ServerMessage(kind: kind, transactionID: m.transactionID, hasServerID: m.serverID != nil,
                                clientDUID: m.clientID)
        out.status = try m.value(DHCPv6StatusCode.self)
        out.baseTime = try m.seconds(.lqBaseTime).map { UnixTime(dhcpv6Seconds: $0) }
        guard m.options(.dhcpv4Message).count <= 1 else { throw .invalid("several OPTION_DHCPV4_MSG") }
        guard let inner = try m.value(DHCPv4MessageOption.self)?.message else { return out }
        out.innerOp = inner.op
        out.innerTransactionID = inner.xid
        switch inner.messageType {
        case .leaseActive?, .leaseUnassigned?, .leaseUnknown?:
            do { out.payload = .record(BindingRecord(try LeaseRecord(message: inner))) } catch {
                out.payload = .invalidRecord("\(error)")
            }
        case .leasequeryStatus?: out.payload = .status(try status(inner))
        case .leasequeryDone?: out.payload = .done(try status(inner))
        default: throw .invalid("inner message type \(inner.messageType?.description ?? "absent")")
        }
        return out
    }

    private static func status(_ m: DHCPv4Message) throws(DHCPWireError) -> LeasequeryStatus {
        let s = try m.leasequeryStatus()
        return LeasequeryStatus(s?.code ?? .success, s?.message ?? "", baseTime: try m.u32(.baseTime).map { UnixTime(seconds: $0) })
    }
}
