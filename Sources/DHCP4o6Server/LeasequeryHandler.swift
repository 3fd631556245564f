import Logging
import NIOCore
import NIOSSL
import LwAFTRCore
import DHCPWire

/// One leasequery TCP connection (RFC 5460 bulk, RFC 7653 active, project profile
/// PROTOCOLS.md §7): de-frames requests, answers STARTTLS, streams bulk results with
/// back-pressure, and feeds an active query from the `LeaseStore` (catch-up, then live,
/// keep-alive when idle). Malformed or out-of-place messages are counted, logged, and end
/// the connection; nothing they carry is applied.
final class LeasequeryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// An outgoing item of an active query.
    enum Item { case record(SoftwireKey, UInt64), catchUpComplete }

    /// A bulk query being streamed: a snapshot of the leases taken when it arrived, encoded into
    /// records chunk by chunk as the socket drains.
    struct Bulk {
        var request: LeasequeryRequest
        var rows: BulkRows
        var fields: RecordFields
        var next = 0
        var replied = false
        var baseTime: UnixTime
    }

    /// Bytes of encoded records per socket write (one flush each) while streaming.
    static let chunkBytes = 256 << 10

    let core: ServerCore
    var context: ChannelHandlerContext?
    var deframer = FrameReader()
    var messagesSeen = 0
    var tlsStarted = false
    var closing = false
    var lastSent = NIODeadline.now()
    var lastReceived = NIODeadline.now()
    var unwritableSince: NIODeadline?
    var tickTask: Scheduled<Void>?

    var bulkQueue: [LeasequeryRequest] = []
    var bulk: Bulk?
    var pumping = false

    var active: LeasequeryRequest?
    var observer: Int?
    var queue: [Item] = []
    var queueHead = 0
    var latestSeq: [SoftwireKey: UInt64] = [:]
    var flushScheduled = false

    var lq: ServerConfig.Leasequery { core.cfg.raw.leasequery }

    init(core: ServerCore) { self.core = core }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        core.sessions[ObjectIdentifier(self)] = self
        core.stats.lqConnections += 1
        scheduleTick()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cleanup() }

    func channelInactive(context: ChannelHandlerContext) {
        cleanup()
        context.fireChannelInactive()
    }

    private func cleanup() {
        if let o = observer { core.store.removeObserver(o); observer = nil }
        tickTask?.cancel(); tickTask = nil
        core.sessions[ObjectIdentifier(self)] = nil
        closing = true
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        core.logger.info("leasequery connection error", metadata: ["error": "\(error)"])
        close()
    }

    // MARK: input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buf = unwrapInboundIn(data)
        deframer.append(buf.readableBytesView)
        lastReceived = .now()
        while !closing, let frame = deframer.nextMessage() { handle(frame) }
    }

    private func handle(_ frame: [UInt8]) {
        messagesSeen += 1
        let m: DHCPv6Message
        do { m = try DHCPv6Message.decode(frame) } catch {
            return protocolError("undecodable message: \(error)")
        }
        switch m.type {
        case .startTLS: startTLS(m)
        case .leasequery: bulkQuery(m)
        case .activeLeasequery: activeQuery(m)
        default: protocolError("message type \(m.type) not allowed on a leasequery connection")
        }
    }

    /// Counts, logs and closes (PROTOCOLS.md §7.2: anything else → close).
    func protocolError(_ why: String) {
        core.stats.lqMalformed += 1
        core.logger.notice("leasequery connection closed", metadata: ["reason": "\(why)"])
        close()
    }

    // MARK: STARTTLS (RFC 7653 §5.3, PROTOCOLS.md §7.2)

    private func startTLS(_ m: DHCPv6Message) {
        guard messagesSeen == 1, !tlsStarted else { return protocolError("STARTTLS not first") }
        var opts = [DHCPv6Option(code: .serverID, data: core.cfg.serverDUID)]
        if let c = m.clientID { opts.append(DHCPv6Option(code: .clientID, data: c)) }
        guard let tls = core.tls else {
            opts.append(try! DHCPv6Option(DHCPv6StatusCode(.tlsConnectionRefused, "TLS not configured")))
            sendRaw(DHCPv6Message(type: .reply, transactionID: m.transactionID, options: opts))
            flush()
            return
        }
        guard deframer.bufferedByteCount == 0, let context else { return protocolError("data pipelined after STARTTLS") }
        sendRaw(DHCPv6Message(type: .reply, transactionID: m.transactionID, options: opts))
        flush()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
            tlsStarted = true
            core.stats.lqTLSStarted += 1
        } catch {
            protocolError("TLS handler: \(error)")
        }
    }

    // MARK: output

    /// Frames and writes a message (not flushed).
    func sendRaw(_ m: DHCPv6Message) {
        guard let context, !closing else { return }
        do {
            let bytes = try TCPFraming.frame(try m.encode())
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            lastSent = .now()
        } catch {
            core.logger.error("cannot encode leasequery message", metadata: ["error": "\(error)"])
            close()
        }
    }

    func send(_ r: LeasequeryResponse) {
        do { sendRaw(try r.message()) } catch {
            core.logger.error("cannot encode leasequery response", metadata: ["error": "\(error)"])
            close()
        }
    }

    func flush() { context?.flush() }

    /// Appends `r` as a framed DATA message of `xid` to `buf`: the direct encoder, or the generic
    /// one for records it does not take. False (logged, connection closing) when encoding fails.
    @inline(__always)
    func appendData(_ r: LeaseRecord, xid: UInt32, to buf: inout ByteBuffer) -> Bool {
        if let n = LeaseRecordWriter.framedSize(r) {
            buf.writeWithUnsafeMutableBytes(minimumWritableBytes: n) { LeaseRecordWriter.writeData(r, xid: xid, to: $0.baseAddress!, size: n) }
            return true
        }
        do {
            buf.writeBytes(try LeasequeryResponse(kind: .data, transactionID: xid, payload: .record(r)).framed())
            return true
        } catch {
            core.logger.error("cannot encode leasequery record", metadata: ["error": "\(error)"])
            close()
            return false
        }
    }

    /// Writes encoded bytes (not flushed).
    func write(_ buf: ByteBuffer) {
        guard let context, !closing, buf.readableBytes > 0 else { return }
        context.write(wrapOutboundOut(buf), promise: nil)
        lastSent = .now()
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// Closes once everything written so far has gone out (or after the send timeout).
    func close() {
        guard let context, !closing else { return }
        closing = true
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: done)
        let loop = context.eventLoop.assumeIsolated()
        let fallback = loop.scheduleTask(in: .nanoseconds(Int64(lq.sendTimeoutSeconds * 1e9))) { context.close(promise: nil) }
        done.futureResult.assumeIsolated().whenComplete { _ in
            fallback.cancel()
            context.close(promise: nil)
        }
    }

    /// REPLY for a query: SERVERID, CLIENTID echo, optional status, base time and first payload.
    func reply(_ xid: UInt32, client: [UInt8]?, status: DHCPv6StatusCode? = nil, baseTime: UnixTime? = nil,
               payload: LeasequeryResponse.Payload = .none) -> LeasequeryResponse {
        LeasequeryResponse(kind: .reply, transactionID: xid, serverDUID: core.cfg.serverDUID, clientDUID: client,
                           status: status, baseTime: baseTime, payload: payload)
    }

    /// Server time for a message's base-time: never earlier than any change already stamped.
    func stampNow() -> UnixTime { UnixTime(seconds: core.store.stamp(now: core.now())) }

    // MARK: timers and back-pressure

    private func scheduleTick() {
        guard let context else { return }
        let period = min(lq.keepAliveSeconds, lq.idleTimeoutSeconds, lq.sendTimeoutSeconds, 4) / 4
        tickTask = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(max(period, 0.005) * 1e9))) {
            self.tick()
        }
    }

    private func tick() {
        guard !closing else { return }
        let now = NIODeadline.now()
        let secs = { (d: NIODeadline) in Double((now - d).nanoseconds) / 1e9 }
        if !isWritable {
            if unwritableSince == nil { unwritableSince = now }
            if let u = unwritableSince, secs(u) >= lq.sendTimeoutSeconds {
                core.logger.notice("leasequery send timeout: closing")
                return close()
            }
        } else if let q = active, queueHead == queue.count, secs(lastSent) >= lq.keepAliveSeconds {
            // Only with nothing queued: its 152 ("now") is then a safe resume point (§7.5).
            send(LeasequeryResponse(kind: .data, transactionID: q.transactionID,
                                    payload: .status(LeasequeryStatus(.connectionActive, baseTime: stampNow()))))
            flush()
            core.stats.lqKeepAlives += 1
        } else if active == nil, bulk == nil, secs(lastReceived) >= lq.idleTimeoutSeconds, secs(lastSent) >= lq.idleTimeoutSeconds {
            core.logger.info("idle leasequery connection closed")
            return close()
        }
        scheduleTick()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            unwritableSince = nil
            pumpBulk()
            flushQueue()
        } else if unwritableSince == nil {
            unwritableSince = .now()
        }
        context.fireChannelWritabilityChanged()
    }

    /// Server shutdown: DONE + QueryTerminated (both layers) + base time, then close.
    func terminate() {
        guard !closing else { return }
        if let xid = active?.transactionID ?? bulk?.request.transactionID {
            let now = stampNow()
            send(LeasequeryResponse(kind: .done, transactionID: xid, status: DHCPv6StatusCode(.queryTerminated, "server shutting down"),
                                    baseTime: now, payload: .done(LeasequeryStatus(.queryTerminated, baseTime: now))))
        }
        close()
    }
}
