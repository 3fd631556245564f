public import NIOCore
import NIOHTTP1
public import NIOPosix

/// A small HTTP/1.1 server answering `GET /metrics` with the Prometheus exposition text,
/// `GET /healthz` with `ok` and, when given a status source, `GET /status` with its JSON
/// (`GET /status?format=text`: its human-readable form);
/// everything else gets 404.
public final class MetricsServer: Sendable {
    let channel: any Channel
    /// The port actually bound (useful when asked for port 0).
    public let port: Int

    /// Binds `host:port` on `group` and starts answering.
    public init(host: String, port: Int, exporter: MetricsExporter, status: (@Sendable (_ text: Bool) -> String)? = nil,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        channel = try await Self.bootstrap(group: group, exporter: exporter, status: status)
            .bind(host: host, port: port).get()
        self.port = channel.localAddress?.port ?? port
    }

    /// Stops listening.
    public func close() async throws {
        try await channel.close()
    }
}

final class MetricsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let exporter: MetricsExporter
    let status: (@Sendable (_ text: Bool) -> String)?

    init(exporter: MetricsExporter, status: (@Sendable (_ text: Bool) -> String)?) {
        self.exporter = exporter
        self.status = status
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let (status, body, type): (HTTPResponseStatus, String, String)
        switch (head.method, head.uri.split(separator: "?").first.map(String.init) ?? head.uri) {
        case (.GET, "/metrics"): (status, body, type) = (.ok, exporter.scrape(), "text/plain; version=0.0.4")
        case (.GET, "/healthz"): (status, body, type) = (.ok, "ok\n", "text/plain")
        case (.GET, "/status") where self.status != nil:
            let text = head.uri.contains("format=text")
            (status, body, type) = (.ok, self.status!(text), text ? "text/plain" : "application/json")
        default: (status, body, type) = (.notFound, "not found\n", "text/plain")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

extension MetricsServer {
    static func bootstrap(group: any EventLoopGroup, exporter: MetricsExporter,
                          status: (@Sendable (_ text: Bool) -> String)?) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MetricsHandler(exporter: exporter, status: status))
                }
            }
    }
}
