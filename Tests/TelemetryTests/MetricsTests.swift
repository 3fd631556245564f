import NIOPosix
import PacketEngine
@testable import Telemetry
import Testing

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Worker counters reach the Prometheus text, per worker, and the HTTP endpoint serves them.
struct MetricsTests {
    @Test func publishedCountersAppearPerWorker() {
        let board = CounterBoard(workers: 2)
        let c0 = Counters(), c1 = Counters()
        c0.add(packets: .inIPv4Packets, bytes: .inIPv4Bytes, 100)
        c0.add(packets: .inIPv4Packets, bytes: .inIPv4Bytes, 60)
        c1.add(packets: .inIPv4Packets, bytes: .inIPv4Bytes, 40)
        board.publish(worker: 0, from: c0)
        board.publish(worker: 1, from: c1)
        #expect(board.total(.inIPv4Packets) == 3 && board.total(.inIPv4Bytes) == 200)
        let exporter = MetricsExporter(board: board)
        let text = exporter.scrape()
        #expect(text.contains("lwaftr_in_ipv4_packets_total{worker=\"0\"} 2"))
        #expect(text.contains("lwaftr_in_ipv4_packets_total{worker=\"1\"} 1"))
        #expect(text.contains("lwaftr_in_ipv4_bytes_total{worker=\"0\"} 160"))
        // Counters only grow by what was published since the last scrape.
        c1.add(packets: .inIPv4Packets, bytes: .inIPv4Bytes, 10)
        board.publish(worker: 1, from: c1)
        #expect(exporter.scrape().contains("lwaftr_in_ipv4_packets_total{worker=\"1\"} 2"))
    }

    @Test func totalsAndDropReasonsSumTheWorkers() {
        let board = CounterBoard(workers: 2)
        let c0 = Counters(), c1 = Counters()
        c0.add(packets: .inIPv4Packets, bytes: .inIPv4Bytes, 100)
        c1.add(packets: .inIPv4Packets, bytes: .inIPv4Bytes, 50)
        c0.add(packets: .dropNoDestSoftwireIPv4Packets, bytes: .dropNoDestSoftwireIPv4Bytes, 60)
        c1.add(packets: .dropNoDestSoftwireIPv4Packets, bytes: .dropNoDestSoftwireIPv4Bytes, 60)
        c1.add(packets: .dropTTLZeroIPv4Packets, bytes: .dropTTLZeroIPv4Bytes, 60)
        board.publish(worker: 0, from: c0)
        board.publish(worker: 1, from: c1)
        let exporter = MetricsExporter(board: board)
        let text = exporter.scrape()
        #expect(text.contains("lwaftr_all_in_ipv4_packets_total 2\n"))
        #expect(text.contains("lwaftr_all_in_ipv4_bytes_total 150\n"))
        #expect(text.contains("lwaftr_dropped_packets_total{reason=\"no-dest-softwire-ipv4\"} 2\n"))
        #expect(text.contains("lwaftr_dropped_packets_total{reason=\"ttl-zero-ipv4\"} 1\n"))
        #expect(MetricsExporter.dropReason("drop-all-ipv4-iface-bytes") == nil)
        c0.add(packets: .inIPv4Packets, bytes: .inIPv4Bytes, 10)
        board.publish(worker: 0, from: c0)
        #expect(exporter.scrape().contains("lwaftr_all_in_ipv4_packets_total 3\n"))
    }

    @Test func statusRouteServesJSONAndText() async throws {
        let exporter = MetricsExporter(board: nil)
        let server = try await MetricsServer(host: "127.0.0.1", port: 0, exporter: exporter,
                                             status: { text in text ? "all good\n" : "{\"ok\": true}\n" })
        let json = try httpGet(port: server.port, path: "/status")
        #expect(json.contains("200 OK") && json.contains("application/json") && json.hasSuffix("{\"ok\": true}\n"))
        #expect(try httpGet(port: server.port, path: "/status?format=text").hasSuffix("\r\n\r\nall good\n"))
        try await server.close()
        let bare = try await MetricsServer(host: "127.0.0.1", port: 0, exporter: exporter)
        #expect(try httpGet(port: bare.port, path: "/status").contains("404"))
        try await bare.close()
    }

    @Test func httpEndpointServesMetrics() async throws {
        let board = CounterBoard(workers: 1)
        let c = Counters()
        c.add(packets: .outIPv6Packets, bytes: .outIPv6Bytes, 1500)
        board.publish(worker: 0, from: c)
        let exporter = MetricsExporter(board: board)
        exporter.gauge("lwaftr_binding_table_softwires").set(Double(12))
        let server = try await MetricsServer(host: "127.0.0.1", port: 0, exporter: exporter)
        defer { Task { try? await server.close() } }
        let body = try httpGet(port: server.port, path: "/metrics")
        #expect(body.contains("200 OK"))
        #expect(body.contains("lwaftr_out_ipv6_bytes_total{worker=\"0\"} 1500"))
        #expect(body.contains("lwaftr_binding_table_softwires 12"))
        #expect(try httpGet(port: server.port, path: "/nope").contains("404"))
        try await server.close()
    }

    /// A blocking HTTP GET over a plain socket (keeps the test free of an HTTP client dependency).
    func httpGet(port: Int, path: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(rc == 0)
        let req = "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n"
        _ = req.withCString { send(fd, $0, strlen($0), 0) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
