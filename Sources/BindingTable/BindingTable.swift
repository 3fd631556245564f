public import LwAFTRCore
public import Synchronization

/// Why a softwire could not be added to the table.
public enum BindingTableError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Another softwire of the same IPv4 address uses different (offset, PSID length).
    case conflictingPortSet(ipv4: IPv4Address, existing: PortSet, offered: PortSet)
    /// The PSID does not fit in the PSID length.
    case psidOutOfRange(ipv4: IPv4Address, psid: UInt16, portSet: PortSet)
    /// More distinct br-addresses than the table holds.
    case tooManyBRAddresses(limit: Int)
    /// Every reader slot is taken (see `BindingTable.init(maxReaders:)`).
    case tooManyReaders(limit: Int)

    public var description: String {
        switch self {
        case let .conflictingPortSet(ip, existing, offered):
            return "softwire for \(ip) has port set \(offered) but the address already uses \(existing)"
        case let .psidOutOfRange(ip, psid, ps):
            return "softwire for \(ip) has PSID \(psid) that does not fit \(ps)"
        case let .tooManyBRAddresses(limit):
            return "more than \(limit) distinct br-addresses"
        case let .tooManyReaders(limit):
            return "all \(limit) reader slots are in use"
        }
    }
}

/// Packs an (IPv4, PSID) pair into the 64-bit table key.
@inlinable @inline(__always)
public func softwireKey(_ ipv4: UInt32, _ psid: UInt16) -> UInt64 { UInt64(ipv4) << 32 | UInt64(psid) }

/// The (IPv4, PSID) a `softwireKey` was made of.
@inlinable
public func softwireKeyParts(_ key: UInt64) -> (ipv4: IPv4Address, psid: UInt16) {
    (IPv4Address(UInt32(truncatingIfNeeded: key >> 32)), UInt16(truncatingIfNeeded: key))
}

/// The softwire binding table: (IPv4, PSID) → (B4 IPv6, br-address), plus per-IPv4 port-set
/// parameters. One writer, many lock-free readers.
///
/// * **Readers** (packet workers) get a `Reader` from `makeReader()` and call `quiescent()` once
///   per batch; their `lookup`/`lookupBatch`/`isManaged`/`brAddress` never lock, allocate or
///   touch ARC, and never see a torn entry (per-slot seqlock).
/// * **Writer**: `insert`, `remove`, `replaceAll`, `loadSnapshot`. Calls are serialised by a
///   mutex that readers never take. Growth, tombstone purges and bulk reloads build new maps and
///   publish them with one atomic store; the old memory is freed only after every online reader
///   passed a quiescent point (QSBR). Offline readers (`Reader.offline()`) do not hold it back.
/// * **Control-side reads** (`count`, `portSet`, `softwire`, `allSoftwires`, `stats`) take the
///   writer mutex, so they are safe from any thread.
///
/// The table's own `lookup`/`lookupBatch`/`isManaged` use no reader registration: they are safe on
/// the writer's thread, or while nothing publishes a new root (a table that is not being written,
/// or only updated in place without growing). Concurrent workers must use a `Reader`.
public final class BindingTable: @unchecked Sendable {
    @usableFromInline let control: UnsafeMutablePointer<Control>
    @usableFromInline let brs: UnsafeMutablePointer<Atomic<UInt64>>
    let readerEpochs: UnsafeMutablePointer<Atomic<UInt64>>
    let fixedBlocks: [Block]
    /// Most readers registered at once.
    public let maxReaders: Int
    let writer: Mutex<WriterState>

    /// Creates an empty table sized for `capacity` softwires (it grows as needed).
    /// - Parameters:
    ///   - seed: hash seed; random by default (hash flooding is an attack surface).
    ///   - maxReaders: reader slots for QSBR (one per worker thread).
    public init(capacity: Int = 1024, seed: UInt64 = UInt64.random(in: 0...UInt64.max), maxReaders: Int = 64) {
        let controlBlock = Block(bytes: 64)
        let brBlock = Block(bytes: maxBRAddresses * 16)
        let readerBlock = Block(bytes: max(1, maxReaders) * 64)
        fixedBlocks = [controlBlock, brBlock, readerBlock]
        // Fresh anonymous pages are zero: a zero `Atomic<UInt64>` / `Atomic<UInt>` is its 0 value.
        control = controlBlock.base.bindMemory(to: Control.self, capacity: 1)
        control.pointee.epoch.store(ReaderSlots.firstEpoch, ordering: .relaxed)
        brs = brBlock.base.bindMemory(to: Atomic<UInt64>.self, capacity: 2 * maxBRAddresses)
        readerEpochs = readerBlock.base.bindMemory(to: Atomic<UInt64>.self, capacity: max(1, maxReaders) * 8)
        self.maxReaders = maxReaders
        writer = Mutex(WriterState(control: control, brs: brs, readerEpochs: readerEpochs, maxReaders: maxReaders,
                                   capacity: capacity, seed: seed))
    }

    /// Creates a table holding `softwires` (hash seed random unless given: fixed seeds are for
    /// reproducible measurements only).
    public convenience init(softwires: [Softwire], seed: UInt64? = nil) throws(BindingTableError) {
        if let seed { self.init(capacity: softwires.count, seed: seed) } else { self.init(capacity: softwires.count) }
        try replaceAll(with: softwires)
    }

    deinit {
        writer.withLock { $0.releaseAll() }
        for b in fixedBlocks { b.release() }
    }

    // MARK: - lock-free reads

    /// The br-address with this index (an index a lookup returned).
    @inlinable public func brAddress(_ index: UInt32) -> IPv6Address {
        IPv6Address(hi: brs[2 &* Int(index)].load(ordering: .relaxed),
                    lo: brs[2 &* Int(index) &+ 1].load(ordering: .relaxed))
    }

    /// Whether any softwire uses this IPv4 address. (Unregistered read: see the type's notes.)
    @inlinable public func isManaged(ipv4: UInt32) -> Bool { Probe.isManaged(Probe.root(control), ipv4: ipv4) }

    /// The softwire owning (ipv4, port): PSID from the address's port set; nil when the address is
    /// unknown, the port is reserved by the offset, or no softwire has that PSID.
    /// (Unregistered read: see the type's notes; workers use `Reader.lookup`.)
    @inlinable public func lookup(ipv4: UInt32, port: UInt16) -> SoftwireValue? {
        Probe.lookup(Probe.root(control), ipv4: ipv4, port: port)
    }

    /// Looks up `count` (address, port) pairs at once (hash all, prefetch, probe): `results[i]` is
    /// the softwire of `(ipv4[i], ports[i])` or `SoftwireValue.notFound`. Returns how many were
    /// found. (Unregistered read: see the type's notes.)
    public func lookupBatch(ipv4: UnsafePointer<UInt32>, ports: UnsafePointer<UInt16>,
                            results: UnsafeMutablePointer<SoftwireValue>, count: Int) -> Int {
        Probe.lookupBatch(Probe.root(control), ipv4: ipv4, ports: ports, results: results, count: count)
    }

    // MARK: - writer

    /// Adds or replaces a softwire (replacing keeps lookups seeing either the old or the new value,
    /// never a mix). Rejects a port set that disagrees with the address's other softwires.
    /// Returns true when the softwire was new.
    @discardableResult
    public func insert(_ s: Softwire) throws(BindingTableError) -> Bool {
        try writer.withLock { w throws(BindingTableError) in try w.insert(s) }
    }

    /// Removes the softwire for (ipv4, psid). Returns whether it existed.
    @discardableResult
    public func remove(ipv4: IPv4Address, psid: UInt16) -> Bool {
        writer.withLock { $0.remove(ipv4: ipv4.value, psid: psid) }
    }

    /// `remove(ipv4:psid:)` by packed key (`softwireKey`).
    @discardableResult
    public func remove(key: UInt64) -> Bool {
        let (ipv4, psid) = softwireKeyParts(key)
        return remove(ipv4: ipv4, psid: psid)
    }

    /// Replaces the whole content with `softwires` (all validated first; on error the table is
    /// unchanged). Readers switch from the old content to the new in one step.
    public func replaceAll(with softwires: [Softwire]) throws(BindingTableError) {
        try writer.withLock { w throws(BindingTableError) in
            var brs: [UInt32] = []
            brs.reserveCapacity(softwires.count)
            for s in softwires { brs.append(try w.brIndex(for: s.br)) }
            try w.replaceAll(count: softwires.count) { b throws(BindingTableError) in
                for (s, br) in zip(softwires, brs) {
                    try b.add(ipv4: s.ipv4.value, psid: s.psid, portSet: s.portSet, b4Hi: s.b4.hi, b4Lo: s.b4.lo,
                              brIndex: br)
                }
            }
        }
    }

    /// Frees retired memory that readers have moved past. With `wait`, spins (yielding) until
    /// nothing is left — never call that from a thread that is an online reader.
    /// Returns whether nothing is left retired.
    @discardableResult
    public func reclaim(wait: Bool = false) -> Bool {
        while true {
            if writer.withLock({ $0.reclaim() }) { return true }
            if !wait { return false }
            yieldThread()
        }
    }

    // MARK: - control-side reads

    /// Number of softwires.
    public var count: Int { writer.withLock { $0.sw.count } }

    /// Port-set parameters of an address the table manages.
    public func portSet(ipv4: UInt32) -> PortSet? { writer.withLock { $0.portSet(ipv4: ipv4) } }

    /// The softwire stored for exactly (ipv4, psid).
    public func softwire(ipv4: IPv4Address, psid: UInt16) -> Softwire? {
        writer.withLock { w in w.storedKey(ipv4.value, psid).flatMap { w.sw.find($0) }.map { w.softwire(at: $0) } }
    }

    /// `softwire(ipv4:psid:)` by packed key (`softwireKey`).
    public func softwire(key: UInt64) -> Softwire? {
        let (ipv4, psid) = softwireKeyParts(key)
        return softwire(ipv4: ipv4, psid: psid)
    }

    /// Every softwire, ordered by (IPv4, PSID).
    public func allSoftwires() -> [Softwire] {
        var out: [Softwire] = []
        writer.withLock { w in
            out.reserveCapacity(w.sw.count)
            for i in 0..<w.sw.capacity where w.sw.key(at: i) > SlotMark.tombstone { out.append(w.softwire(at: i)) }
        }
        return out.sorted { ($0.ipv4, $0.psid) < ($1.ipv4, $1.psid) }
    }

    /// Sizes and counters of the table.
    public var stats: BindingTableStats {
        writer.withLock { w in
            BindingTableStats(
                count: w.sw.count, addresses: w.pm.count, capacity: w.sw.capacity, tombstones: w.sw.tombstones,
                addressCapacity: w.pm.capacity, brAddresses: w.brList.count,
                tableBytes: w.sw.block.bytes + w.pm.block.bytes, publications: w.publications,
                retired: w.retired.count, readers: (0..<maxReaders).count {
                    readerEpochs[$0 * ReaderSlots.stride].load(ordering: .relaxed) != ReaderSlots.free
                })
        }
    }
}

/// Sizes and counters of a `BindingTable` (`lwaftr bindings stats`).
public struct BindingTableStats: Hashable, Sendable {
    /// Softwires stored.
    public var count: Int
    /// Distinct IPv4 addresses (port-set entries).
    public var addresses: Int
    /// Softwire slots (power of two; load ≤ 0.7 counting tombstones).
    public var capacity: Int
    /// Removed-entry markers not yet purged.
    public var tombstones: Int
    /// Port-set slots.
    public var addressCapacity: Int
    /// Distinct br-addresses.
    public var brAddresses: Int
    /// Bytes of the two maps (32 B per softwire slot, 12 B per port-set slot).
    public var tableBytes: Int
    /// Times a new root was published (growth, purge, bulk reload).
    public var publications: Int
    /// Publications whose old memory waits for readers.
    public var retired: Int
    /// Registered readers.
    public var readers: Int
}

extension BindingTable {
    /// Applies a static-softwire plan: removes `remove` (counting those present), then inserts
    /// `insert` one by one; an insert the table refuses is reported ("ADDR psid N: error") and
    /// the rest go on. `removed` / `inserted` run for each softwire so handled, so a caller can
    /// keep its own bookkeeping in step. Returns (inserted, removed, refused).
    public func apply(insert: [Softwire], remove: [Softwire], removed: (Softwire) -> Void = { _ in },
                      inserted: (Softwire) -> Void = { _ in }) -> (changed: Int, removed: Int, failed: [String]) {
        var changed = 0, gone = 0
        var failed: [String] = []
        for s in remove {
            removed(s)
            if self.remove(ipv4: s.ipv4, psid: s.psid) { gone += 1 }
        }
        for s in insert {
            do {
                _ = try self.insert(s)
                inserted(s)
                changed += 1
            } catch {
                failed.append("\(s.ipv4) psid \(s.psid): \(error)")
            }
        }
        return (changed, gone, failed)
    }
}
