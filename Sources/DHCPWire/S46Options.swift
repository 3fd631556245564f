public import LwAFTRCore

/// OPTION_S46_RULE (89, RFC 7598 §4.1): a MAP rule with optional S46_PORTPARAMS sub-options.
public struct S46Rule: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.s46Rule
    /// Bit 0x01 = F ("also a Forwarding Mapping Rule").
    public var flags: UInt8
    /// EA-bits length, 0...48.
    public var eaLength: UInt8
    public var ipv4PrefixLength: UInt8
    public var ipv4Prefix: IPv4Address
    public var ipv6Prefix: IPv6Prefix
    public var options: [DHCPv6Option]

    public init(flags: UInt8, eaLength: UInt8, ipv4Prefix: IPv4Address, ipv4PrefixLength: UInt8,
                ipv6Prefix: IPv6Prefix, options: [DHCPv6Option] = []) {
        self.flags = flags; self.eaLength = eaLength; self.ipv4Prefix = ipv4Prefix
        self.ipv4PrefixLength = ipv4PrefixLength; self.ipv6Prefix = ipv6Prefix; self.options = options
    }

    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        var r = ByteReader(d)
        flags = try r.u8("S46_RULE flags")
        eaLength = try r.u8("S46_RULE ea-len")
        ipv4PrefixLength = try r.u8("S46_RULE prefix4-len")
        ipv4Prefix = try r.ipv4("S46_RULE ipv4-prefix")
        guard eaLength <= 48, ipv4PrefixLength <= 32 else {
            throw .invalid("S46_RULE ea-len \(eaLength) prefix4-len \(ipv4PrefixLength)")
        }
        ipv6Prefix = try IPv6Prefix.read(&r, "S46_RULE ipv6-prefix")
        options = try DHCPv6Option.decodeList(&r)
    }

    public func optionData() throws(DHCPWireError) -> [UInt8] {
        var w = ByteWriter()
        w.u8(flags); w.u8(eaLength); w.u8(ipv4PrefixLength); w.ipv4(ipv4Prefix)
        w.append(ipv6Prefix.bytes)
        w.append(try DHCPv6Option.encodeList(options))
        return w.bytes
    }
}

/// OPTION_S46_BR (90): the BR (lwAFTR) IPv6 address.
public struct S46BR: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.s46BR
    public var address: IPv6Address
    public init(_ a: IPv6Address) { address = a }
    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        guard d.count == 16 else { throw .invalid("S46_BR length \(d.count), want 16") }
        var r = ByteReader(d)
        address = try r.ipv6("S46_BR")
    }
    public func optionData() -> [UInt8] { var w = ByteWriter(); w.ipv6(address); return w.bytes }
}

/// OPTION_S46_DMR (91): the MAP-T default mapping rule prefix.
public struct S46DMR: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.s46DMR
    public var prefix: IPv6Prefix
    public init(_ p: IPv6Prefix) { prefix = p }
    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        var r = ByteReader(d)
        prefix = try IPv6Prefix.read(&r, "S46_DMR")
        try r.expectEnd("S46_DMR")
    }
    public func optionData() -> [UInt8] { prefix.bytes }
}

/// OPTION_S46_V4V6BIND (92): `ipv4-address | bindprefix6-len | bind-ipv6-prefix | sub-options (93)`.
public struct S46V4V6Bind: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.s46V4V6Bind
    public var ipv4: IPv4Address
    public var bindPrefix: IPv6Prefix
    public var options: [DHCPv6Option]

    public init(ipv4: IPv4Address, bindPrefix: IPv6Prefix, options: [DHCPv6Option] = []) {
        self.ipv4 = ipv4; self.bindPrefix = bindPrefix; self.options = options
    }

    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        var r = ByteReader(d)
        ipv4 = try r.ipv4("S46_V4V6BIND ipv4-address")
        bindPrefix = try IPv6Prefix.read(&r, "S46_V4V6BIND bind-prefix")
        options = try DHCPv6Option.decodeList(&r)
    }

    public func optionData() throws(DHCPWireError) -> [UInt8] {
        var w = ByteWriter()
        w.ipv4(ipv4); w.append(bindPrefix.bytes); w.append(try DHCPv6Option.encodeList(options))
        return w.bytes
    }

    /// The S46_PORTPARAMS sub-option, if any.
    public func portParams() throws(DHCPWireError) -> PortParams? {
        guard let o = options.first(where: { $0.code == .s46PortParams }) else { return nil }
        return try PortParams(bytes: o.data)
    }
}

/// OPTION_S46_PORTPARAMS (93): same payload as DHCPv4 option 159.
public struct S46PortParams: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.s46PortParams
    public var params: PortParams
    public init(_ p: PortParams) { params = p }
    public init(optionData d: [UInt8]) throws(DHCPWireError) { params = try PortParams(bytes: d) }
    public func optionData() -> [UInt8] { params.bytes }
}

/// The S46 containers (94 MAP-E, 95 MAP-T, 96 Lightweight 4over6): lists of S46 options.
public struct S46Container: Hashable, Sendable {
    public var options: [DHCPv6Option]
    public init(_ options: [DHCPv6Option]) { self.options = options }
    public init(optionData d: [UInt8]) throws(DHCPWireError) { options = try DHCPv6Option.decodeList(d) }
    public func optionData() throws(DHCPWireError) -> [UInt8] { try DHCPv6Option.encodeList(options) }
    /// The container as an option with `code` (94, 95 or 96).
    public func option(_ code: DHCPv6OptionCode) throws(DHCPWireError) -> DHCPv6Option {
        DHCPv6Option(code: code, data: try optionData())
    }
}

/// OPTION_S46_BIND_IPV6_PREFIX (137, RFC 8539): hint of the prefix to build the softwire source from.
public struct S46BindIPv6Prefix: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.s46BindIPv6Prefix
    public var prefix: IPv6Prefix
    public init(_ p: IPv6Prefix) { prefix = p }
    /// Discards (throws) when the length exceeds 128 or the byte count disagrees (RFC 8539 §4).
    public init(optionData d: [UInt8]) throws(DHCPWireError) {
        var r = ByteReader(d)
        prefix = try IPv6Prefix.read(&r, "S46_BIND_IPV6_PREFIX")
        try r.expectEnd("S46_BIND_IPV6_PREFIX")
    }
    public func optionData() -> [UInt8] { prefix.bytes }
}

/// OPTION_DHCPV4_MSG (87, RFC 7341): one whole DHCPv4 message.
public struct DHCPv4MessageOption: DHCPv6OptionValue, Hashable {
    public static let code = DHCPv6OptionCode.dhcpv4Message
    public var message: DHCPv4Message
    public init(_ m: DHCPv4Message) { message = m }
    public init(optionData d: [UInt8]) throws(DHCPWireError) { message = try DHCPv4Message.decode(d) }
    public func optionData() throws(DHCPWireError) -> [UInt8] { try message.encode() }
}

extension DHCPv6Message {
    /// CLIENTID (1) DUID bytes.
    public var clientID: [UInt8]? { option(.clientID)?.data }
    /// SERVERID (2) DUID bytes.
    public var serverID: [UInt8]? { option(.serverID)?.data }
    /// RELAY_ID (53) DUID bytes.
    public var relayID: [UInt8]? { option(.relayID)?.data }

    /// A 4-byte seconds option (CLT_TIME 46, LQ_BASE/START/END_TIME 100–102); nil when absent.
    public func seconds(_ code: DHCPv6OptionCode) throws(DHCPWireError) -> UInt32? {
        guard let o = option(code) else { return nil }
        return try DHCPv6Seconds(o.data, "option \(code.rawValue)").seconds
    }

    /// A 4-byte seconds option.
    public static func secondsOption(_ code: DHCPv6OptionCode, _ s: UInt32) -> DHCPv6Option {
        DHCPv6Option(code: code, data: DHCPv6Seconds(s).bytes)
    }
}
