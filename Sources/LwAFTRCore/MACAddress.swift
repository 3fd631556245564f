/// A 48-bit Ethernet MAC address held in the low 48 bits of a `UInt64` (first byte most significant).
public struct MACAddress: Hashable, Sendable, CustomStringConvertible, Codable {
    public var value: UInt64

    @inlinable public init(_ value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// Parses `aa:bb:cc:dd:ee:ff` (or all with `-`), one or two hex digits per byte.
    public init?(_ text: some StringProtocol) {
        let sep: Character = text.contains("-") ? "-" : ":"
        let parts = text.split(separator: sep, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for p in parts {
            // Only hex digits: UInt8(_:radix:) alone would also take a sign ("+f", "-0").
            guard (1...2).contains(p.utf8.count), p.utf8.allSatisfy(isHexDigit),
                  let b = UInt8(p, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        value = v
    }

    public static let broadcast = MACAddress(0xFFFF_FFFF_FFFF)
    public static let zero = MACAddress(0)

    /// The six bytes in wire order.
    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: value >> (40 - 8 * UInt64($0))) } }

    public var description: String {
        bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: ":")
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let a = MACAddress(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "invalid MAC address '\(s)'")
        }
        self = a
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
