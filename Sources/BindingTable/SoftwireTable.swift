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
}

