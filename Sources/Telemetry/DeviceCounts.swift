/// Which device of a worker: the IPv4 (internet) side or the IPv6 (B4) side.
public enum DeviceSide: Int, Sendable, CaseIterable {
    case external = 0
    case `internal` = 1

    /// The `side` label value.
    public var label: String { self == .external ? "external" : "internal" }
}

/// One packet device's counters as its worker publishes them (a copy of the device's own
/// statistics; no atomics on the packet path).
public struct DeviceCounts: Sendable, Equatable {
    /// Frames received and handed to the engine, and their bytes.
    public var rxPackets: UInt64 = 0
    public var rxBytes: UInt64 = 0
    /// Frames read and thrown away by the device layer (truncated, too large, not IP on TUN).
    public var rxDropped: UInt64 = 0
    /// Frames the kernel dropped because the receive ring was full (AF_PACKET).
    public var rxRingFull: UInt64 = 0
    /// Times receiving stopped early because the packet pool was empty.
    public var rxPoolEmpty: UInt64 = 0
    /// Frames the kernel accepted for sending, and their bytes.
    public var txPackets: UInt64 = 0
    public var txBytes: UInt64 = 0
    /// Frames the kernel refused (queue full, too big, other errors).
    public var txDropped: UInt64 = 0

    public init() {}

    /// How many fields; `self[i]` is field i, in the order of `names`.
    public static var count: Int { 8 }

    /// Metric name stems of the fields, in index order (control side only).
    public static let names = ["rx_packets", "rx_bytes", "rx_dropped", "rx_ring_full_drops", "rx_pool_empty",
                               "tx_packets", "tx_bytes", "tx_dropped"]

    /// Field `i` (0 ..< `count`), so boards and exporters can loop over them.
    public subscript(i: Int) -> UInt64 {
        get {
            switch i {
            case 0: rxPackets
            case 1: rxBytes
            case 2: rxDropped
            case 3: rxRingFull
            case 4: rxPoolEmpty
            case 5: txPackets
            case 6: txBytes
            default: txDropped
            }
        }
        set {
            switch i {
            case 0: rxPackets = newValue
            case 1: rxBytes = newValue
            case 2: rxDropped = newValue
            case 3: rxRingFull = newValue
            case 4: rxPoolEmpty = newValue
            case 5: txPackets = newValue
            case 6: txBytes = newValue
            default: txDropped = newValue
            }
        }
    }

    /// `rx_packets` → `lwaftr_device_rx_packets_total`.
    public static func metricName(_ stem: String) -> String { "lwaftr_device_\(stem)_total" }
}
