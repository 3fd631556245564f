import Foundation
import Leasequery
import LwAFTRCore
import LwAFTRRuntime
import Testing

/// `lwaftr run --io none` with a leasequery section: the runtime learns the server's leases,
/// reports them on /status and /metrics, follows server-list reloads, and writes the snapshot
/// at shutdown. Loopback only; no root needed.
@Suite(.serialized) struct LeasequeryWiringTests {
    func options(_ path: String) -> RunOptions {
        var o = RunOptions()
        o.io = .none
        o.metricsListen = ("127.0.0.1", 0)
        o.configPath = path
        return o
    }

    @Test func learnsBindingsReportsThemAndFollowsServerReloads() async throws {
        let dir = try tempDir("lq")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try await LeaseServer(pool: "203.0.113.0/24")
        let b = try await LeaseServer(pool: "198.18.7.0/24")
        try await a.lease(20)
        try await b.lease(5, seed: 9)
        let path = dir + "/lwaftr.json"
        try Lab.write(Lab.configJSON(extra: LeaseServer.section(ports: [a.lqPort])), to: path)
        var opts = options(path)
        opts.snapshotPath = dir + "/bindings.snap"
        let logs = LogCapture()
        let runtime = try LwAFTRRuntime(config: ConfigLoader.load(path: path), options: opts, logger: logs.logger)
        #expect(runtime.config.leasequery?.snapshot == dir + "/bindings.snap")
        let run = try await RunningRuntime(runtime)
        defer { run.stopDetached() }
        #expect(await eventually(timeout: 20) { runtime.leasequery?.currentStatus.allLive == true && runtime.table.count == 24 })

        let server = "[::1]:\(a.lqPort)"
        let status = try httpGet(port: run.port, "/status")
        #expect(status.contains("\"table_size\": 24"), "\(status)")
        #expect(status.contains("\"server\": \"\(server)\", \"state\": \"live\""), "\(status)")
        #expect(status.contains("\"all_live\": true"))
        #expect(status.contains("\"io\": \"none\""))
        let text = try httpGet(port: run.port, "/status?format=text")
        #expect(text.contains("leasequery: in sync") && text.contains("\(server): live"), "\(text)")
        let metrics = try httpGet(port: run.port, "/metrics")
        #expect(metric(metrics, "lwaftr_leasequery_session_live{server=\"\(server)\"}") == 1, "\(metrics)")
        #expect(metric(metrics, "lwaftr_leasequery_session_state{server=\"\(server)\",state=\"live\"}") == 1)
        #expect(metric(metrics, "lwaftr_leasequery_session_state{server=\"\(server)\",state=\"backoff\"}") == 0)
        #expect(metric(metrics, "lwaftr_binding_table_softwires") == 24)
        #expect(metric(metrics, "lwaftr_leasequery_resyncs_total") == 1)
        #expect(metric(metrics, "lwaftr_leasequery_bulk_records_total") == 20)
        #expect(metric(metrics, "lwaftr_leasequery_reconnects_total{server=\"\(server)\"}") == 0)

        // Live change: 3 more clients on server A.
        try await a.lease(23, seed: 1)
        #expect(await eventually(timeout: 10) { runtime.table.count == 27 })
        #expect(try await eventually {   // the published status is at most one tick old
            metric(try httpGet(port: run.port, "/metrics"), "lwaftr_leasequery_records_applied_total{kind=\"added\"}") == 3
        })

        // Reload adding server B: A keeps its session, B's leases arrive.
        try Lab.write(Lab.configJSON(extra: LeaseServer.section(ports: [a.lqPort, b.lqPort])), to: path)
        #expect(await runtime.reload())
        #expect(await eventually(timeout: 20) { runtime.leasequery?.currentStatus.allLive == true && runtime.table.count == 32 })
        var st = try #require(runtime.leasequery?.currentStatus)
        #expect(st.sessions.map(\.server) == [server, "[::1]:\(b.lqPort)"])
        #expect(st.sessions[0].reconnects == 0 && st.sessions[0].resyncs == 1)
        // Reload removing server A: its session ends, its bindings stay (until their leases end).
        try Lab.write(Lab.configJSON(extra: LeaseServer.section(ports: [b.lqPort])), to: path)
        #expect(await runtime.reload())
        st = try #require(runtime.leasequery?.currentStatus)
        #expect(st.sessions.map(\.server) == ["[::1]:\(b.lqPort)"])
        #expect(runtime.table.count == 32)
        #expect(logs.messages(.error).isEmpty, "\(logs.all())")

        let summary = try await run.stop()
        #expect(summary.leasequery?.tableSize == 32)
        #expect(FileManager.default.fileExists(atPath: dir + "/bindings.snap"))
        #expect(FileManager.default.fileExists(atPath: dir + "/bindings.snap.tlast"))
        await a.stop()
        await b.stop()
    }

    @Test func serverFlagParsing() {
        #expect(LeasequeryMapping.parseServer("2001:db8::2") == LeasequeryServerConfig(address: "2001:db8::2", port: 547))
        #expect(LeasequeryMapping.parseServer("[2001:db8::2]:5470") == LeasequeryServerConfig(address: "2001:db8::2", port: 5470))
        #expect(LeasequeryMapping.parseServer("lq.example:600") == LeasequeryServerConfig(address: "lq.example", port: 600))
        #expect(LeasequeryMapping.parseServer("192.0.2.1") == LeasequeryServerConfig(address: "192.0.2.1", port: 547))
        #expect(LeasequeryMapping.parseServer("[::1]:0") == nil)
        #expect(LeasequeryMapping.parseServer("1::2::3") == nil)
        var o = RunOptions()
        o.extraLeasequeryServers = [LeasequeryServerConfig(address: "::1", port: 600)]
        o.snapshotPath = "/tmp/x.snap"
        let c = o.effective(LwAFTRConfig(softwires: [], instances: []))
        #expect(c.leasequery?.servers == [LeasequeryServerConfig(address: "::1", port: 600)])
        #expect(c.leasequery?.snapshot == "/tmp/x.snap")
    }
}
