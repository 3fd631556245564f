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
        let parsed = text.utf8.withContiguousStorageIfAvailable(IPv6Address.parse)
        guard let halves = parsed ?? Array(text.utf8).withUnsafeBufferPointer(IPv6Address.parse) else {
            return nil
        }
        hi = halves.hi; lo = halves.lo
    }

    /// One pass over the bytes (no allocation on the hex-only path).
    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> (hi: UInt64, lo: UInt64)? {
        let n = b.count, colon = UInt8(ascii: ":")
        guard n >= 2, n <= 45 else { return nil }
        var g = SIMD8<UInt16>()
        var count = 0, gap = -1, i = 0
        if b[0] == colon {
            guard b[1] == colon else { return nil }
            gap = 0; i = 2
        }
        while i < n {
            let start = i
            var v: UInt16 = 0
            while i < n, let d = hexValue(b[i]) {
                v = v << 4 | UInt16(d); i += 1
                guard i - start <= 4 else { return nil }
            }
            if i < n, b[i] == UInt8(ascii: ".") {  // trailing dotted IPv4
                guard count <= 6, let v4 = IPv4Address(String(decoding: b[start..<n], as: UTF8.self)) else {
                    return nil
                }
                g[count] = UInt16(v4.value >> 16); g[count + 1] = UInt16(truncatingIfNeeded: v4.value)
                count += 2
                break
            }
            guard i > start, count < 8 else { return nil }
            g[count] = v; count += 1
            if i == n { break }
            guard b[i] == colon else { return nil }
            i += 1
            if i < n, b[i] == colon {
                guard gap < 0 else { return nil }
                gap = count; i += 1
            } else if i == n {
                return nil  // trailing single ':'
            }
        }
        if gap >= 0 {
            guard count <= 7 else { return nil }
            let tail = count - gap
            var out = SIMD8<UInt16>()
            for k in 0..<gap { out[k] = g[k] }
            for k in 0..<tail { out[8 - tail + k] = g[gap + k] }
            g = out
        } else {
            guard count == 8 else { return nil }
        }
        var h: UInt64 = 0, l: UInt64 = 0
        for k in 0..<4 { h = h << 16 | UInt64(g[k]) }
        for k in 4..<8 { l = l << 16 | UInt64(g[k]) }
        return (h, l)
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
@inline(__always) func isHexDigit(_ c: UInt8) -> Bool { hexValue(c) != nil }

/// The value of an ASCII hex digit, nil for anything else.
@inline(__always) func hexValue(_ c: UInt8) -> UInt8? {
    if c >= 0x30 && c <= 0x39 { return c - 0x30 }
    let l = c | 0x20
    return l >= 0x61 && l <= 0x66 ? l - 0x57 : nil
}
