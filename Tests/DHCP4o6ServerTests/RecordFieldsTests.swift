import Testing
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

/// The streams' one-step record builder must equal the reference `record.filtered(prl:)` for
/// every lease state and PRL, and the bulk snapshot must hold exactly the active leases.
@Suite struct RecordFieldsTests {
    static func lease(_ state: LeaseState, cid: [UInt8]?, pp: PortParams?) -> Lease {
        Lease(key: SoftwireKey(ipv4: IPv4Address(192, 0, 2, 9), psid: pp?.psid ?? 0), portParams: pp, state: state,
              clientKey: [1, 2, 3], clientID: cid, b4: IPv6Address("2001:db8::9"), clientSource: nil,
              expiry: 1_800_003_600, cltt: 1_799_999_990, stateStart: 1_799_999_000, b4Changed: 0,
              lastChange: 1_800_000_000, changeSeq: 4)
    }

    @Test func oneStepRecordEqualsFilteredRecord() {
        let prls: [[UInt8]] = [[], [51, 61, 91, 109, 151, 152, 153, 156, 159], [51, 152], [61, 153], [91, 156, 159]]
        for state in [LeaseState.active, .released, .expired, .declined] {
            for cid in [nil, [UInt8](), [255, 0, 0, 0, 1]] as [[UInt8]?] {
                for pp in [nil, PortParams(offset: 0, psidLength: 6, psid: 17)] {
                    let l = Self.lease(state, cid: cid, pp: pp)
                    for prl in prls {
                        #expect(l.record(RecordFields(prl: prl)) == l.record.filtered(prl: prl), "\(state) \(prl)")
                    }
                }
            }
        }
        // Lease and CLTT never exceed base-time arithmetic (saturating, as `record`).
        var odd = Self.lease(.active, cid: nil, pp: nil)
        odd.expiry = 5; odd.cltt = 1_900_000_000
        #expect(odd.record(RecordFields(prl: [51, 91])) == odd.record.filtered(prl: [51, 91]))
    }

    @Test func bulkSnapshotHoldsExactlyTheActiveLeases() throws {
        let store = try LeaseStore(journal: nil)
        for i in 0..<40 {
            var l = Self.lease(i % 3 == 0 ? .released : .active, cid: [UInt8(i)], pp: PortParams(offset: 0, psidLength: 6, psid: UInt16(1 + i)))
            l.clientKey = [UInt8(i)]
            l.b4 = IPv6Address(hi: 0x2001_0db8_0000_0000, lo: UInt64(i))
            try store.commit(l, now: 1_800_000_000 + UInt32(i))
        }
        let snap = store.activeSnapshot()
        #expect(snap.count == 26 && store.activeCount == 26)
        #expect(snap.sorted { $0.key < $1.key } == store.active())
        #expect(snap.allSatisfy { $0.state == .active })
    }

    /// The bulk snapshot's rows (client-id inline up to 32 bytes, longer ones aside) encode to
    /// exactly the generic bytes of the lease's record; a client-id over 255 bytes is declined
    /// (the stream then uses the generic encoder via `fullRecord`).
    @Test func bulkRowsEncodeLikeTheGenericPath() throws {
        let lengths: [Int?] = [nil, 0, 1, 15, 31, 32, 33, 100, 255, 256]
        var leases: [Lease] = []
        for (i, n) in lengths.enumerated() {
            for state in [LeaseState.active, .released] {
                var l = Self.lease(state, cid: n.map { c in (0..<c).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) } },
                                   pp: i % 3 == 0 ? nil : PortParams(offset: 0, psidLength: 6, psid: UInt16(1 + i)))
                l.key = SoftwireKey(ipv4: IPv4Address(0xC000_0200 + UInt32(i)), psid: l.portParams?.psid ?? 0)
                leases.append(l)
            }
        }
        let rows = BulkRows(leases, capacity: leases.count)
        for prl in [[UInt8](), [51, 61, 91, 152, 153, 156, 159]] {
            let f = RecordFields(prl: prl)
            for (i, l) in leases.enumerated() {
                #expect(rows.fullRecord(i, f) == l.record.filtered(prl: prl))
                let generic = try LeasequeryResponse(kind: .data, transactionID: 0xABCDEF, payload: .record(l.record(f))).framed()
                var out: [UInt8] = []
                let direct = rows.encode(i, f, xid: 0xABCDEF) { n, write in
                    out = [UInt8](unsafeUninitializedCapacity: n) { b, c in c = write(UnsafeMutableRawPointer(b.baseAddress!)) }
                }
                if f.clientID, (l.clientID?.count ?? 0) > 255 {
                    #expect(!direct)
                } else {
                    #expect(direct && out == generic, "lease \(i) prl \(prl)")
                }
            }
        }
    }
}
