import Logging
import LwAFTRCore
import DHCPWire

/// The DHCPv4 server logic (RFC 2131 lease lifecycle, RFC 7618 shared addresses, RFC 8539
/// softwire source) over a `LeaseStore` and a `PoolAllocator`. Pure: no sockets, time passed in.
final class DHCPv4Engine {
    struct Offer { var client: [UInt8]; var expires: UInt32 }

    /// A request's fields, validated up front so a malformed option never half-applies.
    struct Request {
        let m: DHCPv4Message
        let client: [UInt8]
        let wants159: Bool
        let portParams: PortParams?
        let b4: IPv6Address?
        let requested: IPv4Address?
        let serverID: IPv4Address?

        init?(_ m: DHCPv4Message) {
            guard m.op == 1, m.messageType != nil else { return nil }
            if let c = m.option(.clientID)?.data, c.count >= 2 {
                client = c
            } else if m.hlen > 0, m.hlen <= 16 {
                client = [m.htype] + m.chaddr.prefix(Int(m.hlen))
            } else {
                return nil
            }
            do {
                portParams = try m.portParams()
                b4 = try m.s46SourceAddress()
                requested = try m.address(.requestedAddress)
                serverID = try m.address(.serverID)
            } catch { return nil }
            self.m = m
            wants159 = m.requests(.portParams)
        }
    }

    let cfg: ValidatedConfig
    let store: LeaseStore
    let allocator: PoolAllocator
    let logger: Logger
    var stats = ServerStats()
    var offers: [SoftwireKey: Offer] = [:]
    var offerByClient: [[UInt8]: SoftwireKey] = [:]
    var quarantined: [(until: UInt32, key: SoftwireKey)] = []

    init(cfg: ValidatedConfig, store: LeaseStore, logger: Logger) {
        self.cfg = cfg
        self.store = store
        self.logger = logger
        allocator = PoolAllocator(pools: cfg.pools)
    }

    /// Answers one DHCPv4 message from a client whose DHCP 4o6 IPv6 source is `source`; nil = no reply.
    func handle(_ m: DHCPv4Message, source: IPv6Address, now: UInt32) -> DHCPv4Message? {
        guard let req = Request(m) else {
            stats.udpMalformed += 1
            logger.debug("malformed DHCPv4 message dropped", metadata: ["xid": "\(m.xid)"])
            return nil
        }
        switch m.messageType! {
        case .discover: stats.discovers += 1; return discover(req, now: now)
        case .request: stats.requests += 1; return request(req, source: source, now: now)
        case .release: release(req, now: now); return nil
        case .decline: decline(req, now: now); return nil
        case .inform: stats.informs += 1; return reply(.ack, to: req, key: nil, lease: nil)
        default: stats.udpDropped += 1; return nil
        }
    }

    // MARK: pools and keys

    /// Pools a request may be served from (RFC 7618 §5.1); nil = discard the request.
    func candidatePools(_ req: Request) -> [Int]? {
        if req.wants159 {
            let hint = req.requested == nil ? req.portParams?.psidLength ?? 0 : 0
            let shared = cfg.sharedPoolIndices.sorted { (cfg.pools[$0].portSet.psidLength == hint ? 0 : 1) < (cfg.pools[$1].portSet.psidLength == hint ? 0 : 1) }
            let all = shared + (cfg.raw.honourPortParamsWithFullAddress ? cfg.fullPoolIndices : [])
            return all.isEmpty ? nil : all
        }
        return cfg.fullPoolIndices.isEmpty ? nil : cfg.fullPoolIndices
    }

    func suits(_ key: SoftwireKey, _ pools: [Int]) -> Bool {
        guard let p = allocator.pool(for: key) else { return false }
        return pools.contains(p.index)
    }

    /// Whether `key` may be given to `client` now (not leased, offered to someone else or quarantined).
    func isFree(_ key: SoftwireKey, for client: [UInt8], now: UInt32) -> Bool {
        if let o = offers[key], o.expires > now, o.client != client { return false }
        guard let l = store[key] else { return true }
        switch l.state {
        case .active: return false
        case .declined: return l.expiry <= now
        case .released, .expired: return true
        }
    }

    /// The key a REQUEST/RELEASE/DECLINE names: the address plus the PSID of its 159, or the
    /// client's own lease/offer at that address when 159 is absent.
    func resolveKey(_ a: IPv4Address, _ req: Request) -> SoftwireKey {
        if let pp = req.portParams, pp.psidLength > 0 { return SoftwireKey(ipv4: a, psid: pp.psid) }
        for k in [store.key(client: req.client), offerByClient[req.client]] {
            if let k, k.ipv4 == a { return k }
        }
        return SoftwireKey(ipv4: a, psid: 0)
    }

    /// The 159 a client sent must match the pool's parameters.
    func portParamsMatch(_ key: SoftwireKey, _ req: Request) -> Bool {
        guard let pool = allocator.pool(for: key) else { return false }
        guard let pp = req.portParams, pp.psidLength > 0 else { return true }
        return pool.isShared && pp.offset == pool.portSet.offset && pp.psidLength == pool.portSet.psidLength
    }

    // MARK: DISCOVER

    func discover(_ req: Request, now: UInt32) -> DHCPv4Message? {
        guard let pools = candidatePools(req) else {
            stats.discardedNoPortParams += 1
            return nil
        }
        let c = req.client
        var key: SoftwireKey?
        if let k = store.key(client: c), let l = store[k], l.state == .active, l.clientKey == c, suits(k, pools) {
            key = k                                                     // current binding
        } else if let k = offerByClient[c], let o = offers[k], o.client == c, o.expires > now, suits(k, pools) {
            key = k                                                     // outstanding offer
        } else if let k = store.key(client: c), suits(k, pools), isFree(k, for: c, now: now) {
            key = k                                                     // previous (expired/released) binding
        }
        if key == nil, let a = req.requested {                          // requested address + 159
            let k = resolveKey(a, req)
            if suits(k, pools), portParamsMatch(k, req), isFree(k, for: c, now: now) { key = k }
        }
        if key == nil { key = allocator.allocate(from: pools) { isFree($0, for: c, now: now) } }
        guard let key else {
            stats.exhausted += 1
            logger.warning("pools exhausted: DISCOVER not answered", metadata: ["pools": "\(pools)"])
            return nil
        }
        if let old = offerByClient[c], old != key { offers[old] = nil; allocator.recycle(old) }
        offers[key] = Offer(client: c, expires: now &+ cfg.raw.offerSeconds)
        offerByClient[c] = key
        stats.offers += 1
        return reply(.offer, to: req, key: key, lease: nil)
    }
}
