/// A DHCPv6 option code (RFC 8415 and the leasequery, DHCP4o6 and softwire extensions).
public struct DHCPv6OptionCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ v: UInt16) { rawValue = v }

    public static let clientID = Self(1), serverID = Self(2), optionRequest = Self(6)
    public static let relayMessage = Self(9), statusCode = Self(13), interfaceID = Self(18)
    public static let lqQuery = Self(44), clientData = Self(45), cltTime = Self(46)
    public static let lqRelayData = Self(47), lqClientLink = Self(48), relayID = Self(53)
    public static let dhcpv4Message = Self(87), dhcp4oDHCP6Server = Self(88)
    public static let s46Rule = Self(89), s46BR = Self(90), s46DMR = Self(91), s46V4V6Bind = Self(92)
    public static let s46PortParams = Self(93), s46ContMapE = Self(94), s46ContMapT = Self(95)
    public static let s46ContLW = Self(96)
    public static let lqBaseTime = Self(100), lqStartTime = Self(101), lqEndTime = Self(102)
    public static let s46BindIPv6Prefix = Self(137)

    public var description: String { "\(rawValue)" }
}

/// One DHCPv6 option as `code | length | data`; `data` is kept raw (see `DHCPv6OptionValue`).
public struct DHCPv6Option: Hashable, Sendable {
    public var code: DHCPv6OptionCode
    public var data: [UInt8]

    public init(code: DHCPv6OptionCode, data: [UInt8]) {
        self.code = code
        self.data = data
    }

    /// Encodes a typed value as an option.
    public init<V: DHCPv6OptionValue>(_ value: V) throws(DHCPWireError) {
        code = V.code
        data = try value.optionData()
    }

    /// Decodes `data` as `V` (the code is not checked, so a value can be read from any container).
    public func decode<V: DHCPv6OptionValue>(as type: V.Type) throws(DHCPWireError) -> V {
        try V(optionData: data)
    }

    /// Parses options until the reader is exhausted.
    static func decodeList(_ r: inout ByteReader) throws(DHCPWireError) -> [DHCPv6Option] {
        var out: [DHCPv6Option] = []
        while !r.isAtEnd {
            let code = try r.u16("DHCPv6 option code")
            let len = try r.u16("DHCPv6 option \(code) length")
            out.append(DHCPv6Option(code: DHCPv6OptionCode(code), data: try r.read(Int(len), "DHCPv6 option \(code) data")))
        }
        return out
    }

    /// Parses a whole byte array as an option list (the body of a container option).
    public static func decodeList(_ bytes: [UInt8]) throws(DHCPWireError) -> [DHCPv6Option] {
        var r = ByteReader(bytes)
        return try decodeList(&r)
    }

    /// Encodes an option list (the body of a container option).
    public static func encodeList(_ options: [DHCPv6Option]) throws(DHCPWireError) -> [UInt8] {
        var w = ByteWriter()
        for o in options { try w.option6(o.code.rawValue, o.data) }
        return w.bytes
    }
}

/// A typed DHCPv6 option payload: decodes from and encodes to an option's data.
public protocol DHCPv6OptionValue: Sendable {
    /// The option code this value is carried in.
    static var code: DHCPv6OptionCode { get }
    /// Decodes the option data; throws on any malformed byte.
    init(optionData: [UInt8]) throws(DHCPWireError)
    /// Encodes the option data.
    func optionData() throws(DHCPWireError) -> [UInt8]
}
