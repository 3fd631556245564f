import Foundation
import Testing
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

@Suite struct AllocationTests {
    /// 4 addresses, k = 4, a = 0: m = 12, PSID 0 holds 0–4095 (well-known ports) → 15 PSIDs each.
    static let small = ServerConfig.Pool(prefix: "192.0.2.0/30", psidLength: 4)

    @Test func neverOverlapsNorHandsOutWellKnownPortsAndExhaustsSilently() throws {
        let f = try Fixture(pools: [Self.small])
        var seen = Set<SoftwireKey>()
        for n in 0..<60 {
            let ack = try #require(f.lease(n), "client \(n)")
            let pp = try #require(try ack.portParams())
            #expect(pp.psidLength == 4 && pp.offset == 0)
            let key = Fixture.key(ack)
            #expect(seen.insert(key).inserted, "duplicate \(key)")
            for r in pp.portSet.ranges(of: pp.psid) { #expect(r.lowerBound >= 1024, "\(key) has port \(r.lowerBound)") }
            #expect(try ack.s46SourceAddress() == Fixture.b4(n))
        }
        #expect(seen.count == 60 && f.store.activeCount == 60)
        // Exhausted: RFC 2131 §4.3.1 — no DHCPOFFER.
        #expect(f.send(Fixture.message(.discover, client: 999)) == nil)
        #expect(f.engine.stats.exhausted == 1)
        // Asking for a key that another client holds gets DHCPNAK.
        let taken = seen.first!
        let nak = f.send(Fixture.message(.request, client: 999, requested: taken.ipv4, serverID: f.engine.cfg.serverIdentifier,
                                         params: PortParams(offset: 0, psidLength: 4, psid: taken.psid)))
        #expect(nak?.messageType == .nak)
        #expect(f.store.activeCount == 60)
    }

    @Test func offsetSixExcludesSystemPortsByConstruction() throws {
        let f = try Fixture(pools: [ServerConfig.Pool(prefix: "198.51.100.8/31", psidLength: 8, offset: 6)])
        #expect(f.engine.cfg.pools[0].psids.count == 256)
        for n in 0..<20 {
            let ack = try #require(f.lease(n))
            let pp = try #require(try ack.portParams())
            #expect(pp.offset == 6 && pp.psidLength == 8)
            #expect(pp.portSet.ranges(of: pp.psid).allSatisfy { $0.lowerBound >= 1024 })
        }
    }

    @Test func sharedOnlyServerDiscardsClientsWithoutPortParams() throws {
        let f = try Fixture(pools: [Self.small])
        #expect(f.send(Fixture.message(.discover, client: 1, prl159: false)) == nil)
        #expect(f.engine.stats.discardedNoPortParams == 1 && f.engine.stats.offers == 0)
    }

    @Test func mixedPoolsGiveFullAddressesToClientsWithoutPortParams() throws {
        let f = try Fixture(pools: [Self.small, ServerConfig.Pool(prefix: "203.0.113.0/31", psidLength: 0)])
        let full = try #require(f.lease(1, prl159: false))
        #expect(full.option(.portParams) == nil)
        #expect(full.yiaddr == IPv4Address(203, 0, 113, 0))
        let shared = try #require(f.lease(2))
        #expect(try shared.portParams()?.psidLength == 4)
        #expect(shared.yiaddr.value >> 2 == IPv4Address(192, 0, 2, 0).value >> 2)
        _ = try #require(f.lease(3, prl159: false))
        #expect(f.lease(4, prl159: false) == nil)           // full pool exhausted
        #expect(f.engine.stats.exhausted == 1)
    }

    @Test func fullOnlyPoolsHonourPortParamsClientsWhenConfigured() throws {
        let full = ServerConfig.Pool(prefix: "203.0.113.0/31", psidLength: 0)
        let strict = try Fixture(pools: [full])
        #expect(strict.send(Fixture.message(.discover, client: 1)) == nil)
        let honour = try Fixture(pools: [full]) { $0.honourPortParamsWithFullAddress = true }
        let ack = try #require(honour.lease(1))
        #expect(ack.option(.portParams) == nil)             // full address, no 159
    }

    @Test func requestedAddressAndPSIDAreHonouredWhenFree() throws {
        let f = try Fixture(pools: [Self.small])
        let want = PortParams(offset: 0, psidLength: 4, psid: 9)!
        let offer = try #require(f.send(Fixture.message(.discover, client: 5, requested: IPv4Address(192, 0, 2, 3), params: want)))
        #expect(offer.yiaddr == IPv4Address(192, 0, 2, 3))
        #expect(try offer.portParams() == want)
        // PSID 0 holds well-known ports: never offered even when asked for.
        let zero = try #require(f.send(Fixture.message(.discover, client: 6, requested: IPv4Address(192, 0, 2, 3),
                                                       params: PortParams(offset: 0, psidLength: 4, psid: 0))))
        #expect(try zero.portParams()?.psid != 0)
    }

    @Test func psidLengthHintPicksAMatchingPool() throws {
        let f = try Fixture(pools: [Self.small, ServerConfig.Pool(prefix: "192.0.2.64/30", psidLength: 6)])
        let offer = try #require(f.send(Fixture.message(.discover, client: 1, params: PortParams(offset: 0, psidLength: 6, psid: 0))))
        #expect(try offer.portParams()?.psidLength == 6)
    }

    @Test func configValidationNamesTheField() {
        let bad: [(ServerConfig.Pool, String)] = [
            (.init(prefix: "192.0.2.1/24", psidLength: 4), "host bits"),
            (.init(prefix: "192.0.2.0/33", psidLength: 4), "a.b.c.d/len"),
            (.init(prefix: "192.0.2.0/24", psidLength: 12, offset: 6), "offset"),
            (.init(prefix: "192.0.2.0/24", psidLength: 1, reservedPorts: ["0-40000"]), "reserved"),
        ]
        for (p, text) in bad {
            #expect(throws: ServerConfigError.self) { try Fixture(pools: [p]) }
            do { _ = try Fixture(pools: [p]) } catch { #expect("\(error)".contains(text), "\(error)") }
        }
        #expect(throws: ServerConfigError.self) { try Fixture(pools: [Self.small, .init(prefix: "192.0.2.0/24", psidLength: 2)]) }
    }

    @Test func jsonConfigFileLoadsWithDefaults() throws {
        let dir = tempDir("config")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/dhcp4o6d.json"
        try #"{"pools": [{"prefix": "192.0.2.0/24", "psidLength": 6}], "leasequery": {"listen": {"address": "::1", "port": 1547}}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let c = try ServerConfig.load(path: path)
        #expect(c.pools[0].reservedPorts == ["0-1023"] && c.pools[0].offset == 0)
        #expect(c.leasequery.active == false && c.leasequery.allowInsecure == false && c.leasequery.maxConnections == 10)
        #expect(c.dhcp.port == 547 && c.leaseSeconds == 3600)
        let round = try JSONDecoder().decode(ServerConfig.self, from: JSONEncoder().encode(ServerConfig.example))
        #expect(round == ServerConfig.example)
        try #"{"pools": [{"prefix": "192.0.2.0/24", "psidLength": 20}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ServerConfigError.self) { try ServerConfig.load(path: path) }
    }
}
