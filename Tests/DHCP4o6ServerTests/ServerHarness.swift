import Foundation
import Logging
import NIOCore
import NIOPosix
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

/// Starts servers on ::1 with ephemeral ports and talks to them; every test stops what it starts.
enum Harness {
    static let group = MultiThreadedEventLoopGroup.singleton
    static let requestor = DUIDOption.linkLayer([2, 0, 0, 0, 0, 1])

    static func config(pools: [ServerConfig.Pool] = [.init(prefix: "192.0.2.0/26", psidLength: 6)],
                       dir: String? = nil, _ configure: (inout ServerConfig) -> Void = { _ in }) -> ServerConfig {
        var lq = ServerConfig.Leasequery(listen: .init(address: "::1", port: 0))
        lq.active = true
        lq.allowInsecure = true
        var c = ServerConfig(dhcp: .init(address: "::1", port: 0), leasequery: lq, pools: pools)
        c.leaseDirectory = dir
        c.borderRouters = ["2001:db8:ffff::1"]
        c.dhcp4o6Servers = ["2001:db8::547"]
        configure(&c)
        return c
    }

    static func start(_ c: ServerConfig, clock: any ServerClock = SystemClock()) async throws -> DHCP4o6Server {
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        return try await DHCP4o6Server.start(config: c, clock: clock, logger: logger)
    }

    /// Runs `body` with a started server and always stops it.
    static func withServer<T>(_ c: ServerConfig, clock: any ServerClock = SystemClock(),
                              _ body: (DHCP4o6Server) async throws -> T) async throws -> T {
        let s = try await start(c, clock: clock)
        do {
            let r = try await body(s)
            try await s.stop()
            return r
        } catch {
            try? await s.stop()
            throw error
        }
    }

    static func probe(_ s: DHCP4o6Server) async throws -> LeasequeryProbe {
        try await LeasequeryProbe.connect(host: "::1", port: s.leasequeryAddress!.port!, group: group)
    }

    /// Leases `n` clients through the UDP service with the simulator.
    static func lease(_ s: DHCP4o6Server, clients n: Int, seed: UInt64 = 1) async throws -> SimulationReport {
        var sc = SimulationConfig(server: s.udpAddress, clients: n)
        sc.seed = seed
        return try await B4Simulator.run(sc, group: group)
    }

    /// Sends one datagram to the server and waits for one reply (nil after `timeout`).
    static func exchange(_ s: DHCP4o6Server, _ bytes: [UInt8], timeout: TimeAmount = .milliseconds(500)) async throws -> [UInt8]? {
        let loop = group.next()
        let p = loop.makePromise(of: [UInt8]?.self)
        let ch = try await DatagramBootstrap(group: loop)
            .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(OneReply(p)) } }
            .bind(host: "::1", port: 0).get()
        loop.scheduleTask(in: timeout) { p.succeed(nil) }
        try await ch.writeAndFlush(AddressedEnvelope(remoteAddress: s.udpAddress, data: ch.allocator.buffer(bytes: bytes)))
        let r = try await p.futureResult.get()
        try await ch.close()
        return r
    }

    final class OneReply: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let p: EventLoopPromise<[UInt8]?>
        init(_ p: EventLoopPromise<[UInt8]?>) { self.p = p }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            p.succeed(Array(unwrapInboundIn(data).data.readableBytesView))
        }
    }

    static func records(_ rs: [LeasequeryResponse]) -> [LeaseRecord] {
        rs.compactMap { if case .record(let r) = $0.payload { r } else { nil } }
    }
}
