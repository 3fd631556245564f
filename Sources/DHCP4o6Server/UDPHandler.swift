import NIOCore
import LwAFTRCore
import DHCPWire

/// UDP 547 (configurable): hands each datagram to the `DHCP4o6Responder` and sends the reply to
/// the datagram's source. IPv4 sources are seen as IPv4-mapped IPv6 addresses.
final class UDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let core: ServerCore
    private var pendingFlush = false

    init(core: ServerCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        let bytes = Array(env.data.readableBytesView)
        guard let reply = core.responder.handle(bytes, source: env.remoteAddress.ipv6Address, now: core.now()) else { return }
        let out = context.channel.allocator.buffer(bytes: reply)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: env.remoteAddress, data: out)), promise: nil)
        pendingFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if pendingFlush { pendingFlush = false; context.flush() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        core.logger.debug("UDP error", metadata: ["error": "\(error)"])
    }
}

extension SocketAddress {
    /// The address as IPv6 (IPv4 as ::ffff:a.b.c.d; unix sockets as ::).
    var ipv6Address: LwAFTRCore.IPv6Address {
        switch self {
        case .v6(let a):
            var s = a.address.sin6_addr
            return withUnsafeBytes(of: &s) { b in
                var hi: UInt64 = 0, lo: UInt64 = 0
                for i in 0..<8 { hi = hi << 8 | UInt64(b[i]) }
                for i in 8..<16 { lo = lo << 8 | UInt64(b[i]) }
                return LwAFTRCore.IPv6Address(hi: hi, lo: lo)
            }
        case .v4(let a):
            return LwAFTRCore.IPv6Address(hi: 0, lo: 0xFFFF_0000_0000 | UInt64(UInt32(bigEndian: a.address.sin_addr.s_addr)))
        default:
            return LwAFTRCore.IPv6Address(hi: 0, lo: 0)
        }
    }
}
