public import LwAFTRCore
public import BindingTable
public import Logging
import NIOCore
import NIOPosix

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

    /// Builds the TLS context of every server that uses STARTTLS, so a configuration whose
    /// certificate or key files are unusable is refused before anything is stopped or changed.
    public static func checkTLS(_ configuration: LeasequeryConfiguration) throws {
        for s in configuration.servers { if let t = s.tls { _ = try ServiceCore.tlsContext(t) } }
    }

    /// Brings the configuration-owned (static) softwires from `old` to `new`: inserts or
    /// replaces those of `new`, deletes those only in `old` (unless a server learnt that key
    /// since). Learnt bindings are left alone. Returns (added or changed, removed, failed).
    public func updateStaticSoftwires(from old: [Softwire], to new: [Softwire]) async throws -> (changed: Int, removed: Int, failed: [String]) {
        try await eventLoop.submit { self.core.value.sync.updateStatic(from: old, to: new) }.get()
    }

    /// What `updateStaticSoftwires(from:to:)` would insert and remove now, changing nothing
    /// (a reload checks the inserts for port-set conflicts before it changes anything).
    public func plannedStaticChanges(from old: [Softwire], to new: [Softwire]) async throws -> (insert: [Softwire], remove: [Softwire]) {
        try await eventLoop.submit { self.core.value.sync.staticPlan(from: old, to: new) }.get()
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
            let d = addDriver(index: next, server: s, tls: tls)
            d.perform(d.session.start())
            added.append("\(s)")
            next += 1
        }
        publishStatus()
        return (added, removed)
    }
}

extension BindingSync {
    /// Makes `softwires` static: those the table holds already (same value) only change owner,
    /// the others are inserted (a refused one is logged). Other entries are left alone.
    func markStatic(_ softwires: [Softwire]) {
        let missing = softwires.filter { table.softwire(ipv4: $0.ipv4, psid: $0.psid) != $0 }
        let r = table.apply(insert: missing, remove: [])
        if let first = r.failed.first { logger.warning("static softwires not installed", metadata: ["count": "\(r.failed.count)", "first": "\(first)"]) }
        for s in softwires where table.softwire(ipv4: s.ipv4, psid: s.psid) == s {
            meta[softwireKey(s.ipv4.value, s.psid)] = Meta(owner: Self.staticOwner, expiry: 0)
        }
    }

    /// See `LeasequeryService.updateStaticSoftwires`.
    func updateStatic(from old: [Softwire], to new: [Softwire]) -> (changed: Int, removed: Int, failed: [String]) {
        let plan = staticPlan(from: old, to: new)
        return table.apply(insert: plan.insert, remove: plan.remove,
                           removed: { meta[softwireKey($0.ipv4.value, $0.psid)] = nil },
                           inserted: { meta[softwireKey($0.ipv4.value, $0.psid)] = Meta(owner: Self.staticOwner, expiry: 0) })
    }

    /// The statics only in `old` that are still static (removed), and the softwires of `new` to
    /// (re)insert: changed or new ones, or unchanged ones whose key is absent or an orphan. An
    /// unchanged static whose key a server has learnt since is left to the server's binding.
    func staticPlan(from old: [Softwire], to new: [Softwire]) -> (insert: [Softwire], remove: [Softwire]) {
        let newKeys = Set(new.map { softwireKey($0.ipv4.value, $0.psid) })
        let remove = old.filter { s in
            let key = softwireKey(s.ipv4.value, s.psid)
            return !newKeys.contains(key) && meta[key]?.owner == Self.staticOwner
        }
        let oldSet = Set(old)
        let insert = new.filter { s in
            guard oldSet.contains(s), let owner = meta[softwireKey(s.ipv4.value, s.psid)]?.owner else { return true }
            return owner == Self.orphanOwner  // static: unchanged; a server's: its binding stays
        }
        return (insert, remove)
    }
}
