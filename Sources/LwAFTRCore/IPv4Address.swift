/// An IPv4 address held as a host-order 32-bit integer.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The address in host byte order (`10.0.0.1` is `0x0A00_0001`).
    public var value: UInt32

    @inlinable public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text ("192.0.2.1"); no leading zeros beyond a single 0, no spaces.
    public init?(_ text: some StringProtocol) {
        var parts: [UInt32] = []
        var cur: UInt32 = 0
        var digits = 0
        for ch in text.utf8 {
            if ch == UInt8(ascii: ".") {
                guard digits > 0, parts.count < 3 else { return nil }
                parts.append(cur); cur = 0; digits = 0
            } else if ch >= 0x30 && ch <= 0x39 {
                if digits > 0 && cur == 0 { return nil }  // leading zero
                cur = cur * 10 + UInt32(ch - 0x30)
                digits += 1
                guard cur <= 255, digits <= 3 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts.count == 3 else { return nil }
        parts.append(cur)
        value = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
    }

    /// The four bytes in network order.
    public var bytes: (UInt8, UInt8, UInt8, UInt8) {
        (UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
         UInt8(truncatingIfNeeded: value))
    }

    public var description: String {
        let b = bytes
        return "\(b.0).\(b.1).\(b.2).\(b.3)"
    }

    public static func < (l: Self, r: Self) -> Bool { l.value < r.value }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let a = IPv4Address(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "invalid IPv4 address '\(s)'")
        }
        self = a
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
