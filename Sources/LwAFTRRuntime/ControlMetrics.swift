import Leasequery
import PacketEngine
import Prometheus
import Synchronization
import Telemetry

/// Mirrors monotonically growing values (sync counters, reload counts) into Prometheus
/// counters: each sample adds the growth since the previous one. A value that went down started
/// again from zero (requestor restarted by a reload, server re-added): all of it is new growth.
final class CounterMirror: Sendable {
    let exporter: MetricsExporter
    private let last = Mutex<[String: Int64]>([:])

    init(exporter: MetricsExporter) { self.exporter = exporter }

    func set(_ name: String, _ labels: [(String, String)] = [], to value: Int) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = last.withLock { seen -> Int64 in
            let now = Int64(value), before = seen[key] ?? 0
            seen[key] = now
            return now >= before ? now - before : now
        }
        let c = exporter.counter(name, labels: labels)
        if delta > 0 { c.increment(by: delta) }
    }
}

extension LwAFTRRuntime {
    /// Samples control-lane state into the registry (called before every scrape).
    ///
    /// - `lwaftr_binding_table_softwires` (gauge)
    /// - `lwaftr_reloads_total`, `lwaftr_reload_failures_total`
    /// - `lwaftr_icmp_errors_generated_total`, `lwaftr_icmp_errors_rate_limited_total` (from the workers' counters)
    /// - per server: `lwaftr_leasequery_session_state{server,state}` (1 for the current state),
    ///   `lwaftr_leasequery_session_live{server}`, `lwaftr_leasequery_last_update_age_seconds{server}`,
    ///   `lwaftr_leasequery_last_message_age_seconds{server}` (-1 = never),
    ///   `lwaftr_leasequery_reconnects_total{server}`, `lwaftr_leasequery_session_resyncs_total{server}`
    /// - `lwaftr_leasequery_records_received_total`, `lwaftr_leasequery_records_applied_total{kind}`,
    ///   `lwaftr_leasequery_records_rejected_total{reason}`, `lwaftr_leasequery_leases_expired_total`,
    ///   `lwaftr_leasequery_resyncs_total`, `lwaftr_leasequery_orphans`, `lwaftr_leasequery_servers`
    func sampleControlMetrics() {
        exporter.gauge("lwaftr_binding_table_softwires").set(Double(table.count))
        mirror.set("lwaftr_reloads_total", to: reloads)
        mirror.set("lwaftr_reload_failures_total", to: reloadFailures)
        mirror.set("lwaftr_icmp_errors_generated_total",
                   to: Int(clamping: board.total(.outICMPv4ErrorPackets) &+ board.total(.outICMPv6ErrorPackets)))
        mirror.set("lwaftr_icmp_errors_rate_limited_total",
                   to: Int(clamping: board.total(.dropOverRateLimitICMPv4Packets) &+ board.total(.dropOverRateLimitICMPv6Packets)))
        guard let status = leasequery?.currentStatus else { return }
        var present = Set<String>()
        for s in status.sessions {
            present.insert(s.server)
            for p in SessionPhase.allCases {
                exporter.gauge("lwaftr_leasequery_session_state", labels: [("server", s.server), ("state", p.rawValue)])
                    .set(Double(p == s.phase ? 1 : 0))
            }
            exporter.gauge("lwaftr_leasequery_session_live", labels: [("server", s.server)])
                .set(Double(s.phase == .live && s.resync == nil ? 1 : 0))
            exporter.gauge("lwaftr_leasequery_last_update_age_seconds", labels: [("server", s.server)]).set(s.lastRecordAge ?? -1)
            exporter.gauge("lwaftr_leasequery_last_message_age_seconds", labels: [("server", s.server)]).set(s.lastMessageAge ?? -1)
            mirror.set("lwaftr_leasequery_reconnects_total", [("server", s.server)], to: s.reconnects)
            mirror.set("lwaftr_leasequery_session_resyncs_total", [("server", s.server)], to: s.resyncs)
        }
        let gone = knownServers.withLock { known -> Set<String> in
            defer { known = present }
            return known.subtracting(present)
        }
        for server in gone {  // removed by a reload: no state any more
            for p in SessionPhase.allCases { exporter.gauge("lwaftr_leasequery_session_state", labels: [("server", server), ("state", p.rawValue)]).set(Double(0)) }
            exporter.gauge("lwaftr_leasequery_session_live", labels: [("server", server)]).set(Double(0))
        }
        let c = status.counters
        exporter.gauge("lwaftr_leasequery_servers").set(Double(status.sessions.count))
        exporter.gauge("lwaftr_leasequery_orphans").set(Double(status.orphans))
        mirror.set("lwaftr_leasequery_records_received_total", to: c.received)
        mirror.set("lwaftr_leasequery_records_applied_total", [("kind", "added")], to: c.added)
        mirror.set("lwaftr_leasequery_records_applied_total", [("kind", "replaced")], to: c.replaced)
        mirror.set("lwaftr_leasequery_records_applied_total", [("kind", "removed")], to: c.removed)
        mirror.set("lwaftr_leasequery_records_rejected_total", [("reason", "invalid")], to: c.rejectedInvalid)
        mirror.set("lwaftr_leasequery_records_rejected_total", [("reason", "conflict")], to: c.rejectedConflict)
        mirror.set("lwaftr_leasequery_bulk_records_total", to: c.resyncRecords)
        mirror.set("lwaftr_leasequery_leases_expired_total", to: c.expired)
        mirror.set("lwaftr_leasequery_resyncs_total", to: c.resyncs)
    }
}
