/// RFC 7597 port-set parameters shared by every softwire of one IPv4 address:
/// a 16-bit port is `| A: offset bits | PSID: psidLength bits | j: shift bits |`.
public struct PortSet: Hashable, Sendable, CustomStringConvertible {
    /// Offset `a` (Snabb: `reserved-ports-bit-count`), 0...15.
    public var offset: UInt8
    /// PSID length `k`, 0...16; 0 means the whole address.
    public var psidLength: UInt8

    /// Creates port-set parameters; nil when `offset + psidLength > 16` or `offset > 15`.
    public init?(offset: UInt8 = 0, psidLength: UInt8) {
        guard offset <= 15, psidLength <= 16, Int(offset) + Int(psidLength) <= 16 else { return nil }
        self.offset = offset
        self.psidLength = psidLength
    }

    /// `m = 16 - a - k`: the number of low bits that vary inside one port range.
    @inlinable public var shift: UInt8 { 16 &- offset &- psidLength }

    /// The mask applied after shifting (`2^k - 1`).
    @inlinable public var psidMask: UInt16 { UInt16(truncatingIfNeeded: (UInt32(1) << UInt32(psidLength)) &- 1) }

    /// The PSID a port belongs to.
    @inlinable public func psid(of port: UInt16) -> UInt16 {
        (port >> UInt16(shift)) & psidMask
    }

    /// False for ports excluded by a non-zero offset (`A == 0`, i.e. ports below `2^(16-a)`).
    @inlinable public func isValid(port: UInt16) -> Bool {
        offset == 0 || (UInt32(port) >> UInt32(16 - offset)) != 0
    }

    /// Whether `psid` fits in `psidLength` bits.
    @inlinable public func contains(psid: UInt16) -> Bool { psid & ~psidMask == 0 }

    /// Number of ports a PSID owns.
    public var portCount: Int {
        let m = Int(shift)
        return offset == 0 ? 1 << m : ((1 << Int(offset)) - 1) << m
    }

    /// The contiguous port ranges owned by `psid`, in ascending order.
    public func ranges(of psid: UInt16) -> [ClosedRange<UInt16>] {
        let m = Int(shift), k = Int(psidLength), a = Int(offset)
        let base = Int(psid & psidMask) << m
        let span = (1 << m) - 1
        if a == 0 { return [UInt16(base)...UInt16(base + span)] }
        return (1..<(1 << a)).map { bigA in
            let start = bigA << (16 - a) | base
            _ = k
            return UInt16(start)...UInt16(start + span)
        }
    }

    public var description: String { "a=\(offset) k=\(psidLength) m=\(shift)" }
}
