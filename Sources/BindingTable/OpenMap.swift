public import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The two concurrent open-addressing maps behind `BindingTable`: softwires keyed by (IPv4, PSID)
// and per-IPv4 port-set parameters. Power-of-two capacity, linear probing, seeded
// multiply-xorshift hash (`SlotHash`).
//
// Concurrency: one writer mutates a map while any number of readers probe it without locks.
// * A softwire slot is four 64-bit atomic words guarded by a per-slot seqlock (`word` holds the
//   sequence in its low 32 bits, odd while the writer is inside, and the br index in its high 32
//   bits): the writer makes it odd, stores key/B4, makes it even with release order; a reader
//   loads it (acquire), loads the fields, fences, reloads it and retries when odd or changed.
// * A params slot is a single atomic word, so it is never torn.
// * Removal leaves a tombstone (never backward-shift): entries never move inside a published
//   map, so a probing reader can never miss a key that stays present; readers never wait for
//   the writer except for the few stores of one slot write. A tombstone directly followed by an
//   empty slot is turned back into an empty slot (no chain can cross it), and tombstones are
//   purged for good when the writer rebuilds the map (growth, or `count + tombstones` reaching
//   the 0.7 load limit), which publishes a fresh map through QSBR.
//
// Stored key words carry a marker bit so that all-zero memory (fresh anonymous pages) means
// "empty": softwire slot key = `ipv4 << 32 | (offset << 8 | psidLength) << 17 | 1 << 16 | psid`
// (the port set is part of the key: see `WriterState.storedKey`); params word =
// `ipv4 << 32 | (offset << 8 | psidLength) << 17 | 1 << 16 | offset | (16 - psidLength) << 8`,
// so a softwire key is the params word with its low 16 bits replaced by the PSID, and the low
// bits hold the two shift amounts that derive the PSID from a port (`ParamsWord`).
// Empty = 0, tombstone = 1.

/// Empty / tombstone markers and the marker bit of stored keys.
@usableFromInline enum SlotMark {
    @inlinable static var empty: UInt64 { 0 }
    @inlinable static var tombstone: UInt64 { 1 }
    @inlinable static var present: UInt64 { 0x1_0000 }
}

/// Seeded 64-bit mix (multiply / xor-shift, two rounds). Fast, non-cryptographic; the random
/// per-table seed defeats precomputed collision sets.
@inlinable @inline(__always)
func mixHash(_ x: UInt64, _ seed: UInt64) -> UInt64 {
    var h = (x ^ seed) &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 32
    h = h &* 0xD6E8_FEB8_6659_FD93
    h ^= h >> 29
    return h
}

/// Seeded multiply-xorshift: `h = (x ^ seed) * φ; h ^= h >> 32`, low bits as the slot. One
/// multiply (the old two-round mix took two); the xor folds the product's well-mixed high half
/// into the low bits. Plain multiply-shift (top bits of `x * a`) was cheaper still but, on keys
/// made of (sequential address, small PSID), some seeds gave mean probe lengths of 4-6 at load
/// 0.5 instead of 1.5. The random per-table seed keeps colliding key sets from being precomputed.
@usableFromInline struct SlotHash {
    @usableFromInline let seed: UInt64
    @usableFromInline let mask: UInt64

    init(seed: UInt64, capacity: Int) {
        precondition(capacity >= 2 && capacity & (capacity - 1) == 0)
        self.seed = mixHash(seed, 0x6D75_6C74_6970_6C79)
        mask = UInt64(capacity - 1)
    }

    @inlinable @inline(__always)
    func callAsFunction(_ x: UInt64) -> Int {
        var h = (x ^ seed) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        return Int(truncatingIfNeeded: h & mask)
    }
}

/// Encoding of params words (see the file comment).
@usableFromInline enum ParamsWord {
    /// The params word of `ipv4` with port set (offset, psidLength).
    static func make(ipv4: UInt32, offset: UInt8, psidLength: UInt8) -> UInt64 {
        let enc = UInt64(offset) << 8 | UInt64(psidLength)
        return UInt64(ipv4) << 32 | enc << 17 | SlotMark.present | UInt64(offset) | UInt64(16 - psidLength) << 8
    }

    /// The `offset << 8 | psidLength` encoding of a params word or a stored softwire key.
    static func encoding(_ w: UInt64) -> UInt64 { (w >> 17) & 0xFFF }

    /// The port-set part of a params word (everything but the address).
    static func template(_ w: UInt64) -> UInt64 { w & 0xFFFF_FFFF }

    /// The stored softwire key owning `port` under params word `w`, or 0 when `w` is 0 (address
    /// unknown) or the offset reserves the port. Never 0 or 1 (empty, tombstone) otherwise.
    @inlinable @inline(__always)
    static func key(_ w: UInt64, port: UInt16) -> UInt64 {
        w == 0 ? 0 : key(present: w, port: port)
    }

    /// `key(_:port:)` for a non-zero params word.
    @inlinable @inline(__always)
    static func key(present w: UInt64, port: UInt16) -> UInt64 {
        let a = UInt32(truncatingIfNeeded: w) & 0xFF, sk = UInt32(truncatingIfNeeded: w >> 8) & 0xFF
        let x = UInt32(port) &<< a
        if a != 0 && x < 0x1_0000 { return 0 }
        return w & ~0xFFFF | UInt64((x & 0xFFFF) &>> sk)
    }
}

/// One softwire slot: 32 bytes, four atomic words.
@usableFromInline struct Slot: ~Copyable {
    /// `brIndex << 32 | sequence`; sequence odd while the writer is storing the slot.
    @usableFromInline let word: Atomic<UInt64>
    /// Stored key (see `WriterState.storedKey`), `SlotMark.empty` or `.tombstone`.
    @usableFromInline let key: Atomic<UInt64>
    @usableFromInline let b4Hi: Atomic<UInt64>
    @usableFromInline let b4Lo: Atomic<UInt64>
}

/// Zero-filled, page-aligned memory from the kernel (empty slots cost nothing to initialise).
/// Blocks of 4 MiB and more are aligned to 2 MiB and advised to use transparent huge pages:
/// random probes into a 512 MiB table otherwise miss the TLB on nearly every access.
struct Block: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let bytes: Int
    let mapping: UnsafeMutableRawPointer
    let mappedBytes: Int

    static let hugePage = 2 << 20

    init(bytes: Int) {
        let n = max(bytes, 64)
        let huge = n >= 2 * Self.hugePage
        let total = huge ? n + Self.hugePage : n
        guard let p = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != MAP_FAILED else { fatalError("BindingTable: cannot map \(total) bytes") }
        mapping = p
        mappedBytes = total
        if huge {
            let addr = UInt(bitPattern: p)
            let aligned = (addr + UInt(Self.hugePage - 1)) & ~UInt(Self.hugePage - 1)
            base = p + Int(aligned - addr)
            #if os(Linux)
            _ = madvise(base, n, MADV_HUGEPAGE)
            #endif
        } else {
            base = p
        }
        self.bytes = n
    }

    func release() { munmap(mapping, mappedBytes) }
}

/// Smallest power of two ≥ 16 that holds `count` entries at load ≤ 0.7.
func capacityFor(_ count: Int) -> Int {
    var cap = 16
    while count * 10 > cap * 7 { cap <<= 1 }
    return cap
}

/// Capacity of a rebuilt map holding `live` entries: keeps the current size while live load
/// stays ≤ 0.6 (so 10 M softwires fit 2^24 slots, leaving 0.1 of the slots for tombstones and
/// inserts before the next rebuild), doubles beyond, shrinks only when 4× oversized.
func rebuildCapacity(live: Int, current: Int) -> Int {
    var cap = 16
    while live * 10 > cap * 6 { cap <<= 1 }
    if cap >= current { return cap }
    return cap * 4 > current ? current : cap * 2
}

/// Writer's view of one softwire map allocation. Only the single writer calls the mutating
/// methods; readers use `BindingTable.probe`.
struct SoftwireMap {
    let block: Block
    let slots: UnsafeMutablePointer<Slot>
    let mask: Int
    let seed: UInt64
    let hash: SlotHash
    var count = 0
    var tombstones = 0

    init(capacity: Int, seed: UInt64) {
        precondition(capacity >= 16 && capacity & (capacity - 1) == 0)
        block = Block(bytes: capacity * MemoryLayout<Slot>.stride)
        slots = block.base.bindMemory(to: Slot.self, capacity: capacity)
        mask = capacity - 1
        self.seed = seed
        hash = SlotHash(seed: seed, capacity: capacity)
    }

    var capacity: Int { mask + 1 }

    @inline(__always) func home(_ key: UInt64) -> Int { hash(key) }

    /// Stores one slot under its seqlock.
    @inline(__always)
    func write(_ i: Int, key: UInt64, b4Hi: UInt64, b4Lo: UInt64, brIndex: UInt32) {
        let s = slots + i
        let w = s.pointee.word.load(ordering: .relaxed)
        let seq = UInt32(truncatingIfNeeded: w) &+ 1
        s.pointee.word.store(w & 0xFFFF_FFFF_0000_0000 | UInt64(seq), ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        s.pointee.key.store(key, ordering: .relaxed)
        s.pointee.b4Hi.store(b4Hi, ordering: .relaxed)
        s.pointee.b4Lo.store(b4Lo, ordering: .relaxed)
        s.pointee.word.store(UInt64(brIndex) << 32 | UInt64(seq &+ 1), ordering: .releasing)
    }

    func key(at i: Int) -> UInt64 { slots[i].key.load(ordering: .relaxed) }

    /// Stored value at a live slot (the writer's own data: no seqlock needed).
    func value(at i: Int) -> SoftwireValue {
        SoftwireValue(b4Hi: slots[i].b4Hi.load(ordering: .relaxed), b4Lo: slots[i].b4Lo.load(ordering: .relaxed),
                      brIndex: UInt32(truncatingIfNeeded: slots[i].word.load(ordering: .relaxed) >> 32))
    }

    func find(_ key: UInt64) -> Int? {
        var i = home(key)
        while true {
            let k = self.key(at: i)
            if k == key { return i }
            if k == SlotMark.empty { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// Whether one more insert keeps `count + tombstones` within the 0.7 load limit.
    var hasRoom: Bool { (count + tombstones + 1) * 10 <= capacity * 7 }

    /// Inserts or replaces; returns true when the key was new. Needs `hasRoom` for new keys.
    mutating func upsert(_ key: UInt64, _ v: SoftwireValue) -> Bool {
        var i = home(key)
        var reuse = -1
        while true {
            let k = self.key(at: i)
            if k == key {
                write(i, key: key, b4Hi: v.b4Hi, b4Lo: v.b4Lo, brIndex: v.brIndex)
                return false
            }
            if k == SlotMark.empty { break }
            if k == SlotMark.tombstone && reuse < 0 { reuse = i }
            i = (i &+ 1) & mask
        }
        if reuse >= 0 { i = reuse; tombstones -= 1 }
        write(i, key: key, b4Hi: v.b4Hi, b4Lo: v.b4Lo, brIndex: v.brIndex)
        count += 1
        return true
    }

    /// Removes a key (tombstone, then trims tombstones that end a chain).
    mutating func remove(_ key: UInt64) -> Bool {
        guard let i = find(key) else { return false }
        write(i, key: SlotMark.tombstone, b4Hi: 0, b4Lo: 0, brIndex: 0)
        count -= 1
        tombstones += 1
        var j = i
        while self.key(at: (j &+ 1) & mask) == SlotMark.empty && self.key(at: j) == SlotMark.tombstone {
            write(j, key: SlotMark.empty, b4Hi: 0, b4Lo: 0, brIndex: 0)
            tombstones -= 1
            j = (j &- 1) & mask
        }
        return true
    }

    /// Calls `body` with every live (stored key, slot index).
    func forEach(_ body: (UInt64, Int) throws(BindingTableError) -> Void) throws(BindingTableError) {
        for i in 0..<capacity {
            let k = key(at: i)
            if k > SlotMark.tombstone { try body(k, i) }
        }
    }

    /// A copy without tombstones, sized by `rebuildCapacity` for `count + extra` entries.
    func rebuilt(extra: Int) -> SoftwireMap {
        let cap = rebuildCapacity(live: count + extra, current: capacity)
        var m = SoftwireMap(capacity: cap, seed: seed)
        for i in 0..<capacity {
            let k = key(at: i)
            if k > SlotMark.tombstone { _ = m.upsert(k, value(at: i)) }
        }
        return m
    }
}

/// Writer's view of one params map allocation: atomic words readers probe, plus a writer-only
/// count of softwires per address (`users`) in the same allocation.
struct ParamsMap {
    let block: Block
    let words: UnsafeMutablePointer<Atomic<UInt64>>
    let users: UnsafeMutablePointer<UInt32>
    let mask: Int
    let seed: UInt64
    let hash: SlotHash
    var count = 0
    var tombstones = 0
    /// The port-set template (`ParamsWord.template`) shared by every address added since the map
    /// was last empty, or 0 when they differ (or none was added). Conservative: removals never
    /// make a mixed map uniform again; a rebuild (which re-adds every word) does.
    private(set) var uniform: UInt64 = 0
    /// The /16 blocks holding every address added since the map was last empty: `low` is the
    /// first address of the lowest block, `high` the last of the highest (`UInt32.max`, 0 when
    /// empty). Whole blocks, so that a pool filled address by address widens the range (and
    /// makes the writer publish a new root) once per /16, not once per address. Conservative
    /// like `uniform`: removals do not shrink it; a rebuild does.
    private(set) var low = UInt32.max
    private(set) var high: UInt32 = 0

    init(capacity: Int, seed: UInt64) {
        precondition(capacity >= 16 && capacity & (capacity - 1) == 0)
        block = Block(bytes: capacity * 12)
        words = block.base.bindMemory(to: Atomic<UInt64>.self, capacity: capacity)
        users = (block.base + capacity * 8).bindMemory(to: UInt32.self, capacity: capacity)
        mask = capacity - 1
        self.seed = seed
        hash = SlotHash(seed: seed, capacity: capacity)
    }

    var capacity: Int { mask + 1 }

    func word(at i: Int) -> UInt64 { words[i].load(ordering: .relaxed) }

    func find(_ ipv4: UInt32) -> Int? {
        let want = UInt64(ipv4) << 32 | SlotMark.present
        var i = hash(UInt64(ipv4))
        while true {
            let w = word(at: i)
            if w & 0xFFFF_FFFF_0001_0000 == want { return i }
            if w == SlotMark.empty { return nil }
            i = (i &+ 1) & mask
        }
    }

    var hasRoom: Bool { (count + tombstones + 1) * 10 <= capacity * 7 }

    /// Adds a new address (the caller checked it is absent and `hasRoom`); returns its slot.
    mutating func add(_ word: UInt64, users n: UInt32) -> Int {
        var i = hash(word >> 32)
        while true {
            let w = self.word(at: i)
            if w == SlotMark.empty || w == SlotMark.tombstone {
                if w == SlotMark.tombstone { tombstones -= 1 }
                users[i] = n
                words[i].store(word, ordering: .releasing)
                let ipv4 = UInt32(truncatingIfNeeded: word >> 32)
                low = Swift.min(low, ipv4 & 0xFFFF_0000)
                high = Swift.max(high, ipv4 | 0xFFFF)
                // Templates carry the present bit, so once 0 (mixed) no template equals it again.
                if count == 0 {
                    uniform = ParamsWord.template(word)
                } else if ParamsWord.template(word) != uniform {
                    uniform = 0
                }
                count += 1
                return i
            }
            i = (i &+ 1) & mask
        }
    }

    mutating func remove(at i: Int) {
        words[i].store(SlotMark.tombstone, ordering: .releasing)
        users[i] = 0
        count -= 1
        tombstones += 1
        if count == 0 { uniform = 0; low = .max; high = 0 }
        var j = i
        while word(at: (j &+ 1) & mask) == SlotMark.empty && word(at: j) == SlotMark.tombstone {
            words[j].store(SlotMark.empty, ordering: .releasing)
            tombstones -= 1
            j = (j &- 1) & mask
        }
    }

    func rebuilt(extra: Int) -> ParamsMap {
        let cap = rebuildCapacity(live: count + extra, current: capacity)
        var m = ParamsMap(capacity: cap, seed: seed)
        for i in 0..<capacity where word(at: i) > SlotMark.tombstone { _ = m.add(word(at: i), users: users[i]) }
        return m
    }
}
