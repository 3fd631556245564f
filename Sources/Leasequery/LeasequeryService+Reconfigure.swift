public import LwAFTRCore
import BindingTable
import NIOCore

/// Live reconfiguration for `lwaftr run`'s SIGHUP reload: the server list and the
/// configuration's static softwires change without restarting the requestor.
extension LeasequeryService {
    /// Stops the sessions of servers no longer in `servers` and starts sessions for new ones;
    /// unchanged servers keep their sessions (a changed TLS setting counts as a new server).
    /// Bindings learnt from a removed server stay until their lease ends. Returns the servers
    /// added and removed (`host:port`). Throws (changing nothing) when a TLS file is unusable.
    public func updateServers(_ servers: [LeasequeryServerAddress]) async throws -> (added: [String], removed: [String]) {
        try await eventLoop.submit { try self.core.value.updateServers(servers) }.get()
    }

    /// Brings the configuration-owned (static) softwires from `old` to `new`: inserts or
    /// replaces those of `new`, deletes those only in `old` (unless a server learnt that key
    /// since). Learnt bindings are left alone. Returns (added or changed, removed, failed).
    public func updateStaticSoftwires(from old: [Softwire], to new: [Softwire]) async throws -> (changed: Int, removed: Int, failed: [String]) {
        try await eventLoop.submit { self.core.value.sync.updateStatic(from: old, to: new) }.get()
    }
}

extension ServiceCore {
    func updateServers(_ servers: [LeasequeryServerAddress]) throws -> (added: [String], removed: [String]) {
        let wanted = Set(servers)
        let have = Set(drivers.map(\.session.server))
        let new = servers.filter { !have.contains($0) }
        let contexts = try new.map { try $0.tls.map(Self.tlsContext) }  // fail before changing anything
        var removed: [String] = []
        drivers.removeAll { d in
            guard !wanted.contains(d.session.server) else { return false }
            d.stop()
            removed.append("\(d.session.server)")
            return true
        }
        // Owner ids are never reused: bindings of removed servers keep theirs until they expire.
        var next = drivers.map { Int($0.session.index) }.max() ?? -1
        for m in sync.meta.values where m.owner < BindingSync.staticOwner { next = max(next, Int(m.owner)) }
        next += 1
        var added: [String] = []
        for (s, tls) in zip(new, contexts) {
            guard next < Int(BindingSync.staticOwner) else { break }
            var cfg = config
            cfg.servers = Array(repeating: s, count: next + 1)
            let session = LeasequerySession(index: UInt16(next), configuration: cfg, sync: sync, logger: logger)
            session.keepOrphans = { [unowned self, unowned session] in
                drivers.contains { !$0.session.initialResyncDone && $0.session !== session }
            }
            let d = SessionDriver(loop: loop, session: session, tls: tls, logger: logger)
            d.onTableReplaced = { [unowned self] in publishStatus() }
            drivers.append(d)
            d.perform(session.start())
            added.append("\(s)")
            next += 1
        }
        publishStatus()
        return (added, removed)
    }
}

extension BindingSync {
    /// See `LeasequeryService.updateStaticSoftwires`.
    func updateStatic(from old: [Softwire], to new: [Softwire]) -> (changed: Int, removed: Int, failed: [String]) {
        var changed = 0, removed = 0
        var failed: [String] = []
        let newKeys = Set(new.map { softwireKey($0.ipv4.value, $0.psid) })
        for s in old {
            let key = softwireKey(s.ipv4.value, s.psid)
            guard !newKeys.contains(key), meta[key]?.owner == Self.staticOwner else { continue }
            meta[key] = nil
            if table.remove(ipv4: s.ipv4, psid: s.psid) { removed += 1 }
        }
        let oldSet = Set(old)
        for s in new {
            let key = softwireKey(s.ipv4.value, s.psid)
            if oldSet.contains(s), meta[key]?.owner == Self.staticOwner { continue }
            do {
                _ = try table.insert(s)
                meta[key] = Meta(owner: Self.staticOwner, expiry: 0)
                changed += 1
            } catch {
                failed.append("\(s.ipv4) psid \(s.psid): \(error)")
            }
        }
        return (changed, removed, failed)
    }
}
