import Testing
import LwAFTRCore
import DHCPWire
import BindingTable
import Leasequery

/// The session state machine without sockets: feed it events and bytes, assert the table, the
/// bytes it sends and the phase (PROTOCOLS.md §7.5).
@Suite struct SessionMachineTests {
    /// A session plus its table, clock and the generations of its current connections.
    final class Rig {
        let clock = TestClock()
        let table = BindingTable(capacity: 64)
        let sync: BindingSync
        let s: LeasequerySession
        var gen: [ConnectionRole: Int] = [:]
        var last: [SessionAction] = []

        init(_ configure: (inout LeasequeryConfiguration) -> Void = { _ in }) {
            sync = BindingSync(table: table, brAddress: Fx.br, logger: Fx.quiet, clock: clock.now)
            s = LeasequerySession(index: 0, configuration: Fx.config(configure), sync: sync, logger: Fx.quiet)
        }

        @discardableResult func run(_ a: [SessionAction]) -> [SessionAction] {
            last = a
            for r in [ConnectionRole.active, .bulk] { if let g = Fx.connectGeneration(a, r) { gen[r] = g } }
            return a
        }

        /// Connects `role` and returns the query it sent.
        func open(_ role: ConnectionRole) -> LeasequeryRequest {
            let q = Fx.queries(run(s.connected(role, generation: gen[role]!)))
            #expect(q.count == 1 && q.first?.0 == role)
            return q[0].1
        }

        @discardableResult func feed(_ role: ConnectionRole, _ bytes: [UInt8]) -> [SessionAction] {
            run(s.received(role, generation: gen[role]!, bytes: bytes))
        }

        /// Start-up: full bulk with `records`, published; returns the active query that follows.
        func startLive(_ records: [LeaseRecord], base: UInt32 = Fx.t0) -> LeasequeryRequest {
            run(s.start())
            let b = open(.bulk)
            var bytes = Fx.reply(b.transactionID, base: base, payload: records.first.map { .record($0) } ?? .none)
            for r in records.dropFirst() { bytes += Fx.data(b.transactionID, r) }
            if !records.isEmpty { bytes += Fx.done(b.transactionID, base: base) }
            feed(.bulk, bytes)
            let a = open(.active)
            feed(.active, Fx.reply(a.transactionID, base: base + 1))
            feed(.active, Fx.status(a.transactionID, .catchUpComplete, base: base + 1))
            #expect(s.phase == .live)
            return a
        }
    }

    static let a = Fx.record(.active, "192.0.2.1", psid: 1, b4: "2001:db8::a")
    static let b = Fx.record(.active, "192.0.2.1", psid: 2, b4: "2001:db8::b")
    static let c = Fx.record(.active, "192.0.2.2", psid: 5, b4: "2001:db8::c")

    @Test func startUpBulkIsBuiltAsideThenActiveCatchUpThenLive() throws {
        let r = Rig()
        #expect(r.run(r.s.start()) == [.connect(.bulk, generation: 1)])
        #expect(r.s.phase == .connecting)
        let bulk = r.open(.bulk)
        #expect(bulk.kind == .bulk && bulk.requestBaseTime && bulk.queryStartTime == nil && bulk.queryEndTime == nil)
        #expect(bulk.requestorDUID == Fx.requestor && bulk.parameterRequestList == LeasequeryRequest.bulkParameterRequestList)
        #expect(r.s.phase == .bulk)
        let xid = bulk.transactionID
        let stream = Fx.reply(xid, payload: .record(Self.a)) + Fx.data(xid, Self.b) + Fx.data(xid, Self.c)
        for i in stride(from: 0, to: stream.count, by: 7) {                 // arbitrary segmentation
            r.feed(.bulk, Array(stream[i..<min(i + 7, stream.count)]))
        }
        #expect(r.table.count == 0)                                          // built aside, not yet published
        let acts = r.feed(.bulk, Fx.done(xid))
        #expect(acts.contains(.tableReplaced) && acts.contains(.close(.bulk)))
        #expect(Fx.rows(r.table) == Fx.rows([Self.a, Self.b, Self.c]))
        #expect(r.s.tLast == UnixTime(seconds: Fx.t0))                      // T0 = REPLY's LQ_BASE_TIME
        let active = r.open(.active)
        #expect(active.kind == .active && active.queryStartTime == UnixTime(seconds: Fx.t0 - 1))
        #expect(active.queryEndTime == nil && active.requestBaseTime)
        r.feed(.active, Fx.reply(active.transactionID, base: Fx.t0 + 20))
        #expect(r.s.phase == .catchingUp)
        let d = Fx.record(.active, "192.0.2.3", psid: 9, b4: "2001:db8::d", base: Fx.t0 + 10)
        r.feed(.active, Fx.data(active.transactionID, d))
        #expect(r.table.count == 4 && r.s.tLast == UnixTime(seconds: Fx.t0))  // catch-up does not advance T_last
        r.feed(.active, Fx.status(active.transactionID, .catchUpComplete, base: Fx.t0 + 20))
        #expect(r.s.phase == .live && r.s.tLast == UnixTime(seconds: Fx.t0 + 10))
        // Live: a release deletes, and T_last follows the records' base-time.
        var gone = Self.a; gone.kind = .unassigned; gone.state = .released
        gone.baseTime = UnixTime(seconds: Fx.t0 + 30); gone.leaseTime = nil
        r.feed(.active, Fx.data(active.transactionID, gone))
        #expect(Fx.rows(r.table) == Fx.rows([Self.b, Self.c, d]) && r.s.tLast == UnixTime(seconds: Fx.t0 + 30))
        // Keep-alive (both forms) is accepted; the status form moves T_last.
        r.feed(.active, Fx.status(active.transactionID, .connectionActive, base: Fx.t0 + 90))
        r.feed(.active, try LeasequeryResponse(kind: .data, transactionID: active.transactionID).framed())
        #expect(r.s.phase == .live && r.s.tLast == UnixTime(seconds: Fx.t0 + 90))
        #expect(r.sync.counters.added == 1 && r.sync.counters.removed == 1 && r.sync.counters.resyncs == 1)
    }

    @Test func emptyBulkResultGoesStraightToActive() {
        let r = Rig()
        r.run(r.s.start())
        let b = r.open(.bulk)
        let acts = r.feed(.bulk, Fx.reply(b.transactionID, base: Fx.t0 + 5))   // REPLY without 87, no DONE
        #expect(acts.contains(.tableReplaced) && Fx.connectGeneration(acts, .active) != nil)
        #expect(r.open(.active).queryStartTime == UnixTime(seconds: Fx.t0 + 4))
    }

    @Test func lostCatchUpKeepsTheOldResumePointAndReconnectsFromIt() {
        let r = Rig()
        let a1 = r.startLive([Self.a])
        r.feed(.active, Fx.data(a1.transactionID, Fx.record(.active, "192.0.2.9", psid: 3, b4: "2001:db8::9", base: Fx.t0 + 50)))
        #expect(r.s.tLast == UnixTime(seconds: Fx.t0 + 50))
        let acts = r.run(r.s.closed(.active, generation: r.gen[.active]!))
        #expect(Fx.failed(acts) && r.s.phase == .backoff)
        r.run(r.s.reconnectDue())
        let a2 = r.open(.active)
        #expect(a2.queryStartTime == UnixTime(seconds: Fx.t0 + 49) && a2.transactionID != a1.transactionID)
        r.feed(.active, Fx.reply(a2.transactionID, base: Fx.t0 + 200))
        r.feed(.active, Fx.data(a2.transactionID, Fx.record(.active, "192.0.2.10", psid: 3, b4: "2001:db8::10", base: Fx.t0 + 150)))
        // Cut in the middle of a message: the partial frame is dropped and T_last stays.
        let partial = Fx.data(a2.transactionID, Fx.record(.active, "192.0.2.11", psid: 3, b4: "2001:db8::11", base: Fx.t0 + 160))
        r.feed(.active, Array(partial.prefix(40)))
        r.run(r.s.closed(.active, generation: r.gen[.active]!))
        #expect(r.s.phase == .backoff && r.s.tLast == UnixTime(seconds: Fx.t0 + 50))
        #expect(r.s.status.lastError?.contains("mid-message") == true)
        #expect(r.table.count == 3)                                   // 192.0.2.11 never applied
        r.run(r.s.reconnectDue())
        #expect(r.open(.active).queryStartTime == UnixTime(seconds: Fx.t0 + 49))
    }

    /// Deviation from PROTOCOLS.md §7.5 (kept on purpose): at CatchUpComplete T_last becomes the
    /// newest *replayed* record's 152, not the status message's own 152. The server stamps the
    /// status with its "now" when it sends it, and live changes committed while the catch-up was
    /// queued go out behind it with older stamps; resuming from the status stamp would skip them
    /// if the connection dies before they arrive.
    @Test func catchUpCompleteDoesNotMoveTLastPastChangesQueuedBehindIt() {
        let r = Rig { $0.catchUpOnStart = true }
        r.s.setResumePoint(UnixTime(seconds: Fx.t0))
        r.run(r.s.start())
        let a = r.open(.active)
        r.feed(.active, Fx.reply(a.transactionID, base: Fx.t0 + 100))
        r.feed(.active, Fx.data(a.transactionID, Fx.record(.active, "192.0.2.5", psid: 4, b4: "2001:db8::5", base: Fx.t0 + 10)))
        r.feed(.active, Fx.status(a.transactionID, .catchUpComplete, base: Fx.t0 + 100))
        #expect(r.s.phase == .live && r.s.tLast == UnixTime(seconds: Fx.t0 + 10))    // not t0 + 100
        // A live change stamped t0 + 40 (committed before the status was sent) was queued behind it;
        // the connection drops before it arrives.
        let change = Fx.record(.active, "192.0.2.6", psid: 4, b4: "2001:db8::6", base: Fx.t0 + 40)
        r.feed(.active, Array(Fx.data(a.transactionID, change).prefix(20)))
        r.run(r.s.closed(.active, generation: r.gen[.active]!))
        r.run(r.s.reconnectDue())
        let again = r.open(.active)
        // The resume point still covers the lost change (t0 + 40 ≥ start), so the server replays it.
        #expect(again.queryStartTime == UnixTime(seconds: Fx.t0 + 9))
        r.feed(.active, Fx.reply(again.transactionID, base: Fx.t0 + 101) + Fx.data(again.transactionID, change))
        r.feed(.active, Fx.status(again.transactionID, .catchUpComplete, base: Fx.t0 + 101))
        #expect(r.table.softwire(ipv4: Fx.ip("192.0.2.6"), psid: 4)?.b4 == Fx.v6("2001:db8::6"))
        #expect(r.s.phase == .live && r.s.tLast == UnixTime(seconds: Fx.t0 + 40))
    }

    @Test func dataMissingFillsTheGapThenResyncsInFullBesideTheLiveStream() {
        let r = Rig { $0.catchUpOnStart = true }
        r.s.setResumePoint(UnixTime(seconds: Fx.t0))
        r.run(r.s.start())
        let a = r.open(.active)
        #expect(a.queryStartTime == UnixTime(seconds: Fx.t0 - 1))
        let acts = r.feed(.active, Fx.reply(a.transactionID, base: Fx.t0 + 500, status: DHCPv6StatusCode(.dataMissing)))
        #expect(r.s.phase == .live && r.s.tLast == nil && r.s.status.resync == "gap")
        #expect(Fx.connectGeneration(acts, .bulk) != nil)
        let gap = r.open(.bulk)
        #expect(gap.queryStartTime == UnixTime(seconds: Fx.t0 - 1) && gap.queryEndTime == UnixTime(seconds: Fx.t0 + 500))
        // A live change of key B arrives while the bulk runs: it is newer than anything in the bulk.
        var liveB = Self.b; liveB.b4 = IPv6Address("2001:db8::bbbb")!; liveB.baseTime = UnixTime(seconds: Fx.t0 + 501)
        r.feed(.active, Fx.data(a.transactionID, liveB))
        // The window is gone too: the same connection carries a full bulk next.
        r.feed(.bulk, Fx.reply(gap.transactionID, base: Fx.t0 + 502, status: DHCPv6StatusCode(.dataMissing)))
        let full = Fx.queries(r.last)
        #expect(full.count == 1 && full[0].1.queryStartTime == nil && full[0].1.queryEndTime == nil)
        let fx = full[0].1.transactionID
        r.feed(.bulk, Fx.reply(fx, base: Fx.t0 + 503, payload: .record(Self.a)) + Fx.data(fx, Self.b) + Fx.data(fx, Self.c))
        #expect(r.table.count == 1)                                  // only the live B so far
        let pub = r.feed(.bulk, Fx.done(fx, base: Fx.t0 + 503))
        #expect(pub.contains(.tableReplaced) && r.s.status.resync == nil)
        #expect(Fx.rows(r.table) == Fx.rows([Self.a, liveB, Self.c]))
        #expect(r.s.tLast == UnixTime(seconds: Fx.t0 + 501))
    }

    @Test func serverTerminationAndSilenceLeadToReconnects() {
        let r = Rig()
        let a = r.startLive([Self.a])
        r.feed(.active, Fx.done(a.transactionID, status: DHCPv6StatusCode(.queryTerminated)))
        #expect(r.s.phase == .backoff && r.s.status.lastError?.contains("QueryTerminated") == true)
        r.run(r.s.reconnectDue())
        let a2 = r.open(.active)
        r.feed(.active, Fx.reply(a2.transactionID))
        r.clock.advance(4)
        #expect(!Fx.failed(r.run(r.s.tick())))
        r.feed(.active, Fx.status(a2.transactionID, .connectionActive, base: Fx.t0 + 3))   // resets the receive timer
        r.clock.advance(4)
        #expect(!Fx.failed(r.run(r.s.tick())))
        r.clock.advance(1.5)
        #expect(Fx.failed(r.run(r.s.tick())) && r.s.status.lastError?.contains("silent") == true)
        #expect(r.s.status.reconnects == 2 && r.table.count == 1)
    }

    @Test func backoffGrowsToItsCap() {
        let r = Rig()
        var delays: [Double] = []
        r.run(r.s.start())
        for _ in 0..<6 {
            let acts = r.run(r.s.connectFailed(.bulk, generation: r.gen[.bulk]!, error: "refused"))
            for a in acts { if case .scheduleReconnect(let d) = a { delays.append(d) } }
            r.run(r.s.reconnectDue())
        }
        #expect(delays.count == 6)
        #expect(delays[0] >= 0.05 && delays[0] <= 0.056 && delays[1] >= 0.1 && delays[5] <= 0.55)
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 * 1.1 })
    }

    @Test func startTLSComesFirstAndARefusalEndsTheSession() throws {
        let r = Rig { $0.servers[0].tls = LeasequeryTLSOptions(trustRootsFile: "/nonexistent") }
        r.run(r.s.start())
        let acts = r.run(r.s.connected(.bulk, generation: r.gen[.bulk]!))
        guard case .send(.bulk, let bytes)? = acts.first else { Issue.record("no STARTTLS"); return }
        let m = try DHCPv6Message.decode(Array(bytes.dropFirst(2)))
        #expect(m.type == .startTLS && m.options.isEmpty)
        let ok = try TCPFraming.frame(DHCPv6Message(type: .reply, transactionID: m.transactionID,
                                                    options: [DHCPv6Option(code: .serverID, data: Fx.serverDUID)]).encode())
        let after = r.feed(.bulk, ok)
        #expect(after.first == .startTLS(.bulk) && Fx.queries(after).first?.1.kind == .bulk)
        // Another session: the server refuses TLS.
        let r2 = Rig { $0.servers[0].tls = LeasequeryTLSOptions(trustRootsFile: "/nonexistent") }
        r2.run(r2.s.start())
        guard case .send(.bulk, let b2)? = r2.run(r2.s.connected(.bulk, generation: r2.gen[.bulk]!)).first else { return }
        let x2 = try DHCPv6Message.decode(Array(b2.dropFirst(2))).transactionID
        let refused = try TCPFraming.frame(DHCPv6Message(type: .reply, transactionID: x2, options: [
            try DHCPv6Option(DHCPv6StatusCode(.tlsConnectionRefused, "no TLS"))]).encode())
        #expect(Fx.failed(r2.feed(.bulk, refused)) && r2.s.status.lastError?.contains("TLSConnectionRefused") == true)
    }
}
