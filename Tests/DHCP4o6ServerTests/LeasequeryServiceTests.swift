import Foundation
import Testing
import NIOCore
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

@Suite(.serialized) struct LeasequeryServiceTests {
    static func bulk(xid: UInt32 = 1, start: UInt32? = nil, end: UInt32? = nil) -> LeasequeryRequest {
        LeasequeryRequest(kind: .bulk, transactionID: xid, requestorDUID: Harness.requestor,
                          queryStartTime: start.map { UnixTime(seconds: $0) }, queryEndTime: end.map { UnixTime(seconds: $0) })
    }

    static func activeQuery(start: UInt32? = nil) -> LeasequeryRequest {
        LeasequeryRequest(kind: .active, transactionID: 7, requestorDUID: Harness.requestor, requestBaseTime: true,
                          queryStartTime: start.map { UnixTime(seconds: $0) })
    }

    @Test func bulkQueryReturnsExactlyTheLeaseStore() async throws {
        try await Harness.withServer(Harness.config(pools: [.init(prefix: "192.0.2.0/24", psidLength: 6)])) { s in
            _ = try await Harness.lease(s, clients: 300)
            let p = try await Harness.probe(s)
            let rs = try await p.bulk(Self.bulk())
            #expect(rs.first?.kind == .reply && rs.first?.serverDUID != nil && rs.first?.clientDUID == Harness.requestor)
            #expect(rs.first?.baseTime != nil)                                   // ORO {100} honoured
            #expect(rs.last?.kind == .done && rs.dropFirst().dropLast().allSatisfy { $0.kind == .data })
            let got = Harness.records(rs)
            let store = try await s.activeRecords()
            #expect(got.count == 300)
            // Same bindings, field by field (PRL of vector D: no 153).
            #expect(got.sorted { $0.key < $1.key } == store.map { var r = $0; r.startTimeOfState = nil; return r })
            #expect(got.allSatisfy { $0.kind == .active && $0.b4 != nil && $0.portParams?.psidLength == 6 })
            // A second query on the same connection works too.
            #expect(Harness.records(try await p.bulk(Self.bulk(xid: 2))).count == 300)
            await p.close()
        }
    }

    @Test func emptyBulkIsAReplyWithoutRecordsAndWithoutDone() async throws {
        try await Harness.withServer(Harness.config()) { s in
            let p = try await Harness.probe(s)
            let rs = try await p.bulk(Self.bulk())
            #expect(rs.count == 1 && rs[0].kind == .reply && rs[0].status == nil && rs[0].baseTime != nil)
            await #expect(throws: LeasequeryProbe.ProbeError.self) { try await p.next(timeout: .milliseconds(300)) }   // no DONE
            await p.close()
        }
    }

    @Test func activeSessionSeesEveryChangeInOrder() async throws {
        let clock = ManualClock(1_800_000_000)
        try await Harness.withServer(Harness.config(), clock: clock) { s in
            let p = try await Harness.probe(s)
            try await p.send(Self.activeQuery())
            let reply = try #require(try await p.next())
            #expect(reply.kind == .reply && reply.status == nil && reply.transactionID == 7)
            #expect(reply.baseTime == UnixTime(seconds: 1_800_000_000))
            // 20 leases, then 5 releases, each a change.
            _ = try await Harness.lease(s, clients: 20)
            let leased = try await s.activeRecords()
            clock.advance(3)
            for r in leased.prefix(5) {
                let m = Fixture.message(.release, client: 0, ciaddr: r.ipv4, params: r.portParams)
                var rel = m
                rel.set(DHCPv4Option(code: .clientID, data: try #require(r.clientID)))
                _ = try await Harness.exchange(s, UDPServiceTests.query(rel).encode(), timeout: .milliseconds(50))
            }
            var changes: [LeaseRecord] = []
            while changes.count < 25, let r = try await p.next(timeout: .seconds(5)) {
                if case .record(let rec) = r.payload { changes.append(rec) }
            }
            #expect(changes.count == 25)
            #expect(changes.prefix(20).allSatisfy { $0.kind == .active })
            #expect(Set(changes.prefix(20).map(\.key)) == Set(leased.map(\.key)))
            #expect(changes.suffix(5).map(\.key) == leased.prefix(5).map(\.key))
            #expect(changes.suffix(5).allSatisfy { $0.kind == .unassigned && $0.state == .released })
            #expect(zip(changes, changes.dropFirst()).allSatisfy { $0.baseTime <= $1.baseTime })
            // Exactly the store's change order: the 15 still-active keys in commit order, then the 5 releases.
            let storeOrder = try await s.withCore { $0.store.changes(from: 0).map(\.key) }
            let released = Set(leased.prefix(5).map(\.key))
            #expect(changes.prefix(20).map(\.key).filter { !released.contains($0) } + changes.suffix(5).map(\.key) == storeOrder)
            await p.close()
        }
    }

    @Test func catchUpAfterReconnectReturnsChangesSinceStartThenCompletes() async throws {
        let clock = ManualClock(1_800_000_000)
        try await Harness.withServer(Harness.config(), clock: clock) { s in
            _ = try await Harness.lease(s, clients: 10)
            let first = try await s.activeRecords()
            clock.advance(100)
            let t1: UInt32 = 1_800_000_100
            _ = try await Harness.lease(s, clients: 15)      // clients 0–9 renew (same keys), 10–14 are new
            let p = try await Harness.probe(s)
            try await p.send(Self.activeQuery(start: t1))
            var catchUp: [LeaseRecord] = []
            var complete: LeasequeryResponse?
            while complete == nil, let r = try await p.next() {
                if case .record(let rec) = r.payload { catchUp.append(rec) }
                if r.isCatchUpComplete { complete = r }
            }
            #expect(catchUp.count == 15 && catchUp.allSatisfy { $0.baseTime.seconds >= t1 })
            #expect(Set(catchUp.map(\.key)).isSuperset(of: first.map(\.key)))
            guard case .status(let st)? = complete?.payload else { Issue.record("no CatchUpComplete"); return }
            #expect(st.code == .catchUpComplete && st.baseTime == UnixTime(seconds: t1))
            // After catch-up: live changes.
            clock.advance(1)
            _ = try await Harness.lease(s, clients: 16)
            var live: [LeaseRecord] = []
            while live.count < 16, let r = try await p.next(timeout: .seconds(5)) {
                if case .record(let rec) = r.payload { live.append(rec) }
            }
            #expect(live.count == 16)
            await p.close()
            // Reconnect from the highest base-time seen live: the changes since then, then CatchUpComplete.
            let tLast = try #require(live.map(\.baseTime).max())
            clock.advance(1)
            for r in live.prefix(3) {
                var rel = Fixture.message(.release, client: 0, ciaddr: r.ipv4, params: r.portParams)
                rel.set(DHCPv4Option(code: .clientID, data: try #require(r.clientID)))
                _ = try await Harness.exchange(s, UDPServiceTests.query(rel).encode(), timeout: .milliseconds(50))
            }
            let again = try await Harness.probe(s)
            try await again.send(Self.activeQuery(start: tLast.seconds))
            var replay: [LeaseRecord] = []
            while let r = try await again.next(), !r.isCatchUpComplete {
                if case .record(let rec) = r.payload { replay.append(rec) }
            }
            #expect(replay.count == 16)                                   // 13 re-sent (same second) + 3 releases
            #expect(replay.suffix(3).map(\.key) == live.prefix(3).map(\.key))
            #expect(replay.suffix(3).allSatisfy { $0.kind == .unassigned && $0.baseTime.seconds == tLast.seconds + 1 })
            await again.close()
            // A catch-up that starts later than every change: nothing but CatchUpComplete.
            let q = try await Harness.probe(s)
            try await q.send(Self.activeQuery(start: t1 + 10))
            _ = try await q.next()
            #expect(try await q.next()?.isCatchUpComplete == true)
            await q.close()
        }
    }

    @Test func catchUpBeforeTheHistoryAnswersDataMissingAndStaysLive() async throws {
        let clock = ManualClock(1_800_000_000)
        let cfg = Harness.config { $0.historySeconds = 50; $0.leaseSeconds = 20 }
        try await Harness.withServer(cfg, clock: clock) { s in
            _ = try await Harness.lease(s, clients: 3)
            clock.advance(200)
            try await s.sweep()                               // expire (t+200) …
            clock.advance(100)
            try await s.sweep()                               // … and purge the tombstones (history now starts after t+200)
            let p = try await Harness.probe(s)
            try await p.send(Self.activeQuery(start: 1_800_000_000))
            let r = try #require(try await p.next())
            // (Optional chaining inside a `&&` #expect crashed the -O optimizer — ownership verifier,
            // Swift 6.3.1 — so the status is read into a local first.)
            let status = r.status?.status
            #expect(r.kind == .reply && status == .dataMissing && r.isDataMissing)
            #expect(r.baseTime == UnixTime(seconds: 1_800_000_300))
            _ = try await Harness.lease(s, clients: 1)
            let live = try #require(try await p.next())
            guard case .record(let rec) = live.payload else { Issue.record("no live record"); return }
            #expect(rec.kind == .active)
            await p.close()
            // Bulk gap-fill before the history: DataMissing too.
            let b = try await Harness.probe(s)
            let rs = try await b.bulk(Self.bulk(start: 1_800_000_000, end: 1_800_000_100))
            let gapStatus = rs.first?.status?.status
            #expect(rs.count == 1 && gapStatus == .dataMissing)
            await b.close()
        }
    }

    @Test func windowedBulkReturnsActiveAndUnassigned() async throws {
        let clock = ManualClock(1_800_000_000)
        try await Harness.withServer(Harness.config(), clock: clock) { s in
            _ = try await Harness.lease(s, clients: 4)
            let leased = try await s.activeRecords()
            clock.advance(10)
            let r0 = leased[0]
            var rel = Fixture.message(.release, client: 0, ciaddr: r0.ipv4, params: r0.portParams)
            rel.set(DHCPv4Option(code: .clientID, data: r0.clientID!))
            _ = try await Harness.exchange(s, UDPServiceTests.query(rel).encode(), timeout: .milliseconds(50))
            let p = try await Harness.probe(s)
            let rs = Harness.records(try await p.bulk(Self.bulk(start: 1_800_000_005, end: 1_800_000_020)))
            #expect(rs.count == 1 && rs[0].kind == .unassigned && rs[0].key == r0.key)
            let all = Harness.records(try await p.bulk(Self.bulk(xid: 2, start: 1_800_000_000)))
            #expect(all.count == 4 && all.last?.kind == .unassigned)
            await p.close()
        }
    }

    @Test func keepAliveWhenIdleAndQueryTerminatedOnShutdown() async throws {
        let s = try await Harness.start(Harness.config { $0.leasequery.keepAliveSeconds = 0.2 })
        let p = try await Harness.probe(s)
        try await p.send(Self.activeQuery())
        _ = try await p.next()
        let ka = try #require(try await p.next(timeout: .seconds(3)))
        #expect(ka.isKeepAlive && ka.kind == .data)
        guard case .status(let st) = ka.payload else { Issue.record("keep-alive form"); return }
        #expect(st.code == .connectionActive && st.baseTime != nil)
        try await s.stop()
        var last: LeasequeryResponse?
        while let r = try await p.next(timeout: .seconds(3)) { last = r }
        let lastStatus = last?.status?.status
        #expect(last?.kind == .done && lastStatus == .queryTerminated && last?.isError == true)
        #expect(try await p.isClosedByServer())
        await p.close()
    }
}
