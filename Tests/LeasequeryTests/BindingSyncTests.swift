import Foundation
import Testing
import LwAFTRCore
import DHCPWire
import BindingTable
import Leasequery

/// `BindingSync`: apply/reject/count, expiry, build-aside resync, snapshot + T_last.
@Suite struct BindingSyncTests {
    static func make(_ table: BindingTable = BindingTable(capacity: 64), existing: BindingSync.ExistingEntries = .replaceable)
        -> (BindingSync, TestClock) {
        let clock = TestClock()
        return (BindingSync(table: table, brAddress: Fx.br, logger: Fx.quiet, existing: existing, clock: clock.now), clock)
    }

    static func b(_ kind: LeaseRecord.Kind = .active, _ ip: String, psid: UInt16 = 0, k: UInt8 = 6, b4: String? = "2001:db8::1",
                  lease: UInt32? = 3600) -> BindingRecord {
        BindingRecord(Fx.record(kind, ip, psid: psid, k: k, b4: b4, lease: lease))
    }

    @Test func appliesUpsertsAndDeletesAndCountsThem() {
        let (s, _) = Self.make()
        #expect(s.apply(Self.b(.active, "192.0.2.1", psid: 1), from: 0) == .added)
        #expect(s.apply(Self.b(.active, "192.0.2.1", psid: 1, b4: "2001:db8::2"), from: 0) == .replaced)
        #expect(s.apply(Self.b(.active, "192.0.2.1", psid: 2, b4: "2001:db8::3"), from: 0) == .added)
        #expect(s.apply(Self.b(.active, "198.51.100.1", k: 0, b4: "2001:db8::4"), from: 0) == .added)
        #expect(s.apply(Self.b(.unassigned, "192.0.2.1", psid: 1, b4: nil), from: 0) == .removed)
        #expect(s.apply(Self.b(.unknown, "192.0.2.1", psid: 1, b4: nil), from: 0) == .absent)
        let sw = s.table.softwire(ipv4: Fx.ip("192.0.2.1"), psid: 2)
        #expect(sw?.b4 == Fx.v6("2001:db8::3") && sw?.br == Fx.br && sw?.portSet == PortSet(offset: 0, psidLength: 6))
        #expect(s.table.softwire(ipv4: Fx.ip("198.51.100.1"), psid: 0)?.portSet.psidLength == 0)
        let c = s.counters
        #expect(c.received == 6 && c.added == 3 && c.replaced == 1 && c.removed == 1 && c.absent == 1 && c.rejected == 0)
        #expect(s.count == 2 && s.table.count == 2)
    }

    @Test func conflictingPortSetsAreRejectedWithoutTouchingTheTable() {
        let (s, _) = Self.make()
        s.apply(Self.b(.active, "192.0.2.1", psid: 1), from: 0)
        guard case .rejected(let e) = s.apply(Self.b(.active, "192.0.2.1", psid: 2, k: 4), from: 0) else {
            Issue.record("accepted a conflicting port set"); return
        }
        #expect(e.kind == .conflict && e.reason.contains("192.0.2.1"))
        // A full-address lease for a shared address conflicts too; so does a delete naming another k.
        #expect(s.apply(Self.b(.active, "192.0.2.1", k: 0), from: 0) != .added)
        #expect(s.apply(Self.b(.unassigned, "192.0.2.1", psid: 1, k: 8, b4: nil), from: 0) != .removed)
        #expect(s.counters.rejectedConflict == 3 && s.table.count == 1)
    }

    @Test func invalidRecordsAreRejected() {
        let (s, _) = Self.make()
        let bad: [BindingRecord] = [
            Self.b(.active, "0.0.0.1", psid: 1), Self.b(.active, "127.0.0.1", psid: 1), Self.b(.active, "240.0.0.1", psid: 1),
            Self.b(.active, "192.0.2.1", psid: 1, b4: "::"), Self.b(.active, "192.0.2.1", psid: 1, b4: "ff05::2"),
            Self.b(.active, "192.0.2.1", psid: 1, lease: 0),
            BindingRecord(kind: .active, ipv4: Fx.ip("192.0.2.1"), portParams: nil, b4: Fx.v6("2001:db8::1"), baseTime: UnixTime(seconds: 5), state: .expired),
            BindingRecord(kind: .unassigned, ipv4: Fx.ip("192.0.2.1"), portParams: nil, b4: nil, baseTime: UnixTime(seconds: 5), state: .active),
            BindingRecord(kind: .active, ipv4: Fx.ip("192.0.2.1"), portParams: nil, b4: Fx.v6("2001:db8::1"), baseTime: UnixTime(seconds: 0)),
        ]
        for r in bad { if case .rejected(let e) = s.apply(r, from: 0) { #expect(e.kind == .invalid) } else { Issue.record("accepted \(r)") } }
        #expect(s.counters.rejectedInvalid == bad.count && s.table.count == 0)
    }

    @Test func leasesExpireLocallyUnlessRenewed() {
        let (s, clock) = Self.make()
        s.apply(Self.b(.active, "192.0.2.1", psid: 1, lease: 10), from: 0)
        s.apply(Self.b(.active, "192.0.2.1", psid: 2, lease: 10), from: 0)
        s.apply(Self.b(.active, "192.0.2.2", psid: 1, lease: nil), from: 0)        // no 51: lives until UNASSIGNED
        clock.advance(6)
        s.apply(Self.b(.active, "192.0.2.1", psid: 2, lease: 10), from: 0)          // renewal
        #expect(s.expire() == 0)
        clock.advance(4.5)
        #expect(s.expire() == 1 && s.table.softwire(ipv4: Fx.ip("192.0.2.1"), psid: 1) == nil)
        clock.advance(6)
        #expect(s.expire() == 1 && s.table.count == 1 && s.counters.expired == 2)
        clock.advance(100_000)
        #expect(s.expire() == 0 && s.table.count == 1)
    }

    @Test func resyncIsBuiltAsideAndMergedWithLiveChangesOthersAndOrphans() throws {
        let table = try BindingTable(softwires: [
            Softwire(ipv4: Fx.ip("10.0.0.1"), psid: 0, b4: Fx.v6("2001:db8::100"), br: Fx.br, portSet: PortSet(offset: 0, psidLength: 0)!),
        ])
        let (s, _) = Self.make(table)
        #expect(s.orphanCount == 1)
        s.apply(Self.b(.active, "192.0.2.1", psid: 1, b4: "2001:db8::a1"), from: 0)          // stale, not in the bulk
        s.apply(Self.b(.active, "203.0.113.1", psid: 1, b4: "2001:db8::e1"), from: 1)        // another server's
        let bld = ResyncBuilder(server: 0)
        s.add(Self.b(.active, "192.0.2.2", psid: 1, b4: "2001:db8::b1"), to: bld)
        s.add(Self.b(.active, "192.0.2.3", psid: 1, b4: "2001:db8::c1"), to: bld)
        s.add(Self.b(.active, "192.0.2.3", psid: 2, k: 4, b4: "2001:db8::c2"), to: bld)      // conflicts inside the bulk
        #expect(s.table.count == 3 && bld.count == 2 && bld.rejected == 1)
        // A live change while the bulk ran: newer than the bulk's copy of that key.
        s.apply(Self.b(.active, "192.0.2.2", psid: 1, b4: "2001:db8::b2"), from: 0)
        #expect(s.publish(bld, touched: [softwireKey(Fx.ip("192.0.2.2").value, 1)], keepOrphans: true))
        let want: Set<Fx.Row> = [
            Fx.Row(ipv4: Fx.ip("10.0.0.1").value, psid: 0, b4: Fx.v6("2001:db8::100"), offset: 0, k: 0),     // orphan kept
            Fx.Row(ipv4: Fx.ip("203.0.113.1").value, psid: 1, b4: Fx.v6("2001:db8::e1"), offset: 0, k: 6),   // server 1
            Fx.Row(ipv4: Fx.ip("192.0.2.2").value, psid: 1, b4: Fx.v6("2001:db8::b2"), offset: 0, k: 6),     // live wins
            Fx.Row(ipv4: Fx.ip("192.0.2.3").value, psid: 1, b4: Fx.v6("2001:db8::c1"), offset: 0, k: 6),
        ]
        #expect(Fx.rows(s.table) == want && s.count == 4)
        // A second resync without orphans drops the orphan, keeps server 1's softwire.
        let bld2 = ResyncBuilder(server: 0)
        s.add(Self.b(.active, "192.0.2.3", psid: 1, b4: "2001:db8::c1"), to: bld2)
        #expect(s.publish(bld2))
        #expect(Fx.rows(s.table).map(\.b4).sorted() == [Fx.v6("2001:db8::c1"), Fx.v6("2001:db8::e1")])
        #expect(s.counters.resyncs == 2 && s.orphanCount == 0 && s.ownedCount(server: 1) == 1)
    }

    @Test func staticEntriesSurviveResyncs() throws {
        let table = try BindingTable(softwires: [
            Softwire(ipv4: Fx.ip("10.0.0.1"), psid: 0, b4: Fx.v6("2001:db8::100"), br: Fx.br, portSet: PortSet(offset: 0, psidLength: 0)!),
        ])
        let (s, _) = Self.make(table, existing: .keep)
        let bld = ResyncBuilder(server: 0)
        s.add(Self.b(.active, "192.0.2.3", psid: 1), to: bld)
        #expect(s.publish(bld) && s.table.count == 2)
    }

    @Test func snapshotAndTLastRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lq-snap-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (s, _) = Self.make()
        for i in 1...50 { s.apply(Self.b(.active, "192.0.2.\(i)", psid: UInt16(i), b4: "2001:db8::\(i)"), from: 0) }
        let path = dir + "/bindings.snap"
        try s.saveSnapshot(path: path, tLast: ["[::1]:547": UnixTime(seconds: 1234)])
        let (s2, _) = Self.make()
        let (n, tl) = try s2.loadSnapshot(path: path)
        #expect(n == 50 && tl == ["[::1]:547": UnixTime(seconds: 1234)])
        #expect(Fx.rows(s2.table) == Fx.rows(s.table) && s2.orphanCount == 50)
        // No valid T_last: the file goes away, so a restart resyncs in full.
        try s.saveSnapshot(path: path, tLast: [:])
        #expect(TLastFile.read(path: TLastFile.path(forSnapshot: path)).isEmpty)
        // A corrupt snapshot changes nothing.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { try s2.loadSnapshot(path: path) }
        #expect(s2.table.count == 50)
    }
}
