public import NIOCore
import NIOPosix
import LwAFTRCore
import DHCPWire

/// Settings of a `B4Simulator` run.
public struct SimulationConfig: Sendable {
    /// The server's UDP address.
    public var server: SocketAddress
    /// Clients that obtain a lease in phase 1.
    public var clients: Int
    /// Transactions in flight at once.
    public var window = 256
    /// Churn operations per second in phase 2 (renew 50 %, release 25 %, new client 25 %).
    public var churnRate: Double = 0
    /// Length of phase 2.
    public var churnSeconds: Double = 0
    /// Retransmission timeout and attempts per message.
    public var timeoutSeconds: Double = 1
    public var attempts = 4
    public var seed: UInt64 = 1

    public init(server: SocketAddress, clients: Int) { self.server = server; self.clients = clients }
}

/// What a simulation did; `conflicts` and `wellKnownPortLeases` must be 0 for a correct server.
public struct SimulationReport: Sendable, CustomStringConvertible {
    public var leased = 0
    public var failed = 0
    public var leaseSeconds = 0.0
    public var renewals = 0
    public var releases = 0
    public var newClients = 0
    public var naks = 0
    public var retransmissions = 0
    public var churnSeconds = 0.0
    /// Bound clients sharing one (IPv4, PSID).
    public var conflicts = 0
    /// Leases whose port set contains a port below 1024.
    public var wellKnownPortLeases = 0
    /// Clients bound at the end.
    public var bound = 0

    public var leasesPerSecond: Double { leaseSeconds > 0 ? Double(leased) / leaseSeconds : 0 }

    public var description: String {
        "leased \(leased) in \(String(format: "%.2f", leaseSeconds)) s (\(Int(leasesPerSecond)) leases/s), failed \(failed); "
            + "churn \(String(format: "%.1f", churnSeconds)) s: renew \(renewals) release \(releases) new \(newClients) "
            + "nak \(naks); retransmissions \(retransmissions); bound \(bound); conflicts \(conflicts); "
            + "well-known-port leases \(wellKnownPortLeases)"
    }
}

/// The B4 client simulator behind `dhcp4o6d simulate` (load generator for step 5): N DHCP 4o6
/// clients obtain shared-address leases over UDP (DISCOVER → OFFER → REQUEST → ACK with 159 and
/// 109), then renew, release and add clients at a given rate for a bounded time.
public enum B4Simulator {
    /// Runs a simulation to completion; the socket is closed before returning.
    public static func run(_ config: SimulationConfig, group: any EventLoopGroup) async throws -> SimulationReport {
        let loop = group.next()
        let local = config.server.protocol == .inet6 ? "::1" : "127.0.0.1"
        let done = loop.makePromise(of: SimulationReport.self)
        let ch = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(.maxMessagesPerRead, value: 32)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(SimulatorHandler(config, done: done)) }
            }
            .bind(host: local, port: 0).get()
        do {
            let report = try await done.futureResult.get()
            try await ch.close()
            return report
        } catch {
            try? await ch.close()
            throw error
        }
    }
}

/// Messages every simulated or agent B4 sends.
enum B4Messages {
    /// The client identifier of B4 number `n`: a DHCPv4 RFC 4361 DUID-LL client id.
    static func clientID(_ n: UInt32) -> DHCPv4Option {
        DHCPv4Option(code: .clientID, data: [255, 0, 0, 0, 1, 0, 3, 0, 1, 0x02, 0xB4,
                                             UInt8(n >> 24), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)])
    }

    /// `m4` wrapped in a DHCPV4-QUERY asking for the BR option (RFC 7341), unicast flag as given.
    static func query(_ m4: DHCPv4Message, unicast: Bool) throws -> [UInt8] {
        try DHCPv6Message(type: .dhcpv4Query, transactionID: unicast ? DHCPv6Message.unicastFlag : 0, options: [
            try DHCPv6Option(OptionRequest([DHCPv6OptionCode.s46BR.rawValue])), try DHCPv6Option(DHCPv4MessageOption(m4)),
        ]).encode()
    }
}
