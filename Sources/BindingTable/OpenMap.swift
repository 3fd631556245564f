/// Open-addressing hash map from a 64-bit key (packed (IPv4, PSID), or an IPv4) to a value.
/// Power-of-two capacity, linear probing, load ≤ 0.7, backward-shift deletion, seeded hash.
/// Single-threaded; `BindingTable` wraps it for publication to readers.
@usableFromInline
struct OpenMap<Value> {
    @usableFromInline var emptyKey: UInt64 { ~0 }
    @usableFromInline var keys: UnsafeMutablePointer<UInt64>
    @usableFromInline var values: UnsafeMutablePointer<Value>
    @usableFromInline var mask: Int
    @usableFromInline var count: Int = 0
    @usableFromInline let seed: UInt64
    @usableFromInline let filler: Value

    init(capacity: Int, seed: UInt64, filler: Value) {
        self.filler = filler
        var cap = 16
        while cap * 7 / 10 < capacity { cap <<= 1 }
        keys = .allocate(capacity: cap)
        keys.initialize(repeating: ~0, count: cap)
        values = .allocate(capacity: cap)
        values.initialize(repeating: filler, count: cap)
        mask = cap - 1
        self.seed = seed
    }

    func deallocate() {
        keys.deallocate()
        values.deallocate()
    }

    @inlinable var capacity: Int { mask + 1 }

    @inlinable @inline(__always)
    func slot(for key: UInt64) -> Int {
        // Multiply-xorshift mix (fast, decent avalanche); seed defeats precomputed collisions.
        var h = (key ^ seed) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h) & mask
    }

    @inlinable @inline(__always)
    func find(_ key: UInt64) -> Int? {
        var i = slot(for: key)
        while true {
            let k = keys[i]
            if k == key { return i }
            if k == emptyKey { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// Inserts or replaces. Returns true when the key was new.
    @discardableResult
    mutating func upsert(_ key: UInt64, _ value: Value) -> Bool {
        if (count + 1) * 10 > capacity * 7 { grow() }
        var i = slot(for: key)
        while true {
            let k = keys[i]
            if k == key { values[i] = value; return false }
            if k == emptyKey {
                keys[i] = key; values[i] = value; count += 1
                return true
            }
            i = (i &+ 1) & mask
        }
    }

    @discardableResult
    mutating func remove(_ key: UInt64) -> Bool {
        guard var hole = find(key) else { return false }
        keys[hole] = emptyKey
        count -= 1
        var i = (hole + 1) & mask
        while keys[i] != emptyKey {
            let home = slot(for: keys[i])
            // Move entry i into the hole if its home is not cyclically in (hole, i].
            let distHole = (hole - home) & mask
            let distI = (i - home) & mask
            if distHole < distI {
                keys[hole] = keys[i]; values[hole] = values[i]
                keys[i] = emptyKey
                hole = i
            }
            i = (i + 1) & mask
        }
        return true
    }

    mutating func grow() {
        var bigger = OpenMap(capacity: capacity, seed: seed, filler: filler)  // capacity → next power giving load ≤ .7
        while bigger.capacity <= capacity { bigger.deallocate(); bigger = OpenMap(capacity: bigger.capacity, seed: seed, filler: filler) }
        for i in 0..<capacity where keys[i] != emptyKey {
            bigger.upsert(keys[i], values[i])
        }
        deallocate()
        self = bigger
    }
}
