import Testing
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

/// The lab's B4 agent against a live server on ::1: leases, renewals, distinct port sets, release.
@Suite(.serialized) struct B4LeaseClientTests {
    static func client(_ s: DHCP4o6Server, b4: Int) throws -> B4LeaseClient {
        try B4LeaseClient(server: IPv6Address("::1")!, port: UInt16(s.udpAddress.port!),
                          b4: IPv6Address("2001:db8:b4::\(b4)")!, clientID: UInt32(b4))
    }

    /// Runs the blocking client off the cooperative pool.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Task.detached { try body() }.value
    }

    @Test func twoB4sGetDistinctPortSetsOfOneSharedAddressWithTheBR() async throws {
        let pools: [ServerConfig.Pool] = [.init(prefix: "192.0.2.1/32", psidLength: 6)]
        try await Harness.withServer(Harness.config(pools: pools)) { s in
            let (a, b, again) = try await Self.blocking {
                let c1 = try Self.client(s, b4: 1), c2 = try Self.client(s, b4: 2)
                defer { c1.close(); c2.close() }
                return (try c1.obtain(), try c2.obtain(), try c1.obtain())
            }
            #expect(a.ipv4 == IPv4Address("192.0.2.1")! && b.ipv4 == a.ipv4)
            #expect(a.params.psidLength == 6 && a.params.offset == 0)
            #expect(a.params.psid != b.params.psid)
            #expect(a.params.psid != 0 && b.params.psid != 0)   // ports 0-1023 are never handed out
            #expect(again == a)                                 // the same client keeps its lease
            let r = try #require(a.contiguousPorts)
            #expect(r.count == 1024 && r.lowerBound == UInt16(a.params.psid) << 10)
            #expect(a.br == IPv6Address("2001:db8:ffff::1")!)
            #expect(a.seconds > 0)
            // The server holds both leases with the B4s' softwire sources (RFC 8539 option 109).
            let probe = try await Harness.probe(s)
            let recs = Harness.records(try await probe.bulk(LeasequeryServiceTests.bulk(), timeout: .seconds(10)))
            await probe.close()
            #expect(Set(recs.compactMap(\.b4)) == [IPv6Address("2001:db8:b4::1")!, IPv6Address("2001:db8:b4::2")!])
        }
    }

    @Test func releasedLeaseLeavesTheActiveSet() async throws {
        try await Harness.withServer(Harness.config()) { s in
            let lease = try await Self.blocking {
                let c = try Self.client(s, b4: 7)
                defer { c.close() }
                let l = try c.obtain()
                try c.release(l.ipv4)
                return l
            }
            var active = -1
            for _ in 0..<50 {   // the release is fire-and-forget: wait for the server to apply it
                let probe = try await Harness.probe(s)
                let recs = Harness.records(try await probe.bulk(LeasequeryServiceTests.bulk(), timeout: .seconds(10)))
                await probe.close()
                active = recs.filter { $0.ipv4 == lease.ipv4 && $0.kind == .active }.count
                if active == 0 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(active == 0)
        }
    }
}
