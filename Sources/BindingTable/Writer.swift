import LwAFTRCore
import Synchronization

/// Maps and memory retired by a publication, freed once every online reader has passed a
/// quiescent point at or after `epoch`.
struct Retired {
    let epoch: UInt64
    let blocks: [Block]
    let root: UnsafeMutablePointer<Root>
}

/// Most distinct br-addresses a table holds (index is stored in the slot's high 32 bits; the
/// table is fixed so readers never chase a moving pointer).
let maxBRAddresses = 1 << 16

/// Everything only the writer touches, kept behind the table's `Mutex` (so concurrent callers of
/// the write API serialise; readers never take it).
struct WriterState {
    let control: UnsafeMutablePointer<Control>
    let brs: UnsafeMutablePointer<Atomic<UInt64>>
    let readerEpochs: UnsafeMutablePointer<Atomic<UInt64>>
    let maxReaders: Int
    var sw: SoftwireMap
    var pm: ParamsMap
    var root: UnsafeMutablePointer<Root>
    var brIndex: [IPv6Address: UInt32] = [:]
    var brList: [IPv6Address] = []
    var retired: [Retired] = []
    var publications = 0

    init(control: UnsafeMutablePointer<Control>, brs: UnsafeMutablePointer<Atomic<UInt64>>,
         readerEpochs: UnsafeMutablePointer<Atomic<UInt64>>, maxReaders: Int, capacity: Int, seed: UInt64) {
        self.control = control
        self.brs = brs
        self.readerEpochs = readerEpochs
        self.maxReaders = maxReaders
        sw = SoftwireMap(capacity: capacityFor(capacity), seed: seed)
        pm = ParamsMap(capacity: capacityFor(min(capacity, 1024)), seed: mixHash(seed, 0x5041_5241_4D53))
        root = .allocate(capacity: 1)
        root.initialize(to: Root(sw, pm))
        control.pointee.root.store(UInt(bitPattern: root), ordering: .releasing)
    }

    // MARK: - br-addresses

    mutating func brIndex(for br: IPv6Address) throws(BindingTableError) -> UInt32 {
        if let last = brList.last, last == br { return UInt32(brList.count - 1) }  // the usual case: one br
        if let i = brIndex[br] { return i }
        guard brList.count < maxBRAddresses else { throw .tooManyBRAddresses(limit: maxBRAddresses) }
        let i = brList.count
        brs[2 * i].store(br.hi, ordering: .relaxed)
        brs[2 * i + 1].store(br.lo, ordering: .relaxed)
        brList.append(br)
        brIndex[br] = UInt32(i)
        return UInt32(i)
    }

    // MARK: - single-entry writes

    /// Stored slot key: `ipv4 << 32 | (offset << 8 | psidLength) << 17 | 1 << 16 | psid`. The port
    /// set is part of the key, so a reader that computed a PSID with an address's old port set
    /// cannot match a softwire stored under a new one (a port-set change is never seen half-done).
    static func storedKey(_ ipv4: UInt32, _ psid: UInt16, _ enc: UInt64) -> UInt64 {
        UInt64(ipv4) << 32 | enc << 17 | SlotMark.present | UInt64(psid)
    }

    /// The stored key of (ipv4, psid) under the address's current port set.
    func storedKey(_ ipv4: UInt32, _ psid: UInt16) -> UInt64? {
        pm.find(ipv4).map { Self.storedKey(ipv4, psid, ParamsWord.encoding(pm.word(at: $0))) }
    }

    static func encode(_ ps: PortSet) -> UInt64 { UInt64(ps.offset) << 8 | UInt64(ps.psidLength) }

    static func decode(_ w: UInt64) -> PortSet {
        PortSet(offset: UInt8(truncatingIfNeeded: w >> 8), psidLength: UInt8(truncatingIfNeeded: w))!
    }

    /// Adds or replaces one softwire; true when it was new.
    mutating func insert(_ s: Softwire) throws(BindingTableError) -> Bool {
        _ = reclaim()
        guard s.portSet.contains(psid: s.psid) else {
            throw .psidOutOfRange(ipv4: s.ipv4, psid: s.psid, portSet: s.portSet)
        }
        let ip = s.ipv4.value, enc = Self.encode(s.portSet)
        var pi = pm.find(ip)
        if let pi, ParamsWord.encoding(pm.word(at: pi)) != enc {
            throw .conflictingPortSet(ipv4: s.ipv4, existing: Self.decode(ParamsWord.encoding(pm.word(at: pi))), offered: s.portSet)
        }
        let value = SoftwireValue(b4Hi: s.b4.hi, b4Lo: s.b4.lo, brIndex: try brIndex(for: s.br))
        let key = Self.storedKey(ip, s.psid, enc)
        if !sw.hasRoom && sw.find(key) == nil { publish(sw: sw.rebuilt(extra: 1), pm: nil) }
        if pi == nil {
            if !pm.hasRoom { publish(sw: nil, pm: pm.rebuilt(extra: 1)) }
            pi = pm.add(ParamsWord.make(ipv4: ip, offset: s.portSet.offset, psidLength: s.portSet.psidLength), users: 0)
        }
        if readersNeedNewRoot { publish(sw: nil, pm: nil) }  // readers must see the new port set or range
        guard sw.upsert(key, value) else { return false }
        pm.users[pi!] += 1
        return true
    }

    mutating func remove(ipv4: UInt32, psid: UInt16) -> Bool {
        _ = reclaim()
        guard let key = storedKey(ipv4, psid), sw.remove(key) else { return false }
        if let pi = pm.find(ipv4) {
            if pm.users[pi] <= 1 { pm.remove(at: pi) } else { pm.users[pi] -= 1 }
        }
        if readersNeedNewRoot { publish(sw: nil, pm: nil) }
        return true
    }

    // MARK: - bulk

    /// Builds fresh maps off to the side (readers cannot see them yet), then publishes them with
    /// one root store. On error nothing changes.
    mutating func replaceAll(count: Int,
                             _ fill: (inout Builder) throws(BindingTableError) -> Void) throws(BindingTableError) {
        _ = reclaim()
        var b = Builder(count: count, swSeed: sw.seed, pmSeed: pm.seed)
        do {
            try fill(&b)
        } catch {
            b.sw.block.release()
            b.pm.block.release()
            throw error
        }
        publish(sw: b.sw, pm: b.pm)
    }

    /// Accumulates softwires into unpublished maps for `replaceAll`.
    struct Builder {
        var sw: SoftwireMap
        var pm: ParamsMap

        init(count: Int, swSeed: UInt64, pmSeed: UInt64) {
            // Small tables (up to 64 k softwires, ≤ 8 MiB) start at a quarter of the load limit:
            // short probe chains whatever the seed; large ones at the limit.
            sw = SoftwireMap(capacity: capacityFor(count <= 1 << 16 ? 4 * count : count), seed: swSeed)
            pm = ParamsMap(capacity: capacityFor(min(4 * count, 1 << 16)), seed: pmSeed)
        }

        mutating func add(ipv4: UInt32, psid: UInt16, portSet: PortSet, b4Hi: UInt64, b4Lo: UInt64,
                          brIndex: UInt32) throws(BindingTableError) {
            guard portSet.contains(psid: psid) else {
                throw .psidOutOfRange(ipv4: IPv4Address(ipv4), psid: psid, portSet: portSet)
            }
            let enc = WriterState.encode(portSet)
            var pi = pm.find(ipv4)
            if let pi, ParamsWord.encoding(pm.word(at: pi)) != enc {
                throw .conflictingPortSet(ipv4: IPv4Address(ipv4), existing: WriterState.decode(ParamsWord.encoding(pm.word(at: pi))),
                                          offered: portSet)
            }
            if pi == nil {
                if !pm.hasRoom {  // unpublished: free the old block at once
                    let bigger = pm.rebuilt(extra: 1)
                    pm.block.release()
                    pm = bigger
                }
                pi = pm.add(ParamsWord.make(ipv4: ipv4, offset: portSet.offset, psidLength: portSet.psidLength), users: 0)
            }
            if !sw.hasRoom {
                let bigger = sw.rebuilt(extra: 1)
                sw.block.release()
                sw = bigger
            }
            let key = WriterState.storedKey(ipv4, psid, enc)
            if sw.upsert(key, SoftwireValue(b4Hi: b4Hi, b4Lo: b4Lo, brIndex: brIndex)) { pm.users[pi!] += 1 }
        }
    }

    // MARK: - publication and QSBR reclamation

    /// Whether the params map's summary (uniform port set, address range) differs from the one
    /// readers see in the published root.
    var readersNeedNewRoot: Bool {
        pm.uniform != root.pointee.uniform || pm.low != root.pointee.low || pm.high &- pm.low != root.pointee.span
    }

    /// Publishes a root over the given new maps (nil keeps the current one) and retires what
    /// they replace.
    mutating func publish(sw newSW: SoftwireMap?, pm newPM: ParamsMap?) {
        var blocks: [Block] = []
        if let n = newSW { blocks.append(sw.block); sw = n }
        if let n = newPM { blocks.append(pm.block); pm = n }
        let r = UnsafeMutablePointer<Root>.allocate(capacity: 1)
        r.initialize(to: Root(sw, pm))
        control.pointee.root.store(UInt(bitPattern: r), ordering: .releasing)
        let e = control.pointee.epoch.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        retired.append(Retired(epoch: e, blocks: blocks, root: root))
        root = r
        publications += 1
        _ = reclaim()
    }

    /// The oldest epoch an online reader has announced (`UInt64.max` when none is online).
    func oldestReaderEpoch() -> UInt64 {
        atomicMemoryFence(ordering: .sequentiallyConsistent)  // pairs with `Reader.online()`
        var oldest = UInt64.max
        for i in 0..<maxReaders {
            let v = readerEpochs[i * ReaderSlots.stride].load(ordering: .acquiring)
            if v >= ReaderSlots.firstEpoch && v < oldest { oldest = v }
        }
        return oldest
    }

    /// Frees every retired publication all online readers have moved past; true when none is left.
    mutating func reclaim() -> Bool {
        guard !retired.isEmpty else { return true }
        let oldest = oldestReaderEpoch()
        var kept: [Retired] = []
        for r in retired {
            if r.epoch <= oldest {
                for b in r.blocks { b.release() }
                r.root.deallocate()
            } else {
                kept.append(r)
            }
        }
        retired = kept
        return retired.isEmpty
    }

    /// Frees everything (the table is going away, so no reader is left).
    func releaseAll() {
        for r in retired {
            for b in r.blocks { b.release() }
            r.root.deallocate()
        }
        sw.block.release()
        pm.block.release()
        root.deallocate()
    }

    // MARK: - control-side reads (the lock is held, so nothing is freed meanwhile)

    func portSet(ipv4: UInt32) -> PortSet? { pm.find(ipv4).map { Self.decode(ParamsWord.encoding(pm.word(at: $0))) } }

    func softwire(at i: Int) -> Softwire {
        let k = sw.key(at: i), v = sw.value(at: i)
        let ip = UInt32(truncatingIfNeeded: k >> 32), psid = UInt16(truncatingIfNeeded: k)
        return Softwire(ipv4: IPv4Address(ip), psid: psid, b4: v.b4, br: brList[Int(v.brIndex)],
                        portSet: Self.decode((k >> 17) & 0xFFF))
    }
}

/// Layout of the reader epoch words: one per 64-byte line; 0 = free, 1 = registered but
/// offline, ≥ 2 = online with the last epoch the reader announced.
enum ReaderSlots {
    static let stride = 8
    static let free: UInt64 = 0
    static let offline: UInt64 = 1
    static let firstEpoch: UInt64 = 2
}
