import CShim
import Leasequery
import LwAFTRCore

/// `GET /status`: the runtime's state as one JSON object (what `lwaftr bindings status` prints).
///
/// ```json
/// {"uptime_seconds": 12.5, "io": "tun", "table_size": 3, "config": "/etc/lwaftr/lwaftr.json",
///  "reloads": 1, "reload_failures": 0, "last_reload_error": null,
///  "leasequery": {"all_live": true, "orphans": 0,
///    "counters": {"received": 4, "added": 2, "replaced": 1, "removed": 1, "absent": 0, "rejected_invalid": 0,
///                 "rejected_conflict": 0, "expired": 0, "resyncs": 1, "resync_records": 10, "gap_fills": 0},
///    "servers": [{"server": "[::1]:547", "state": "live", "resync": null, "t_last": 1764530000,
///                 "last_message_age": 0.4, "last_update_age": 1.2, "live_records": 4, "bulk_records": 10,
///                 "reconnects": 0, "resyncs": 1, "last_error": null, "tls": false}]}}
/// ```
/// `leasequery` is null when no requestor runs.
extension LwAFTRRuntime {
    public func statusJSON() -> String {
        let path = options.configPath
        let lastError = state.withLock { $0.lastReloadError }
        var o = JSONWriter()
        o.number("uptime_seconds", Double(cshim_monotonic_ns() &- started) / 1e9)
        o.string("io", options.io.rawValue)
        o.int("table_size", table.count)
        o.string("config", path)
        o.int("reloads", reloads)
        o.int("reload_failures", reloadFailures)
        o.string("last_reload_error", lastError)
        if let s = leasequery?.currentStatus ?? lastLeasequeryStatus.withLock({ $0 }) {
            o.raw("leasequery", Self.leasequeryJSON(s))
        } else {
            o.raw("leasequery", "null")
        }
        return o.close() + "\n"
    }

    static func leasequeryJSON(_ s: SyncStatus) -> String {
        var o = JSONWriter()
        o.raw("all_live", s.allLive ? "true" : "false")
        o.int("table_size", s.tableSize)
        o.int("orphans", s.orphans)
        let c = s.counters
        var cj = JSONWriter()
        for (k, v) in [("received", c.received), ("added", c.added), ("replaced", c.replaced), ("removed", c.removed),
                       ("absent", c.absent), ("rejected_invalid", c.rejectedInvalid), ("rejected_conflict", c.rejectedConflict),
                       ("expired", c.expired), ("resyncs", c.resyncs), ("resync_records", c.resyncRecords),
                       ("gap_fills", c.gapFills), ("snapshots_written", c.snapshotsWritten)] {
            cj.int(k, v)
        }
        o.raw("counters", cj.close())
        var servers: [String] = []
        for x in s.sessions {
            var w = JSONWriter()
            w.string("server", x.server)
            w.string("state", x.phase.rawValue)
            w.string("resync", x.resync)
            if let t = x.tLast { w.int("t_last", Int(t)) } else { w.raw("t_last", "null") }
            w.number("last_message_age", x.lastMessageAge)
            w.number("last_update_age", x.lastRecordAge)
            w.int("live_records", x.liveRecords)
            w.int("bulk_records", x.bulkRecords)
            w.int("reconnects", x.reconnects)
            w.int("resyncs", x.resyncs)
            w.number("last_resync_seconds", x.lastResyncSeconds)
            w.string("last_error", x.lastError)
            w.raw("tls", x.tls ? "true" : "false")
            servers.append(w.close())
        }
        o.raw("servers", "[" + servers.joined(separator: ", ") + "]")
        return o.close()
    }
}

/// Builds one flat JSON object.
struct JSONWriter {
    private var parts: [String] = []

    mutating func raw(_ key: String, _ value: String) { parts.append(JSONConfig.quote(key) + ": " + value) }
    mutating func int(_ key: String, _ v: Int) { raw(key, String(v)) }
    mutating func string(_ key: String, _ v: String?) { raw(key, v.map(JSONConfig.quote) ?? "null") }
    mutating func number(_ key: String, _ v: Double?) {
        guard let v, v.isFinite else { return raw(key, "null") }
        raw(key, String((v * 1000).rounded() / 1000))
    }
    func close() -> String { "{" + parts.joined(separator: ", ") + "}" }
}

extension LwAFTRRuntime {
    /// The status for people (`lwaftr bindings status`).
    public func statusText() -> String {
        var out = "lwaftr: up \(Int(Double(cshim_monotonic_ns() &- started) / 1e9)) s, io \(options.io.rawValue), "
            + "\(table.count) softwires, reloads \(reloads) (failed \(reloadFailures))\n"
        if let e = state.withLock({ $0.lastReloadError }) { out += "last reload error: \(e)\n" }
        guard let s = leasequery?.currentStatus ?? lastLeasequeryStatus.withLock({ $0 }) else {
            return out + "leasequery: not configured\n"
        }
        let c = s.counters
        out += "leasequery: \(s.allLive ? "in sync" : "NOT in sync"), \(s.orphans) unclaimed; records received \(c.received), "
            + "applied \(c.applied) (added \(c.added), replaced \(c.replaced), removed \(c.removed)), "
            + "rejected \(c.rejected) (invalid \(c.rejectedInvalid), conflict \(c.rejectedConflict)), expired \(c.expired), "
            + "resyncs \(c.resyncs)\n"
        for x in s.sessions {
            func age(_ a: Double?) -> String { a.map { "\(Int($0.rounded())) s ago" } ?? "never" }
            out += "  \(x.server)\(x.tls ? " (tls)" : ""): \(x.phase.rawValue)\(x.resync.map { " + \($0) resync" } ?? ""), "
                + "last update \(age(x.lastRecordAge)), last message \(age(x.lastMessageAge)), "
                + "records \(x.liveRecords) live / \(x.bulkRecords) bulk, reconnects \(x.reconnects), resyncs \(x.resyncs), "
                + "T_last \(x.tLast.map(String.init) ?? "none")"
                + (x.lastError.map { ", last error: \($0)" } ?? "") + "\n"
        }
        return out
    }
}
