import Synchronization
import NIOCore
import NIOPosix

/// A loopback TCP proxy between the requestor and a leasequery server that can cut a
/// connection in the middle of a server → requestor message (it follows the 2-byte framing), or
/// refuse connections while `blocked`. The upstream port may change (server restarts).
final class CuttingProxy: Sendable {
    let group: any EventLoopGroup
    let listener: any Channel
    let upstream: Mutex<(host: String, port: Int)>
    let pendingCuts = Mutex(0)
    let cutsDone = Mutex(0)
    let blockedFlag = Mutex(false)
    let live = Mutex<[ObjectIdentifier: any Channel]>([:])

    var port: Int { listener.localAddress!.port! }

    private init(group: any EventLoopGroup, listener: any Channel, upstream: (String, Int)) {
        self.group = group; self.listener = listener; self.upstream = Mutex(upstream)
    }

    static func start(upstreamHost: String, upstreamPort: Int, group: any EventLoopGroup) async throws -> CuttingProxy {
        let box = ProxyBox()
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    guard let p = box.m.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    try ch.pipeline.syncOperations.addHandler(DownHandler(proxy: p))
                }
            }
            .bind(host: "::1", port: 0).get()
        let p = CuttingProxy(group: group, listener: listener, upstream: (upstreamHost, upstreamPort))
        box.m.withLock { $0 = p }
        return p
    }

    /// Cuts the next server → requestor message in the middle (once per call).
    func cutMidMessage() { pendingCuts.withLock { $0 += 1 } }

    /// While blocked, new connections are closed at once and open ones are cut.
    func setBlocked(_ b: Bool) {
        blockedFlag.withLock { $0 = b }
        if b { for c in live.withLock({ Array($0.values) }) { c.close(promise: nil) } }
    }

    var cuts: Int { cutsDone.withLock { $0 } }

    func takeCut() -> Bool {
        pendingCuts.withLock { n in
            guard n > 0 else { return false }
            n -= 1
            return true
        }
    }

    func close() async { try? await listener.close() }
}

/// Requestor side: connects upstream, then relays both ways.
private final class DownHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let proxy: CuttingProxy
    var upstream: (any Channel)?
    var pending: [ByteBuffer] = []

    init(proxy: CuttingProxy) { self.proxy = proxy }

    func channelActive(context: ChannelHandlerContext) {
        let down = context.channel
        if proxy.blockedFlag.withLock({ $0 }) { context.close(promise: nil); return }
        proxy.live.withLock { $0[ObjectIdentifier(down)] = down }
        let (host, port) = proxy.upstream.withLock { ($0.host, $0.port) }
        let proxy = self.proxy
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { up in
                up.eventLoop.makeCompletedFuture { try up.pipeline.syncOperations.addHandler(UpHandler(proxy: proxy, down: down)) }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                let me = bound.value
                switch result {
                case .success(let up):
                    me.upstream = up
                    for b in me.pending { up.write(b, promise: nil) }
                    me.pending.removeAll()
                    up.flush()
                    down.setOption(.autoRead, value: true).whenComplete { _ in down.read() }
                case .failure:
                    down.close(promise: nil)
                }
            }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        if let up = upstream { up.writeAndFlush(b, promise: nil) } else { pending.append(b) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        proxy.live.withLock { $0[ObjectIdentifier(context.channel)] = nil }
        upstream?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// Server side: relays to the requestor, tracking frame boundaries so a cut lands mid-message.
private final class UpHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let proxy: CuttingProxy
    let down: any Channel
    /// Bytes of the current frame's 2-byte header seen (0 or 1), its first byte, and body bytes left.
    var headerSeen = 0, headerHigh = 0, bodyLeft = 0

    init(proxy: CuttingProxy, down: any Channel) { self.proxy = proxy; self.down = down }

    /// Advances the framing state over `bytes`.
    func track(_ bytes: ByteBufferView) {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bodyLeft > 0 {
                let n = min(bodyLeft, bytes.endIndex - i)
                bodyLeft -= n; i += n
            } else if headerSeen == 0 {
                headerHigh = Int(bytes[i]); headerSeen = 1; i += 1
            } else {
                bodyLeft = headerHigh << 8 | Int(bytes[i]); headerSeen = 0; i += 1
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var b = unwrapInboundIn(data)
        // A cut point strictly inside a frame: within the current body, or 3 bytes into the next frame.
        var cut: Int? = nil
        if bodyLeft >= 2 { cut = min(b.readableBytes - 1, bodyLeft - 1) } else if bodyLeft == 0 && headerSeen == 0 && b.readableBytes >= 4 { cut = 3 }
        if let c = cut, c >= 1, proxy.takeCut() {
            let part = b.readSlice(length: c)!
            let d = down
            d.writeAndFlush(part).whenComplete { _ in d.close(promise: nil) }
            proxy.cutsDone.withLock { $0 += 1 }
            context.close(promise: nil)
            return
        }
        track(b.readableBytesView)
        down.writeAndFlush(b, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        down.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

private final class ProxyBox: Sendable {
    let m = Mutex<CuttingProxy?>(nil)
}
