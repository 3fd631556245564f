public import LwAFTRCore

/// How `lwaftr run` attaches to the network and what else it runs beside the packet workers.
public struct RunOptions: Sendable {
    /// How frames get in and out.
    public enum IOMode: String, Sendable, CaseIterable {
        /// Two TUN devices (one per side): the kernel routes the lwAFTR's IPv4 prefixes and
        /// br-addresses into them; one queue per worker.
        case tun
        /// AF_PACKET rings on two Ethernet interfaces the lwAFTR owns; PACKET_FANOUT per worker.
        case afPacket = "af-packet"
    }

    public var workers = 1
    public var io: IOMode = .tun
    /// TUN device names (tun mode) or interface names (af-packet mode), per side.
    public var externalDevice = "lwaftr4"
    public var internalDevice = "lwaftr6"
    /// Routes the lwAFTR installs towards its TUN devices (tun mode): the shared IPv4 prefixes and
    /// the br-addresses.
    public var ipv4Routes: [(IPv4Address, Int)] = []
    public var ipv6Routes: [(IPv6Address, Int)] = []
    /// Address to put on the IPv6 TUN device (lets the kernel answer NDP for the br-address on its
    /// access interface when it is configured there instead).
    public var mtu4: Int? = nil
    public var mtu6: Int? = nil
    /// `host:port` for the Prometheus endpoint, or nil.
    public var metricsListen: (host: String, port: Int)? = nil
    /// Binding-table snapshot loaded at start and written at shutdown.
    public var snapshotPath: String? = nil
    /// Stop after this many seconds (tests, benchmarks); nil runs until SIGTERM/SIGINT.
    public var duration: Double? = nil
    /// Busy-poll instead of sleeping in poll(2) when idle.
    public var busyPoll = false
    /// First CPU to pin workers to (worker i → cpu base + i); nil leaves placement to the kernel.
    public var pinBaseCPU: Int? = nil
    /// Packets per receive batch per side.
    public var batch = 64

    public init() {}
}
