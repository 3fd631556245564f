/// A requestor → server leasequery of the project profile (PROTOCOLS.md §7.3): DHCPv6
/// LEASEQUERY (14, bulk) or ACTIVELEASEQUERY (22, active) carrying CLIENTID, optional ORO = {100},
/// and OPTION_DHCPV4_MSG with an inner DHCPBULKLEASEQUERY (14) / DHCPACTIVELEASEQUERY (16).
public struct LeasequeryRequest: Hashable, Sendable {
    /// Bulk (snapshot or gap-fill window) or active (live stream, optional catch-up).
    public enum Kind: Hashable, Sendable { case bulk, active }

    /// PRL of test vector A (active).
    public static let activeParameterRequestList: [UInt8] = [51, 61, 91, 109, 151, 152, 153, 156, 159]
    /// PRL of test vector D (bulk).
    public static let bulkParameterRequestList: [UInt8] = [51, 61, 91, 109, 151, 152, 156, 159]

    public var kind: Kind
    /// 24-bit outer transaction-id; the inner xid is the same value zero-extended.
    public var transactionID: UInt32
    /// The requestor's DUID (OPTION_CLIENTID, mandatory).
    public var requestorDUID: [UInt8]
    /// Put ORO = {100} in the request (bulk requests MUST).
    public var requestBaseTime: Bool
    public var parameterRequestList: [UInt8]
    /// Inner 154: bulk window start, or active catch-up start.
    public var queryStartTime: UnixTime?
    /// Inner 155: bulk window end (not allowed in active queries).
    public var queryEndTime: UnixTime?

    public init(kind: Kind, transactionID: UInt32, requestorDUID: [UInt8], requestBaseTime: Bool? = nil,
                parameterRequestList: [UInt8]? = nil, queryStartTime: UnixTime? = nil, queryEndTime: UnixTime? = nil) {
        self.kind = kind
        self.transactionID = transactionID & 0xFF_FFFF
        self.requestorDUID = requestorDUID
        self.requestBaseTime = requestBaseTime ?? (kind == .bulk)
        self.parameterRequestList = parameterRequestList
            ?? (kind == .bulk ? Self.bulkParameterRequestList : Self.activeParameterRequestList)
        self.queryStartTime = queryStartTime
        self.queryEndTime = queryEndTime
    }

    /// The outer DHCPv6 message (option order CLIENTID, ORO, 87 as in vectors A and D).
    public func message() throws(DHCPWireError) -> DHCPv6Message {
        var inner: [DHCPv4Option] = [
            .u8(.messageType, kind == .bulk ? DHCPv4MessageType.bulkLeasequery.rawValue : DHCPv4MessageType.activeLeasequery.rawValue),
            DHCPv4Option(code: .parameterRequestList, data: parameterRequestList),
        ]
        if let s = queryStartTime { inner.append(.u32(.queryStartTime, s.seconds)) }
        if let e = queryEndTime { inner.append(.u32(.queryEndTime, e.seconds)) }
        let q4 = DHCPv4Message(op: 1, xid: transactionID, options: inner)
        var outer = [DHCPv6Option(code: .clientID, data: requestorDUID)]
        if requestBaseTime { outer.append(try DHCPv6Option(OptionRequest([DHCPv6OptionCode.lqBaseTime.rawValue]))) }
        outer.append(try DHCPv6Option(DHCPv4MessageOption(q4)))
        return DHCPv6Message(type: kind == .bulk ? .leasequery : .activeLeasequery, transactionID: transactionID, options: outer)
    }

    /// The request with its 2-byte TCP length prefix.
    public func framed() throws(DHCPWireError) -> [UInt8] { try TCPFraming.frame(try message().encode()) }

    /// Server side: validates a received LEASEQUERY / ACTIVELEASEQUERY. Errors carry the
    /// DHCPv6 status the server answers with (then it closes the connection).
    public init(message m: DHCPv6Message) throws(LeasequeryRequestError) {
        let kind: Kind
        switch m.type {
        case .leasequery: kind = .bulk
        case .activeLeasequery: kind = .active
        default: throw LeasequeryRequestError(.malformedQuery, "message type \(m.type) is not a query")
        }
        guard let duid = m.clientID, !duid.isEmpty else { throw LeasequeryRequestError(.malformedQuery, "no OPTION_CLIENTID") }
        guard let o87 = m.option(.dhcpv4Message) else {
            if m.option(.lqQuery) != nil {
                throw LeasequeryRequestError(.unknownQueryType, "only DHCP4o6 (option 87) queries are served")
            }
            throw LeasequeryRequestError(.malformedQuery, "no OPTION_DHCPV4_MSG")
        }
        guard m.options(.dhcpv4Message).count == 1 else { throw LeasequeryRequestError(.malformedQuery, "several OPTION_DHCPV4_MSG") }
        do {
            let q = try DHCPv4Message.decode(o87.data)
            let want: DHCPv4MessageType = kind == .bulk ? .bulkLeasequery : .activeLeasequery
            guard q.messageType == want else {
                throw LeasequeryRequestError(.malformedQuery, "inner type \(q.messageType?.description ?? "absent"), want \(want)")
            }
            guard q.ciaddr.value == 0, q.yiaddr.value == 0, q.siaddr.value == 0 else {
                throw LeasequeryRequestError(.malformedQuery, "inner ciaddr/yiaddr/siaddr not zero")
            }
            let selector = q.chaddr.contains { $0 != 0 } || q.option(.clientID) != nil || q.option(.relayAgentInfo) != nil
            guard !selector else { throw LeasequeryRequestError(.unknownQueryType, "selectors are not supported; query all") }
            var start = try q.u32(.queryStartTime).map { UnixTime(seconds: $0) }
            var end = try q.u32(.queryEndTime).map { UnixTime(seconds: $0) }
            if start == nil, let s = try m.seconds(.lqStartTime) { start = UnixTime(dhcpv6Seconds: s) }
            if end == nil, let e = try m.seconds(.lqEndTime) { end = UnixTime(dhcpv6Seconds: e) }
            if kind == .active && end != nil { throw LeasequeryRequestError(.malformedQuery, "query-end-time in an active query") }
            if let s = start, let e = end, e < s { throw LeasequeryRequestError(.malformedQuery, "query-end-time before query-start-time") }
            let oro = try m.value(OptionRequest.self)
            self.init(kind: kind, transactionID: m.transactionID, requestorDUID: duid,
                      requestBaseTime: oro?.contains(.lqBaseTime) ?? false,
                      parameterRequestList: q.parameterRequestList, queryStartTime: start, queryEndTime: end)
        } catch let e as LeasequeryRequestError {
            throw e
        } catch {
            throw LeasequeryRequestError(.malformedQuery, "\(error)")
        }
    }
}

/// A refused leasequery: the outer status to answer with and why.
public struct LeasequeryRequestError: Error, Hashable, Sendable, CustomStringConvertible {
    public var status: DHCPv6Status
    public var reason: String
    public init(_ status: DHCPv6Status, _ reason: String) { self.status = status; self.reason = reason }
    public var description: String { "\(status): \(reason)" }
}
