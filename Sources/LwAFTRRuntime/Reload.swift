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
    /// Leasequery settings other than the server list that changed but apply only on restart.
    public var needsRestart: [String] = []
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
            logger.info("configuration reloaded", metadata: meta)
            if !report.staticFailed.isEmpty {
                logger.warning("static softwires not installed", metadata: [
                    "count": "\(report.staticFailed.count)", "first": "\(report.staticFailed[0])"])
            }
            if !report.needsRestart.isEmpty {
                logger.warning("leasequery settings changed that apply only after a restart",
                               metadata: ["fields": "\(report.needsRestart.joined(separator: ","))"])
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
        for (f, field) in [(new.external.ingressFilter, "external.ingress_filter"), (new.external.egressFilter, "external.egress_filter"),
                           (new.internal.ingressFilter, "internal.ingress_filter"), (new.internal.egressFilter, "internal.egress_filter")] {
            guard let f else { continue }
            do { _ = try PacketFilter(f) } catch {
                throw ConfigError(file: file, line: 0, field: field, message: "\(error)")
            }
        }
        let oldLQ = LeasequeryMapping.configuration(for: old)
        let newLQ = LeasequeryMapping.configuration(for: new)
        var svc = leasequery
        // 2. Control lane (fails before changing anything when a TLS file is unusable).
        switch (svc, newLQ) {
        case (let running?, let wanted?):
            let r = try await running.updateServers(wanted.servers)
            report.serversAdded = r.added
            report.serversRemoved = r.removed
            if let o = oldLQ {
                if o.brAddress != wanted.brAddress { report.needsRestart.append("br_address") }
                if o.requestorDUID != wanted.requestorDUID { report.needsRestart.append("requestor_duid") }
                if o.timers != wanted.timers { report.needsRestart.append("timers") }
                if o.snapshotPath != wanted.snapshotPath || o.snapshotInterval != wanted.snapshotInterval {
                    report.needsRestart.append("snapshot")
                }
            }
        case (nil, let wanted?):
            let started = try await LeasequeryService.start(configuration: wanted, table: table,
                                                            logger: child("lwaftr.leasequery"), existing: .keep)
            state.withLock { $0.leasequery = started }
            svc = started
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
        // 3. Static softwires.
        if let svc {
            let r = try await svc.updateStaticSoftwires(from: old.softwires, to: new.softwires)
            (report.staticChanged, report.staticRemoved, report.staticFailed) = r
        } else {
            let r = diffStatic(from: old.softwires, to: new.softwires)
            (report.staticChanged, report.staticRemoved, report.staticFailed) = r
        }
        // 4. Engine policies: workers pick them up before their next batch.
        if old.external != new.external || old.internal != new.internal || old.instances != new.instances {
            report.policiesChanged = true
            settings.publish(newSettings)
            updateLinkMTUs(old: old, new: new)
        }
        state.withLock { $0.config = new }
        return report
    }

    /// Static diff straight on the table (no requestor running: the table has no other writer).
    func diffStatic(from old: [Softwire], to new: [Softwire]) -> (Int, Int, [String]) {
        var changed = 0, removed = 0
        var failed: [String] = []
        let newKeys = Set(new.map { softwireKey($0.ipv4.value, $0.psid) })
        for s in old where !newKeys.contains(softwireKey(s.ipv4.value, s.psid)) {
            if table.softwire(ipv4: s.ipv4, psid: s.psid) == s, table.remove(ipv4: s.ipv4, psid: s.psid) { removed += 1 }
        }
        let oldSet = Set(old)
        for s in new where !oldSet.contains(s) || table.softwire(ipv4: s.ipv4, psid: s.psid) != s {
            do {
                _ = try table.insert(s)
                changed += 1
            } catch {
                failed.append("\(s.ipv4) psid \(s.psid): \(error)")
            }
        }
        return (changed, removed, failed)
    }

    /// TUN mode: the links follow the configured MTUs (unless fixed on the command line).
    func updateLinkMTUs(old: LwAFTRConfig, new: LwAFTRConfig) {
        guard let links = tunLinks else { return }
        do {
            let nl = try Netlink()
            if options.mtu4 == nil && old.external.mtu != new.external.mtu { try nl.setMTU(links.external, new.external.mtu) }
            if options.mtu6 == nil && old.internal.mtu != new.internal.mtu { try nl.setMTU(links.internal, new.internal.mtu) }
        } catch {
            logger.warning("TUN MTU not changed", metadata: ["error": "\(error)"])
        }
    }
}
