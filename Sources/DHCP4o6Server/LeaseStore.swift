import LwAFTRCore
import DHCPWire

/// The server's lease database and change log in one: every key's latest state (active leases
/// and tombstones of released/expired/declined ones), stamped with a strictly increasing change
/// sequence and a non-decreasing change time.
///
/// This is what the leasequery service reads: a bulk query is `active()`, a windowed bulk or an
/// active catch-up is `changes(from:to:)` (current state of every key changed in the window, in
/// change order), and live updates come from `observe`. Tombstones are kept `historySeconds`;
/// `historyStart` is the earliest start time a catch-up can be answered completely from.
/// Not thread-safe: the owner confines it to one event loop.
final class LeaseStore {
    private(set) var leases: [SoftwireKey: Lease] = [:]
    private var byClient: [[UInt8]: SoftwireKey] = [:]
    private var byB4: [IPv6Address: SoftwireKey] = [:]
    private(set) var historyStart: UInt32 = 0
    private(set) var nextSeq: UInt64 = 1
    private var lastStamp: UInt32 = 0
    private(set) var activeCount = 0
    private let journal: LeaseJournal?
    /// In registration order (an instrumentation observer registered at start runs first).
    private var observers: [(token: Int, call: (Lease) -> Void)] = []
    private var nextObserver = 0
    /// Journal lines dropped at load (torn tail).
    private(set) var droppedJournalLines = 0
    /// Lower bounds that let the once-a-second sweep skip its scans of the whole store (at 1 M
    /// leases a scan costs ~0.15 s of the loop that also streams leasequery): no active lease
    /// expires before `earliestExpiry`, no tombstone changed before `oldestTombstone`.
    private(set) var earliestExpiry: UInt32 = .max
    private(set) var oldestTombstone: UInt32 = .max

    init(journal: LeaseJournal?) throws {
        self.journal = journal
        guard let journal else { return }
        let loaded = try journal.load()
        historyStart = loaded.historyStart
        nextSeq = loaded.nextSeq
        droppedJournalLines = loaded.droppedLines
        for l in loaded.leases.sorted(by: { $0.changeSeq < $1.changeSeq }) {
            index(l, replacing: nil)
            leases[l.key] = l
            lastStamp = max(lastStamp, l.lastChange)
            nextSeq = max(nextSeq, l.changeSeq + 1)
        }
    }

    subscript(key: SoftwireKey) -> Lease? { leases[key] }

    /// The client's current or most recent key.
    func key(client: [UInt8]) -> SoftwireKey? { byClient[client] }

    /// The active lease that owns a B4 address.
    func key(b4: IPv6Address) -> SoftwireKey? { byB4[b4] }

    /// Stamps and stores a new state for `l.key`: journal first, then memory, then observers.
    /// Throws (changing nothing) when the journal write fails.
    @discardableResult
    func commit(_ l: Lease, now: UInt32) throws -> Lease {
        var l = l
        lastStamp = max(lastStamp, now)
        l.lastChange = lastStamp
        l.changeSeq = nextSeq
        try journal?.append(l)
        nextSeq += 1
        let old = leases[l.key]
        index(l, replacing: old)
        leases[l.key] = l
        for o in observers { o.call(l) }
        return l
    }

    private func index(_ l: Lease, replacing old: Lease?) {
        if l.state == .active { earliestExpiry = min(earliestExpiry, l.expiry) } else { oldestTombstone = min(oldestTombstone, l.lastChange) }
        if let old, old.state == .active {
            activeCount -= 1
            if let b = old.b4, byB4[b] == old.key { byB4[b] = nil }
        }
        if l.state == .active {
            activeCount += 1
            if let b = l.b4 { byB4[b] = l.key }
        }
        if let old, old.clientKey != l.clientKey, byClient[old.clientKey] == l.key { byClient[old.clientKey] = nil }
        byClient[l.clientKey] = l.key
    }

    /// Active leases that reached their expiry, moved to `expired` (one change each). Scans the
    /// store only when `earliestExpiry` says something may be due; the scan reads the leases in
    /// place (no copies) and commits after it.
    func expire(now: UInt32) throws -> [Lease] {
        guard earliestExpiry <= now else { return [] }
        var due: [SoftwireKey] = [], next = UInt32.max
        let values = leases.values
        var i = values.startIndex
        while i != values.endIndex {
            if values[i].state == .active {
                let e = values[i].expiry
                if e <= now { due.append(values[i].key) } else if e < next { next = e }
            }
            values.formIndex(after: &i)
        }
        earliestExpiry = next
        var done: [Lease] = []
        for k in due {
            guard var e = leases[k], e.state == .active else { continue }
            e.state = .expired
            e.stateStart = now
            do { done.append(try commit(e, now: now)) } catch {
                earliestExpiry = now                         // the rest is still due: scan again next time
                throw error
            }
        }
        return done
    }

    /// Deletes tombstones whose last change is before `before`; the history then starts after them.
    /// Scans only when `oldestTombstone` says one may be old enough.
    func purge(before: UInt32, keep: (Lease) -> Bool = { _ in false }) throws {
        guard oldestTombstone < before else { return }
        var old: [SoftwireKey] = [], next = UInt32.max
        let values = leases.values
        var i = values.startIndex
        while i != values.endIndex {
            if values[i].state != .active {
                let c = values[i].lastChange
                if c < before && !keep(values[i]) { old.append(values[i].key) } else if c < next { next = c }
            }
            values.formIndex(after: &i)
        }
        oldestTombstone = next
        for k in old {
            guard let l = leases[k] else { continue }
            let hs = max(historyStart, l.lastChange &+ 1)
            do { try journal?.appendPurge(l.key, historyStart: hs) } catch {
                oldestTombstone = 0                          // not purged: scan again next time
                throw error
            }
            historyStart = hs
            leases[l.key] = nil
            if byClient[l.clientKey] == l.key { byClient[l.clientKey] = nil }
        }
    }

    /// All active leases, in key order.
    func active() -> [Lease] { activeSnapshot().sorted { $0.key < $1.key } }

    /// All active leases in no particular order: what a full bulk query streams (neither RFC 5460
    /// nor PROTOCOLS.md §7.4 asks for an order, and sorting 1 M leases per query costs ~1 s).
    func activeSnapshot() -> [Lease] {
        var out: [Lease] = []
        out.reserveCapacity(activeCount)
        for l in leases.values where l.state == .active { out.append(l) }
        return out
    }

    /// Current state of every key whose last change lies in `from...to`, in change order.
    func changes(from: UInt32, to: UInt32 = .max) -> [Lease] {
        leases.values.filter { $0.lastChange >= from && $0.lastChange <= to }.sorted { $0.changeSeq < $1.changeSeq }
    }

    /// The time the next change would be stamped with, at the latest `now`.
    func stamp(now: UInt32) -> UInt32 { max(lastStamp, now) }

    /// Calls `f` after every committed change; returns a token for `removeObserver`.
    func observe(_ f: @escaping (Lease) -> Void) -> Int {
        nextObserver += 1
        observers.append((nextObserver, f))
        return nextObserver
    }

    func removeObserver(_ token: Int) { observers.removeAll { $0.token == token } }

    /// Rewrites the snapshot when the journal has grown past twice the store (at least 10 000 lines).
    func compactIfNeeded(force: Bool = false) throws {
        guard let journal, force || journal.journalLines > max(10_000, 2 * leases.count) else { return }
        try journal.compact(leases.values.sorted { $0.changeSeq < $1.changeSeq }, historyStart: historyStart, nextSeq: nextSeq)
    }
}
