import Testing
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

@Suite struct LifecycleTests {
    static let pool = ServerConfig.Pool(prefix: "192.0.2.0/28", psidLength: 6)

    @Test func doraThenRenewReleaseAndReturnOfThePreviousBinding() throws {
        var f = try Fixture(pools: [Self.pool])
        let ack = try #require(f.lease(1))
        let key = Fixture.key(ack)
        #expect(try ack.u32(.leaseTime) == 3600)
        #expect(f.store[key]?.expiry == f.now + 3600)
        // Renew (ciaddr + 159) an hour later minus a bit: expiry moves.
        f.now += 1000
        let pp = try #require(try ack.portParams())
        let renew = try #require(f.send(Fixture.message(.request, client: 1, ciaddr: key.ipv4, params: pp, b4: Fixture.b4(1))))
        #expect(renew.messageType == .ack && renew.yiaddr == key.ipv4)
        #expect(try renew.s46SourceAddress() == Fixture.b4(1))
        #expect(f.store[key]?.expiry == f.now + 3600)
        #expect(f.store[key]?.stateStart == f.now - 1000)     // state began at the first ACK
        // Release with ciaddr + PSID: tombstone, no reply.
        #expect(f.send(Fixture.message(.release, client: 1, ciaddr: key.ipv4, params: pp)) == nil)
        #expect(f.store[key]?.state == .released && f.store.activeCount == 0)
        #expect(f.store[key]?.record.kind == .unassigned)
        // The client comes back: gets the same (address, PSID).
        #expect(Fixture.key(try #require(f.lease(1))) == key)
    }

    @Test func releaseNeedsTheRightPSIDAndClient() throws {
        let f = try Fixture(pools: [Self.pool])
        let ack = try #require(f.lease(1))
        let key = Fixture.key(ack)
        let wrong = PortParams(offset: 0, psidLength: 6, psid: key.psid == 63 ? 62 : key.psid + 1)!
        _ = f.send(Fixture.message(.release, client: 1, ciaddr: key.ipv4, params: wrong))
        _ = f.send(Fixture.message(.release, client: 2, ciaddr: key.ipv4, params: try ack.portParams()))
        #expect(f.store[key]?.state == .active)
    }

    @Test func expiryTurnsLeasesIntoUnassignedRecords() throws {
        var f = try Fixture(pools: [Self.pool])
        let key = Fixture.key(try #require(f.lease(1)))
        f.now += 3599
        f.engine.sweep(now: f.now)
        #expect(f.store[key]?.state == .active)
        f.now += 1
        f.engine.sweep(now: f.now)
        #expect(f.store[key]?.state == .expired && f.engine.stats.expired == 1)
        let r = try #require(f.store[key]?.record)
        #expect(r.kind == .unassigned && r.state == .expired && r.baseTime.seconds == f.now)
    }

    @Test func declineQuarantinesTheKey() throws {
        var f = try Fixture(pools: [ServerConfig.Pool(prefix: "192.0.2.0/32", psidLength: 1)])   // one key: PSID 1
        let ack = try #require(f.lease(1))
        let key = Fixture.key(ack)
        _ = f.send(Fixture.message(.decline, client: 1, requested: key.ipv4, params: try ack.portParams()))
        #expect(f.store[key]?.state == .declined)
        #expect(f.send(Fixture.message(.discover, client: 2)) == nil)     // quarantined
        f.now += 600
        f.engine.sweep(now: f.now)
        #expect(Fixture.key(try #require(f.lease(2))) == key)
    }

    @Test func softwireSourceIsUniqueAndRateLimited() throws {
        var f = try Fixture(pools: [Self.pool])
        let a = try #require(f.lease(1, b4: Fixture.b4(7)))
        // Another client claiming the same 109 on a new lease: NAK (RFC 8539).
        #expect(f.lease(2, b4: Fixture.b4(7)) == nil)
        #expect(f.engine.stats.b4Conflicts == 1 && f.engine.stats.naks == 1)
        // An update of the bound address within 60 s keeps the old one; after that it moves.
        let key = Fixture.key(a)
        let pp = try a.portParams()
        f.now += 10
        let early = try #require(f.send(Fixture.message(.request, client: 1, ciaddr: key.ipv4, params: pp, b4: Fixture.b4(8))))
        #expect(try early.s46SourceAddress() == Fixture.b4(7))
        f.now += 60
        let late = try #require(f.send(Fixture.message(.request, client: 1, ciaddr: key.ipv4, params: pp, b4: Fixture.b4(8))))
        #expect(try late.s46SourceAddress() == Fixture.b4(8))
        #expect(f.store.key(b4: Fixture.b4(8)) == key && f.store.key(b4: Fixture.b4(7)) == nil)
    }

    @Test func initRebootNeedsTheSameIPv6Source() throws {
        let f = try Fixture(pools: [Self.pool])
        let ack = try #require(f.lease(1))
        let key = Fixture.key(ack)
        let req = Fixture.message(.request, client: 1, requested: key.ipv4, params: try ack.portParams(), b4: Fixture.b4(1))
        #expect(f.send(req)?.messageType == .ack)
        #expect(f.send(req, source: IPv6Address("2001:db8:bb::1")!)?.messageType == .nak)
        // Unknown client at a free key: stay silent (RFC 2131 §4.3.2).
        let other = Fixture.message(.request, client: 9, requested: IPv4Address(192, 0, 2, 9),
                                    params: PortParams(offset: 0, psidLength: 6, psid: 5))
        #expect(f.send(other) == nil)
    }

    @Test func selectingAnotherServerDropsOurOffer() throws {
        let f = try Fixture(pools: [ServerConfig.Pool(prefix: "192.0.2.0/32", psidLength: 1)])
        let offer = try #require(f.send(Fixture.message(.discover, client: 1)))
        #expect(f.send(Fixture.message(.discover, client: 2)) == nil)       // only key is offered
        #expect(f.send(Fixture.message(.request, client: 1, requested: offer.yiaddr, serverID: IPv4Address(10, 9, 9, 9),
                                       params: try offer.portParams())) == nil)
        #expect(f.send(Fixture.message(.discover, client: 2))?.messageType == .offer)
    }

    @Test func malformedMessagesAreCountedAndChangeNothing() throws {
        let f = try Fixture(pools: [Self.pool])
        var bad = Fixture.message(.request, client: 1, requested: IPv4Address(192, 0, 2, 1))
        bad.set(DHCPv4Option(code: .portParams, data: [0, 6, 0x12, 0x34]))    // padding bits set
        #expect(f.send(bad) == nil)
        var noID = DHCPv4Message(op: 1, xid: 1, options: [.u8(.messageType, 1)])
        #expect(f.send(noID) == nil)
        noID.op = 2
        #expect(f.send(noID) == nil)
        #expect(f.engine.stats.udpMalformed == 3 && f.store.leases.isEmpty)
    }
}
