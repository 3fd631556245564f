public import LwAFTRCore
import DHCPWire

/// Why a leasequery record was not applied.
public struct RecordRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// Rejection classes, counted separately in `SyncCounters`.
    public enum Kind: String, Hashable, Sendable {
        /// The record is malformed or semantically impossible (bad address, missing field, …).
        case invalid
        /// The record's port-set parameters disagree with other softwires of the same IPv4.
        case conflict
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) { self.kind = kind; self.reason = reason }

    public var description: String { "\(kind.rawValue): \(reason)" }
}

/// Full semantic validation of a decoded record (the wire decoder already checked every length,
/// presence and range rule of PROTOCOLS.md §7.4): addresses must be usable unicast, the lease
/// state must agree with the message type, times must be real.
public enum RecordValidator {
    /// Checks a record; for ACTIVE records returns the softwire it binds to `br`.
    public static func validate(_ r: BindingRecord, br: IPv6Address) throws(RecordRejection) -> Softwire? {
        let a = r.ipv4.value, first = a >> 24
        guard first != 0, first != 127, first < 224 else {
            throw RecordRejection(.invalid, "\(r.ipv4) is not a unicast IPv4 address")
        }
        guard r.baseTime.seconds != 0 else { throw RecordRejection(.invalid, "base-time 0 for \(r.ipv4)") }
        switch r.kind {
        case .active:
            guard let b4 = r.b4 else { throw RecordRejection(.invalid, "DHCPLEASEACTIVE for \(r.ipv4) without option 109") }
            guard !(b4.hi == 0 && b4.lo <= 1), b4.hi >> 56 != 0xFF else {
                throw RecordRejection(.invalid, "B4 \(b4) of \(r.ipv4) is not a unicast IPv6 address")
            }
            if let s = r.state, s != .active {
                throw RecordRejection(.invalid, "DHCPLEASEACTIVE for \(r.ipv4) with dhcp-state \(s.rawValue)")
            }
            if let l = r.leaseTime, l == 0 {
                throw RecordRejection(.invalid, "DHCPLEASEACTIVE for \(r.ipv4) with lease time 0")
            }
            return Softwire(ipv4: r.ipv4, psid: r.psid, b4: b4, br: br, portSet: r.portSet)
        case .unassigned, .unknown:
            if let s = r.state, s == .active {
                throw RecordRejection(.invalid, "\(r.kind) for \(r.ipv4) with dhcp-state ACTIVE")
            }
            return nil
        }
    }
}
