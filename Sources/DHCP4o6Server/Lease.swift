import LwAFTRCore
import DHCPWire

/// Server-side state of one (IPv4, PSID) key.
enum LeaseState: String, Sendable {
    case active, released, expired, declined

    var dhcpState: DHCPLeaseState {
        switch self {
        case .active: .active
        case .released: .released
        case .expired: .expired
        case .declined: .abandoned
        }
    }
}

/// One lease (or the tombstone of one) as the server keeps it. Times are Unix seconds (server clock).
struct Lease: Sendable, Equatable {
    var key: SoftwireKey
    /// Port parameters of the key (nil = full address).
    var portParams: PortParams?
    var state: LeaseState
    /// Identity of the client: option 61 if it sent one, else htype + chaddr.
    var clientKey: [UInt8]
    /// Raw option 61, for records.
    var clientID: [UInt8]?
    /// RFC 8539 softwire source (109); nil only for a lease that never had one.
    var b4: IPv6Address?
    /// IPv6 source of the client's DHCPV4-QUERY (RFC 7618 INIT-REBOOT check).
    var clientSource: IPv6Address?
    var expiry: UInt32
    /// Client last transaction time.
    var cltt: UInt32
    /// When the current state began.
    var stateStart: UInt32
    /// When the B4 address last changed (RFC 8539 minimum update interval).
    var b4Changed: UInt32
    /// Time of the last change visible to leasequery (the record's base-time).
    var lastChange: UInt32
    /// Order of the last change: strictly increasing over the store.
    var changeSeq: UInt64

    /// The leasequery record for the current state, stamped with `lastChange` (PROTOCOLS.md §7.5).
    var record: LeaseRecord {
        if state == .active {
            return LeaseRecord(kind: .active, ipv4: key.ipv4, portParams: portParams, b4: b4,
                               baseTime: UnixTime(seconds: lastChange), clientID: clientID,
                               leaseTime: expiry &- min(expiry, lastChange),
                               clientLastTransaction: lastChange &- min(lastChange, cltt),
                               startTimeOfState: lastChange &- min(lastChange, stateStart), state: .active)
        }
        return LeaseRecord(kind: .unassigned, ipv4: key.ipv4, portParams: portParams, b4: b4,
                           baseTime: UnixTime(seconds: lastChange), clientID: clientID,
                           startTimeOfState: lastChange &- min(lastChange, stateStart), state: state.dhcpState)
    }
}

/// The optional record options a requestor's PRL asked for (PROTOCOLS.md §7.3), computed once
/// per query; 152, 159 (shared addresses) and 109 are always sent.
struct RecordFields: Equatable {
    var clientID, leaseTime, clientLastTransaction, startTimeOfState, state: Bool

    init(prl: [UInt8]) {
        clientID = prl.contains(61); leaseTime = prl.contains(51); clientLastTransaction = prl.contains(91)
        startTimeOfState = prl.contains(153); state = prl.contains(156)
    }
}

extension Lease {
    /// `record.filtered(prl:)` built in one step (the bulk and active streams' hot path).
    @inline(__always)
    func record(_ f: RecordFields) -> LeaseRecord {
        withUnsafePointer(to: self) { Self.record(at: $0, f) }
    }

    /// The same, reading the fields in place: no copy of the lease (a copy retains its two arrays,
    /// two cache misses per lease in a 1 M-lease bulk).
    @inline(__always)
    static func record(at l: UnsafePointer<Lease>, _ f: RecordFields) -> LeaseRecord {
        let active = l.pointee.state == .active
        let change = l.pointee.lastChange
        let expiry = l.pointee.expiry, cltt = l.pointee.cltt, start = l.pointee.stateStart
        return LeaseRecord(kind: active ? .active : .unassigned, ipv4: l.pointee.key.ipv4, portParams: l.pointee.portParams,
                           b4: l.pointee.b4, baseTime: UnixTime(seconds: change), clientID: f.clientID ? l.pointee.clientID : nil,
                           leaseTime: active && f.leaseTime ? expiry &- min(expiry, change) : nil,
                           clientLastTransaction: active && f.clientLastTransaction ? change &- min(change, cltt) : nil,
                           startTimeOfState: f.startTimeOfState ? change &- min(change, start) : nil,
                           state: f.state ? l.pointee.state.dhcpState : nil)
    }
}

extension LeaseRecord {
    /// Keeps only what the requestor's PRL asked for, plus what the profile always sends
    /// (152, 159 when shared, 109).
    func filtered(prl: [UInt8]) -> LeaseRecord {
        var r = self
        if !prl.contains(61) { r.clientID = nil }
        if !prl.contains(51) { r.leaseTime = nil }
        if !prl.contains(91) { r.clientLastTransaction = nil }
        if !prl.contains(153) { r.startTimeOfState = nil }
        if !prl.contains(156) { r.state = nil }
        return r
    }
}
