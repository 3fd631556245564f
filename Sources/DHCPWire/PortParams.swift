public import LwAFTRCore

/// Port parameters of a shared IPv4 address: DHCPv4 OPTION_V4_PORTPARAMS (159, RFC 7618) and the
/// identical DHCPv6 S46_PORTPARAMS (93, RFC 7598): `offset(1) | PSID-len(1) | PSID(2, left-aligned)`.
///
/// `psid` holds the PSID as a plain number (right-aligned, e.g. 0x34); the wire field is
/// `psid << (16 - psidLength)` (e.g. 0x3400 for k = 8).
public struct PortParams: Hashable, Sendable, CustomStringConvertible {
    /// The port-set parameters shared by all PSIDs of the address.
    public let portSet: PortSet
    /// The PSID value, `< 2^k`.
    public let psid: UInt16

    /// Offset `a` (0...15).
    public var offset: UInt8 { portSet.offset }
    /// PSID length `k` (0...16); 0 means the full address.
    public var psidLength: UInt8 { portSet.psidLength }

    /// Nil unless `offset <= 15`, `offset + psidLength <= 16` and `psid < 2^psidLength`.
    public init?(offset: UInt8, psidLength: UInt8, psid: UInt16) {
        guard let set = PortSet(offset: offset, psidLength: psidLength), set.contains(psid: psid) else { return nil }
        portSet = set
        self.psid = psid
    }

    /// The 16-bit wire field (PSID left-aligned, padding bits zero).
    public var psidField: UInt16 { psidLength == 0 ? 0 : psid << (16 - UInt16(psidLength)) }

    /// The 4-byte option payload.
    public var bytes: [UInt8] {
        [offset, psidLength, UInt8(psidField >> 8), UInt8(truncatingIfNeeded: psidField)]
    }

    /// Decodes the 4-byte payload; padding bits beyond `k` must be zero.
    public init(bytes: [UInt8]) throws(DHCPWireError) {
        guard bytes.count == 4 else { throw .invalid("port params length \(bytes.count), want 4") }
        let a = bytes[0], k = bytes[1], field = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        guard let set = PortSet(offset: a, psidLength: k) else { throw .invalid("port params offset \(a) PSID-len \(k)") }
        let psid = k == 0 ? 0 : field >> (16 - UInt16(k))
        let pad: UInt16 = k == 16 ? 0 : (k == 0 ? field : field & ((1 << (16 - UInt16(k))) - 1))
        guard pad == 0 else { throw .invalid("port params PSID 0x\(String(field, radix: 16)) has bits beyond k=\(k)") }
        portSet = set
        self.psid = psid
    }

    public var description: String { "psid \(psid)/\(psidLength) offset \(offset)" }
}

/// An IPv6 prefix as carried in RFC 7598/8539 options: `length(1) | ceil(length/8) bytes`.
public struct IPv6Prefix: Hashable, Sendable, CustomStringConvertible {
    /// Prefix length 0...128.
    public let length: UInt8
    /// The address with every bit beyond `length` cleared.
    public let address: IPv6Address

    /// Nil when `length > 128`; bits beyond `length` are cleared.
    public init?(address: IPv6Address, length: UInt8) {
        guard length <= 128 else { return nil }
        self.length = length
        let l = Int(length)
        let hiMask: UInt64 = l >= 64 ? .max : (l == 0 ? 0 : ~(UInt64.max >> UInt64(l)))
        let loMask: UInt64 = l <= 64 ? 0 : (l == 128 ? .max : ~(UInt64.max >> UInt64(l - 64)))
        self.address = IPv6Address(hi: address.hi & hiMask, lo: address.lo & loMask)
    }

    /// Number of prefix bytes on the wire.
    var byteCount: Int { (Int(length) + 7) / 8 }

    /// `length` followed by the prefix bytes.
    var bytes: [UInt8] { [length] + address.bytes.prefix(byteCount) }

    /// Reads `length | prefix` from `reader`; `length > 128` is invalid.
    static func read(_ r: inout ByteReader, _ field: String) throws(DHCPWireError) -> IPv6Prefix {
        let len = try r.u8(field)
        guard len <= 128 else { throw .invalid("\(field) length \(len) > 128") }
        let b = try r.read((Int(len) + 7) / 8, field)
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<16 {
            let v = UInt64(i < b.count ? b[i] : 0)
            if i < 8 { hi = hi << 8 | v } else { lo = lo << 8 | v }
        }
        return IPv6Prefix(address: IPv6Address(hi: hi, lo: lo), length: len)!
    }

    public var description: String { "\(address)/\(length)" }
}
