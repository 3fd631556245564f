import LwAFTRCore
import DHCPWire

/// One lease of a bulk-query snapshot, held without references: the fields its record needs and
/// the client-id inline (up to 32 bytes; longer ones live in `BulkRows.longClientIDs`). Taking and
/// streaming a 1 M-lease snapshot then touches each lease's heap arrays once, not four times
/// (retain and release at the copy, again at encoding).
struct BulkRow {
    static let inlineClientID = 32

    var ipv4: IPv4Address
    var portParams: PortParams?
    var b4: IPv6Address?
    var state: LeaseState
    var lastChange, expiry, cltt, stateStart: UInt32
    /// -1: no client-id; 0…32: bytes in `clientID`; -2 - i: `longClientIDs[i]`.
    var clientIDLength: Int32
    var clientID: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// The lease's record for `fields`, without option 61 (written apart by `encode`).
    @inline(__always)
    func record(_ f: RecordFields) -> LeaseRecord {
        let active = state == .active
        return LeaseRecord(kind: active ? .active : .unassigned, ipv4: ipv4, portParams: portParams, b4: b4,
                           baseTime: UnixTime(seconds: lastChange), clientID: nil,
                           leaseTime: active && f.leaseTime ? expiry &- min(expiry, lastChange) : nil,
                           clientLastTransaction: active && f.clientLastTransaction ? lastChange &- min(lastChange, cltt) : nil,
                           startTimeOfState: f.startTimeOfState ? lastChange &- min(lastChange, stateStart) : nil,
                           state: f.state ? state.dhcpState : nil)
    }
}

/// A bulk-query snapshot: rows in streaming order plus the rare long client-ids.
struct BulkRows {
    var rows: [BulkRow] = []
    var longClientIDs: [[UInt8]] = []

    var count: Int { rows.count }

    init(_ leases: some Sequence<Lease>, capacity: Int) {
        rows.reserveCapacity(capacity)
        for l in leases { append(l) }
    }

    /// Snapshot of the active leases of `store`, read in place (no lease copies).
    init(activeOf store: LeaseStore) {
        rows.reserveCapacity(store.activeCount)
        let values = store.leases.values
        var i = values.startIndex
        while i != values.endIndex {
            if values[i].state == .active { append(values[i]) }
            values.formIndex(after: &i)
        }
    }

    @inline(__always)
    mutating func append(_ l: borrowing Lease) {
        var row = BulkRow(ipv4: l.key.ipv4, portParams: l.portParams, b4: l.b4, state: l.state, lastChange: l.lastChange,
                          expiry: l.expiry, cltt: l.cltt, stateStart: l.stateStart, clientIDLength: -1)
        if let c = l.clientID {
            if c.count <= BulkRow.inlineClientID {
                row.clientIDLength = Int32(c.count)
                withUnsafeMutableBytes(of: &row.clientID) { dst in c.withUnsafeBytes { dst.copyMemory(from: $0) } }
            } else {
                row.clientIDLength = -2 - Int32(longClientIDs.count)
                longClientIDs.append(c)
            }
        }
        rows.append(row)
    }

    /// Appends row `i`'s framed DATA message for `xid` to `buf`-like storage through `write`,
    /// which receives the size and must call the given writer with a pointer to that many bytes.
    /// Returns false when the record needs the generic encoder (see `LeaseRecordWriter`).
    @inline(__always)
    func encode(_ i: Int, _ f: RecordFields, xid: UInt32,
                into reserve: (Int, (UnsafeMutableRawPointer) -> Int) -> Void) -> Bool {
        rows.withUnsafeBufferPointer { p in
            let row = p.baseAddress! + i
            let r = row.pointee.record(f)
            let len = row.pointee.clientIDLength
            if !f.clientID || len == -1 {
                guard let n = LeaseRecordWriter.framedSize(r, clientIDCount: nil) else { return false }
                reserve(n) { LeaseRecordWriter.writeData(r, clientID: nil, xid: xid, to: $0, size: n) }
            } else if len >= 0 {
                guard let n = LeaseRecordWriter.framedSize(r, clientIDCount: Int(len)) else { return false }
                withUnsafeBytes(of: row.pointee.clientID) { raw in
                    let cid = UnsafeRawBufferPointer(rebasing: raw[0..<Int(len)])
                    reserve(n) { LeaseRecordWriter.writeData(r, clientID: cid, xid: xid, to: $0, size: n) }
                }
            } else {
                let c = longClientIDs[Int(-2 - len)]
                guard let n = LeaseRecordWriter.framedSize(r, clientIDCount: c.count) else { return false }
                c.withUnsafeBytes { cid in reserve(n) { LeaseRecordWriter.writeData(r, clientID: cid, xid: xid, to: $0, size: n) } }
            }
            return true
        }
    }

    /// Row `i` as a full record (REPLY's first record, and records the direct encoder declines).
    func fullRecord(_ i: Int, _ f: RecordFields) -> LeaseRecord {
        var r = rows[i].record(f)
        let len = rows[i].clientIDLength
        if f.clientID && len >= 0 {
            r.clientID = withUnsafeBytes(of: rows[i].clientID) { Array($0.prefix(Int(len))) }
        } else if f.clientID && len <= -2 {
            r.clientID = longClientIDs[Int(-2 - len)]
        }
        return r
    }
}
