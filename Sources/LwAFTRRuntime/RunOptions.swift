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
        /// No data plane: the control lane (leasequery, reload) and metrics only.
        case none
    }

    public var workers = 1
    /// Network namespace (a name under /run/netns) to open the devices in; nil = the current one.
    public var namespace: String? = nil
    public var io: IOMode = .tun
    /// TUN device names (tun mode) or interface names (af-packet mode), per side.
    public var externalDevice = "lwaftr4"
    public var internalDevice = "lwaftr6"
    /// Routes the lwAFTR installs towards its TUN devices (tun mode): the shared IPv4 prefixes and
    /// the br-addresses.
    public var ipv4Routes: [(IPv4Address, Int)] = []
    public var ipv6Routes: [(IPv6Address, Int)] = []
    public var mtu4: Int? = nil
    public var mtu6: Int? = nil
    /// `host:port` for the Prometheus endpoint (and `/status`), or nil.
    public var metricsListen: (host: String, port: Int)? = nil
    /// Configuration file re-read on reload (SIGHUP); nil = reload unavailable.
    public var configPath: String? = nil
    /// Leasequery servers added to the configuration's (`--leasequery`, repeatable).
    public var extraLeasequeryServers: [LeasequeryServerConfig] = []
    /// Binding-table snapshot (`--snapshot`): overrides `leasequery.snapshot`; without leasequery
    /// it is loaded at start and written at shutdown.
    public var snapshotPath: String? = nil
    /// Stop after this many seconds (tests, benchmarks); nil runs until SIGTERM/SIGINT.
    public var duration: Double? = nil
    /// Busy-poll instead of sleeping in poll(2) when idle.
    public var busyPoll = false
    /// AF_PACKET receive ring per side per worker: block size in bytes and block count (nil: the
    /// PacketRing defaults, 256 KiB × 32). Larger rings absorb longer bursts.
    public var ringBlockSize: Int? = nil
    public var ringBlocks: Int? = nil
    /// First CPU to pin workers to (worker i → cpu base + i); nil leaves placement to the kernel.
    public var pinBaseCPU: Int? = nil
    /// Packets per receive batch per side.
    public var batch = 64

    public init() {}

    /// `config` with the command-line additions applied (servers appended, snapshot overridden).
    public func effective(_ config: LwAFTRConfig) -> LwAFTRConfig {
        var c = config
        if !extraLeasequeryServers.isEmpty {
            var lq = c.leasequery ?? LeasequeryConfig()
            for s in extraLeasequeryServers where !lq.servers.contains(where: { $0.description == s.description }) {
                lq.servers.append(s)
            }
            c.leasequery = lq
        }
        if let p = snapshotPath, c.leasequery != nil { c.leasequery?.snapshot = p }
        return c
    }
}
