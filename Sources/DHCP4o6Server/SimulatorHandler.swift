import Foundation
import NIOCore
import LwAFTRCore
import DHCPWire

/// The simulator's state machine, on the socket's event loop.
final class SimulatorHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    enum Phase { case leasing, churn, draining, done }
    enum Step { case idle, discover, request, renew, bound }

    struct Client {
        var step = Step.idle
        var xid: UInt32 = 0
        var message: [UInt8] = []
        var sentAt = NIODeadline.now()
        var tries = 0
        var key: SoftwireKey?
        var params: PortParams?
        var serverID: IPv4Address?
    }

    let cfg: SimulationConfig
    let done: EventLoopPromise<SimulationReport>
    var context: ChannelHandlerContext?
    var clients: [Client] = []
    var byXID: [UInt32: Int] = [:]
    var nextXID: UInt32 = 1
    var nextToStart = 0
    var inFlight = 0
    var phase = Phase.leasing
    var report = SimulationReport()
    var started = NIODeadline.now()
    var churnStart = NIODeadline.now()
    var churnCredit = 0.0
    var lastTick = NIODeadline.now()
    var rng: UInt64
    var boundKeys: [SoftwireKey: Int] = [:]

    init(_ cfg: SimulationConfig, done: EventLoopPromise<SimulationReport>) {
        self.cfg = cfg
        self.done = done
        rng = cfg.seed | 1
        clients = Array(repeating: Client(), count: cfg.clients)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        started = .now()
        fill()
        tick()
    }

    // MARK: messages

    func random() -> UInt64 { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng }

    /// A unique softwire /128 per client.
    func b4(_ i: Int) -> IPv6Address { IPv6Address(hi: 0x2001_0db8_0000_0000 | UInt64(i >> 16), lo: UInt64(i & 0xFFFF) << 16 | 1) }

    func send(_ i: Int, _ type: DHCPv4MessageType, unicast: Bool = false, release: Bool = false) {
        var c = clients[i]
        if c.xid != 0 { byXID[c.xid] = nil }
        c.xid = nextXID; nextXID &+= 1
        var o: [DHCPv4Option] = [.u8(.messageType, type.rawValue), B4Messages.clientID(UInt32(i)),
                                 DHCPv4Option(code: .parameterRequestList, data: [1, 51, 54, 159])]
        var ciaddr = IPv4Address(0)
        if type == .request || release {
            if c.step == .request {
                o.append(.u32(.requestedAddress, c.key!.ipv4.value))
                if let s = c.serverID { o.append(.u32(.serverID, s.value)) }
            } else {
                ciaddr = c.key!.ipv4
            }
            if let p = c.params { o.append(DHCPv4Option(code: .portParams, data: p.bytes)) }
            if !release { o.append(DHCPv4Message.s46SourceAddressOption(b4(i))) }
        }
        let m4 = DHCPv4Message(op: 1, xid: c.xid, ciaddr: ciaddr, options: o)
        c.message = try! B4Messages.query(m4, unicast: unicast)
        c.sentAt = .now(); c.tries = 1
        if !release { byXID[c.xid] = i }
        clients[i] = c
        transmit(c.message)
    }

    func transmit(_ bytes: [UInt8]) {
        guard let context else { return }
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: cfg.server, data: context.channel.allocator.buffer(bytes: bytes))), promise: nil)
        context.flush()
    }

    // MARK: replies

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        guard let m6 = try? DHCPv6Message.decode(Array(env.data.readableBytesView)), m6.type == .dhcpv4Response,
              let m4 = try? m6.value(DHCPv4MessageOption.self)?.message, let i = byXID[m4.xid] else { return }
        var c = clients[i]
        switch (c.step, m4.messageType) {
        case (.discover, .offer?):
            guard let pp = try? m4.portParams() else { return }
            c.key = SoftwireKey(ipv4: m4.yiaddr, psid: pp.psid); c.params = pp
            c.serverID = try? m4.address(.serverID)
            c.step = .request
            clients[i] = c
            send(i, .request)
        case (.request, .ack?), (.renew, .ack?):
            byXID[c.xid] = nil; c.xid = 0
            if c.step == .request {
                boundKeys[c.key!, default: 0] += 1
                if boundKeys[c.key!]! > 1 { report.conflicts += 1 }
                if c.params!.portSet.ranges(of: c.params!.psid).contains(where: { $0.lowerBound < 1024 }) { report.wellKnownPortLeases += 1 }
                if phase == .leasing { report.leased += 1 } else { report.newClients += 1 }
            } else {
                report.renewals += 1
            }
            c.step = .bound
            clients[i] = c
            finished()
        case (_, .nak?):
            report.naks += 1
            byXID[c.xid] = nil; c.xid = 0
            if c.step == .renew, let k = c.key { boundKeys[k, default: 1] -= 1 }
            c.step = .idle; c.key = nil
            clients[i] = c
            finished()
        default:
            return
        }
    }

    func finished() {
        inFlight -= 1
        fill()
    }

    /// Phase 1: keep `window` clients leasing until all have started.
    func fill() {
        guard phase == .leasing else { return checkDrained() }
        while inFlight < cfg.window && nextToStart < clients.count {
            clients[nextToStart].step = .discover
            inFlight += 1
            send(nextToStart, .discover)
            nextToStart += 1
        }
        if inFlight == 0 && nextToStart == clients.count {
            report.leaseSeconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
            phase = cfg.churnSeconds > 0 && cfg.churnRate > 0 ? .churn : .draining
            churnStart = .now(); lastTick = .now()
            checkDrained()
        }
    }
}
