/// Token bucket for the ICMP errors the lwAFTR originates (RFC 7596 §9, RFC 4443 §2.4(f)):
/// up to `burst` at once, refilled at `burst` tokens per `periodNs`. Integer arithmetic only.
public struct TokenBucket: Sendable {
    public let burst: UInt64
    public let periodNs: UInt64
    /// Tokens scaled by `periodNs` so refills need no division per packet.
    @usableFromInline var scaled: UInt64
    @usableFromInline var last: UInt64
    @usableFromInline var started = false

    public init(burst: Int, periodNs: UInt64) {
        self.burst = UInt64(min(max(0, burst), 1_000_000_000))
        self.periodNs = max(1, periodNs)
        scaled = self.burst &* self.periodNs
        last = 0
    }

    /// Takes one token if available.
    @inlinable public mutating func take(now: UInt64) -> Bool {
        if !started {
            started = true
            last = now
        } else if now > last {
            let full = burst &* periodNs
            let elapsed = now &- last
            // elapsed * burst tokens-scaled were earned; saturate at a full bucket.
            let earned = burst == 0 ? 0 : (elapsed >= periodNs ? full : elapsed &* burst)
            scaled = min(full, scaled &+ earned)
            last = now
        }
        guard scaled >= periodNs else { return false }
        scaled &-= periodNs
        return true
    }
}
