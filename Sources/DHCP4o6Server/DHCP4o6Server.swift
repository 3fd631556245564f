// DHCP4o6Server — the reference DHCP 4o6 server behind `dhcp4o6d`.
//
// What a leasequery requestor (the lwAFTR's `Leasequery` module) can rely on, per connection:
//   • Bulk, no window (LEASEQUERY{ORO 100; 87{14}}): REPLY{SERVERID, CLIENTID, 100 = snapshot time,
//     87 = first record} → DATA{87}… → DONE{100, 87{DHCPLEASEQUERYDONE, 152}}; only DHCPLEASEACTIVE
//     records, exactly the active leases at the moment the query arrived, in no particular order.
//     No leases: a REPLY without 87 and no DONE. Several bulk queries on one connection run in order.
//   • Bulk with a window (154 and/or 155): the current state of every (IPv4, PSID) whose last change
//     lies in the window, ACTIVE or UNASSIGNED (156 = 3 expired / 4 released / 5 declined), in
//     change order. A window starting before the server's history: REPLY{13 = DataMissing, 100}.
//   • Active (ACTIVELEASEQUERY, needs `leasequery.active`, and TLS unless `allowInsecure`):
//     REPLY{100 if asked} → with 154: catch-up = current state of every key changed at/after 154, in
//     change order, then DATA{87{DHCPLEASEQUERYSTATUS 151 = 7 CatchUpComplete, 152}} → live records
//     in change order. A key that changes again before it was sent is sent once, at its place in the
//     order of its latest change. Idle: DATA{87{17, 151 = 6 ConnectionActive, 152}} every
//     `keepAliveSeconds`. 154 before the history: REPLY{13 = DataMissing, 100}, then live only.
//     Shutdown: DONE{13 = QueryTerminated, 100, 87{DHCPLEASEQUERYDONE 151 = 2}} and close.
//   • Every record's 152 is the server time of the change it carries (never a later "now"), and
//     stamps never decrease, so resuming from the highest 152 seen (minus a margin) loses nothing.
//   • Records carry 152, 159 (shared addresses), 109 (B4) always; 51, 61, 91, 153, 156 when in the PRL.
//   • Errors: malformed request → REPLY with the DHCPv6 status (bulk connections stay open, active
//     ones close); undecodable frames or message types other than 14/22/23 → close.
//   • STARTTLS (first message): REPLY without status then a TLS handshake requiring a client
//     certificate from `tls.trustRoots`; without TLS configured, REPLY{13 = TLSConnectionRefused}.

public import Logging
public import NIOCore
import NIOPosix
import LwAFTRCore
public import DHCPWire

/// The reference DHCP 4o6 server: DHCPV4-QUERY/RESPONSE on UDP (RFC 7341) with RFC 7618 shared
/// IPv4 + PSID pools and RFC 8539 softwire sources, a persistent lease store, and the project's
/// leasequery service on TCP (bulk + active + catch-up, optional STARTTLS).
///
/// All state lives on one event loop. `start` binds both sockets (port 0 picks a free port;
/// read the bound ports from `udpAddress` / `leasequeryAddress`); `stop` ends leasequery sessions
/// with QueryTerminated, writes a final lease snapshot and closes everything it opened.
public final class DHCP4o6Server: Sendable {
    public let udpAddress: SocketAddress
    public let leasequeryAddress: SocketAddress?
    let core: NIOLoopBound<ServerCore>
    let loop: any EventLoop
    let channels: [any Channel]
    let ownedGroup: MultiThreadedEventLoopGroup?
    let sweepTask: RepeatedTask

    private init(udpAddress: SocketAddress, leasequeryAddress: SocketAddress?, core: NIOLoopBound<ServerCore>,
                 loop: any EventLoop, channels: [any Channel], ownedGroup: MultiThreadedEventLoopGroup?, sweepTask: RepeatedTask) {
        self.udpAddress = udpAddress; self.leasequeryAddress = leasequeryAddress; self.core = core
        self.loop = loop; self.channels = channels; self.ownedGroup = ownedGroup; self.sweepTask = sweepTask
    }

    /// Validates `config`, loads the lease store and binds the sockets. With no `group` the server
    /// runs its own one-thread event loop. `changeObserver` (instrumentation: latency benchmarks)
    /// is called on the server loop with the record of every committed lease change, before any
    /// leasequery session sends it.
    public static func start(config: ServerConfig, clock: any ServerClock = SystemClock(),
                             logger: Logger = Logger(label: "dhcp4o6d"),
                             group: (any EventLoopGroup)? = nil,
                             changeObserver: (@Sendable (LeaseRecord) -> Void)? = nil) async throws -> DHCP4o6Server {
        let cfg = try config.validated()
        let owned = group == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loop = (group ?? owned!).next()
        var channels: [any Channel] = []
        do {
            let core = try await loop.submit {
                let c = try ServerCore(loop: loop, cfg: cfg, clock: clock, logger: logger)
                if let changeObserver { _ = c.store.observe { changeObserver($0.record) } }
                return NIOLoopBound(c, eventLoop: loop)
            }.get()
            let udp = try await DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
                .channelOption(.maxMessagesPerRead, value: 32)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(UDPHandler(core: core.value)) }
                }
                .bind(host: config.dhcp.address, port: config.dhcp.port).get()
            channels.append(udp)
            var lqAddress: SocketAddress?
            if config.leasequery.enabled {
                let lq = config.leasequery
                let tcp = try await ServerBootstrap(group: loop)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelOption(.backlog, value: 64)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20))
                    .childChannelInitializer { ch in
                        ch.eventLoop.makeCompletedFuture {
                            let c = core.value
                            guard c.sessions.count < lq.maxConnections, !c.stopping else {
                                c.stats.lqRefusedConnections += 1
                                c.logger.notice("leasequery connection refused: limit \(lq.maxConnections)")
                                ch.close(promise: nil)
                                return
                            }
                            try ch.pipeline.syncOperations.addHandler(LeasequeryHandler(core: c))
                        }
                    }
                    .bind(host: lq.listen.address, port: lq.listen.port).get()
                channels.append(tcp)
                lqAddress = tcp.localAddress
            }
            let sweep = loop.scheduleRepeatedTask(initialDelay: .milliseconds(Int64(config.sweepSeconds * 1000)),
                                                  delay: .milliseconds(Int64(config.sweepSeconds * 1000))) { _ in core.value.sweep() }
            logger.info("dhcp4o6d listening", metadata: ["udp": "\(udp.localAddress!)", "leasequery": "\(lqAddress.map { "\($0)" } ?? "off")"])
            return DHCP4o6Server(udpAddress: udp.localAddress!, leasequeryAddress: lqAddress, core: core, loop: loop,
                                 channels: channels, ownedGroup: owned, sweepTask: sweep)
        } catch {
            for c in channels { try? await c.close() }
            try? await owned?.shutdownGracefully()
            throw error
        }
    }

    /// Terminates sessions, snapshots the store, closes the sockets and (if owned) the event loop.
    public func stop() async throws {
        sweepTask.cancel()
        try await loop.submit { self.core.value.shutdown() }.get()
        for c in channels { try? await c.close() }
        // Let session DONE messages drain (bounded by the send timeout inside each session).
        try await loop.flatSubmit { () -> EventLoopFuture<Void> in
            let futures = self.core.value.sessions.values.compactMap { $0.context?.channel.closeFuture }
            return EventLoopFuture.andAllComplete(futures, on: self.loop)
        }.get()
        try await ownedGroup?.shutdownGracefully()
    }

    /// Runs `body` on the server loop with the core.
    func withCore<T: Sendable>(_ body: @escaping @Sendable (ServerCore) throws -> T) async throws -> T {
        try await loop.submit { try body(self.core.value) }.get()
    }

    /// Counters since start.
    public func stats() async throws -> ServerStats { try await withCore { $0.stats } }

    /// The active leases as leasequery records (what a full bulk query returns), in key order.
    public func activeRecords() async throws -> [LeaseRecord] { try await withCore { $0.store.active().map(\.record) } }

    /// Runs the expiry/offer/history sweep now (tests with a `ManualClock`).
    public func sweep() async throws { try await withCore { $0.sweep() } }
}
