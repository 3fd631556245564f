import Logging
import LwAFTRCore
import DHCPWire

/// The DHCPv6 side of the UDP service (RFC 7341): unwraps relays, answers DHCPV4-QUERY with
/// DHCPV4-RESPONSE (plus S46_BR 90 and S46_BIND_IPV6_PREFIX 137 when the ORO asks, RFC 8539),
/// answers INFORMATION-REQUEST with OPTION_DHCP4_O_DHCP6_SERVER (88). Works on bytes only.
final class DHCP4o6Responder {
    /// RFC 8415 HOP_COUNT_LIMIT.
    static let hopCountLimit: UInt8 = 8

    let engine: DHCPv4Engine
    let cfg: ValidatedConfig
    let logger: Logger

    init(engine: DHCPv4Engine, logger: Logger) {
        self.engine = engine
        cfg = engine.cfg
        self.logger = logger
    }

    /// The reply datagram for one received datagram, or nil (dropped; counted in `engine.stats`).
    func handle(_ bytes: [UInt8], source: IPv6Address, now: UInt32) -> [UInt8]? {
        engine.stats.udpReceived += 1
        do {
            let m = try DHCPv6Message.decode(bytes)
            guard let reply = try answer(m, source: source, now: now, depth: 0) else { return nil }
            return try reply.encode()
        } catch {
            engine.stats.udpMalformed += 1
            logger.debug("malformed DHCPv6 datagram dropped", metadata: ["error": "\(error)", "from": "\(source)"])
            return nil
        }
    }

    private func answer(_ m: DHCPv6Message, source: IPv6Address, now: UInt32, depth: Int) throws -> DHCPv6Message? {
        switch m.type {
        case .relayForward:
            guard case .relay(let hops, let link, let peer) = m.header, hops < Self.hopCountLimit, depth < 32,
                  let inner = try m.value(RelayMessage.self)?.message else { throw DHCPWireError.invalid("relay message") }
            if depth == 0 { engine.stats.relayed += 1 }
            // The innermost peer-address is the client's own IPv6 source.
            let clientSource = inner.type.isRelay ? source : peer
            guard let r = try answer(inner, source: clientSource, now: now, depth: depth + 1) else { return nil }
            var opts = [try DHCPv6Option(RelayMessage(r))]
            if let iid = m.option(.interfaceID) { opts.insert(iid, at: 0) }
            return DHCPv6Message(relay: .relayReply, hopCount: hops, linkAddress: link, peerAddress: peer, options: opts)
        case .dhcpv4Query:
            let all = m.options(.dhcpv4Message)
            guard all.count == 1 else { throw DHCPWireError.invalid("DHCPV4-QUERY needs exactly one option 87") }
            let q = try DHCPv4MessageOption(optionData: all[0].data).message
            let oro = try m.value(OptionRequest.self)
            guard let r4 = engine.handle(q, source: source, now: now) else { return nil }
            var opts = [try DHCPv6Option(DHCPv4MessageOption(r4))]
            if oro?.contains(.s46BR) == true {
                for br in cfg.borderRouters { opts.append(try DHCPv6Option(S46BR(br))) }
            }
            if oro?.contains(.s46BindIPv6Prefix) == true, let p = IPv6Prefix(address: source, length: 64) {
                opts.append(try DHCPv6Option(S46BindIPv6Prefix(p)))
            }
            return DHCPv6Message(type: .dhcpv4Response, transactionID: 0, options: opts)
        case .informationRequest:
            let oro = try m.value(OptionRequest.self)
            var opts = [DHCPv6Option(code: .serverID, data: cfg.serverDUID)]
            if let c = m.option(.clientID) { opts.append(c) }
            if oro?.contains(.dhcp4oDHCP6Server) == true { opts.append(try DHCPv6Option(DHCP4oDHCP6Servers(cfg.dhcp4o6Servers))) }
            if oro?.contains(.s46BR) == true {
                for br in cfg.borderRouters { opts.append(try DHCPv6Option(S46BR(br))) }
            }
            return DHCPv6Message(type: .reply, transactionID: m.transactionID, options: opts)
        default:
            engine.stats.udpDropped += 1
            return nil
        }
    }
}
