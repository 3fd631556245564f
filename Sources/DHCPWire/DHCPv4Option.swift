/// A DHCPv4 option code (RFC 2132 and the leasequery, DHCP4o6 and port-set extensions).
public struct DHCPv4OptionCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ v: UInt8) { rawValue = v }

    public static let pad = Self(0), subnetMask = Self(1), router = Self(3)
    public static let requestedAddress = Self(50), leaseTime = Self(51), overload = Self(52)
    public static let messageType = Self(53), serverID = Self(54), parameterRequestList = Self(55)
    public static let message = Self(56), maxMessageSize = Self(57), renewalTime = Self(58)
    public static let rebindingTime = Self(59), clientID = Self(61), relayAgentInfo = Self(82)
    public static let clientLastTransactionTime = Self(91), associatedIP = Self(92)
    /// OPTION_DHCP4O6_S46_SADDR (RFC 8539): the softwire IPv6 source address (16 bytes).
    public static let s46SourceAddress = Self(109)
    public static let statusCode = Self(151), baseTime = Self(152), startTimeOfState = Self(153)
    public static let queryStartTime = Self(154), queryEndTime = Self(155), dhcpState = Self(156)
    public static let dataSource = Self(157)
    /// OPTION_V4_PORTPARAMS (RFC 7618).
    public static let portParams = Self(159)
    public static let end = Self(255)

    public var description: String { "\(rawValue)" }
}

/// A DHCPv4 message type (option 53; RFC 2132, 4388, 6926, 7724).
public struct DHCPv4MessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ v: UInt8) { rawValue = v }

    public static let discover = Self(1), offer = Self(2), request = Self(3), decline = Self(4)
    public static let ack = Self(5), nak = Self(6), release = Self(7), inform = Self(8)
    public static let forceRenew = Self(9), leasequery = Self(10), leaseUnassigned = Self(11)
    public static let leaseUnknown = Self(12), leaseActive = Self(13), bulkLeasequery = Self(14)
    public static let leasequeryDone = Self(15), activeLeasequery = Self(16)
    public static let leasequeryStatus = Self(17), tls = Self(18)

    public var description: String {
        let names = ["0", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
                     "FORCERENEW", "LEASEQUERY", "LEASEUNASSIGNED", "LEASEUNKNOWN", "LEASEACTIVE",
                     "BULKLEASEQUERY", "LEASEQUERYDONE", "ACTIVELEASEQUERY", "LEASEQUERYSTATUS", "TLS"]
        return Int(rawValue) < names.count ? names[Int(rawValue)] : "type-\(rawValue)"
    }
}

/// One DHCPv4 option `code | len | data`. Instances of one code are concatenated on decode
/// (RFC 3396), and data longer than 255 bytes is split into several instances on encode.
public struct DHCPv4Option: Hashable, Sendable {
    public var code: DHCPv4OptionCode
    public var data: [UInt8]

    public init(code: DHCPv4OptionCode, data: [UInt8]) {
        self.code = code
        self.data = data
    }

    /// A 1-byte option.
    public static func u8(_ code: DHCPv4OptionCode, _ v: UInt8) -> DHCPv4Option { .init(code: code, data: [v]) }

    /// A 4-byte big-endian option.
    public static func u32(_ code: DHCPv4OptionCode, _ v: UInt32) -> DHCPv4Option {
        var w = ByteWriter(); w.u32(v)
        return .init(code: code, data: w.bytes)
    }

    /// Parses an option area (options field, or an overloaded `file`/`sname`) into `list`,
    /// concatenating repeated codes (the list never holds a code twice, so at most 254 entries).
    /// Returns whether END was seen.
    static func parseArea(_ r: inout ByteReader, into list: inout [DHCPv4Option]) throws(DHCPWireError) -> Bool {
        while !r.isAtEnd {
            let code = try r.u8("DHCPv4 option code")
            if code == 0 { continue }
            if code == 255 { return true }
            let len = try r.u8("DHCPv4 option \(code) length")
            let data = try r.range(Int(len), "DHCPv4 option \(code) data")
            if let i = list.firstIndex(where: { $0.code.rawValue == code }) {
                list[i].data.append(contentsOf: r.bytes[data])
            } else {
                list.append(DHCPv4Option(code: DHCPv4OptionCode(code), data: Array(r.bytes[data])))
            }
        }
        return false
    }

    /// Appends the option, split into 255-byte instances (one empty instance for empty data).
    func write(_ w: inout ByteWriter) {
        var i = 0
        repeat {
            let n = min(255, data.count - i)
            w.u8(code.rawValue); w.u8(UInt8(n)); w.append(data[i..<(i + n)])
            i += n
        } while i < data.count
    }
}
