import TestSupport
import Foundation
import Testing
import NIOCore
import NIOSSL
import LwAFTRCore
import DHCPWire
@testable import DHCP4o6Server

@Suite(.serialized) struct LeasequeryGuardTests {
    @Test func malformedQueriesGetCleanErrors() async throws {
        try await Harness.withServer(Harness.config()) { s in
            // Bulk with a query-type instead of option 87: UnknownQueryType, connection stays usable.
            let p = try await Harness.probe(s)
            let lq44 = DHCPv6Message(type: .leasequery, transactionID: 5, options: [
                DHCPv6Option(code: .clientID, data: Harness.requestor),
                try DHCPv6Option(LQQuery(queryType: 1, linkAddress: IPv6Address(hi: 0, lo: 0)))])
            try await p.send(bytes: TCPFraming.frame(lq44.encode()))
            let r = try #require(try await p.next())
            let status = r.status?.status
            #expect(r.kind == .reply && r.transactionID == 5 && status == .unknownQueryType)
            #expect(r.clientDUID == Harness.requestor && r.serverDUID != nil)
            #expect(Harness.records(try await p.bulk(LeasequeryServiceTests.bulk(xid: 6))).isEmpty)
            // Garbage frame: the connection is closed.
            try await p.send(bytes: [0, 3, 1, 2, 3])
            #expect(try await p.next(timeout: .seconds(3)) == nil)
            await p.close()
            // Active with query-end-time: MalformedQuery, then close.
            let a = try await Harness.probe(s)
            var m = try LeasequeryServiceTests.activeQuery().message()
            m.options.append(DHCPv6Message.secondsOption(.lqEndTime, 1))
            try await a.send(bytes: TCPFraming.frame(m.encode()))
            let ra = try #require(try await a.next())
            #expect(ra.status?.status == .malformedQuery)
            #expect(try await a.next(timeout: .seconds(3)) == nil)
            await a.close()
            // A server message type from the requestor: close.
            let b = try await Harness.probe(s)
            try await b.send(bytes: LeasequeryResponse(kind: .data, transactionID: 1).framed())
            #expect(try await b.next(timeout: .seconds(3)) == nil)
            await b.close()
            let st = try await s.stats()
            #expect(st.lqMalformed == 4 && st.lqBulkQueries == 1)
        }
    }

    @Test func activeIsRefusedWhenDisabledOrInsecure() async throws {
        try await Harness.withServer(Harness.config { $0.leasequery.active = false }) { s in
            let p = try await Harness.probe(s)
            try await p.send(LeasequeryServiceTests.activeQuery())
            #expect(try await p.next()?.status?.status == .notSupported)
            #expect(try await p.next(timeout: .seconds(3)) == nil)
            await p.close()
        }
        try await Harness.withServer(Harness.config { $0.leasequery.allowInsecure = false }) { s in
            let p = try await Harness.probe(s)
            try await p.send(LeasequeryServiceTests.activeQuery())
            #expect(try await p.next()?.status?.status == .notAllowed)
            await p.close()
            // STARTTLS without TLS configured: REPLY + TLSConnectionRefused.
            let q = try await Harness.probe(s)
            await #expect(throws: LeasequeryProbe.ProbeError.self) {
                try await q.startTLS(TLSConfiguration.makeClientConfiguration(), transactionID: 9)
            }
            await q.close()
        }
    }

    @Test func connectionLimitRefusesExtraConnections() async throws {
        try await Harness.withServer(Harness.config { $0.leasequery.maxConnections = 2 }) { s in
            let a = try await Harness.probe(s), b = try await Harness.probe(s)
            _ = try await a.bulk(LeasequeryServiceTests.bulk())
            _ = try await b.bulk(LeasequeryServiceTests.bulk())
            let c = try await Harness.probe(s)
            #expect(try await c.next(timeout: .seconds(3)) == nil)              // closed by the server
            #expect(try await s.stats().lqRefusedConnections == 1)
            await a.close()
            await c.close()
            try await Task.sleep(for: .milliseconds(100))
            let d = try await Harness.probe(s)                                  // a slot is free again
            #expect(try await d.bulk(LeasequeryServiceTests.bulk()).first?.kind == .reply)
            await b.close(); await d.close()
        }
    }

    @Test func startTLSThenActiveQueryWithMutualCertificates() async throws {
        let pki = try TestPKI.write()
        defer { try? FileManager.default.removeItem(atPath: pki) }
        let cfg = Harness.config {
            $0.leasequery.allowInsecure = false
            $0.leasequery.tls = .init(certificate: pki + "/server.pem", privateKey: pki + "/server.key", trustRoots: pki + "/ca.pem")
        }
        try await Harness.withServer(cfg) { s in
            _ = try await Harness.lease(s, clients: 5)
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(pki + "/ca.pem")
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(pki + "/client.pem").map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki + "/client.key", format: .pem))
            tls.certificateVerification = .noHostnameVerification
            let p = try await Harness.probe(s)
            try await p.startTLS(tls, transactionID: 0x77)
            try await p.send(LeasequeryServiceTests.activeQuery(start: 0))
            var n = 0
            while let r = try await p.next(), !r.isCatchUpComplete {
                if case .record = r.payload { n += 1 }
            }
            #expect(n == 5)
            #expect(try await s.stats().lqTLSStarted == 1)
            await p.close()
            // Without a client certificate the handshake fails and nothing is served.
            var anon = TLSConfiguration.makeClientConfiguration()
            anon.trustRoots = .file(pki + "/ca.pem")
            anon.certificateVerification = .noHostnameVerification
            let q = try await Harness.probe(s)
            try await q.startTLS(anon, transactionID: 0x78)
            try? await q.send(LeasequeryServiceTests.activeQuery())
            let r = try? await q.next(timeout: .seconds(3))
            #expect(r == nil)
            await q.close()
        }
    }

    @Test func leasesSurviveAServerRestart() async throws {
        let dir = tempDir("server-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try await Harness.withServer(Harness.config(dir: dir)) { s in
            _ = try await Harness.lease(s, clients: 40)
            return try await s.activeRecords()
        }
        #expect(before.count == 40)
        try await Harness.withServer(Harness.config(dir: dir)) { s in
            #expect(try await s.activeRecords() == before)
            let p = try await Harness.probe(s)
            // A full bulk comes in no particular order (DHCP4o6Server.swift header): compare sorted.
            #expect(Harness.records(try await p.bulk(LeasequeryServiceTests.bulk())).map(\.key).sorted() == before.map(\.key))
            await p.close()
            // The same clients get the same bindings back.
            _ = try await Harness.lease(s, clients: 40)
            #expect(try await s.activeRecords().map(\.key) == before.map(\.key))
        }
    }
}
