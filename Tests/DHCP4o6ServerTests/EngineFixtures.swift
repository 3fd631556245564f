import Logging
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

/// Builds engines over in-memory (or on-disk) stores and DHCPv4 client messages.
struct Fixture {
    let engine: DHCPv4Engine
    var store: LeaseStore { engine.store }
    var now: UInt32 = 1_800_000_000
    static let source = IPv6Address("2001:db8:aa::1")!

    init(pools: [ServerConfig.Pool], configure: (inout ServerConfig) -> Void = { _ in }, directory: String? = nil) throws {
        var c = ServerConfig(dhcp: .init(address: "::1", port: 0), leasequery: .init(listen: .init(address: "::1", port: 0)), pools: pools)
        c.leaseDirectory = directory
        configure(&c)
        let v = try c.validated()
        let store = try LeaseStore(journal: try directory.map { try LeaseJournal(directory: $0, sync: false) })
        engine = DHCPv4Engine(cfg: v, store: store, logger: Logger(label: "test"))
    }

    static func clientID(_ n: Int) -> [UInt8] { [255, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, UInt8(n >> 8 & 255), UInt8(n & 255)] }
    static func b4(_ n: Int) -> IPv6Address { IPv6Address(hi: 0x2001_0db8_00b4_0000, lo: UInt64(n)) }

    static func message(_ type: DHCPv4MessageType, client n: Int, prl159: Bool = true, ciaddr: IPv4Address = IPv4Address(0),
                        requested: IPv4Address? = nil, serverID: IPv4Address? = nil, params: PortParams? = nil,
                        b4: IPv6Address? = nil) -> DHCPv4Message {
        var o: [DHCPv4Option] = [.u8(.messageType, type.rawValue), DHCPv4Option(code: .clientID, data: clientID(n)),
                                 DHCPv4Option(code: .parameterRequestList, data: prl159 ? [1, 51, 159] : [1, 51])]
        if let r = requested { o.append(.u32(.requestedAddress, r.value)) }
        if let s = serverID { o.append(.u32(.serverID, s.value)) }
        if let p = params { o.append(DHCPv4Option(code: .portParams, data: p.bytes)) }
        if let b = b4 { o.append(DHCPv4Message.s46SourceAddressOption(b)) }
        return DHCPv4Message(op: 1, xid: UInt32(n) | 0x1000_0000, ciaddr: ciaddr, options: o)
    }

    func send(_ m: DHCPv4Message, source: IPv6Address = Fixture.source) -> DHCPv4Message? {
        engine.handle(m, source: source, now: now)
    }

    /// DISCOVER → OFFER → REQUEST → ACK for client `n`; returns the ACK (or nil + the failing reply).
    @discardableResult
    func lease(_ n: Int, prl159: Bool = true, b4: IPv6Address? = nil, source: IPv6Address = Fixture.source) -> DHCPv4Message? {
        guard let offer = send(Fixture.message(.discover, client: n, prl159: prl159), source: source),
              offer.messageType == .offer else { return nil }
        let pp = try? offer.portParams()
        let ack = send(Fixture.message(.request, client: n, prl159: prl159, requested: offer.yiaddr,
                                       serverID: try? offer.address(.serverID), params: pp, b4: b4 ?? Fixture.b4(n)), source: source)
        return ack?.messageType == .ack ? ack : nil
    }

    static func key(_ ack: DHCPv4Message) -> SoftwireKey {
        SoftwireKey(ipv4: ack.yiaddr, psid: (try? ack.portParams())??.psid ?? 0)
    }
}
