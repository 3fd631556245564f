/// Lease-expiry schedule: keys bucketed by the local second their lease ends. A bucket entry is
/// only a hint — the owner checks the key's current expiry before deleting, so renewals never
/// need to remove old entries.
struct ExpiryWheel {
    private var buckets: [UInt32: [UInt64]] = [:]
    /// Every second up to this one has been handed out.
    private(set) var sweptThrough: UInt32

    init(now: UInt32) { sweptThrough = now }


    /// Schedules `key` at `second` (or the next unswept second); returns the second used.
    mutating func add(_ key: UInt64, at second: UInt32) -> UInt32 {
        let s = max(second, sweptThrough &+ 1)
        buckets[s, default: []].append(key)
        return s
    }

    /// Removes and returns the (second, keys) buckets due at or before `now`.
    mutating func due(now: UInt32) -> [(UInt32, [UInt64])] {
        guard now > sweptThrough else { return [] }
        var out: [(UInt32, [UInt64])] = []
        if Int(now - sweptThrough) <= buckets.count {
            var s = sweptThrough &+ 1
            while s <= now {
                if let b = buckets.removeValue(forKey: s) { out.append((s, b)) }
                if s == .max { break }
                s += 1
            }
        } else {
            for s in buckets.keys.filter({ $0 <= now }).sorted() { out.append((s, buckets.removeValue(forKey: s)!)) }
        }
        sweptThrough = now
        return out
    }

    /// Drops everything (a full resync rebuilds the schedule).
    mutating func reset() { buckets.removeAll() }
}
