import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Runs one `LeasequerySession` on an event loop: performs its actions with NIO (TCP connect,
/// writes, STARTTLS via `NIOSSLClientHandler`, close, reconnect timer) and feeds it the channel
/// events. Everything happens on `loop`.
final class SessionDriver {
    let loop: any EventLoop
    let session: LeasequerySession
    let tls: NIOSSLContext?
    let tlsHostname: String?
    let logger: Logger
    /// Open channels and the generation each belongs to.
    var channels: [ConnectionRole: (generation: Int, channel: any Channel)] = [:]
    /// Generation of the connection attempt the session currently wants, per role.
    var wanted: [ConnectionRole: Int] = [:]
    var reconnectTask: Scheduled<Void>?
    var onTableReplaced: () -> Void = {}

    init(loop: any EventLoop, session: LeasequerySession, tls: NIOSSLContext?, logger: Logger) {
        self.loop = loop
        self.session = session
        self.tls = tls
        self.logger = logger
        let s = session.server
        if let t = s.tls {
            let host = t.serverHostname ?? s.host
            // An IP literal cannot be an SNI name; NIOSSL then checks the IP SANs against the peer.
            tlsHostname = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
        } else {
            tlsHostname = nil
        }
    }

    func perform(_ actions: [SessionAction]) {
        for a in actions {
            switch a {
            case .connect(let role, let g): connect(role, generation: g)
            case .send(let role, let bytes):
                guard let ch = channels[role]?.channel else { continue }
                ch.writeAndFlush(ch.allocator.buffer(bytes: bytes), promise: nil)
            case .startTLS(let role): startTLS(role)
            case .close(let role):
                wanted[role] = nil
                channels.removeValue(forKey: role)?.channel.close(promise: nil)
            case .scheduleReconnect(let seconds):
                reconnectTask?.cancel()
                reconnectTask = loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { [self] in
                    reconnectTask = nil
                    perform(session.reconnectDue())
                }
            case .tableReplaced: onTableReplaced()
            }
        }
    }

    private func connect(_ role: ConnectionRole, generation g: Int) {
        wanted[role] = g
        let bound = NIOLoopBound(self, eventLoop: loop)
        let s = session.server
        let timeout = TimeAmount.nanoseconds(Int64(session.config.timers.connectTimeout * 1e9))
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 1 << 20))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(SessionChannelHandler(driver: bound.value, role: role, generation: g))
                }
            }
            .connect(host: s.host, port: s.port)
            .assumeIsolated()
            .whenFailure { [self] error in
                guard wanted[role] == g else { return }
                perform(session.connectFailed(role, generation: g, error: "\(error)"))
            }
    }

    private func startTLS(_ role: ConnectionRole) {
        guard let ch = channels[role]?.channel, let tls else { return }
        do {
            let h = try NIOSSLClientHandler(context: tls, serverHostname: tlsHostname)
            try ch.pipeline.syncOperations.addHandler(h, position: .first)
        } catch {
            let g = channels[role]!.generation
            perform(session.closed(role, generation: g, error: "TLS: \(error)"))
        }
    }

    // MARK: channel events (from `SessionChannelHandler`)

    func channelActive(_ role: ConnectionRole, generation g: Int, channel: any Channel) {
        guard wanted[role] == g else { channel.close(promise: nil); return }
        channels[role] = (g, channel)
        perform(session.connected(role, generation: g))
    }

    func received(_ role: ConnectionRole, generation g: Int, bytes: UnsafeRawBufferPointer) {
        perform(session.received(role, generation: g, bytes: bytes))
    }

    func channelClosed(_ role: ConnectionRole, generation g: Int, error: String?) {
        if channels[role]?.generation == g { channels[role] = nil }
        guard wanted[role] == g else { return }
        wanted[role] = nil
        perform(session.closed(role, generation: g, error: error))
    }

    /// Stops the session and closes its connections.
    func stop() {
        reconnectTask?.cancel()
        reconnectTask = nil
        perform(session.stop())
        for (_, c) in channels { c.channel.close(promise: nil) }
        channels.removeAll()
        wanted.removeAll()
    }
}

/// Forwards one connection's events to its `SessionDriver`, tagged with role and generation.
final class SessionChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let driver: SessionDriver
    let role: ConnectionRole
    let generation: Int

    init(driver: SessionDriver, role: ConnectionRole, generation: Int) {
        self.driver = driver; self.role = role; self.generation = generation
    }

    func channelActive(context: ChannelHandlerContext) {
        driver.channelActive(role, generation: generation, channel: context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buf = unwrapInboundIn(data)
        buf.withUnsafeReadableBytes { driver.received(role, generation: generation, bytes: $0) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver.channelClosed(role, generation: generation, error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        driver.channelClosed(role, generation: generation, error: "\(error)")
        context.close(promise: nil)
    }
}
