internal import Glibc
import Leasequery
public import LwAFTRCore
import PacketEngine
internal import BindingTable
internal import PacketIO
internal import Logging

/// What a reload changed (logged on one line, returned to tests).
public struct ReloadReport: Sendable, Hashable {
    public var policiesChanged = false
    public var staticChanged = 0
    public var staticRemoved = 0
    public var staticFailed: [String] = []
    public var serversAdded: [String] = []
    public var serversRemoved: [String] = []
    public var leasequeryStarted = false
    public var leasequeryStopped = false
    /// Leasequery settings a running requestor cannot change (br_address, requestor_duid, timers,
    /// snapshot) that changed: the requestor was restarted with them (one bulk resync per server).
    public var leasequeryRestarted: [String] = []
}

/// A reload that was refused; the running configuration stays.
public struct ReloadError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension LwAFTRRuntime {
    /// SIGHUP: re-reads `options.configPath` and applies it (`apply(_:)`). When the file does
    /// not load or validate, or a change cannot be applied, the running configuration stays,
    /// ONE error line is logged (file, line, field) and the failure counter goes up.
    /// Returns whether the new configuration is in force.
    @discardableResult
    public func reload() async -> Bool {
        guard let path = options.configPath else {
            return fail("no configuration file to reload")
        }
        let busy = state.withLock { s -> Bool in
            defer { s.reloading = true }
            return s.reloading
        }
        guard !busy else { return fail("a reload is already running") }
        defer { state.withLock { $0.reloading = false } }
        let loaded: LwAFTRConfig
        do { loaded = try ConfigLoader.load(path: path) } catch { return fail("\(error)") }
        do {
            let report = try await apply(options.effective(loaded), file: path)
            reloadCount.add(1, ordering: .relaxed)
            state.withLock { $0.lastReloadError = nil }
            var meta: Logger.Metadata = [
                "file": "\(path)", "policies": "\(report.policiesChanged ? "changed" : "same")",
                "static-changed": "\(report.staticChanged)", "static-removed": "\(report.staticRemoved)",
                "softwires": "\(table.count)"]
            if !report.serversAdded.isEmpty { meta["servers-added"] = "\(report.serversAdded.joined(separator: ","))" }
            if !report.serversRemoved.isEmpty { meta["servers-removed"] = "\(report.serversRemoved.joined(separator: ","))" }
            if report.leasequeryStarted { meta["leasequery"] = "started" }
            if report.leasequeryStopped { meta["leasequery"] = "stopped" }
            if !report.leasequeryRestarted.isEmpty {
                meta["leasequery"] = "restarted (\(report.leasequeryRestarted.joined(separator: ",")) changed; full resync)"
            }
            logger.info("configuration reloaded", metadata: meta)
            if !report.staticFailed.isEmpty {
                logger.warning("static softwires not installed", metadata: [
                    "count": "\(report.staticFailed.count)", "first": "\(report.staticFailed[0])"])
            }
            return true
        } catch {
            return fail("\(error)")
        }
    }

    private func fail(_ why: String) -> Bool {
        reloadFailureCount.add(1, ordering: .relaxed)
        state.withLock { $0.lastReloadError = why }
        logger.error("configuration reload failed, keeping the running configuration: \(why)")
        return false
    }

    /// Applies `new` (already including command-line additions) to the running lwAFTR: engine
    /// policies (workers adopt them between batches), the static softwires (diff against the
    /// running configuration's; learnt bindings untouched), the leasequery server list
    /// (unchanged servers keep their sessions). Everything that can fail is checked before
    /// anything changes. `file` labels errors.
    public func apply(_ new: LwAFTRConfig, file: String = "(reload)") async throws -> ReloadReport {
        let old = config
        var report = ReloadReport()
        // 1. Validate.
        let newSettings = EngineSettings(config: new)
        try Self.validateFilters(new, file: file)
        let oldLQ = LeasequeryMapping.configuration(for: old)
        let newLQ = LeasequeryMapping.configuration(for: new)
        var svc = leasequery
        // 2. Dry-run the static softwires: a port-set conflict refuses the whole reload.
        let plan = if let svc, newLQ != nil {
            try await svc.plannedStaticChanges(from: old.softwires, to: new.softwires)
        } else {
            staticPlan(from: old.softwires, to: new.softwires)
        }
        if let conflict = portSetConflicts(insert: plan.insert, remove: plan.remove).first {
            throw ReloadError(description: "\(file): softwires: \(conflict)")
        }
        // 3. Control lane (fails before changing anything when a TLS file is unusable).
        var staticsDone = false
        switch (svc, newLQ) {
        case (let running?, let wanted?):
            let restart = oldLQ.map { Self.restartFields(from: $0, to: wanted) } ?? []
            if restart.isEmpty {
                let r = try await running.updateServers(wanted.servers)
                report.serversAdded = r.added
                report.serversRemoved = r.removed
                break
            }
            // Settings a running requestor cannot change: check the new TLS files, stop it (it
            // writes its snapshot and T_last), bring the statics to the new configuration on the
            // table (no other writer now), start one with the new settings adopting the table.
            try LeasequeryService.checkTLS(wanted)
            await running.stop()
            svc = try await startAdopting(wanted, from: old, to: new, report: &report)
            staticsDone = true
            report.leasequeryRestarted = restart
            let was = oldLQ?.servers ?? [], before = Set(was), after = Set(wanted.servers)
            report.serversAdded = wanted.servers.filter { !before.contains($0) }.map(\.description)
            report.serversRemoved = was.filter { !after.contains($0) }.map(\.description)
        case (nil, let wanted?):
            // The table is live: no snapshot load (it would replace it). The statics change on
            // the table first; then everything else in it (bindings left by an earlier
            // leasequery, a snapshot) is adopted as orphans and the configuration's as static.
            svc = try await startAdopting(wanted, from: old, to: new, report: &report)
            staticsDone = true
            report.leasequeryStarted = true
            report.serversAdded = wanted.servers.map(\.description)
        case (let running?, nil):
            await running.stop()  // learnt bindings stay in the table
            state.withLock { $0.leasequery = nil }
            svc = nil
            report.leasequeryStopped = true
        case (nil, nil):
            break
        }
        // 4. Static softwires.
        if !staticsDone, let svc {
            let r = try await svc.updateStaticSoftwires(from: old.softwires, to: new.softwires)
            (report.staticChanged, report.staticRemoved, report.staticFailed) = r
        } else if !staticsDone {
            let r = diffStatic(from: old.softwires, to: new.softwires)
            (report.staticChanged, report.staticRemoved, report.staticFailed) = r
        }
        // 5. Engine policies: workers pick them up before their next batch.
        if old.external != new.external || old.internal != new.internal || old.instances != new.instances {
            report.policiesChanged = true
            settings.publish(newSettings)
            updateLinkMTUs(old: old, new: new)
        }
        state.withLock { $0.config = new }
        return report
    }

    /// With no requestor running: brings the static softwires from `old` to `new` on the table,
    /// then starts a requestor with `wanted` that adopts the live table (no snapshot load).
    private func startAdopting(_ wanted: LeasequeryConfiguration, from old: LwAFTRConfig, to new: LwAFTRConfig,
                               report: inout ReloadReport) async throws -> LeasequeryService {
        (report.staticChanged, report.staticRemoved, report.staticFailed) = diffStatic(from: old.softwires, to: new.softwires)
        let started = try await LeasequeryService.start(configuration: wanted, table: table, logger: child("lwaftr.leasequery"),
                                                        loadSnapshot: false, staticSoftwires: new.softwires)
        state.withLock { $0.leasequery = started }
        return started
    }

    /// The leasequery settings that differ between `old` and `new` and that only a new requestor
    /// can take (the server list is changed in place).
    static func restartFields(from old: LeasequeryConfiguration, to new: LeasequeryConfiguration) -> [String] {
        var fields: [String] = []
        if old.brAddress != new.brAddress { fields.append("br_address") }
        if old.requestorDUID != new.requestorDUID { fields.append("requestor_duid") }
        if old.timers != new.timers { fields.append("timers") }
        if old.snapshotPath != new.snapshotPath || old.snapshotInterval != new.snapshotInterval { fields.append("snapshot") }
        return fields
    }

    /// Static diff straight on the table (no requestor running: the table has no other writer).
    func diffStatic(from old: [Softwire], to new: [Softwire]) -> (Int, Int, [String]) {
        let plan = staticPlan(from: old, to: new)
        return table.apply(insert: plan.insert, remove: plan.remove)
    }

    /// What `diffStatic` would do: remove the old statics that are gone from `new` (when the
    /// table still holds them as configured), insert the new or changed ones.
    func staticPlan(from old: [Softwire], to new: [Softwire]) -> (insert: [Softwire], remove: [Softwire]) {
        let newKeys = Set(new.map { softwireKey($0.ipv4.value, $0.psid) })
        let remove = old.filter { !newKeys.contains(softwireKey($0.ipv4.value, $0.psid)) && table.softwire(ipv4: $0.ipv4, psid: $0.psid) == $0 }
        let oldSet = Set(old)
        let insert = new.filter { !oldSet.contains($0) || table.softwire(ipv4: $0.ipv4, psid: $0.psid) != $0 }
        return (insert, remove)
    }

    /// Port-set conflicts the inserts would meet: two inserts of one IPv4 with different port
    /// sets, or an insert whose address keeps (after the removals and replacements) a softwire
    /// with another port set. One line per IPv4; empty when the plan applies cleanly.
    func portSetConflicts(insert: [Softwire], remove: [Softwire]) -> [String] {
        var conflicts: [String] = []
        var planned: [UInt32: PortSet] = [:]
        var reported = Set<UInt32>()
        for s in insert {
            let ip = s.ipv4.value
            if let p = planned[ip], p != s.portSet, reported.insert(ip).inserted {
                conflicts.append("\(s.ipv4) psid \(s.psid) has port set \(s.portSet) but another softwire of the address has \(p)")
            }
            planned[ip] = planned[ip] ?? s.portSet
        }
        let leaving = Set((insert + remove).map { softwireKey($0.ipv4.value, $0.psid) })
        var all: [Softwire]?
        for (ip, ps) in planned.sorted(by: { $0.key < $1.key }) where !reported.contains(ip) {
            guard let current = table.portSet(ipv4: ip), current != ps else { continue }
            // The address uses another port set now: fine only if none of its softwires stays.
            if all == nil { all = table.allSoftwires() }
            if let keeps = all!.first(where: { $0.ipv4.value == ip && !leaving.contains(softwireKey(ip, $0.psid)) }) {
                conflicts.append("\(IPv4Address(ip)) has port set \(ps) in the configuration but \(keeps.ipv4) psid \(keeps.psid) in the table uses \(current)")
            }
        }
        return conflicts
    }

    /// TUN mode: the links follow the configured MTUs (unless fixed on the command line). The
    /// change is made in the devices' namespace (`--netns`): the ifindexes are that namespace's.
    func updateLinkMTUs(old: LwAFTRConfig, new: LwAFTRConfig) {
        guard let links = tunLinks else { return }
        let mtu4 = options.mtu4 == nil && old.external.mtu != new.external.mtu ? new.external.mtu : nil
        let mtu6 = options.mtu6 == nil && old.internal.mtu != new.internal.mtu ? new.internal.mtu : nil
        guard mtu4 != nil || mtu6 != nil else { return }
        let change: @Sendable () throws -> Void = {
            let nl = try Netlink()
            if let mtu4 { try nl.setMTU(links.external, mtu4) }
            if let mtu6 { try nl.setMTU(links.internal, mtu6) }
        }
        do {
            if let ns = options.namespace { try NetworkNamespace.run(named: ns, change) } else { try change() }
        } catch {
            logger.warning("TUN MTU not changed", metadata: ["error": "\(error)"])
        }
    }
}
