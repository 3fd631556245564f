import Foundation
import Testing
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

func tempDir(_ tag: String) -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("dhcp4o6d-\(tag)-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

@Suite struct LeaseStoreTests {
    static let pool = ServerConfig.Pool(prefix: "192.0.2.0/28", psidLength: 6)

    static func snapshot(_ s: LeaseStore) -> [SoftwireKey: Lease] { s.leases }

    @Test func leasesSurviveARestartExactly() throws {
        let dir = tempDir("restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var f = try Fixture(pools: [Self.pool], directory: dir)
        for n in 0..<50 { _ = try #require(f.lease(n)) }
        let k = Fixture.key(try #require(f.lease(7)))
        f.now += 5
        _ = f.send(Fixture.message(.release, client: 7, ciaddr: k.ipv4, params: PortParams(offset: 0, psidLength: 6, psid: k.psid)))
        let before = f.store.leases
        let again = try Fixture(pools: [Self.pool], directory: dir)
        #expect(again.store.leases == before)
        #expect(again.store.activeCount == 49 && again.store.nextSeq == f.store.nextSeq)
        // And after a compaction (snapshot + empty journal), too.
        try f.store.compactIfNeeded(force: true)
        let third = try Fixture(pools: [Self.pool], directory: dir)
        #expect(third.store.leases == before)
        // A restarted server keeps clients' bindings: client 3 gets its key back.
        let k3 = Fixture.key(try #require(f.lease(3)))
        #expect(Fixture.key(try #require(third.lease(3))) == k3)
    }

    @Test func tornJournalTailIsDroppedNotHalfApplied() throws {
        let dir = tempDir("torn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try Fixture(pools: [Self.pool], directory: dir)
        for n in 0..<5 { _ = try #require(f.lease(n)) }
        let before = f.store.leases
        let journal = dir + "/leases.journal"
        let h = try #require(FileHandle(forWritingAtPath: journal))
        h.seekToEndOfFile()
        h.write(Data("L 99 192.0.2.9 3 0 6 active 1 2 3 4 5 - - 00".utf8))   // no checksum, no newline
        try h.close()
        let again = try Fixture(pools: [Self.pool], directory: dir)
        #expect(again.store.leases == before && again.store.droppedJournalLines == 1)
        // The tail was truncated: new changes append cleanly and survive another restart.
        _ = try #require(again.lease(10))
        let third = try Fixture(pools: [Self.pool], directory: dir)
        #expect(third.store.leases == again.store.leases)
    }

    @Test func corruptSnapshotRefusesToStart() throws {
        let dir = tempDir("corrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "garbage\n".write(toFile: dir + "/leases.snapshot", atomically: true, encoding: .utf8)
        #expect(throws: ServerConfigError.self) { try Fixture(pools: [Self.pool], directory: dir) }
    }

    @Test func changesAreStampedInOrderAndHistoryIsPurged() throws {
        var f = try Fixture(pools: [Self.pool]) { $0.historySeconds = 100 }
        let t0 = f.now
        let k1 = Fixture.key(try #require(f.lease(1)))
        f.now += 10
        let k2 = Fixture.key(try #require(f.lease(2)))
        f.now += 10
        _ = f.send(Fixture.message(.release, client: 1, ciaddr: k1.ipv4, params: PortParams(offset: 0, psidLength: 6, psid: k1.psid)))
        #expect(f.store.changes(from: t0).map(\.key) == [k2, k1])
        #expect(f.store.changes(from: t0 + 5).map(\.key) == [k2, k1])
        #expect(f.store.changes(from: t0, to: t0 + 5).map(\.key).isEmpty)    // k1's only change in range was superseded
        #expect(f.store.changes(from: t0 + 15).map(\.key) == [k1])
        // A clock step backwards never stamps a change earlier than the last one.
        f.now -= 50
        _ = try #require(f.lease(3))
        #expect(f.store.changes(from: t0 + 20).count == 2)
        // History: the release tombstone goes after historySeconds; catch-up before it is now incomplete.
        f.now = t0 + 20 + 101
        f.engine.sweep(now: f.now)
        #expect(f.store[k1] == nil && f.store.historyStart == t0 + 21)
    }
}
