/// Big-endian loads and stores on raw packet memory (unaligned-safe).
extension UnsafeMutableRawPointer {
    @inlinable @inline(__always) func u8(_ o: Int) -> UInt8 { load(fromByteOffset: o, as: UInt8.self) }
    @inlinable @inline(__always) func be16(_ o: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: o, as: UInt16.self))
    }
    @inlinable @inline(__always) func be32(_ o: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
    @inlinable @inline(__always) func be64(_ o: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }
    @inlinable @inline(__always) func set8(_ o: Int, _ v: UInt8) { storeBytes(of: v, toByteOffset: o, as: UInt8.self) }
    @inlinable @inline(__always) func set16(_ o: Int, _ v: UInt16) {
        storeBytes(of: v.bigEndian, toByteOffset: o, as: UInt16.self)
    }
    @inlinable @inline(__always) func set32(_ o: Int, _ v: UInt32) {
        storeBytes(of: v.bigEndian, toByteOffset: o, as: UInt32.self)
    }
    @inlinable @inline(__always) func set64(_ o: Int, _ v: UInt64) {
        storeBytes(of: v.bigEndian, toByteOffset: o, as: UInt64.self)
    }
    /// Writes a 48-bit MAC held in the low bits of `v`.
    @inlinable @inline(__always) func setMAC(_ o: Int, _ v: UInt64) {
        set16(o, UInt16(truncatingIfNeeded: v >> 32))
        set32(o + 2, UInt32(truncatingIfNeeded: v))
    }
    @inlinable @inline(__always) func mac(_ o: Int) -> UInt64 { UInt64(be16(o)) << 32 | UInt64(be32(o + 2)) }
}

/// Internet checksum (RFC 1071) helpers.
public enum Checksum {
    /// One's-complement sum of `count` bytes folded to 16 bits (not inverted), starting from `initial`.
    @inlinable
    public static func sum(_ p: UnsafeRawPointer, _ count: Int, initial: UInt32 = 0) -> UInt16 {
        var acc = UInt64(initial)
        var i = 0
        while i + 8 <= count {
            let w = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            acc = acc &+ (w >> 32) &+ (w & 0xFFFF_FFFF)
            i += 8
        }
        while i + 2 <= count {
            acc = acc &+ UInt64(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
            i += 2
        }
        if i < count { acc = acc &+ UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << 8 }
        while acc > 0xFFFF { acc = (acc & 0xFFFF) &+ (acc >> 16) }
        return UInt16(acc)
    }

    /// The checksum field value for `count` bytes (inverted sum).
    @inlinable
    public static func compute(_ p: UnsafeRawPointer, _ count: Int, initial: UInt32 = 0) -> UInt16 {
        ~sum(p, count, initial: initial)
    }

    /// RFC 1624 eqn. 3 update: new checksum after a 16-bit word changes from `old` to `new`.
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        var s = UInt32(~checksum) &+ UInt32(~old) &+ UInt32(new)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        return ~UInt16(s)
    }

    /// Sum of an IPv6 pseudo-header (addresses at `src`/`dst` offsets of `p`, 32-bit length, next header).
    @inlinable
    public static func ipv6PseudoHeader(_ p: UnsafeRawPointer, srcOffset: Int, length: Int, nextHeader: UInt8) -> UInt32 {
        let a = UInt32(sum(p + srcOffset, 32))
        return a &+ UInt32(length >> 16) &+ UInt32(length & 0xFFFF) &+ UInt32(nextHeader)
    }
}
