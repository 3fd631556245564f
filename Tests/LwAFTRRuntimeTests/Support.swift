import Foundation
import Glibc
import Logging
import LwAFTRCore
import LwAFTRRuntime
import PacketIO
import Synchronization
import Testing
@_exported import TestSupport

// These tests run the runtime in-process. The data-plane ones make their own network namespace
// (`ip netns add`), let the runtime open its TUN devices there (`RunOptions.namespace`), and
// send/receive with sockets created inside it; the namespace is deleted afterwards. They need
// root and are skipped otherwise.

/// Setup that failed (a helper, not a shell command).
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension TestNamespace {
    /// A namespace named `rt-…`.
    convenience init(_ tag: String) throws { try self.init(tag, prefix: "rt") }

    /// The MTU of link `dev` in this namespace, or nil.
    func linkMTU(_ dev: String) -> Int? {
        mtu(inLinkLine: Shell.run("ip -n \(name) -o link show \(dev)").output)
    }
}

/// "index: name" → MTU of every link of the root namespace (`ip -o link`).
func rootLinkMTUs() -> [String: Int] {
    var r: [String: Int] = [:]
    for line in Shell.run("ip -o link show").output.split(separator: "\n") {
        let f = line.split(separator: " ")
        guard f.count > 2, let m = mtu(inLinkLine: String(line)) else { continue }
        r["\(f[0]) \(f[1])"] = m
    }
    return r
}

/// The number after "mtu" in one `ip -o link` line.
func mtu(inLinkLine line: String) -> Int? {
    let f = line.split(separator: " ")
    guard let i = f.firstIndex(of: "mtu"), i + 1 < f.count else { return nil }
    return Int(f[i + 1])
}

/// Collects log lines (level + rendered message + metadata) for assertions.
final class LogCapture: Sendable {
    let lines = Mutex<[(Logger.Level, String)]>([])

    var logger: Logger {
        var l = Logger(label: "lwaftr-test") { _ in CaptureHandler(capture: self) }
        l.logLevel = .info
        return l
    }

    func messages(_ level: Logger.Level) -> [String] { lines.withLock { $0.filter { $0.0 == level }.map(\.1) } }
    func all() -> [String] { lines.withLock { $0.map { "\($0.0) \($0.1)" } } }
}

struct CaptureHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let m = event.metadata { all.merge(m) { $1 } }
        let meta = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.lines.withLock { $0.append((event.level, meta.isEmpty ? "\(event.message)" : "\(event.message) \(meta)")) }
        if ProcessInfo.processInfo.environment["RT_TEST_LOG"] != nil { print("[log] \(event.level) \(event.message) \(meta)") }
    }
}

/// GET http://127.0.0.1:port/path; the body of a 200 answer.
func httpGet(port: Int, _ path: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw TestFailure("connect to \(port): errno \(errno)") }
    let req = Array("GET \(path) HTTP/1.0\r\nHost: x\r\n\r\n".utf8)
    _ = req.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    let text = String(decoding: bytes, as: UTF8.self)
    guard let r = text.range(of: "\r\n\r\n"), text.hasPrefix("HTTP/1.") && text.contains(" 200 ") else {
        throw TestFailure("bad answer: \(text.prefix(200))")
    }
    return String(text[r.upperBound...])
}

/// The value of one sample line (`name{labels} value`) in Prometheus text, or nil.
func metric(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Double = 10, every: Double = 0.02, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: UInt64(every * 1e9))
    }
    return try await condition()
}

/// A temporary directory.
func tempDir(_ tag: String) throws -> String {
    let d = NSTemporaryDirectory() + "lwaftr-rt-\(tag)-\(getpid())-\(UInt32.random(in: 0...0xFFFF_FFFF))"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}
