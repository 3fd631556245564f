public import LwAFTRCore

/// A DHCPv4 message (RFC 2131 §2): the 236-byte BOOTP header, magic cookie 63 82 53 63, options.
///
/// Decoding is normalising: repeated option codes are concatenated (RFC 3396), options moved
/// into `file`/`sname` by option 52 are read back into `options` (and those fields and option 52
/// are cleared), so `decode(encode(m)) == m` for every decoded `m`. Encoding writes options in
/// order, then END (255), with no trailing padding.
public struct DHCPv4Message: Hashable, Sendable {
    public static let magicCookie: UInt32 = 0x6382_5363
    public static let headerSize = 236

    /// 1 BOOTREQUEST, 2 BOOTREPLY.
    public var op: UInt8
    public var htype: UInt8
    public var hlen: UInt8
    public var hops: UInt8
    public var xid: UInt32
    public var secs: UInt16
    /// 0x8000 = broadcast.
    public var flags: UInt16
    public var ciaddr: IPv4Address
    public var yiaddr: IPv4Address
    public var siaddr: IPv4Address
    public var giaddr: IPv4Address
    /// Always 16 bytes (`hlen` of them significant).
    public var chaddr: [UInt8]
    /// Always 64 bytes.
    public var sname: [UInt8]
    /// Always 128 bytes.
    public var file: [UInt8]
    public var options: [DHCPv4Option]

    public init(op: UInt8, xid: UInt32, htype: UInt8 = 0, hlen: UInt8 = 0, chaddr: [UInt8] = [],
                ciaddr: IPv4Address = IPv4Address(0), yiaddr: IPv4Address = IPv4Address(0),
                giaddr: IPv4Address = IPv4Address(0), flags: UInt16 = 0, options: [DHCPv4Option] = []) {
        self.op = op; self.htype = htype; self.hlen = hlen; hops = 0; self.xid = xid; secs = 0
        self.flags = flags; self.ciaddr = ciaddr; self.yiaddr = yiaddr; siaddr = IPv4Address(0)
        self.giaddr = giaddr
        self.chaddr = Array((chaddr + [UInt8](repeating: 0, count: 16)).prefix(16))
        sname = [UInt8](repeating: 0, count: 64)
        file = [UInt8](repeating: 0, count: 128)
        self.options = options
    }

    /// Decodes one message. Requires the cookie and an END option in the options field.
    public static func decode(_ bytes: [UInt8]) throws(DHCPWireError) -> DHCPv4Message {
        var r = ByteReader(bytes)
        var m = DHCPv4Message(op: try r.u8("op"), xid: 0)
        m.htype = try r.u8("htype"); m.hlen = try r.u8("hlen"); m.hops = try r.u8("hops")
        m.xid = try r.u32("xid"); m.secs = try r.u16("secs"); m.flags = try r.u16("flags")
        m.ciaddr = try r.ipv4("ciaddr"); m.yiaddr = try r.ipv4("yiaddr")
        m.siaddr = try r.ipv4("siaddr"); m.giaddr = try r.ipv4("giaddr")
        m.chaddr = try r.read(16, "chaddr")
        let snameRange = try r.range(64, "sname"), fileRange = try r.range(128, "file")
        m.sname = Array(bytes[snameRange]); m.file = Array(bytes[fileRange])
        guard try r.u32("magic cookie") == magicCookie else { throw .invalid("DHCPv4 magic cookie") }
        var list: [DHCPv4Option] = []
        guard try DHCPv4Option.parseArea(&r, into: &list) else { throw .missing("DHCPv4 END option") }
        if let oi = list.firstIndex(where: { $0.code == .overload }) {
            let ov = list[oi].data
            guard ov.count == 1, (1...3).contains(ov[0]) else { throw .invalid("DHCPv4 option 52 value") }
            list.remove(at: oi)
            if ov[0] & 1 != 0 {
                var fr = ByteReader(bytes, range: fileRange)
                _ = try DHCPv4Option.parseArea(&fr, into: &list)
                m.file = [UInt8](repeating: 0, count: 128)
            }
            if ov[0] & 2 != 0 {
                var sr = ByteReader(bytes, range: snameRange)
                _ = try DHCPv4Option.parseArea(&sr, into: &list)
                m.sname = [UInt8](repeating: 0, count: 64)
            }
            list.removeAll { $0.code == .overload }
        }
        m.options = list
        return m
    }

    /// The wire bytes. Throws only for malformed fixed fields (wrong `chaddr`/`sname`/`file` sizes).
    public func encode() throws(DHCPWireError) -> [UInt8] {
        guard chaddr.count == 16, sname.count == 64, file.count == 128 else {
            throw .invalid("DHCPv4 chaddr/sname/file sizes \(chaddr.count)/\(sname.count)/\(file.count)")
        }
        var w = ByteWriter(capacity: 300 + options.reduce(0) { $0 + 2 + $1.data.count })
        w.u8(op); w.u8(htype); w.u8(hlen); w.u8(hops); w.u32(xid); w.u16(secs); w.u16(flags)
        w.ipv4(ciaddr); w.ipv4(yiaddr); w.ipv4(siaddr); w.ipv4(giaddr)
        w.append(chaddr); w.append(sname); w.append(file)
        w.u32(Self.magicCookie)
        for o in options where o.code != .pad && o.code != .end { o.write(&w) }
        w.u8(255)
        return w.bytes
    }

    // MARK: options

    /// The option with `code`.
    public func option(_ code: DHCPv4OptionCode) -> DHCPv4Option? { options.first { $0.code == code } }

    /// Replaces (or appends) the option with `code`.
    public mutating func set(_ option: DHCPv4Option) {
        if let i = options.firstIndex(where: { $0.code == option.code }) { options[i] = option } else { options.append(option) }
    }

    /// Removes the option with `code`.
    public mutating func remove(_ code: DHCPv4OptionCode) { options.removeAll { $0.code == code } }

    /// Option 53; nil when absent or not one byte.
    public var messageType: DHCPv4MessageType? {
        guard let d = option(.messageType)?.data, d.count == 1 else { return nil }
        return DHCPv4MessageType(d[0])
    }

    /// A 1-byte option value; throws when present with another length.
    public func u8(_ code: DHCPv4OptionCode) throws(DHCPWireError) -> UInt8? {
        guard let d = option(code)?.data else { return nil }
        guard d.count == 1 else { throw .invalid("DHCPv4 option \(code.rawValue) length \(d.count), want 1") }
        return d[0]
    }

    /// A 4-byte big-endian option value; throws when present with another length.
    public func u32(_ code: DHCPv4OptionCode) throws(DHCPWireError) -> UInt32? {
        guard let d = option(code)?.data else { return nil }
        guard d.count == 4 else { throw .invalid("DHCPv4 option \(code.rawValue) length \(d.count), want 4") }
        var r = ByteReader(d)
        return try r.u32("option \(code.rawValue)")
    }

    /// A 4-byte address option (50, 54, 1 …).
    public func address(_ code: DHCPv4OptionCode) throws(DHCPWireError) -> IPv4Address? {
        try u32(code).map(IPv4Address.init)
    }

    /// Option 55 as a list of codes (empty when absent).
    public var parameterRequestList: [UInt8] { option(.parameterRequestList)?.data ?? [] }

    /// Whether option 55 lists `code`.
    public func requests(_ code: DHCPv4OptionCode) -> Bool { parameterRequestList.contains(code.rawValue) }

    /// Option 159 (RFC 7618).
    public func portParams() throws(DHCPWireError) -> PortParams? {
        guard let d = option(.portParams)?.data else { return nil }
        return try PortParams(bytes: d)
    }

    /// Option 109 (RFC 8539): the softwire IPv6 source address.
    public func s46SourceAddress() throws(DHCPWireError) -> IPv6Address? {
        guard let d = option(.s46SourceAddress)?.data else { return nil }
        guard d.count == 16 else { throw .invalid("DHCPv4 option 109 length \(d.count), want 16") }
        var r = ByteReader(d)
        return try r.ipv6("option 109")
    }

    /// Option 109 for `address`.
    public static func s46SourceAddressOption(_ address: IPv6Address) -> DHCPv4Option {
        var w = ByteWriter(); w.ipv6(address)
        return DHCPv4Option(code: .s46SourceAddress, data: w.bytes)
    }

    /// Option 151 (RFC 6926): status code and UTF-8 message.
    public func leasequeryStatus() throws(DHCPWireError) -> (code: LeasequeryStatusCode, message: String)? {
        guard let d = option(.statusCode)?.data else { return nil }
        guard let c = d.first else { throw .invalid("DHCPv4 option 151 is empty") }
        return (LeasequeryStatusCode(c), String(decoding: d.dropFirst(), as: UTF8.self))
    }

    /// Option 92 (associated-ip): a list of addresses.
    public func associatedAddresses() throws(DHCPWireError) -> [IPv4Address]? {
        guard let d = option(.associatedIP)?.data else { return nil }
        guard d.count % 4 == 0 else { throw .invalid("DHCPv4 option 92 length \(d.count)") }
        var r = ByteReader(d), out: [IPv4Address] = []
        while !r.isAtEnd { out.append(try r.ipv4("option 92")) }
        return out
    }
}
