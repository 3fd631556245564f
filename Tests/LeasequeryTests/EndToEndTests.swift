import TestSupport
import Foundation
import Testing
import NIOCore
import LwAFTRCore
import DHCPWire
import BindingTable
import DHCP4o6Server
import Leasequery

/// The requestor against the reference server (`DHCP4o6Server`), all on loopback.
@Suite(.serialized) struct EndToEndTests {
    @Test func startUpResyncThenLiveChangesKeepTheTableEqualToTheStore() async throws {
        let srv = try await TestServer(TestServer.serverConfig())
        _ = try await srv.lease(200)
        let table = BindingTable(capacity: 256)
        let lq = try await Fx.service(port: srv.lqPort, table: table)
        #expect(try await Fx.synced(table, srv, lq))
        #expect(table.count == 200)
        // Live: renewals, releases and new clients through the UDP service.
        let r = try await srv.lease(220, churnRate: 400, churnSeconds: 1.5, seed: 7)
        #expect(r.releases > 0 && r.renewals > 0)
        #expect(try await Fx.synced(table, srv, lq))
        let st = try await lq.status()
        #expect(st.sessions.count == 1 && st.sessions[0].phase == .live && st.sessions[0].reconnects == 0)
        #expect(st.counters.resyncs == 1 && st.counters.rejected == 0 && st.counters.removed >= r.releases)
        #expect(st.tableSize == table.count && st.sessions[0].tLast != nil && (st.sessions[0].lastMessageAge ?? 99) < 5)
        await lq.stop()
        await srv.stop()
    }

    @Test func serverRestartIsFollowedByACatchUpNotAResync() async throws {
        let dir = try Fx.tempDir("restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let srv = try await TestServer(TestServer.serverConfig(dir: dir))
        _ = try await srv.lease(100)
        let table = BindingTable(capacity: 256)
        let lq = try await Fx.service(port: srv.lqPort, table: table)
        #expect(try await Fx.synced(table, srv, lq))
        await srv.stop()                                           // DONE + QueryTerminated
        #expect(await Fx.eventually { lq.currentStatus.sessions[0].phase != .live })
        #expect(table.count == 100)                                // forwarding state stays
        try await srv.restart()
        _ = try await srv.lease(150, seed: 3)                      // 50 more clients while we reconnect
        #expect(try await Fx.synced(table, srv, lq))
        let st = try await lq.status()
        #expect(st.counters.resyncs == 1 && st.sessions[0].reconnects >= 1 && table.count == 150)
        await lq.stop()
        await srv.stop()
    }

    @Test func snapshotRestartCatchesUpAndDataMissingEndsInAnAtomicFullResync() async throws {
        let dir = try Fx.tempDir("dm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(1_800_000_000)
        let srv = try await TestServer(TestServer.serverConfig(dir: dir + "/server") {
            $0.historySeconds = 10
            $0.leaseSeconds = 100
        }, clock: clock)
        _ = try await srv.lease(40)
        let snap = dir + "/bindings.snap"
        let table = BindingTable(capacity: 64)
        var lq = try await Fx.service(port: srv.lqPort, table: table) { $0.snapshotPath = snap; $0.catchUpOnStart = true }
        #expect(try await Fx.synced(table, srv, lq))
        await lq.stop()                                            // snapshot + T_last written
        #expect(TLastFile.read(path: TLastFile.path(forSnapshot: snap)).count == 1)

        // Restart 1: history intact → catch-up only, no bulk.
        _ = try await srv.lease(45, seed: 5)
        let t2 = BindingTable(capacity: 64)
        lq = try await Fx.service(port: srv.lqPort, table: t2) { $0.snapshotPath = snap; $0.catchUpOnStart = true }
        #expect(t2.count >= 40)                                    // snapshot loaded before any server traffic
        #expect(try await Fx.synced(t2, srv, lq))
        #expect(try await lq.status().counters.resyncs == 0)
        await lq.stop()

        // Restart 2: every lease expired and the tombstones were purged → DataMissing → gap → full.
        clock.advance(101)
        try await srv.server.sweep()
        _ = try await srv.lease(30, seed: 9)
        clock.advance(20)
        try await srv.server.sweep()
        let t3 = BindingTable(capacity: 64)
        lq = try await Fx.service(port: srv.lqPort, table: t3) { $0.snapshotPath = snap; $0.catchUpOnStart = true }
        #expect(try await Fx.synced(t3, srv, lq))
        let st = try await lq.status()
        #expect(st.counters.resyncs == 1 && st.counters.gapFills == 0 && st.orphans == 0 && t3.count == 30)
        await lq.stop()
        await srv.stop()
    }

    @Test func startTLSWithMutualCertificates() async throws {
        let pki = try TestPKI.write()
        defer { try? FileManager.default.removeItem(atPath: pki) }
        let srv = try await TestServer(TestServer.serverConfig {
            $0.leasequery.allowInsecure = false
            $0.leasequery.tls = .init(certificate: pki + "/server.pem", privateKey: pki + "/server.key", trustRoots: pki + "/ca.pem")
        })
        _ = try await srv.lease(30)
        let table = BindingTable(capacity: 64)
        let tls = LeasequeryTLSOptions(trustRootsFile: pki + "/ca.pem", certificateFile: pki + "/client.pem",
                                       privateKeyFile: pki + "/client.key", verifyHostname: true)
        let lq = try await Fx.service(port: srv.lqPort, table: table, tls: tls)
        #expect(try await Fx.synced(table, srv, lq))
        #expect(try await srv.server.stats().lqTLSStarted >= 2)       // bulk and active connections
        await lq.stop()

        // Without a client certificate the server refuses the handshake: no data, retries.
        let t2 = BindingTable(capacity: 64)
        let anon = try await Fx.service(port: srv.lqPort, table: t2, tls: LeasequeryTLSOptions(trustRootsFile: pki + "/ca.pem"))
        #expect(await Fx.eventually { anon.currentStatus.sessions[0].reconnects >= 1 })
        #expect(t2.count == 0 && anon.currentStatus.sessions[0].phase != .live)
        await anon.stop()
        await srv.stop()
    }

    @Test func plainActiveQueryIsRefusedByATLSOnlyServer() async throws {
        let srv = try await TestServer(TestServer.serverConfig { $0.leasequery.allowInsecure = false })
        _ = try await srv.lease(10)
        let table = BindingTable(capacity: 64)
        let lq = try await Fx.service(port: srv.lqPort, table: table)
        #expect(await Fx.eventually { (lq.currentStatus.sessions[0].lastError ?? "").contains("NotAllowed") })
        #expect(table.count == 10)               // the bulk part is allowed, its result published
        await lq.stop()
        await srv.stop()
    }

    @Test func twoServersShareTheTableAndAResyncKeepsTheOtherServersSoftwires() async throws {
        let s1 = try await TestServer(TestServer.serverConfig(pools: [.init(prefix: "192.0.2.0/24", psidLength: 6)]))
        let s2 = try await TestServer(TestServer.serverConfig(pools: [.init(prefix: "198.51.100.0/24", psidLength: 4)]))
        _ = try await s1.lease(60)
        _ = try await s2.lease(40)
        let table = BindingTable(capacity: 256)
        var cfg = Fx.config(port: s1.lqPort)
        cfg.servers.append(LeasequeryServerAddress(host: "::1", port: s2.lqPort))
        let lq = try await LeasequeryService.start(configuration: cfg, table: table, logger: Fx.quiet)
        func union() async throws -> Set<Fx.Row> {
            Fx.rows(try await s1.activeRecords()).union(Fx.rows(try await s2.activeRecords()))
        }
        let synced = try await Fx.eventually {
            guard lq.currentStatus.allLive else { return false }
            let want = try await union()
            return Fx.rows(table) == want
        }
        #expect(synced)
        #expect(table.count == 100)
        try await lq.requestResync()
        #expect(try await Fx.eventually { try await lq.status().counters.resyncs == 4 })
        let want = try await union()
        #expect(Fx.rows(table) == want)
        let owned = try await lq.withSync { [$0.ownedCount(server: 0), $0.ownedCount(server: 1)] }
        #expect(owned == [60, 40])
        await s2.kill()                             // server 2 gone: its softwires stay until their leases end
        #expect(await Fx.eventually { lq.currentStatus.sessions[1].phase == .backoff })
        #expect(table.count == 100 && lq.currentStatus.sessions[0].phase == .live)
        await lq.stop()
        await s1.stop()
    }
}
