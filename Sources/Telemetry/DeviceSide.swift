public import PacketIO

/// Which device of a worker: the IPv4 (internet) side or the IPv6 (B4) side.
public enum DeviceSide: Int, Sendable, CaseIterable {
    case external = 0
    case `internal` = 1

    /// The `side` label value.
    public var label: String { self == .external ? "external" : "internal" }
}

extension IOStats {
    /// `rx_packets` → `lwaftr_device_rx_packets_total`.
    public static func metricName(_ field: String) -> String { "lwaftr_device_\(field)_total" }
}
