import Foundation
import Synchronization
import Testing
import NIOCore
import NIOPosix
import LwAFTRCore
import DHCPWire
import BindingTable
import DHCP4o6Server
import Leasequery

/// A packet worker stand-in: a thread that keeps looking up a fixed set of softwires through a
/// registered lock-free `BindingTable.Reader` and remembers every key whose lookup ever failed
/// (not found, or another B4). It sweeps all keys, then pauses 1 ms (a 2-core box has no core
/// to spare for a spinning reader).
final class LookupProbe: Sendable {
    struct Key: Sendable { var ipv4: UInt32; var port: UInt16; var b4: IPv6Address }
    let keys: [Key]
    let table: BindingTable
    let stopFlag = Mutex(false)
    let result = Mutex<(lookups: Int, failed: Set<Int>, done: Bool)>((0, [], false))

    init(table: BindingTable, records: [LeaseRecord]) {
        self.table = table
        keys = records.map { r in
            let ps = r.portParams?.portSet ?? PortSet(offset: 0, psidLength: 0)!
            return Key(ipv4: r.ipv4.value, port: ps.ranges(of: r.portParams?.psid ?? 0)[0].lowerBound, b4: r.b4!)
        }
    }

    func start() {
        let t = Thread { [self] in
            let reader = try! table.makeReader()
            var lookups = 0
            var failed = Set<Int>()
            while !stopFlag.withLock({ $0 }) {
                for (i, k) in keys.enumerated() {
                    let v = reader.lookup(ipv4: k.ipv4, port: k.port)
                    if v == nil || v!.b4Hi != k.b4.hi || v!.b4Lo != k.b4.lo { failed.insert(i) }
                    lookups += 1
                    if i & 63 == 63 { reader.quiescent() }
                }
                reader.quiescent()
                usleep(1000)       // one pass per millisecond or so: leave the CPUs to the server and requestor
            }
            reader.offline()
            result.withLock { $0 = (lookups, failed, true) }
        }
        t.start()
    }

    func stop() async -> (lookups: Int, failed: Set<Int>) {
        stopFlag.withLock { $0 = true }
        while !result.withLock({ $0.done }) { try? await Task.sleep(nanoseconds: 1_000_000) }
        return result.withLock { ($0.lookups, $0.failed) }
    }
}

/// Fault test: churn through the UDP service while the server is killed and restarted twice
/// and the leasequery connection is cut mid-message twice; afterwards the table equals the lease
/// store exactly, and lookups never failed for leases that stayed valid throughout.
@Suite(.serialized) struct FaultTests {
    static let full = ProcessInfo.processInfo.environment["LQ_FAULT_FULL"] != nil

    @Test func churnWithKillsAndCutsCISized() async throws {
        try await Self.run(clients: 3000, churnRate: 1000, churnSeconds: 20)
    }

    /// 100 k churn events at 5 000/s: run it in release mode (`LQ_FAULT_FULL=1 swift test -c release …`);
    /// a debug build of the reference server cannot keep that rate (its simulator then times out).
    @Test(.enabled(if: full)) func churnWithKillsAndCutsFullSized() async throws {
        try await Self.run(clients: 20000, churnRate: 5000, churnSeconds: 20.5)
    }

    static func run(clients: Int, churnRate: Double, churnSeconds: Double) async throws {
        let dir = try Fx.tempDir("fault")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let srv = try await TestServer(TestServer.serverConfig(pools: [.init(prefix: "10.0.0.0/20", psidLength: 6)], dir: dir))
        _ = try await srv.lease(clients)
        let proxy = try await CuttingProxy.start(upstreamHost: "::1", upstreamPort: srv.lqPort, group: MultiThreadedEventLoopGroup.singleton)
        let table = BindingTable(capacity: clients * 2)
        let lq = try await Fx.service(port: proxy.port, table: table) {
            $0.timers.activeReceiveTimeout = 3
            $0.timers.reconnectMinimum = 0.05
            $0.timers.reconnectMaximum = 0.4
        }
        #expect(try await Fx.synced(table, srv, lq))
        let initial = try await srv.activeRecords()
        let probe = LookupProbe(table: table, records: initial)
        probe.start()

        let started = Date()
        // The same clients come back first (same leases), then churn: renew 50 %, release 25 %, new 25 %.
        let udp = srv.udpAddress
        let churn = Task { try await TestServer.lease(udp: udp, clients, churnRate: churnRate, churnSeconds: churnSeconds, seed: 11) }
        let step = churnSeconds / 6
        var kills = 0
        var downtimes: [Double] = []
        for i in 1...4 {
            try await Task.sleep(nanoseconds: UInt64(step * 1e9))
            if i % 2 == 1 {
                let t0 = Date()
                await srv.kill()
                try await Task.sleep(nanoseconds: 300_000_000)
                try await srv.restart()
                downtimes.append(Date().timeIntervalSince(t0))
                kills += 1
            } else {
                proxy.cutMidMessage()
                #expect(await Fx.eventually(timeout: 5) { proxy.cuts >= i / 2 })
            }
        }
        let report = try await churn.value
        let churnEvents = report.renewals + report.releases + report.newClients
        let churnEnd = Date()
        let settled = try await Fx.synced(table, srv, lq, timeout: 30)
        let settleTime = Date().timeIntervalSince(churnEnd)
        let (lookups, failed) = await probe.stop()
        let store = try await srv.activeRecords()
        let d = Fx.diff(table, store)
        let finalB4 = Dictionary(store.map { ($0.key, $0.b4!) }, uniquingKeysWith: { a, _ in a })
        let stable = Set(initial.indices.filter { finalB4[initial[$0].key] == initial[$0].b4 })
        let st = try await lq.status()
        print("""
            fault test: \(clients) clients, \(churnEvents) churn events (renew \(report.renewals), release \(report.releases), \
            new \(report.newClients), failed \(report.failed)) in \(String(format: "%.1f", report.churnSeconds)) s; \
            kills \(kills) (server down \(downtimes.map { String(format: "%.2f", $0) }.joined(separator: ", ")) s), cuts \(proxy.cuts), reconnects \(st.sessions[0].reconnects), resyncs \(st.counters.resyncs); \
            table \(table.count) vs store \(store.count): missing \(d.missing) extra \(d.extra) wrong \(d.wrong); \
            \(lookups) lookups, \(stable.count)/\(initial.count) leases stayed valid, \
            failed lookups on them: \(failed.intersection(stable).count) (on changed leases: \(failed.subtracting(stable).count)); \
            equal \(String(format: "%.2f", settleTime)) s after the simulator finished; \
            simulator retransmissions \(report.retransmissions), naks \(report.naks); total \(String(format: "%.1f", Date().timeIntervalSince(started))) s
            """)
        #expect(settled && d.missing == 0 && d.extra == 0 && d.wrong == 0)
        #expect(failed.intersection(stable).isEmpty)
        #expect(kills == 2 && proxy.cuts == 2 && st.sessions[0].reconnects >= 4)
        #expect(churnEvents >= Int(churnRate * churnSeconds * 0.5) && stable.count > 0)
        #expect(st.counters.rejected == 0)
        await lq.stop()
        await proxy.close()
        await srv.stop()
    }
}
