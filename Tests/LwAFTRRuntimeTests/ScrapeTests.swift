import Foundation
import Glibc
import LwAFTRCore
import LwAFTRRuntime
import PacketEngine
import Testing

/// Acceptance (#10): a scrape of /metrics during a run finds counters equal to the packets sent.
@Suite(.serialized, .enabled(if: Privileges.canUseNamespaces, Privileges.message))
struct ScrapeTests {
    @Test func metricsCountTheTrafficSentThroughTheTunPair() async throws {
        let ns = try TestNamespace("scrape")
        defer { ns.remove() }
        try Lab.setUp(ns)
        let dir = try tempDir("scrape")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lwaftr.json"
        try Lab.write(Lab.configJSON(), to: path)
        let logs = LogCapture()
        let runtime = try LwAFTRRuntime(config: ConfigLoader.load(path: path), options: Lab.options(ns, configPath: path),
                                        logger: logs.logger)
        let run = try await RunningRuntime(runtime)
        defer { run.stopDetached() }
        let receiver = try Receiver(ns)
        let sender = try Sender(ns)
        defer { sender.close() }

        let n = 250
        for i in 0..<n {
            #expect(sender.send(port: 1500, seq: UInt32(i)))   // PSID 1 → B4 2001:db8:b4::1
            if i % 50 == 49 { usleep(2_000) }
        }
        #expect(await eventually { receiver.received(port: 1500).count >= n })
        try await Task.sleep(nanoseconds: 300_000_000)          // workers publish every 100 ms
        let text = try httpGet(port: run.port, "/metrics")
        receiver.stop()
        #expect(receiver.received(port: 1500).sorted() == (0..<UInt32(n)).map { $0 })
        #expect(metric(text, "lwaftr_in_ipv4_packets_total{worker=\"0\"}") == Double(n), "\(text.prefix(3000))")
        #expect(metric(text, "lwaftr_all_in_ipv4_packets_total") == Double(n))
        // The devices' own counters: what the external TUN delivered, what the internal one sent.
        let rx = metric(text, "lwaftr_device_rx_packets_total{worker=\"0\",side=\"external\"}") ?? 0
        let tx = metric(text, "lwaftr_device_tx_packets_total{worker=\"0\",side=\"internal\"}") ?? 0
        #expect(rx >= Double(n) && tx >= Double(n), "\(text.prefix(3000))")
        #expect(metric(text, "lwaftr_device_tx_dropped_total{worker=\"0\",side=\"internal\"}") == 0)
        #expect(metric(text, "lwaftr_out_ipv6_packets_total{worker=\"0\"}") == Double(n))
        #expect(metric(text, "lwaftr_all_out_ipv6_packets_total") == Double(n))
        // Frame bytes: 14 Ethernet (synthetic on TUN) + 20 IP + 8 UDP + 4 payload; IPv6 out adds 40.
        #expect(metric(text, "lwaftr_all_in_ipv4_bytes_total") == Double(n * 46))
        #expect(metric(text, "lwaftr_all_out_ipv6_bytes_total") == Double(n * 86))
        #expect(metric(text, "lwaftr_binding_table_softwires") == 4)

        // Packets for a port no softwire owns: dropped by reason, answered with ICMP errors.
        for i in 0..<7 { #expect(sender.send(port: 100, seq: UInt32(i))) }
        #expect(try await eventually {
            let t = try httpGet(port: run.port, "/metrics")
            return metric(t, "lwaftr_dropped_packets_total{reason=\"no-dest-softwire-ipv4\"}") == 7
        })
        let after = try httpGet(port: run.port, "/metrics")
        #expect(metric(after, "lwaftr_icmp_errors_generated_total") == 7)
        #expect(metric(after, "lwaftr_all_in_ipv4_packets_total") == Double(n + 7))

        let summary = try await run.stop()
        #expect(summary.counters["in-ipv4-packets"] == UInt64(n + 7))
        #expect(summary.counters["out-ipv6-packets"] == UInt64(n))
        #expect(logs.messages(.error).isEmpty, "\(logs.all())")
    }
}
