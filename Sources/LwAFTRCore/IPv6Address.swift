/// An IPv6 address held as two host-order 64-bit halves (`hi` holds bytes 0–7).
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public var hi: UInt64
    public var lo: UInt64

    @inlinable public init(hi: UInt64, lo: UInt64) { self.hi = hi; self.lo = lo }

    /// Builds an address from 16 network-order bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16)
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
        hi = h; lo = l
    }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64(i))) }
        for i in 0..<8 { out[8 + i] = UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64(i))) }
        return out
    }

    /// The eight 16-bit groups.
    public var groups: [UInt16] {
        (0..<8).map { i in
            let half = i < 4 ? hi : lo
            return UInt16(truncatingIfNeeded: half >> (48 - 16 * UInt64(i % 4)))
        }
    }

    /// Parses RFC 4291 text: hex groups of 1–4 digits, at most one `::`, optional trailing dotted IPv4.
    public init?(_ text: some StringProtocol) {
        let s = Substring(text)
        guard !s.isEmpty, s.utf8.count <= 45 else { return nil }
        let groups: [UInt16]
        if let r = s.firstRange(of: "::") {
            let left = s[s.startIndex..<r.lowerBound]
            let right = s[r.upperBound...]
            guard right.firstRange(of: "::") == nil,
                  let head = IPv6Address.parseGroups(left, allowIPv4: false),
                  let tail = IPv6Address.parseGroups(right, allowIPv4: true),
                  head.count + tail.count <= 7 else { return nil }
            groups = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let all = IPv6Address.parseGroups(s, allowIPv4: true), all.count == 8 else { return nil }
            groups = all
        }
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<4 { h = h << 16 | UInt64(groups[i]) }
        for i in 4..<8 { l = l << 16 | UInt64(groups[i]) }
        hi = h; lo = l
    }

    private static func parseGroups(_ s: Substring, allowIPv4: Bool) -> [UInt16]? {
        if s.isEmpty { return [] }
        var out: [UInt16] = []
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        for (i, p) in parts.enumerated() {
            if allowIPv4 && i == parts.count - 1 && p.contains(".") {
                guard let v4 = IPv4Address(p) else { return nil }
                out.append(UInt16(v4.value >> 16)); out.append(UInt16(truncatingIfNeeded: v4.value))
                continue
            }
            // Only hex digits: UInt16(_:radix:) alone would also take a sign ("+1", "-0").
            guard (1...4).contains(p.utf8.count), p.utf8.allSatisfy(isHexDigit),
                  let v = UInt16(p, radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }

    /// RFC 5952 canonical text: lower case, longest run (≥ 2) of zero groups as `::`.
    public var description: String {
        let g = groups
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLen { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        if bestLen < 2 { bestStart = -1 }
        // RFC 5952 section 5: IPv4-mapped addresses (::ffff:0:0/96) use mixed notation.
        if hi == 0, lo >> 32 == 0xFFFF {
            return "::ffff:" + IPv4Address(UInt32(truncatingIfNeeded: lo)).description
        }
        var out = ""
        i = 0
        while i < 8 {
            if i == bestStart {
                out += "::"
                i += bestLen
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(g[i], radix: 16)
            i += 1
        }
        return out
    }

    public static func < (l: Self, r: Self) -> Bool { (l.hi, l.lo) < (r.hi, r.lo) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let a = IPv6Address(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "invalid IPv6 address '\(s)'")
        }
        self = a
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// True for an ASCII hex digit (`0-9`, `a-f`, `A-F`).
@inline(__always) func isHexDigit(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66)
}
