import Foundation
import Logging
import NIOCore
import NIOPosix
import LwAFTRCore
import DHCPWire
import BindingTable
import DHCP4o6Server
import Leasequery

/// The reference server (`DHCP4o6Server`) on loopback for end-to-end tests: started on its own
/// event loop group so it can be *killed* (group shut down: no DONE, sockets just close) and
/// restarted on the same ports with the same lease directory.
final class TestServer {
    var config: ServerConfig
    let clock: any ServerClock
    var server: DHCP4o6Server
    var group: MultiThreadedEventLoopGroup
    var running = true

    static func serverConfig(pools: [ServerConfig.Pool] = [.init(prefix: "192.0.2.0/24", psidLength: 6)], dir: String? = nil,
                             _ configure: (inout ServerConfig) -> Void = { _ in }) -> ServerConfig {
        var lq = ServerConfig.Leasequery(listen: .init(address: "::1", port: 0))
        lq.active = true
        lq.allowInsecure = true
        lq.keepAliveSeconds = 1
        var c = ServerConfig(dhcp: .init(address: "::1", port: 0), leasequery: lq, pools: pools)
        c.leaseDirectory = dir
        c.borderRouters = [Fx.br.description]
        configure(&c)
        return c
    }

    init(_ config: ServerConfig, clock: any ServerClock = SystemClock()) async throws {
        self.config = config
        self.clock = clock
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        server = try await Self.launch(config, clock, group)
        self.config.dhcp.port = server.udpAddress.port!
        self.config.leasequery.listen.port = server.leasequeryAddress!.port!
    }

    static func launch(_ c: ServerConfig, _ clock: any ServerClock, _ group: MultiThreadedEventLoopGroup) async throws -> DHCP4o6Server {
        var logger = Logger(label: "test-dhcp4o6d")
        logger.logLevel = .critical
        return try await DHCP4o6Server.start(config: c, clock: clock, logger: logger, group: group)
    }

    var lqPort: Int { config.leasequery.listen.port }
    var udpAddress: SocketAddress { server.udpAddress }

    /// Abrupt end: the event loop group goes away with the sockets; no QueryTerminated is sent.
    func kill() async {
        guard running else { return }
        running = false
        try? await group.shutdownGracefully()
    }

    /// Graceful end: DONE + QueryTerminated to every session, final lease snapshot.
    func stop() async {
        guard running else { return }
        running = false
        try? await server.stop()
        try? await group.shutdownGracefully()
    }

    /// Starts again on the same ports (and lease directory).
    func restart() async throws {
        if running { await kill() }
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var lastError: (any Error)?
        for _ in 0..<50 {                            // the old sockets may linger a moment
            do {
                server = try await Self.launch(config, clock, group)
                running = true
                return
            } catch {
                lastError = error
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        throw lastError!
    }

    /// Leases `n` clients through the UDP service (optionally churning afterwards).
    func lease(_ n: Int, churnRate: Double = 0, churnSeconds: Double = 0, seed: UInt64 = 1) async throws -> SimulationReport {
        try await Self.lease(udp: udpAddress, n, churnRate: churnRate, churnSeconds: churnSeconds, seed: seed)
    }

    /// `lease` for a fixed UDP address (usable from another task while the server restarts).
    static func lease(udp: SocketAddress, _ n: Int, churnRate: Double = 0, churnSeconds: Double = 0,
                      seed: UInt64 = 1) async throws -> SimulationReport {
        var sc = SimulationConfig(server: udp, clients: n)
        sc.seed = seed
        sc.churnRate = churnRate
        sc.churnSeconds = churnSeconds
        return try await B4Simulator.run(sc, group: MultiThreadedEventLoopGroup.singleton)
    }

    func activeRecords() async throws -> [LeaseRecord] { try await server.activeRecords() }
}

extension Fx {
    /// A requestor for `port` on ::1 with short test timers.
    static func service(port: Int, table: BindingTable, tls: LeasequeryTLSOptions? = nil,
                        _ configure: (inout LeasequeryConfiguration) -> Void = { _ in },
                        observer: (@Sendable (BindingRecord, ApplyOutcome) -> Void)? = nil) async throws -> LeasequeryService {
        try await LeasequeryService.start(configuration: config(port: port, tls: tls, configure), table: table, logger: quiet,
                                          observer: observer)
    }

    /// Waits until the table equals the server's active leases and every session is live.
    static func synced(_ table: BindingTable, _ server: TestServer, _ lq: LeasequeryService, timeout: Double = 20) async throws -> Bool {
        try await eventually(timeout: timeout, every: 0.05) {
            guard server.running, lq.currentStatus.allLive else { return false }
            return rows(table) == rows(try await server.activeRecords())
        }
    }

    /// Differences between the table and the server's store: missing, extra, wrong B4/params.
    static func diff(_ table: BindingTable, _ records: [LeaseRecord]) -> (missing: Int, extra: Int, wrong: Int) {
        let want = Dictionary(rows(records).map { (UInt64($0.ipv4) << 16 | UInt64($0.psid), $0) }, uniquingKeysWith: { a, _ in a })
        let have = Dictionary(rows(table).map { (UInt64($0.ipv4) << 16 | UInt64($0.psid), $0) }, uniquingKeysWith: { a, _ in a })
        let missing = want.keys.filter { have[$0] == nil }.count
        let extra = have.keys.filter { want[$0] == nil }.count
        let wrong = want.filter { k, v in have[k].map { $0 != v } ?? false }.count
        return (missing, extra, wrong)
    }

    static func tempDir(_ tag: String) throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("lq-\(tag)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}
