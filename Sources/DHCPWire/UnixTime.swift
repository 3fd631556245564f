/// A point in time as seconds since 1970-01-01T00:00:00Z: the one clock type of the control lane.
///
/// DHCPv4 leasequery times (options 152, 154, 155) use this epoch directly; DHCPv6 active
/// leasequery times (options 100–102) count from 2000-01-01 and convert with `dhcpv6Seconds`.
public struct UnixTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds between 1970-01-01 and 2000-01-01 (10 957 days).
    public static let dhcpv6EpochOffset: UInt32 = 946_684_800

    public var seconds: UInt32

    public init(seconds: UInt32) { self.seconds = seconds }

    /// From a DHCPv6 (2000-epoch) value; saturates at `UInt32.max`.
    public init(dhcpv6Seconds: UInt32) {
        let (v, overflow) = dhcpv6Seconds.addingReportingOverflow(Self.dhcpv6EpochOffset)
        seconds = overflow ? .max : v
    }

    /// The DHCPv6 (2000-epoch) value; 0 for times before 2000.
    public var dhcpv6Seconds: UInt32 {
        seconds >= Self.dhcpv6EpochOffset ? seconds - Self.dhcpv6EpochOffset : 0
    }

    /// `self + delta`, saturating.
    public func adding(_ delta: UInt32) -> UnixTime {
        let (v, o) = seconds.addingReportingOverflow(delta)
        return UnixTime(seconds: o ? .max : v)
    }

    public static func < (l: Self, r: Self) -> Bool { l.seconds < r.seconds }

    public var description: String { "\(seconds)" }
}
