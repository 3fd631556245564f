import Foundation
import Logging
import LwAFTRCore
import DHCPWire
import DHCP4o6Server
import Leasequery
#if canImport(Glibc)
import Glibc
#endif

/// Monotonic nanoseconds (CLOCK_MONOTONIC, the clock NIODeadline uses).
@inline(__always) func monoNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU seconds used so far by the whole process / by the calling thread.
func processCPU() -> Double { cpu(CLOCK_PROCESS_CPUTIME_ID) }
func threadCPU() -> Double { cpu(CLOCK_THREAD_CPUTIME_ID) }
private func cpu(_ c: clockid_t) -> Double {
    var ts = timespec()
    clock_gettime(c, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Appends result rows to the CSV file (header written when the file is new).
final class CSVLog: Sendable {
    let path: String
    init(path: String) { self.path = path }

    func add(_ metric: String, _ value: Double, _ unit: String, tableSize: Int) {
        let date = ISO8601DateFormatter().string(from: Date())
        let tag = ProcessInfo.processInfo.environment["LQB_TAG"].map { "@" + $0 } ?? ""
        let row = "\(metric)\(tag),\(String(format: "%.6g", value)),\(unit),\(tableSize),\(date)\n"
        let fm = FileManager.default
        try? fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !fm.fileExists(atPath: path) { try? "metric,value,unit,table_size,date\n".write(toFile: path, atomically: true, encoding: .utf8) }
        if let h = FileHandle(forWritingAtPath: path) {
            h.seekToEndOfFile()
            h.write(row.data(using: .utf8)!)
            try? h.close()
        }
    }
}

enum Shared {
    static let br = IPv6Address("2001:db8:ffff::1")!
    static let requestor = DUIDOption.linkLayer([2, 0, 0, 0, 0, 1])

    static var quiet: Logger {
        var l = Logger(label: "lq-bench")
        l.logLevel = ProcessInfo.processInfo.environment["LQB_LOG"] != nil ? .info : .critical
        return l
    }

    static func serverConfig(pools: [ServerConfig.Pool], dir: String?) -> ServerConfig {
        var lq = ServerConfig.Leasequery(listen: .init(address: "::1", port: 0))
        lq.active = true
        lq.allowInsecure = true
        var c = ServerConfig(dhcp: .init(address: "::1", port: 0), leasequery: lq, pools: pools)
        c.leaseDirectory = dir
        c.borderRouters = [br.description]
        c.b4UpdateMinimumSeconds = 0
        return c
    }

    static func requestorConfig(port: Int) -> LeasequeryConfiguration {
        var c = LeasequeryConfiguration(servers: [LeasequeryServerAddress(host: "::1", port: port)], brAddress: br,
                                        requestorDUID: requestor)
        c.timers = LeasequeryTimers(connectTimeout: 5, activeReceiveTimeout: 30, bulkDataTimeout: 30, reconnectMinimum: 0.05,
                                    reconnectMaximum: 0.5, stableAfter: 30)
        return c
    }

    /// Writes a `dhcp4o6d` lease snapshot (LeaseJournal text format) with `n` active leases of
    /// pool 10.0.0.0/18, k = 6 (PSIDs 1…63), each with a 15-byte RFC 4361 client-id.
    static func writeServerLeases(dir: String, n: Int, now: UInt32) throws {
        func fnv(_ s: String) -> String {
            var h: UInt32 = 0x811C_9DC5
            for b in s.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
            return String(h, radix: 16)
        }
        func line(_ body: String) -> String { body + " #" + fnv(body) + "\n" }
        var out = line("H v1 0 \(n + 1)")
        out.reserveCapacity(n * 190)
        for i in 0..<n {
            let a = 0x0A00_0000 + UInt32(i / 63), psid = 1 + i % 63
            let ip = "\(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)"
            let b4 = "2001:db8:\(String(i >> 16, radix: 16)):\(String(i & 0xFFFF, radix: 16))::1"
            let cid = "ff00000001000300010200" + String(format: "%08x", i)
            out += line("L \(i + 1) \(ip) \(psid) 0 6 active \(now + 3600) \(now) \(now) \(now) \(now) \(b4) - \(cid) \(cid)")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try out.write(toFile: dir + "/leases.snapshot", atomically: true, encoding: .utf8)
    }

    static func tempDir(_ tag: String) throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("lqbench-\(tag)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}

/// Percentiles of a sorted sample (nearest rank).
struct Percentiles {
    let sorted: [UInt64]
    init(_ v: [UInt64]) { sorted = v.sorted() }
    func at(_ q: Double) -> UInt64 {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1 < 0 ? 0 : Int((Double(sorted.count) * q).rounded(.up)) - 1)]
    }
}

func fmt(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }
