public import LwAFTRCore

/// A DHCPv6 status code value (OPTION_STATUS_CODE, 16-bit; RFC 8415, 5007, 5460, 7653).
public struct DHCPv6Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ v: UInt16) { rawValue = v }

    public static let success = Self(0), unspecFail = Self(1), noAddrsAvail = Self(2), noBinding = Self(3)
    public static let notOnLink = Self(4), useMulticast = Self(5), noPrefixAvail = Self(6)
    public static let unknownQueryType = Self(7), malformedQuery = Self(8), notConfigured = Self(9)
    public static let notAllowed = Self(10), queryTerminated = Self(11), dataMissing = Self(12)
    public static let catchUpComplete = Self(13), notSupported = Self(14), tlsConnectionRefused = Self(15)

    public var description: String {
        let names = ["Success", "UnspecFail", "NoAddrsAvail", "NoBinding", "NotOnLink", "UseMulticast",
                     "NoPrefixAvail", "UnknownQueryType", "MalformedQuery", "NotConfigured", "NotAllowed",
                     "QueryTerminated", "DataMissing", "CatchUpComplete", "NotSupported", "TLSConnectionRefused"]
        return Int(rawValue) < names.count ? names[Int(rawValue)] : "status-\(rawValue)"
    }
}

/// OPTION_STATUS_CODE (13): `status-code(2) | UTF-8 message`.
public struct DHCPv6StatusCode: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.statusCode
    public var status: DHCPv6Status
    public var message: String
    public init(_ status: DHCPv6Status, _ message: String = "") { self.status = status; self.message = message }
    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        var r = ByteReader(d)
        status = DHCPv6Status(try r.u16("status-code"))
        message = String(decoding: r.rest(), as: UTF8.self)
    }
    public func optionData() -> [UInt8] { [UInt8(status.rawValue >> 8), UInt8(truncatingIfNeeded: status.rawValue)] + Array(message.utf8) }
}

/// OPTION_ORO (6): list of requested option codes.
public struct OptionRequest: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.optionRequest
    public var codes: [UInt16]
    public init(_ codes: [UInt16]) { self.codes = codes }
    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        guard d.count % 2 == 0 else { throw .invalid("ORO length \(d.count) is odd") }
        codes = stride(from: 0, to: d.count, by: 2).map { UInt16(d[$0]) << 8 | UInt16(d[$0 + 1]) }
    }
    public func optionData() -> [UInt8] { codes.flatMap { [UInt8($0 >> 8), UInt8(truncatingIfNeeded: $0)] } }
    public func contains(_ c: DHCPv6OptionCode) -> Bool { codes.contains(c.rawValue) }
}

/// OPTION_RELAY_MSG (9): the relayed message.
public struct RelayMessage: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.relayMessage
    public var message: DHCPv6Message
    public init(_ m: DHCPv6Message) { message = m }
    public init(optionData d: [UInt8]) throws(DHCPWireError) { message = try DHCPv6Message.decode(d) }
    public func optionData() throws(DHCPWireError) -> [UInt8] { try message.encode() }
}

/// OPTION_LQ_QUERY (44): `query-type(1) | link-address(16) | query-options`.
public struct LQQuery: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.lqQuery
    /// 1 BY_ADDRESS, 2 BY_CLIENTID, 3 BY_RELAY_ID, 4 BY_LINK_ADDRESS, 5 BY_REMOTE_ID.
    public var queryType: UInt8
    public var linkAddress: IPv6Address
    public var options: [DHCPv6Option]
    public init(queryType: UInt8, linkAddress: IPv6Address, options: [DHCPv6Option] = []) {
        self.queryType = queryType; self.linkAddress = linkAddress; self.options = options
    }
    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        var r = ByteReader(d)
        queryType = try r.u8("LQ query-type")
        linkAddress = try r.ipv6("LQ link-address")
        options = try DHCPv6Option.decodeList(&r)
    }
    public func optionData() throws(DHCPWireError) -> [UInt8] {
        var w = ByteWriter(); w.u8(queryType); w.ipv6(linkAddress)
        w.append(try DHCPv6Option.encodeList(options))
        return w.bytes
    }
}

/// OPTION_CLIENT_DATA (45): a container of one client's options.
public struct ClientData: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.clientData
    public var options: [DHCPv6Option]
    public init(_ options: [DHCPv6Option]) { self.options = options }
    public init(optionData d: [UInt8]) throws(DHCPWireError) { options = try DHCPv6Option.decodeList(d) }
    public func optionData() throws(DHCPWireError) -> [UInt8] { try DHCPv6Option.encodeList(options) }
}

/// OPTION_LQ_RELAY_DATA (47): `peer-address(16) | relay message (raw)`.
public struct LQRelayData: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.lqRelayData
    public var peerAddress: IPv6Address
    public var relayMessage: [UInt8]
    public init(peerAddress: IPv6Address, relayMessage: [UInt8]) { self.peerAddress = peerAddress; self.relayMessage = relayMessage }
    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        var r = ByteReader(d)
        peerAddress = try r.ipv6("LQ relay peer-address")
        relayMessage = r.rest()
    }
    public func optionData() -> [UInt8] { var w = ByteWriter(); w.ipv6(peerAddress); w.append(relayMessage); return w.bytes }
}

/// A list of IPv6 addresses: OPTION_LQ_CLIENT_LINK (48) and OPTION_DHCP4_O_DHCP6_SERVER (88).
public struct IPv6AddressList: Hashable, Sendable {
    public var addresses: [IPv6Address]
    init(_ a: [IPv6Address]) { addresses = a }
    init(_ d: [UInt8], _ field: String) throws(DHCPWireError) {
        guard d.count % 16 == 0 else { throw .invalid("\(field) length \(d.count) not a multiple of 16") }
        var r = ByteReader(d)
        var out: [IPv6Address] = []
        while !r.isAtEnd { out.append(try r.ipv6(field)) }
        addresses = out
    }
    var bytes: [UInt8] { var w = ByteWriter(); for a in addresses { w.ipv6(a) }; return w.bytes }
}

/// OPTION_LQ_CLIENT_LINK (48): links the client was found on.
public struct LQClientLink: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.lqClientLink
    public var links: [IPv6Address]
    public init(_ links: [IPv6Address]) { self.links = links }
    public init(optionData d: [UInt8]) throws(DHCPWireError) { links = try IPv6AddressList(d, "LQ_CLIENT_LINK").addresses }
    public func optionData() -> [UInt8] { IPv6AddressList(links).bytes }
}

/// OPTION_DHCP4_O_DHCP6_SERVER (88): DHCP 4o6 server addresses (empty = use ff02::1:2).
public struct DHCP4oDHCP6Servers: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.dhcp4oDHCP6Server
    public var servers: [IPv6Address]
    public init(_ servers: [IPv6Address]) { self.servers = servers }
    public init(optionData d: [UInt8]) throws(DHCPWireError) { servers = try IPv6AddressList(d, "DHCP4_O_DHCP6_SERVER").addresses }
    public func optionData() -> [UInt8] { IPv6AddressList(servers).bytes }
}

/// A DUID-carrying option: CLIENTID (1), SERVERID (2) or RELAY_ID (53); `duid` is kept raw.
public struct DUIDOption: Hashable, Sendable {
    public var duid: [UInt8]
    public init(_ duid: [UInt8]) { self.duid = duid }

    /// A DUID-LL (type 3) for an Ethernet address (hardware type 1).
    public static func linkLayer(_ mac: [UInt8]) -> [UInt8] { [0, 3, 0, 1] + mac }
}

/// A 32-bit time or duration option: CLT_TIME (46) seconds; LQ_BASE/START/END_TIME (100–102)
/// seconds since 2000-01-01 (convert with `UnixTime(dhcpv6Seconds:)`).
public struct DHCPv6Seconds: Hashable, Sendable {
    public var seconds: UInt32
    public init(_ s: UInt32) { seconds = s }
    init(_ d: [UInt8], _ field: String) throws(DHCPWireError) {
        guard d.count == 4 else { throw .invalid("\(field) length \(d.count), want 4") }
        var r = ByteReader(d)
        seconds = try r.u32(field)
    }
    var bytes: [UInt8] { var w = ByteWriter(); w.u32(seconds); return w.bytes }
}
