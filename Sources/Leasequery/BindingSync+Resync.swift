import LwAFTRCore
import BindingTable
public import DHCPWire

/// A full bulk resync being received from one server: validated softwires collected off to the
/// side (readers keep using the current table), published in one step by `BindingSync.publish`.
public final class ResyncBuilder {
    /// The server the records come from.
    public let server: UInt16
    /// The REPLY's LQ_BASE_TIME: server time when the snapshot was taken (T0).
    public var baseTime: UnixTime?
    var softwires: [Softwire] = []
    var meta: [UInt64: BindingSync.Meta] = [:]
    var params: [UInt32: PortSet] = [:]
    var removed: Set<UInt64> = []
    var wheel: ExpiryWheel?
    /// Records received (valid or not) and records rejected.
    public internal(set) var records = 0
    public internal(set) var rejected = 0
    /// Local time used for lease expiry of the records being collected (refreshed every 1024).
    var now = 0.0

    /// - Parameter expectedCount: softwires the bulk will probably hold (the current table size
    ///   is a good guess); storage is reserved for them.
    public init(server: UInt16, expectedCount: Int = 0) {
        self.server = server
        if expectedCount > 0 {
            softwires.reserveCapacity(expectedCount)
            meta.reserveCapacity(expectedCount)
        }
    }

    /// Softwires collected so far.
    public var count: Int { meta.count }
}

extension BindingSync {
    /// Storage a full resync reserves up front: the larger of the current size and what the table
    /// was sized for (its slots at the 0.7 load limit), at most 16 M. At start-up the table is
    /// empty but sized for the expected bindings; growing the builder's maps from nothing costs
    /// ~10 % of a 1 M resync.
    var resyncSizeHint: Int { min(max(count, table.stats.capacity * 7 / 10), 1 << 24) }

    /// Validates a bulk record into `builder` (nothing touches the table). Conflicting port-set
    /// parameters within the bulk are rejected (the first record of an IPv4 sets them). Returns
    /// whether the record was accepted; rejections are counted and logged like live ones.
    @discardableResult
    public func add(_ r: BindingRecord, to b: ResyncBuilder) -> Bool {
        counters.resyncRecords += 1
        b.records += 1
        let sw: Softwire?
        do { sw = try RecordValidator.validate(r, br: brAddress) } catch {
            b.rejected += 1
            rejected(error)
            return false
        }
        let key = r.key
        guard let sw else {
            b.meta[key] = nil
            b.removed.insert(key)
            return true
        }
        if let ps = b.params[sw.ipv4.value] {
            guard ps == sw.portSet else {
                b.rejected += 1
                rejected(RecordRejection(.conflict, "bulk record for \(r.ipv4) PSID \(r.psid) has \(sw.portSet) but the address uses \(ps)"))
                return false
            }
        } else {
            b.params[sw.ipv4.value] = sw.portSet
        }
        if !b.removed.isEmpty { b.removed.remove(key) }
        b.softwires.append(sw)
        var expiry: UInt32 = 0
        if let lease = r.leaseTime {
            if b.wheel == nil { b.wheel = ExpiryWheel(now: wheel.sweptThrough) }
            if b.now == 0 || b.records & 1023 == 0 { b.now = clock() }   // read the clock every 1024 records
            expiry = b.wheel!.add(key, at: UInt32(clamping: Int((b.now + Double(lease)).rounded(.up))))
        }
        b.meta[key] = Meta(owner: b.server, expiry: expiry)
        return true
    }

    /// Publishes a full resync: the table becomes the bulk's softwires, plus the current state of
    /// keys a live record changed meanwhile (`touched`, newer than the bulk), plus what other
    /// servers own, plus orphans while `keepOrphans`. Lower-priority entries that conflict with
    /// higher-priority ones are dropped and counted. One atomic `replaceAll`: readers see the
    /// old table or the new one, never a mix; on failure nothing changes. Returns success.
    @discardableResult
    public func publish(_ b: ResyncBuilder, touched: Set<UInt64> = [], keepOrphans: Bool = false) -> Bool {
        var newMeta = b.meta
        b.meta = [:]
        var merged: [Softwire] = []
        var extraKeys: [UInt64] = []                            // not from the bulk: need scheduling
        var claimed: [UInt32: PortSet] = [:]
        var dropped = 0
        for k in touched {                                      // 1. live changes during the bulk
            newMeta[k] = nil
            if let m = meta[k], let sw = table.softwire(key: k) {
                if let c = claimed[sw.ipv4.value], c != sw.portSet { dropped += 1; continue }
                claimed[sw.ipv4.value] = sw.portSet
                merged.append(sw)
                newMeta[k] = m
                extraKeys.append(k)
            }
        }
        var others: [Softwire] = []                             // 3. other owners (checked below)
        for (k, m) in meta where m.owner != b.server && newMeta[k] == nil && !touched.contains(k)
            && (m.owner != Self.orphanOwner || keepOrphans) {
            guard let sw = table.softwire(key: k) else { continue }
            if let c = claimed[sw.ipv4.value] ?? b.params[sw.ipv4.value], c != sw.portSet { dropped += 1; continue }
            others.append(sw)
            newMeta[k] = m
            extraKeys.append(k)
        }
        if touched.isEmpty && others.isEmpty && b.removed.isEmpty {   // 2. the bulk itself (no copy)
            swap(&merged, &b.softwires)
        } else if touched.isEmpty && claimed.isEmpty && b.removed.isEmpty {
            merged.reserveCapacity(merged.count + b.softwires.count + others.count)
            merged.append(contentsOf: b.softwires)
        } else {
            for sw in b.softwires {
                let k = softwireKey(sw.ipv4.value, sw.psid)
                if touched.contains(k) || b.removed.contains(k) { continue }
                if let c = claimed[sw.ipv4.value], c != sw.portSet { newMeta[k] = nil; dropped += 1; continue }
                merged.append(sw)
            }
        }
        merged.append(contentsOf: others)
        b.softwires = []
        do {
            try table.replaceAll(with: merged)
            merged = []
        } catch {
            counters.failedPublications += 1
            logger.error("resync publication failed; table unchanged", metadata: ["error": "\(error)"])
            return false
        }
        if dropped > 0 {
            counters.rejectedConflict += dropped
            logger.warning("resync dropped conflicting softwires", metadata: ["count": "\(dropped)"])
        }
        meta = newMeta
        // The bulk's schedule was built while it streamed; add the keys that came from elsewhere.
        // (Entries of dropped keys stay as hints: a sweep checks `meta` before deleting.)
        wheel = b.wheel ?? ExpiryWheel(now: wheel.sweptThrough)
        b.wheel = nil
        for k in extraKeys {
            guard let e = meta[k]?.expiry, e != 0 else { continue }
            let s = wheel.add(k, at: e)
            if s != e { meta[k]?.expiry = s }            // already due: the next sweep takes it
        }
        counters.resyncs += 1
        return true
    }
}
