import Testing
import NIOCore
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

@Suite(.serialized) struct UDPServiceTests {
    static func query(_ m4: DHCPv4Message, oro: [UInt16] = [90, 137]) throws -> DHCPv6Message {
        DHCPv6Message(type: .dhcpv4Query, transactionID: 0, options: [
            try DHCPv6Option(OptionRequest(oro)), try DHCPv6Option(DHCPv4MessageOption(m4))])
    }

    @Test func dhcpv4QueryGetsResponseWithBRAndBindPrefix() async throws {
        try await Harness.withServer(Harness.config()) { s in
            let bytes = try #require(try await Harness.exchange(s, Self.query(Fixture.message(.discover, client: 1)).encode()))
            let r = try DHCPv6Message.decode(bytes)
            #expect(r.type == .dhcpv4Response && r.transactionID == 0)
            let offer = try #require(try r.value(DHCPv4MessageOption.self)?.message)
            #expect(offer.messageType == .offer && offer.op == 2 && offer.xid == Fixture.message(.discover, client: 1).xid)
            #expect(try offer.portParams()?.psidLength == 6)
            #expect(try r.value(S46BR.self)?.address == IPv6Address("2001:db8:ffff::1"))
            #expect(try r.value(S46BindIPv6Prefix.self)?.prefix.length == 64)
        }
    }

    @Test func relayedQueryIsAnsweredAsRelayReply() async throws {
        try await Harness.withServer(Harness.config()) { s in
            let inner = try Self.query(Fixture.message(.discover, client: 2), oro: [])
            let relay = DHCPv6Message(relay: .relayForward, hopCount: 0, linkAddress: IPv6Address("2001:db8:1::")!,
                                      peerAddress: IPv6Address("fe80::b4")!, options: [
                                          DHCPv6Option(code: .interfaceID, data: [1, 2, 3]), try DHCPv6Option(RelayMessage(inner))])
            let bytes = try #require(try await Harness.exchange(s, relay.encode()))
            let r = try DHCPv6Message.decode(bytes)
            #expect(r.type == .relayReply)
            #expect(r.header == .relay(hopCount: 0, linkAddress: IPv6Address("2001:db8:1::")!, peerAddress: IPv6Address("fe80::b4")!))
            #expect(r.option(.interfaceID)?.data == [1, 2, 3])
            let resp = try #require(try r.value(RelayMessage.self)?.message)
            #expect(resp.type == .dhcpv4Response)
            #expect(try resp.value(DHCPv4MessageOption.self)?.message.messageType == .offer)
            #expect(try await s.stats().relayed == 1)
        }
    }

    @Test func informationRequestAdvertisesDHCP4o6Servers() async throws {
        try await Harness.withServer(Harness.config()) { s in
            let ir = DHCPv6Message(type: .informationRequest, transactionID: 0x42, options: [
                DHCPv6Option(code: .clientID, data: [0, 3, 0, 1, 2, 0, 0, 0, 0, 9]), try DHCPv6Option(OptionRequest([88, 90]))])
            let r = try DHCPv6Message.decode(try #require(try await Harness.exchange(s, ir.encode())))
            #expect(r.type == .reply && r.transactionID == 0x42)
            #expect(try r.value(DHCP4oDHCP6Servers.self)?.servers == [IPv6Address("2001:db8::547")!])
            #expect(try r.value(S46BR.self) != nil && r.clientID == [0, 3, 0, 1, 2, 0, 0, 0, 0, 9])
        }
    }

    @Test func malformedDatagramsAreCountedAndUnanswered() async throws {
        try await Harness.withServer(Harness.config()) { s in
            let junk: [[UInt8]] = [
                [], [20], [20, 0, 0, 0, 0, 87, 0, 9, 1],                                  // truncated option
                try DHCPv6Message(type: .dhcpv4Query, transactionID: 0, options: []).encode(),   // no 87
                try DHCPv6Message(type: .dhcpv4Query, transactionID: 0, options: [DHCPv6Option(code: .dhcpv4Message, data: [1, 2])]).encode(),
                try DHCPv6Message(type: .solicit, transactionID: 1, options: []).encode(),
            ]
            for j in junk { #expect(try await Harness.exchange(s, j, timeout: .milliseconds(150)) == nil) }
            let st = try await s.stats()
            #expect(st.udpMalformed == 5 && st.udpDropped == 1 && st.udpReceived == 6, "\(st)")
            #expect(try await s.activeRecords().isEmpty)
            // Still serving.
            #expect(try await Harness.exchange(s, Self.query(Fixture.message(.discover, client: 3)).encode()) != nil)
        }
    }

    @Test func simulatorLeasesAndChurnsWithoutConflicts() async throws {
        try await Harness.withServer(Harness.config(pools: [.init(prefix: "192.0.2.0/24", psidLength: 6)])) { s in
            var sc = SimulationConfig(server: s.udpAddress, clients: 500)
            sc.churnRate = 400
            sc.churnSeconds = 1
            let rep = try await B4Simulator.run(sc, group: Harness.group)
            #expect(rep.leased == 500 && rep.failed == 0 && rep.conflicts == 0 && rep.wellKnownPortLeases == 0)
            #expect(rep.renewals + rep.releases + rep.newClients > 200)
            let active = try await s.activeRecords()
            #expect(active.count == rep.bound)
            #expect(Set(active.map(\.key)).count == active.count)
            #expect(Set(active.compactMap(\.b4)).count == active.count)
        }
    }
}
