public import LwAFTRCore

/// The value stored for one softwire: the B4's IPv6 address and an index into the table's
/// list of lwAFTR (br) addresses.
public struct SoftwireValue: Hashable, Sendable {
    public var b4Hi: UInt64
    public var b4Lo: UInt64
    public var brIndex: UInt32

    @inlinable public init(b4Hi: UInt64, b4Lo: UInt64, brIndex: UInt32) {
        self.b4Hi = b4Hi
        self.b4Lo = b4Lo
        self.brIndex = brIndex
    }

    /// What `lookupBatch` stores for a key with no softwire (`brIndex == UInt32.max`).
    @inlinable public static var notFound: SoftwireValue { SoftwireValue(b4Hi: 0, b4Lo: 0, brIndex: .max) }

    /// Whether this is the `notFound` marker of a batched lookup.
    @inlinable public var isNotFound: Bool { brIndex == .max }

    /// The B4 address.
    @inlinable public var b4: IPv6Address { IPv6Address(hi: b4Hi, lo: b4Lo) }
}
