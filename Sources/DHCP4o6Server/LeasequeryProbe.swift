public import NIOCore
import NIOPosix
public import NIOSSL
public import DHCPWire

/// A minimal leasequery requestor: the test and diagnostic client of the reference server
/// (used by the tests, `dhcp4o6d query` and the bulk-rate measurement). Not the lwAFTR's
/// requestor (that is the `Leasequery` module); it speaks the same profile through `DHCPWire`.
public final class LeasequeryProbe: Sendable {
    /// Why a probe call failed.
    public enum ProbeError: Error, Sendable { case timeout, closed, tlsRefused(DHCPv6StatusCode?), unexpected(String) }

    let channel: any Channel
    let handler: NIOLoopBound<ProbeHandler>

    private init(channel: any Channel, handler: NIOLoopBound<ProbeHandler>) { self.channel = channel; self.handler = handler }

    /// Connects over TCP.
    public static func connect(host: String, port: Int, group: any EventLoopGroup) async throws -> LeasequeryProbe {
        let loop = group.next()
        let added = loop.makePromise(of: NIOLoopBound<ProbeHandler>.self)
        let ch = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    let h = ProbeHandler()
                    try ch.pipeline.syncOperations.addHandler(h)
                    added.succeed(NIOLoopBound(h, eventLoop: ch.eventLoop))
                }
            }
            .connect(host: host, port: port).get()
        return LeasequeryProbe(channel: ch, handler: try await added.futureResult.get())
    }

    /// Writes raw bytes (already framed).
    public func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Writes a request.
    public func send(_ request: LeasequeryRequest) async throws { try await send(bytes: request.framed()) }

    /// The next de-framed message; nil once the server closed the connection.
    public func nextFrame(timeout: TimeAmount = .seconds(10)) async throws -> [UInt8]? {
        try await channel.eventLoop.flatSubmit { self.handler.value.next(timeout: timeout) }.get()
    }

    /// The next message decoded as a leasequery response; nil once closed.
    public func next(timeout: TimeAmount = .seconds(10)) async throws -> LeasequeryResponse? {
        guard let f = try await nextFrame(timeout: timeout) else { return nil }
        return try LeasequeryResponse.decode(f)
    }

    /// Collects responses on the event loop until `stop` returns true for one (included) or the
    /// connection closes; fast enough for 100 k-record bulk streams.
    public func collect(timeout: TimeAmount = .seconds(60),
                        until stop: @escaping @Sendable (LeasequeryResponse) -> Bool) async throws -> [LeasequeryResponse] {
        try await channel.eventLoop.flatSubmit { self.handler.value.collect(timeout: timeout, until: stop) }.get()
    }

    /// Runs one bulk query: REPLY, DATA…, DONE (or a REPLY alone when empty or refused).
    public func bulk(_ request: LeasequeryRequest, timeout: TimeAmount = .seconds(60)) async throws -> [LeasequeryResponse] {
        try await send(request)
        let xid = request.transactionID
        return try await collect(timeout: timeout) { r in
            guard r.transactionID == xid else { return false }
            if r.kind == .done { return true }
            if r.kind == .reply, case .none = r.payload { return true }   // empty or error: no DONE follows
            return false
        }
    }

    /// STARTTLS (23) → REPLY (7); without a status the TLS handshake starts (client certificate
    /// from `tls`). Throws `tlsRefused` when the server answers with a status.
    public func startTLS(_ tls: TLSConfiguration, transactionID: UInt32, serverHostname: String? = nil) async throws {
        try await send(bytes: TCPFraming.frame(DHCPv6Message(type: .startTLS, transactionID: transactionID).encode()))
        guard let f = try await nextFrame() else { throw ProbeError.closed }
        let r = try DHCPv6Message.decode(f)
        guard r.type == .reply, r.transactionID == transactionID else { throw ProbeError.unexpected("\(r.type)") }
        if let s = try r.value(DHCPv6StatusCode.self), s.status != .success { throw ProbeError.tlsRefused(s) }
        let ctx = try NIOSSLContext(configuration: tls)
        try await channel.eventLoop.submit {
            let h = try NIOSSLClientHandler(context: ctx, serverHostname: serverHostname)
            try self.channel.pipeline.syncOperations.addHandler(h, position: .first)
        }.get()
    }

    /// Closes the connection.
    public func close() async { try? await channel.close() }

    /// Whether the server closed the connection (after draining what it sent).
    public func isClosedByServer() async throws -> Bool { try await channel.eventLoop.submit { self.handler.value.closed }.get() }
}

/// De-frames inbound bytes and hands frames to one waiting caller at a time.
final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var deframer = FrameReader()
    var frames: [[UInt8]] = []
    var head = 0
    var closed = false
    var waiter: (EventLoopPromise<[UInt8]?>, Scheduled<Void>)?
    var collector: (EventLoopPromise<[LeasequeryResponse]>, Scheduled<Void>, [LeasequeryResponse], @Sendable (LeasequeryResponse) -> Bool)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deframer.append(unwrapInboundIn(data).readableBytesView)
        while let f = deframer.nextMessage() { frames.append(f) }
        deliver()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        deliver()
        context.fireChannelInactive()
    }

    func next(timeout: TimeAmount) -> EventLoopFuture<[UInt8]?> {
        let loop = waiterLoop!
        let p = loop.makePromise(of: [UInt8]?.self)
        let t = loop.assumeIsolated().scheduleTask(in: timeout) { p.fail(LeasequeryProbe.ProbeError.timeout); self.waiter = nil }
        waiter = (p, t)
        deliver()
        return p.futureResult
    }

    func collect(timeout: TimeAmount, until stop: @escaping @Sendable (LeasequeryResponse) -> Bool) -> EventLoopFuture<[LeasequeryResponse]> {
        let loop = waiterLoop!
        let p = loop.makePromise(of: [LeasequeryResponse].self)
        let t = loop.assumeIsolated().scheduleTask(in: timeout) { p.fail(LeasequeryProbe.ProbeError.timeout); self.collector = nil }
        collector = (p, t, [], stop)
        deliver()
        return p.futureResult
    }

    var waiterLoop: (any EventLoop)?
    func handlerAdded(context: ChannelHandlerContext) { waiterLoop = context.eventLoop }

    private func deliver() {
        if var c = collector {
            collector = nil          // keep `c.2` uniquely referenced: appends must not copy the array
            while head < frames.count {
                let f = frames[head]; head += 1
                do {
                    let r = try LeasequeryResponse.decode(f)
                    c.2.append(r)
                    if c.3(r) { c.1.cancel(); c.0.succeed(c.2); return compact() }
                } catch {
                    c.1.cancel(); c.0.fail(error); return compact()
                }
            }
            if closed { c.1.cancel(); c.0.succeed(c.2) } else { collector = c }
        } else if let (p, t) = waiter {
            if head < frames.count {
                let f = frames[head]; head += 1
                waiter = nil; t.cancel(); p.succeed(f)
            } else if closed {
                waiter = nil; t.cancel(); p.succeed(nil)
            }
        }
        compact()
    }

    private func compact() {
        if head == frames.count { frames.removeAll(keepingCapacity: true); head = 0 }
    }
}
