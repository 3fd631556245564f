public import LwAFTRCore

/// A DHCPv6 message type code (RFC 8415, 5007, 5460, 7341, 7653).
public struct DHCPv6MessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ v: UInt8) { rawValue = v }

    public static let solicit = Self(1), advertise = Self(2), request = Self(3), confirm = Self(4)
    public static let renew = Self(5), rebind = Self(6), reply = Self(7), release = Self(8)
    public static let decline = Self(9), reconfigure = Self(10), informationRequest = Self(11)
    public static let relayForward = Self(12), relayReply = Self(13)
    public static let leasequery = Self(14), leasequeryReply = Self(15)
    public static let leasequeryDone = Self(16), leasequeryData = Self(17)
    public static let dhcpv4Query = Self(20), dhcpv4Response = Self(21)
    public static let activeLeasequery = Self(22), startTLS = Self(23)

    /// RELAY-FORW and RELAY-REPL use the relay header layout.
    public var isRelay: Bool { rawValue == 12 || rawValue == 13 }

    public var description: String {
        let names: [UInt8: String] = [
            1: "SOLICIT", 2: "ADVERTISE", 3: "REQUEST", 4: "CONFIRM", 5: "RENEW", 6: "REBIND", 7: "REPLY",
            8: "RELEASE", 9: "DECLINE", 10: "RECONFIGURE", 11: "INFORMATION-REQUEST", 12: "RELAY-FORW",
            13: "RELAY-REPL", 14: "LEASEQUERY", 15: "LEASEQUERY-REPLY", 16: "LEASEQUERY-DONE",
            17: "LEASEQUERY-DATA", 20: "DHCPV4-QUERY", 21: "DHCPV4-RESPONSE", 22: "ACTIVELEASEQUERY",
            23: "STARTTLS",
        ]
        return names[rawValue] ?? "type-\(rawValue)"
    }
}

/// A DHCPv6 message (RFC 8415 §8/§9): client/server or relay header followed by options.
///
/// Decoding checks the header and the option TLV structure only; option contents are decoded
/// on demand with the typed values (`DHCPv6OptionValue`), so unknown options survive a round trip.
public struct DHCPv6Message: Hashable, Sendable {
    /// The bytes after the message type.
    public enum Header: Hashable, Sendable {
        /// 24-bit transaction-id (for DHCPV4-QUERY/RESPONSE: the 24-bit flags field).
        case transaction(UInt32)
        /// RELAY-FORW / RELAY-REPL.
        case relay(hopCount: UInt8, linkAddress: IPv6Address, peerAddress: IPv6Address)
    }

    public var type: DHCPv6MessageType
    public var header: Header
    public var options: [DHCPv6Option]

    /// The U flag of DHCPV4-QUERY (RFC 7341 §6.2): set when the DHCPv4 message would have been unicast.
    public static let unicastFlag: UInt32 = 0x80_0000

    /// A client/server message; `transactionID` keeps its low 24 bits.
    public init(type: DHCPv6MessageType, transactionID: UInt32, options: [DHCPv6Option] = []) {
        self.type = type
        header = .transaction(transactionID & 0xFF_FFFF)
        self.options = options
    }

    /// A relay message (RELAY-FORW or RELAY-REPL).
    public init(relay type: DHCPv6MessageType, hopCount: UInt8, linkAddress: IPv6Address,
                peerAddress: IPv6Address, options: [DHCPv6Option] = []) {
        self.type = type
        header = .relay(hopCount: hopCount, linkAddress: linkAddress, peerAddress: peerAddress)
        self.options = options
    }

    /// The transaction-id (or DHCPv4-over-DHCPv6 flags); 0 for relay messages.
    public var transactionID: UInt32 {
        if case .transaction(let x) = header { return x }
        return 0
    }

    /// First option with `code`.
    public func option(_ code: DHCPv6OptionCode) -> DHCPv6Option? { options.first { $0.code == code } }

    /// All options with `code`, in order.
    public func options(_ code: DHCPv6OptionCode) -> [DHCPv6Option] { options.filter { $0.code == code } }

    /// The first option of `V`'s code decoded as `V`; nil when absent, throws when malformed.
    public func value<V: DHCPv6OptionValue>(_ type: V.Type) throws(DHCPWireError) -> V? {
        guard let o = option(V.code) else { return nil }
        return try V(optionData: o.data)
    }

    /// Decodes one whole message; the header type decides the layout (12/13 = relay).
    public static func decode(_ bytes: [UInt8]) throws(DHCPWireError) -> DHCPv6Message {
        var r = ByteReader(bytes)
        return try decode(&r)
    }

    static func decode(_ r: inout ByteReader) throws(DHCPWireError) -> DHCPv6Message {
        let type = DHCPv6MessageType(try r.u8("DHCPv6 msg-type"))
        let header: Header
        if type.isRelay {
            let hops = try r.u8("relay hop-count")
            header = .relay(hopCount: hops, linkAddress: try r.ipv6("relay link-address"),
                            peerAddress: try r.ipv6("relay peer-address"))
        } else {
            header = .transaction(try r.u24("DHCPv6 transaction-id"))
        }
        let options = try DHCPv6Option.decodeList(&r)
        var m = DHCPv6Message(type: type, transactionID: 0, options: options)
        m.header = header
        return m
    }

    /// The wire bytes; throws only when an option is longer than 65535 bytes.
    public func encode() throws(DHCPWireError) -> [UInt8] {
        var w = ByteWriter(capacity: 64 + options.reduce(0) { $0 + 4 + $1.data.count })
        w.u8(type.rawValue)
        switch header {
        case .transaction(let x): w.u24(x)
        case .relay(let hops, let link, let peer): w.u8(hops); w.ipv6(link); w.ipv6(peer)
        }
        for o in options { try w.option6(o.code.rawValue, o.data) }
        return w.bytes
    }
}
