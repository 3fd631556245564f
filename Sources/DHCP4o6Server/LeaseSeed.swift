public import LwAFTRCore
public import DHCPWire

/// One active lease to seed a lease directory with.
public struct SeedLease: Sendable {
    public var ipv4: IPv4Address
    public var portParams: PortParams
    public var b4: IPv6Address
    /// RFC 4361 client identifier (also the lease's client key).
    public var clientID: [UInt8]

    public init(ipv4: IPv4Address, portParams: PortParams, b4: IPv6Address, clientID: [UInt8]) {
        self.ipv4 = ipv4; self.portParams = portParams; self.b4 = b4; self.clientID = clientID
    }
}

/// Writes a lease directory the server loads at start (benchmarks and tests that need a large
/// lease store without leasing it over UDP), in the server's own snapshot format.
public enum LeaseDirectorySeed {
    /// Writes `leases` as active leases granted at `now` for `leaseSeconds`, replacing any store
    /// in `directory`.
    public static func write(_ leases: some Sequence<SeedLease>, directory: String, now: UInt32,
                             leaseSeconds: UInt32 = 3600) throws {
        let journal = try LeaseJournal(directory: directory, sync: false)
        _ = try journal.load()
        var seq: UInt64 = 0
        let all = leases.map { s -> Lease in
            seq += 1
            return Lease(key: SoftwireKey(ipv4: s.ipv4, psid: s.portParams.psid), portParams: s.portParams, state: .active,
                         clientKey: s.clientID, clientID: s.clientID, b4: s.b4, clientSource: nil,
                         expiry: now &+ leaseSeconds, cltt: now, stateStart: now, b4Changed: now, lastChange: now,
                         changeSeq: seq)
        }
        try journal.compact(all, historyStart: 0, nextSeq: seq + 1)
    }
}
