public import Logging
public import LwAFTRCore
public import BindingTable
import NIOCore
import DHCPWire

/// What applying one record did.
public enum ApplyOutcome: Hashable, Sendable {
    case added, replaced, removed
    /// An UNASSIGNED/UNKNOWN record for a key the table does not hold.
    case absent
    case rejected(RecordRejection)
}

/// The only writer of the binding table on the control lane (DESIGN.md "Control lane rules"):
/// validates every leasequery record in full, applies ACTIVE as upsert and UNASSIGNED/UNKNOWN as
/// delete (key = IPv4 + PSID), rejects port-set parameters that disagree with the other
/// softwires of an IPv4 (logged with the reason), deletes bindings whose lease ran out
/// (PROTOCOLS.md §7.5), and counts everything in `counters`. Each record is applied whole or
/// not at all; a full resync is built aside and published with one `replaceAll`.
///
/// It remembers, per key, which server owns it and when its lease ends locally. Entries present
/// before any server spoke (snapshot, configuration) are *orphans*: kept until every server
/// finished its first full resync, then dropped unless a server claimed them — or kept for
/// good with `ExistingEntries.keep`.
///
/// Not thread-safe: use it from one thread (the control lane's event loop). The table's readers
/// are unaffected.
public final class BindingSync {
    /// What to do with softwires the table holds before any server spoke.
    public enum ExistingEntries: Sendable { case replaceable, keep }

    /// Owner marks beside server indices.
    public static let orphanOwner: UInt16 = .max
    public static let staticOwner: UInt16 = .max - 1

    struct Meta: Hashable { var owner: UInt16; var expiry: UInt32 }

    public let table: BindingTable
    /// The br-address stored with every learnt softwire.
    public let brAddress: IPv6Address
    public internal(set) var counters = SyncCounters()
    /// Called after every live record with what it did (instrumentation: tests, latency benchmarks).
    public var observer: ((BindingRecord, ApplyOutcome) -> Void)?
    var meta: [UInt64: Meta] = [:]
    var wheel: ExpiryWheel
    let clock: @Sendable () -> Double
    let logger: Logger
    var rejectLog = RejectLog()

    /// Local monotonic seconds (the default clock).
    public static let uptime: @Sendable () -> Double = { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    /// Wraps `table`; its current softwires are adopted according to `existing`.
    public init(table: BindingTable, brAddress: IPv6Address, logger: Logger = Logger(label: "lwaftr.leasequery"),
                existing: ExistingEntries = .replaceable, clock: @escaping @Sendable () -> Double = BindingSync.uptime) {
        self.table = table
        self.brAddress = brAddress
        self.logger = logger
        self.clock = clock
        wheel = ExpiryWheel(now: UInt32(clamping: Int(clock().rounded(.down))))
        adoptTableContent(owner: existing == .keep ? Self.staticOwner : Self.orphanOwner)
    }

    /// Marks every softwire in the table as owned by `owner`, without expiry.
    func adoptTableContent(owner: UInt16) {
        meta.removeAll(keepingCapacity: true)
        wheel.reset()
        for s in table.allSoftwires() { meta[softwireKey(s.ipv4.value, s.psid)] = Meta(owner: owner, expiry: 0) }
    }

    /// Softwires in the table.
    public var count: Int { meta.count }

    /// Softwires no server has claimed yet (from a snapshot or the configuration).
    public var orphanCount: Int { meta.values.reduce(0) { $0 + ($1.owner == Self.orphanOwner ? 1 : 0) } }

    /// Softwires owned by server `index`.
    public func ownedCount(server index: UInt16) -> Int { meta.values.reduce(0) { $0 + ($1.owner == index ? 1 : 0) } }

    // MARK: - live records

    /// Validates and applies one record from server `server` (active query or gap fill).
    @discardableResult
    public func apply(_ r: BindingRecord, from server: UInt16) -> ApplyOutcome {
        counters.received += 1
        let outcome = applyOne(r, server)
        observer?(r, outcome)
        return outcome
    }

    private func applyOne(_ r: BindingRecord, _ server: UInt16) -> ApplyOutcome {
        let sw: Softwire?
        do { sw = try RecordValidator.validate(r, br: brAddress) } catch { return rejected(error) }
        let key = r.key
        guard let sw else {
            if let ps = table.portSet(ipv4: r.ipv4.value), ps != r.portSet {
                return rejected(RecordRejection(.conflict, "\(r.kind) for \(r.ipv4) PSID \(r.psid) has \(r.portSet) but the address uses \(ps)"))
            }
            meta[key] = nil
            if table.remove(ipv4: r.ipv4, psid: r.psid) { counters.removed += 1; return .removed }
            counters.absent += 1
            return .absent
        }
        let isNew: Bool
        do { isNew = try table.insert(sw) } catch {
            if case .conflictingPortSet = error { return rejected(RecordRejection(.conflict, "\(error)")) }
            return rejected(RecordRejection(.invalid, "\(error)"))
        }
        meta[key] = Meta(owner: server, expiry: schedule(key, lease: r.leaseTime))
        if isNew { counters.added += 1; return .added }
        counters.replaced += 1
        return .replaced
    }

    /// Counts and (rate-limited) logs a record that is not applied.
    @discardableResult
    public func rejected(_ e: RecordRejection) -> ApplyOutcome {
        if e.kind == .conflict { counters.rejectedConflict += 1 } else { counters.rejectedInvalid += 1 }
        rejectLog.note(e, now: clock(), logger: logger)
        return .rejected(e)
    }

    /// Local second at which a lease of `lease` seconds received now ends (0 = no lease time),
    /// entered in the expiry schedule.
    private func schedule(_ key: UInt64, lease: UInt32?) -> UInt32 {
        guard let lease else { return 0 }
        let at = UInt32(clamping: Int((clock() + Double(lease)).rounded(.up)))
        return wheel.add(key, at: at)
    }

    /// Applies the records of a gap fill, skipping keys a live record changed meanwhile (the
    /// live record is newer; PROTOCOLS.md §7.5).
    public func applyGapFill(_ records: [BindingRecord], from server: UInt16, skipping touched: Set<UInt64>) {
        for r in records where !touched.contains(r.key) { apply(r, from: server) }
        counters.gapFills += 1
    }

    // MARK: - expiry

    /// Deletes every softwire whose lease ended (and was not renewed); returns how many.
    @discardableResult
    public func expire() -> Int {
        var n = 0
        for (second, keys) in wheel.due(now: UInt32(clamping: Int(clock().rounded(.down)))) {
            for k in keys where meta[k]?.expiry == second {
                meta[k] = nil
                if table.remove(key: k) {
                    n += 1
                }
            }
        }
        counters.expired += n
        if n > 0 { logger.info("leases expired locally", metadata: ["count": "\(n)", "table": "\(meta.count)"]) }
        return n
    }

    /// Logs pending rejection summaries (called from the control lane's periodic tick).
    public func flushLogs() { rejectLog.flush(now: clock(), logger: logger) }
}

/// Rate-limited rejection log: the first rejection is logged at once, later ones are summed and
/// logged at most once per `interval` seconds (never a line per record).
struct RejectLog {
    var interval = 10.0
    var lastLine = -Double.infinity
    var pending = 0
    var last: RecordRejection?

    mutating func note(_ e: RecordRejection, now: Double, logger: Logger) {
        pending += 1
        last = e
        if now - lastLine >= interval { flush(now: now, logger: logger) }
    }

    mutating func flush(now: Double, logger: Logger) {
        guard pending > 0, let e = last, now - lastLine >= interval else { return }
        logger.warning("leasequery records rejected",
                       metadata: ["count": "\(pending)", "kind": "\(e.kind.rawValue)", "last-reason": "\(e.reason)"])
        pending = 0
        lastLine = now
    }
}
