/// A server → requestor message of the project profile (PROTOCOLS.md §7.4): LEASEQUERY-REPLY
/// (15), LEASEQUERY-DATA (17) or LEASEQUERY-DONE (16), with its optional inner DHCPv4 payload.
public struct LeasequeryResponse: Hashable, Sendable {
    /// The outer message type.
    public enum Kind: Hashable, Sendable {
        case reply, data, done
        var type: DHCPv6MessageType {
            switch self {
            case .reply: .leasequeryReply
            case .data: .leasequeryData
            case .done: .leasequeryDone
            }
        }
    }

    /// What OPTION_DHCPV4_MSG carries, if present.
    public enum Payload: Hashable, Sendable {
        /// No option 87 (an empty REPLY, a plain RFC 7653 keep-alive DATA, a bare DONE).
        case none
        /// DHCPLEASEACTIVE / DHCPLEASEUNASSIGNED / DHCPLEASEUNKNOWN.
        case record(LeaseRecord)
        /// DHCPLEASEQUERYSTATUS (17): keep-alive, CatchUpComplete, DataMissing, errors.
        case status(LeasequeryStatus)
        /// DHCPLEASEQUERYDONE (15).
        case done(LeasequeryStatus)
    }

    public var kind: Kind
    public var transactionID: UInt32
    /// SERVERID (REPLY only).
    public var serverDUID: [UInt8]?
    /// CLIENTID echo (REPLY only).
    public var clientDUID: [UInt8]?
    /// Outer OPTION_STATUS_CODE; nil = Success.
    public var status: DHCPv6StatusCode?
    /// Outer OPTION_LQ_BASE_TIME converted to Unix seconds.
    public var baseTime: UnixTime?
    public var payload: Payload

    public init(kind: Kind, transactionID: UInt32, serverDUID: [UInt8]? = nil, clientDUID: [UInt8]? = nil,
                status: DHCPv6StatusCode? = nil, baseTime: UnixTime? = nil, payload: Payload = .none) {
        self.kind = kind; self.transactionID = transactionID & 0xFF_FFFF; self.serverDUID = serverDUID
        self.clientDUID = clientDUID; self.status = status; self.baseTime = baseTime; self.payload = payload
    }

    /// Keep-alive in either form: DATA without 87, or DATA{LEASEQUERYSTATUS ConnectionActive}.
    public var isKeepAlive: Bool {
        guard kind == .data, status == nil else { return false }
        if case .none = payload { return true }
        if case .status(let s) = payload, s.code == .connectionActive { return true }
        return false
    }

    /// CatchUpComplete at either layer (inner 7 / outer 13).
    public var isCatchUpComplete: Bool { status?.status == .catchUpComplete || innerStatus == .catchUpComplete }

    /// DataMissing at either layer (inner 5 / outer 12).
    public var isDataMissing: Bool { status?.status == .dataMissing || innerStatus == .dataMissing }

    /// The server ended the query with an error (outer status other than Success, CatchUpComplete
    /// and DataMissing, or an inner error status).
    public var isError: Bool {
        if let s = status?.status, s != .success, s != .catchUpComplete, s != .dataMissing { return true }
        if let i = innerStatus, ![.success, .connectionActive, .catchUpComplete, .dataMissing].contains(i) { return true }
        return false
    }

    private var innerStatus: LeasequeryStatusCode? {
        switch payload {
        case .status(let s), .done(let s): s.code
        default: nil
        }
    }

    /// The outer DHCPv6 message: SERVERID, CLIENTID, STATUS_CODE, LQ_BASE_TIME, 87 (in that order).
    public func message() throws(DHCPWireError) -> DHCPv6Message {
        var o: [DHCPv6Option] = []
        if let s = serverDUID { o.append(DHCPv6Option(code: .serverID, data: s)) }
        if let c = clientDUID { o.append(DHCPv6Option(code: .clientID, data: c)) }
        if let s = status { o.append(try DHCPv6Option(s)) }
        if let b = baseTime { o.append(DHCPv6Message.secondsOption(.lqBaseTime, b.dhcpv6Seconds)) }
        let inner: DHCPv4Message? = switch payload {
        case .none: nil
        case .record(let r): r.message(xid: transactionID)
        case .status(let s): s.message(type: .leasequeryStatus, xid: transactionID)
        case .done(let s): s.message(type: .leasequeryDone, xid: transactionID)
        }
        if let inner { o.append(try DHCPv6Option(DHCPv4MessageOption(inner))) }
        return DHCPv6Message(type: kind.type, transactionID: transactionID, options: o)
    }

    /// The message with its 2-byte TCP length prefix.
    public func framed() throws(DHCPWireError) -> [UInt8] { try TCPFraming.frame(try message().encode()) }

    /// Requestor side: decodes and validates one received server message.
    public init(message m: DHCPv6Message) throws(DHCPWireError) {
        switch m.type {
        case .leasequeryReply: kind = .reply
        case .leasequeryData: kind = .data
        case .leasequeryDone: kind = .done
        default: throw .invalid("leasequery response type \(m.type)")
        }
        transactionID = m.transactionID
        serverDUID = m.serverID
        clientDUID = m.clientID
        status = try m.value(DHCPv6StatusCode.self)
        baseTime = try m.seconds(.lqBaseTime).map { UnixTime(dhcpv6Seconds: $0) }
        guard m.options(.dhcpv4Message).count <= 1 else { throw .invalid("several OPTION_DHCPV4_MSG") }
        guard let inner = try m.value(DHCPv4MessageOption.self)?.message else { payload = .none; return }
        switch inner.messageType {
        case .leaseActive?, .leaseUnassigned?, .leaseUnknown?: payload = .record(try LeaseRecord(message: inner))
        case .leasequeryStatus?: payload = .status(try LeasequeryStatus(message: inner))
        case .leasequeryDone?: payload = .done(try LeasequeryStatus(message: inner))
        default: throw .invalid("inner message type \(inner.messageType?.description ?? "absent")")
        }
    }

    /// Decodes one de-framed message.
    public static func decode(_ bytes: [UInt8]) throws(DHCPWireError) -> LeasequeryResponse {
        try LeasequeryResponse(message: try DHCPv6Message.decode(bytes))
    }
}

/// The inner DHCPLEASEQUERYSTATUS / DHCPLEASEQUERYDONE content: 151 (code + text) and 152.
public struct LeasequeryStatus: Hashable, Sendable {
    /// Option 151 code; `success` when absent.
    public var code: LeasequeryStatusCode
    public var message: String
    /// Option 152.
    public var baseTime: UnixTime?

    public init(_ code: LeasequeryStatusCode, _ message: String = "", baseTime: UnixTime? = nil) {
        self.code = code; self.message = message; self.baseTime = baseTime
    }

    /// 53, 151 (omitted for a DONE with Success and no text), 152, END — as test vector C.
    func message(type: DHCPv4MessageType, xid: UInt32) -> DHCPv4Message {
        var o: [DHCPv4Option] = [.u8(.messageType, type.rawValue)]
        if !(type == .leasequeryDone && code == .success && message.isEmpty) {
            o.append(DHCPv4Option(code: .statusCode, data: [code.rawValue] + Array(message.utf8)))
        }
        if let b = baseTime { o.append(.u32(.baseTime, b.seconds)) }
        return DHCPv4Message(op: 2, xid: xid, options: o)
    }

    init(message m: DHCPv4Message) throws(DHCPWireError) {
        let s = try m.leasequeryStatus()
        code = s?.code ?? .success
        message = s?.message ?? ""
        baseTime = try m.u32(.baseTime).map { UnixTime(seconds: $0) }
    }
}
