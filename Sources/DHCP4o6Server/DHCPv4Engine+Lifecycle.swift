import LwAFTRCore
import DHCPWire

extension DHCPv4Engine {
    // MARK: REQUEST (selecting, init-reboot, renewing, rebinding)

    func request(_ req: Request, source: IPv6Address, now: UInt32) -> DHCPv4Message? {
        let c = req.client
        guard let pools = candidatePools(req) else { stats.discardedNoPortParams += 1; return nil }
        if let sid = req.serverID {                                       // SELECTING
            guard sid == cfg.serverIdentifier else {
                if let k = offerByClient.removeValue(forKey: c) { offers[k] = nil; allocator.recycle(k) }
                stats.udpDropped += 1
                return nil
            }
            guard let a = req.requested else { return nak(req, "DHCPREQUEST without requested address") }
            let key = resolveKey(a, req)
            let offered = offers[key].map { $0.client == c && $0.expires > now } ?? false
            let own = store[key].map { $0.state == .active && $0.clientKey == c } ?? false
            guard offered || own, portParamsMatch(key, req), suits(key, pools) else { return nak(req, "not offered to this client") }
            return commit(key, req, source: source, now: now)
        }
        if let a = req.requested, req.m.ciaddr.value == 0 {              // INIT-REBOOT (RFC 7618 §4)
            let key = resolveKey(a, req)
            guard allocator.pool(for: key) != nil, portParamsMatch(key, req), suits(key, pools) else {
                return nak(req, "address/port set not valid here")
            }
            guard let l = store[key] else { stats.udpDropped += 1; return nil }   // no record: stay silent
            if l.clientKey == c {
                if let s = l.clientSource, s != source { return nak(req, "DHCP 4o6 IPv6 source changed") }
                guard l.state == .active || isFree(key, for: c, now: now) else { return nak(req, "lease no longer available") }
                return commit(key, req, source: source, now: now)
            }
            if l.state == .active { return nak(req, "address/port set leased to another client") }
            stats.udpDropped += 1
            return nil
        }
        guard req.m.ciaddr.value != 0 else { stats.udpMalformed += 1; return nil }
        let key = resolveKey(req.m.ciaddr, req)                          // RENEWING / REBINDING
        if let l = store[key], l.clientKey == c, l.state == .active || isFree(key, for: c, now: now),
           portParamsMatch(key, req), suits(key, pools) {
            return commit(key, req, source: source, now: now)
        }
        if allocator.pool(for: key) != nil { return nak(req, "no lease for \(key)") }
        stats.udpDropped += 1
        return nil
    }

    /// Grants or extends the lease on `key` and answers DHCPACK with 109 (RFC 8539), or NAK.
    func commit(_ key: SoftwireKey, _ req: Request, source: IPv6Address, now: UInt32) -> DHCPv4Message? {
        let c = req.client
        let pool = allocator.pool(for: key)!
        let existing = store[key]
        let renewing = existing.map { $0.state == .active && $0.clientKey == c } ?? false
        var b4 = req.b4 ?? (renewing ? existing?.b4 : nil) ?? source
        if let owner = store.key(b4: b4), owner != key {
            stats.b4Conflicts += 1
            guard renewing, let old = existing?.b4 else { return nak(req, "softwire source \(b4) is bound to another lease") }
            b4 = old
        }
        if renewing, let e = existing, let old = e.b4, old != b4, now &- e.b4Changed < cfg.raw.b4UpdateMinimumSeconds {
            b4 = old
        }
        if let other = store.key(client: c), other != key, var ol = store[other], ol.state == .active, ol.clientKey == c {
            ol.state = .released; ol.stateStart = now                      // one lease per client
            do { try store.commit(ol, now: now) } catch { return storeFailed(error) }
            allocator.recycle(other)
        }
        let lease = Lease(key: key, portParams: pool.portParams(psid: key.psid), state: .active, clientKey: c,
                          clientID: req.m.option(.clientID)?.data, b4: b4, clientSource: source,
                          expiry: now &+ cfg.raw.leaseSeconds, cltt: now,
                          stateStart: renewing ? existing!.stateStart : now,
                          b4Changed: renewing && existing!.b4 == b4 ? existing!.b4Changed : now,
                          lastChange: now, changeSeq: 0)
        let stored: Lease
        do { stored = try store.commit(lease, now: now) } catch { return storeFailed(error) }
        offers[key] = nil
        if offerByClient[c] != nil { offerByClient[c] = nil }
        stats.acks += 1
        return reply(.ack, to: req, key: key, lease: stored)
    }

    private func storeFailed(_ error: any Error) -> DHCPv4Message? {
        stats.storeErrors += 1
        logger.error("lease store write failed; request dropped", metadata: ["error": "\(error)"])
        return nil
    }

    func nak(_ req: Request, _ why: String) -> DHCPv4Message {
        stats.naks += 1
        logger.debug("DHCPNAK", metadata: ["reason": "\(why)"])
        var r = reply(.nak, to: req, key: nil, lease: nil)
        r.set(DHCPv4Option(code: .message, data: Array(why.utf8.prefix(255))))
        return r
    }

    // MARK: RELEASE, DECLINE

    func release(_ req: Request, now: UInt32) {
        let key = resolveKey(req.m.ciaddr, req)
        guard var l = store[key], l.state == .active, l.clientKey == req.client else { stats.udpDropped += 1; return }
        l.state = .released; l.stateStart = now; l.cltt = now
        do { try store.commit(l, now: now) } catch { _ = storeFailed(error); return }
        allocator.recycle(key)
        stats.releases += 1
    }

    func decline(_ req: Request, now: UInt32) {
        guard let a = req.requested else { stats.udpMalformed += 1; return }
        let key = resolveKey(a, req)
        guard var l = store[key], l.state == .active, l.clientKey == req.client else { stats.udpDropped += 1; return }
        l.state = .declined; l.stateStart = now; l.expiry = now &+ cfg.raw.declineSeconds
        do { try store.commit(l, now: now) } catch { _ = storeFailed(error); return }
        quarantined.append((l.expiry, key))
        stats.declines += 1
        logger.warning("DHCPDECLINE: key quarantined", metadata: ["key": "\(key)"])
    }

    // MARK: timers

    /// Expires leases, lapses offers and quarantines, purges old tombstones, compacts the journal.
    func sweep(now: UInt32) {
        do {
            for l in try store.expire(now: now) { allocator.recycle(l.key); stats.expired += 1 }
            for (k, o) in offers where o.expires <= now {
                offers[k] = nil
                if offerByClient[o.client] == k { offerByClient[o.client] = nil }
                allocator.recycle(k)
            }
            quarantined.removeAll { q in
                guard q.until <= now else { return false }
                allocator.recycle(q.key)
                return true
            }
            let history = cfg.raw.historySeconds
            if now > history { try store.purge(before: now - history) { $0.state == .declined && $0.expiry > now } }
            try store.compactIfNeeded()
        } catch {
            _ = storeFailed(error)
        }
    }

    // MARK: replies

    /// A server reply echoing xid, flags, giaddr, chaddr and 61; lease options for OFFER/ACK.
    func reply(_ type: DHCPv4MessageType, to req: Request, key: SoftwireKey?, lease: Lease?) -> DHCPv4Message {
        let m = req.m
        var r = DHCPv4Message(op: 2, xid: m.xid, htype: m.htype, hlen: m.hlen, chaddr: m.chaddr,
                              giaddr: m.giaddr, flags: m.flags, options: [.u8(.messageType, type.rawValue)])
        r.chaddr = m.chaddr
        r.options.append(.u32(.serverID, cfg.serverIdentifier.value))
        if type == .ack && m.messageType == .inform { r.ciaddr = m.ciaddr }
        if let key, type == .offer || type == .ack {
            r.yiaddr = key.ipv4
            if type == .ack { r.ciaddr = m.ciaddr }
            let t = cfg.raw.leaseSeconds
            r.options += [.u32(.leaseTime, t), .u32(.renewalTime, t / 2), .u32(.rebindingTime, t / 8 * 7)]
            if m.requests(.subnetMask) { r.options.append(.u32(.subnetMask, 0xFFFF_FFFF)) }
            if req.wants159, let pp = allocator.pool(for: key)?.portParams(psid: key.psid) {
                r.options.append(DHCPv4Option(code: .portParams, data: pp.bytes))
            }
        }
        if let c = m.option(.clientID) { r.options.append(c) }
        if type == .ack, let b4 = lease?.b4 { r.options.append(DHCPv4Message.s46SourceAddressOption(b4)) }
        return r
    }
}
