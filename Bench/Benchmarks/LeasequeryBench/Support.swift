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

    /// Seeds a `dhcp4o6d` lease directory with `n` active leases of pool 10.0.0.0/18, k = 6
    /// (PSIDs 1…63), each with a 15-byte RFC 4361 client-id.
    static func writeServerLeases(dir: String, n: Int, now: UInt32) throws {
        func lease(_ i: Int) -> SeedLease {
            let ipv4 = IPv4Address(0x0A00_0000 + UInt32(i / 63))
            let params = PortParams(offset: 0, psidLength: 6, psid: UInt16(1 + i % 63))!
            let hi: UInt64 = 0x2001_0db8_0000_0000 | UInt64(i >> 16) << 16 | UInt64(i & 0xFFFF)
            let cid: [UInt8] = [0xff, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
            return SeedLease(ipv4: ipv4, portParams: params, b4: IPv6Address(hi: hi, lo: 1), clientID: cid)
        }
        try LeaseDirectorySeed.write((0..<n).lazy.map(lease), directory: dir, now: now)
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
