import Foundation
import Glibc
import Leasequery
import LwAFTRCore
import LwAFTRRuntime
import PacketEngine
import Synchronization
import Testing

/// Acceptance (#10): reload with traffic running loses no packet, applies the new policy and
/// keeps the bindings (static and learnt); a bad file keeps the old configuration with one
/// clear error line.
@Suite(.serialized, .enabled(if: Privileges.canUseNamespaces, Privileges.message))
struct ReloadTests {
    /// Sends datagrams to port 1500 (sequence 0, 1, …), one every ~`gapMicros`, on its own
    /// thread, until `finish(after:)` says how many more.
    final class SteadySender: Sendable {
        let sent = Atomic<Int>(0)
        let attempted = Atomic<Int>(0)
        let limit = Atomic<Int>(.max)
        let finished = Atomic<Bool>(false)

        init(_ s: Sender, gapMicros: UInt32) {
            Thread.detachNewThread { [self] in
                var i = 0
                while i < limit.load(ordering: .acquiring) {
                    attempted.store(i + 1, ordering: .releasing)
                    if s.send(port: 1500, seq: UInt32(i)) { sent.add(1, ordering: .relaxed) }
                    i += 1
                    usleep(gapMicros)
                }
                finished.store(true, ordering: .releasing)
            }
        }

        /// Sends `more` datagrams after the current one, then stops; returns the total.
        func finish(after more: Int) -> Int {
            let total = attempted.load(ordering: .acquiring) + more
            limit.store(total, ordering: .releasing)
            return total
        }
    }

    @Test func reloadUnderTrafficLosesNothingAppliesThePolicyAndKeepsBindings() async throws {
        let ns = try TestNamespace("reload")
        defer { ns.remove() }
        try Lab.setUp(ns)
        let dir = try tempDir("reload")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lq = try await LeaseServer()
        try await lq.lease(12)
        let path = dir + "/lwaftr.json"
        let section = LeaseServer.section(ports: [lq.lqPort])
        try Lab.write(Lab.configJSON(generateICMP: true, psids: 1...4, extra: section), to: path)
        let logs = LogCapture()
        let runtime = try LwAFTRRuntime(config: ConfigLoader.load(path: path), options: Lab.options(ns, configPath: path),
                                        logger: logs.logger)
        let run = try await RunningRuntime(runtime)
        defer { run.stopDetached() }
        // 4 static + 12 learnt.
        #expect(await eventually(timeout: 20) { runtime.leasequery?.currentStatus.allLive == true && runtime.table.count == 16 })
        let learnt = runtime.table.allSoftwires().filter { $0.ipv4.description.hasPrefix("203.0.113.") }
        #expect(learnt.count == 12)

        let receiver = try Receiver(ns)
        let sender = try Sender(ns)
        defer { sender.close() }
        // The old policy: errors for unbound ports.
        for i in 0..<3 { _ = sender.send(port: 100, seq: UInt32(i)) }
        #expect(await eventually { runtime.board.total(.outICMPv4ErrorPackets) == 3 })

        let steady = SteadySender(sender, gapMicros: 300)
        #expect(await eventually { steady.sent.load(ordering: .relaxed) > 500 })
        // New file: no ICMP errors, PSID 4 removed, PSID 5 added (same leasequery section).
        try Lab.write(Lab.configJSON(generateICMP: false, psids: 1...3, extra: section)
            .replacingOccurrences(of: "\"psid\": 3, \"psid_length\": 6, \"b4\": \"2001:db8:b4::3\"}",
                                  with: "\"psid\": 3, \"psid_length\": 6, \"b4\": \"2001:db8:b4::3\"},\n"
                                      + "    {\"ipv4\": \"192.0.2.1\", \"psid\": 5, \"psid_length\": 6, \"b4\": \"2001:db8:b4::5\"}"),
                      to: path)
        let generationBefore = runtime.settings.generation
        #expect(await runtime.reload())
        #expect(runtime.settings.generation == generationBefore + 1)
        #expect(steady.finished.load(ordering: .acquiring) == false, "the reload must happen while traffic runs")
        // Traffic keeps flowing under the new settings for a while before it stops.
        let total = steady.finish(after: 500)
        #expect(await eventually(timeout: 20) { steady.finished.load(ordering: .acquiring) })
        #expect(await eventually { receiver.received(port: 1500).count >= total })
        try await Task.sleep(nanoseconds: 200_000_000)
        let got = receiver.received(port: 1500)
        #expect(steady.sent.load(ordering: .relaxed) == total)
        #expect(got.count == total && Set(got).count == total, "lost \(total - Set(got).count) of \(total)")

        // The new policy: unbound ports are dropped silently.
        for i in 0..<3 { _ = sender.send(port: 100, seq: UInt32(i)) }
        #expect(await eventually { runtime.board.total(.dropNoDestSoftwireIPv4Packets) == 6 })
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(runtime.board.total(.outICMPv4ErrorPackets) == 3)
        #expect(runtime.config.external.generateICMPErrors == false)

        // Bindings: static diff applied, learnt ones untouched, the session kept (no reconnect, one resync).
        let key = { (s: Softwire) in "\(s.ipv4)/\(s.psid)" }
        let now = runtime.table.allSoftwires()
        #expect(now.filter { $0.ipv4.description == "192.0.2.1" }.map(\.psid).sorted() == [1, 2, 3, 5])
        #expect(Set(now.filter { $0.ipv4.description.hasPrefix("203.0.113.") }.map(key)) == Set(learnt.map(key)))
        let st = try #require(runtime.leasequery?.currentStatus)
        #expect(st.sessions.count == 1 && st.sessions[0].reconnects == 0 && st.sessions[0].resyncs == 1 && st.allLive)
        // And the new static softwire forwards.
        #expect(sender.send(port: 5 * 1024 + 7, seq: 42))
        #expect(await eventually { receiver.received(port: 5 * 1024 + 7) == [42] })
        receiver.stop()

        let text = try httpGet(port: run.port, "/metrics")
        #expect(metric(text, "lwaftr_reloads_total") == 1)
        #expect(metric(text, "lwaftr_reload_failures_total") == 0)
        #expect(logs.messages(.error).isEmpty, "\(logs.all())")
        #expect(logs.messages(.info).contains { $0.hasPrefix("configuration reloaded") })
        _ = try await run.stop()
        await lq.stop()
    }

    @Test func badFileAtReloadKeepsTheRunningConfigurationAndLogsOneError() async throws {
        let ns = try TestNamespace("badreload")
        defer { ns.remove() }
        try Lab.setUp(ns)
        let dir = try tempDir("badreload")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lwaftr.json"
        let good = Lab.configJSON(generateICMP: true)
        try Lab.write(good, to: path)
        let logs = LogCapture()
        let rootMTUs = rootLinkMTUs()
        let runtime = try LwAFTRRuntime(config: ConfigLoader.load(path: path), options: Lab.options(ns, configPath: path),
                                        logger: logs.logger)
        let run = try await RunningRuntime(runtime)
        defer { run.stopDetached() }
        #expect(ns.linkMTU("rt4") == 1500)
        let before = runtime.config
        let generation = runtime.settings.generation

        // Line 8 gets an out-of-range MTU.
        let bad = good.replacingOccurrences(of: "\"external\": {\"mtu\": 1500,", with: "\"external\": {\"mtu\": 99999,")
        #expect(bad.split(separator: "\n", omittingEmptySubsequences: false)[7].contains("99999"))
        try Lab.write(bad, to: path)
        #expect(await runtime.reload() == false)
        let errors = logs.messages(.error)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.contains("\(path):8: external.mtu: 99999 is out of range") == true, "\(errors)")
        #expect(runtime.config == before && runtime.settings.generation == generation)
        #expect(runtime.reloadFailures == 1 && runtime.reloads == 0)
        let text = try httpGet(port: run.port, "/metrics")
        #expect(metric(text, "lwaftr_reload_failures_total") == 1)
        #expect(metric(text, "lwaftr_reloads_total") == 0)
        #expect(try httpGet(port: run.port, "/status").contains("\"reload_failures\": 1"))

        // The old configuration still forwards.
        let receiver = try Receiver(ns)
        let sender = try Sender(ns)
        defer { sender.close() }
        for i in 0..<20 { _ = sender.send(port: 1500, seq: UInt32(i)) }
        #expect(await eventually { receiver.received(port: 1500).count == 20 })
        receiver.stop()

        // An unreadable filter is refused the same way (one more line).
        try Lab.write(good.replacingOccurrences(of: "\"generate_icmp_errors\": true,",
                                                with: "\"generate_icmp_errors\": true, \"ingress_filter\": \"((\","), to: path)
        #expect(await runtime.reload() == false)
        #expect(logs.messages(.error).count == 2 && logs.messages(.error)[1].contains("external.ingress_filter"))
        // A fixed file is accepted.
        try Lab.write(good.replacingOccurrences(of: "\"mtu\": 1500, \"generate", with: "\"mtu\": 1400, \"generate"), to: path)
        #expect(await runtime.reload())
        #expect(runtime.config.external.mtu == 1400 && runtime.reloads == 1)
        // The TUN in the namespace follows; nothing in the root namespace changed.
        #expect(ns.linkMTU("rt4") == 1400 && ns.linkMTU("rt6") == 1500)
        let rootAfter = rootLinkMTUs()
        let changed = rootAfter.filter { rootMTUs[$0.key] != nil && rootMTUs[$0.key] != $0.value }
        #expect(changed.isEmpty, "root-namespace links changed MTU: \(changed) (before: \(rootMTUs))")
        _ = try await run.stop()
    }
}
