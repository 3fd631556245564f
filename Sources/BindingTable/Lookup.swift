public import Synchronization
internal import CShim

/// One published version of the table's maps. Immutable once published: the writer changes
/// slots inside the maps, but replacing a map (growth, rebuild, bulk reload) publishes a new
/// `Root`, and the old one is freed only through QSBR.
@usableFromInline struct Root {
    @usableFromInline let slots: UnsafeMutablePointer<Slot>
    @usableFromInline let mask: Int
    @usableFromInline let hash: SlotHash
    @usableFromInline let params: UnsafeMutablePointer<Atomic<UInt64>>
    @usableFromInline let paramsMask: Int
    @usableFromInline let paramsHash: SlotHash
    /// The port-set template every address shares (`ParamsMap.uniform`), or 0. When set, readers
    /// derive keys without probing the params map: an address with another port set cannot be
    /// present under this root, and one added later is only matched after the writer publishes a
    /// root without the template (its stored keys carry its own port set, so until then it is
    /// simply not found, as if looked up before the insert).
    @usableFromInline let uniform: UInt64
    /// Every address present lies in `low ... low + span` (`ParamsMap.low`/`high`; wrapping
    /// arithmetic, so an empty map's range is harmless): an address outside is not managed, without
    /// a probe. An address added outside the range is only seen once the writer publishes a root
    /// with the wider range (as if looked up before the insert).
    @usableFromInline let low: UInt32
    @usableFromInline let span: UInt32

    init(_ sw: SoftwireMap, _ pm: ParamsMap) {
        slots = sw.slots; mask = sw.mask; hash = sw.hash
        params = pm.words; paramsMask = pm.mask; paramsHash = pm.hash
        uniform = pm.uniform
        low = pm.low
        span = pm.high &- pm.low
    }

    /// Whether `ipv4` may be managed (false: it certainly is not).
    @inlinable @inline(__always)
    func mayManage(_ ipv4: UInt32) -> Bool { ipv4 &- low <= span }
}

/// Words every reader reads and only the writer stores: the published root and the QSBR epoch.
/// Lives on its own cache line.
@usableFromInline struct Control: ~Copyable {
    @usableFromInline let root: Atomic<UInt>
    @usableFromInline let epoch: Atomic<UInt64>
}

/// The lock-free read side: no allocation, no lock, no ARC; unsafe pointers only.
@usableFromInline enum Probe {
    /// The current root (acquire: everything the writer stored before publishing is visible).
    @inlinable @inline(__always)
    static func root(_ c: UnsafeMutablePointer<Control>) -> UnsafePointer<Root> {
        UnsafePointer(bitPattern: c.pointee.root.load(ordering: .acquiring)).unsafelyUnwrapped
    }

    @inlinable @inline(__always)
    static func paramsHome(_ r: UnsafePointer<Root>, _ ipv4: UInt32) -> Int {
        r.pointee.paramsHash(UInt64(ipv4))
    }

    /// The params word of `ipv4` (probing from slot `i`), or 0 when the address is unknown.
    @inlinable @inline(__always)
    static func params(_ r: UnsafePointer<Root>, _ ipv4: UInt32, from start: Int) -> UInt64 {
        let want = UInt64(ipv4) << 32 | SlotMark.present
        let words = r.pointee.params, mask = r.pointee.paramsMask
        var i = start
        while true {
            let w = words[i].load(ordering: .relaxed)
            if w & 0xFFFF_FFFF_0001_0000 == want { return w }
            if w == SlotMark.empty { return 0 }
            i = (i &+ 1) & mask
        }
    }

    /// Stored softwire key for (ipv4, port) under params word `w` (of `ipv4`), or nil for a port
    /// the offset reserves.
    @inlinable @inline(__always)
    static func key(params w: UInt64, ipv4: UInt32, port: UInt16) -> UInt64? {
        let k = ParamsWord.key(w, port: port)
        return k == 0 ? nil : k
    }

    /// The stored key owning (ipv4, port), or 0 when no softwire can own it: from the uniform
    /// template, or by probing the params map.
    @inlinable @inline(__always)
    static func key(_ r: UnsafePointer<Root>, ipv4: UInt32, port: UInt16) -> UInt64 {
        let u = r.pointee.uniform
        if u != 0 { return ParamsWord.key(present: UInt64(ipv4) << 32 | u, port: port) }
        return probedKey(r, ipv4: ipv4, port: port)
    }

    /// The stored key owning (ipv4, port) from the params map, or 0.
    @inlinable @inline(__always)
    static func probedKey(_ r: UnsafePointer<Root>, ipv4: UInt32, port: UInt16) -> UInt64 {
        let want = UInt64(ipv4) << 32 | SlotMark.present
        let words = r.pointee.params, mask = r.pointee.paramsMask
        var i = paramsHome(r, ipv4)
        while true {
            let w = words[i].load(ordering: .relaxed)
            if w & 0xFFFF_FFFF_0001_0000 == want { return ParamsWord.key(present: w, port: port) }
            if w == SlotMark.empty { return 0 }
            i = (i &+ 1) & mask
        }
    }

    @inlinable @inline(__always)
    static func home(_ r: UnsafePointer<Root>, _ key: UInt64) -> Int {
        r.pointee.hash(key)
    }

    /// A consistent copy of a slot's key and value, read under its seqlock (sequence, key, B4,
    /// sequence again; retried while odd or changed).
    @inlinable @inline(__always)
    static func load(_ s: UnsafeMutablePointer<Slot>) -> (key: UInt64, value: SoftwireValue) {
        while true {
            let w1 = s.pointee.word.load(ordering: .acquiring)
            let k = s.pointee.key.load(ordering: .relaxed)
            let hi = s.pointee.b4Hi.load(ordering: .relaxed)
            let lo = s.pointee.b4Lo.load(ordering: .relaxed)
            atomicMemoryFence(ordering: .acquiring)
            let w2 = s.pointee.word.load(ordering: .relaxed)
            if w1 == w2 && w1 & 1 == 0 {
                return (k, SoftwireValue(b4Hi: hi, b4Lo: lo, brIndex: UInt32(truncatingIfNeeded: w1 >> 32)))
            }
        }
    }

    /// Reads a slot whose key matched under its seqlock: the value, or nil when the slot now holds
    /// another key (entries never move, so the caller keeps probing).
    @inlinable @inline(__always)
    static func read(_ s: UnsafeMutablePointer<Slot>, _ key: UInt64) -> SoftwireValue? {
        let (k, v) = load(s)
        return k == key ? v : nil
    }

    /// Probes for a stored key from slot `start`: a key compare per slot (collisions stay cheap);
    /// the matching slot is read under its seqlock, so it is never torn.
    @inlinable @inline(__always)
    static func find(_ r: UnsafePointer<Root>, _ key: UInt64, from start: Int) -> SoftwireValue? {
        let slots = r.pointee.slots, mask = r.pointee.mask
        var i = start
        while true {
            let s = slots + i
            let k = s.pointee.key.load(ordering: .relaxed)
            if k == key {
                if let v = read(s, key) { return v }
            } else if k == SlotMark.empty {
                return nil
            }
            i = (i &+ 1) & mask
        }
    }

    @inlinable @inline(__always)
    static func lookup(_ r: UnsafePointer<Root>, ipv4: UInt32, port: UInt16) -> SoftwireValue? {
        let key = key(r, ipv4: ipv4, port: port)
        return key == 0 ? nil : find(r, key, from: home(r, key))
    }

    @inlinable @inline(__always)
    static func isManaged(_ r: UnsafePointer<Root>, ipv4: UInt32) -> Bool {
        r.pointee.mayManage(ipv4) && params(r, ipv4, from: paramsHome(r, ipv4)) != 0
    }

    /// Batched lookup in groups of 32: hash every address and prefetch its params slot, then
    /// compute every key and prefetch its softwire slot, then probe. `results` doubles as the
    /// scratch space, so nothing is allocated.
    @usableFromInline
    static func lookupBatch(_ r: UnsafePointer<Root>, ipv4: UnsafePointer<UInt32>, ports: UnsafePointer<UInt16>,
                            results: UnsafeMutablePointer<SoftwireValue>, count: Int) -> Int {
        let pending = UInt32.max &- 1
        let params = UnsafeRawPointer(r.pointee.params), slots = UnsafeRawPointer(r.pointee.slots)
        var found = 0, base = 0
        while base < count {
            let end = min(base + 32, count)
            for i in base..<end {
                let h = paramsHome(r, ipv4[i])
                results[i].b4Lo = UInt64(h)
                cshim_prefetch(params + h &* 8)
            }
            for i in base..<end {
                let key = ParamsWord.key(Probe.params(r, ipv4[i], from: Int(truncatingIfNeeded: results[i].b4Lo)),
                                         port: ports[i])
                guard key != 0 else {
                    results[i] = .notFound
                    continue
                }
                let h = home(r, key)
                results[i] = SoftwireValue(b4Hi: key, b4Lo: UInt64(h), brIndex: pending)
                cshim_prefetch(slots + h &* MemoryLayout<Slot>.stride)
            }
            for i in base..<end where results[i].brIndex == pending {
                if let v = find(r, results[i].b4Hi, from: Int(truncatingIfNeeded: results[i].b4Lo)) {
                    results[i] = v
                    found &+= 1
                } else {
                    results[i] = .notFound
                }
            }
            base = end
        }
        return found
    }
}
