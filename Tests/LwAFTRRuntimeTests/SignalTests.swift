import Foundation
import Glibc
import Synchronization
import Testing

/// The built `lwaftr` binary under real signals: SIGHUP reaches the reload service through the
/// service lifecycle's signal sequence (bad file: one error line, run continues; good file:
/// applied), SIGTERM shuts down gracefully and prints the counters. `--io none`, loopback only.
@Suite(.serialized) struct SignalTests {
    static let binary: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/debug/lwaftr").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    @Test(.enabled(if: SignalTests.binary != nil, "needs .build/debug/lwaftr (swift build)"))
    func hangupReloadsAndTermStopsGracefully() async throws {
        let dir = try tempDir("signals")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lwaftr.json"
        let good = Lab.configJSON()
        try Lab.write(good, to: path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: SignalTests.binary!)
        p.arguments = ["run", path, "--io", "none", "--metrics", "127.0.0.1:0", "--snapshot", dir + "/b.snap"]
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = out
        let stderrText = Mutex<String>("")
        err.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            stderrText.withLock { $0 += String(decoding: d, as: UTF8.self) }
        }
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        // The bound port is in the "metrics listening" line.
        var port = 0
        #expect(await eventually(timeout: 20) {
            let text = stderrText.withLock { $0 }
            guard let r = text.range(of: "url=http://127.0.0.1:"), let end = text[r.upperBound...].firstIndex(of: "/") else { return false }
            port = Int(text[r.upperBound..<end]) ?? 0
            return text.contains("no data plane")
        })
        try #require(port > 0)

        try Lab.write(good.replacingOccurrences(of: "\"mtu\": 1500, \"generate", with: "\"mtu\": 1, \"generate"), to: path)
        kill(p.processIdentifier, SIGHUP)
        #expect(await eventually { stderrText.withLock { $0 }.contains("configuration reload failed") })
        let errors = stderrText.withLock { $0 }.split(separator: "\n").filter { $0.contains(" error ") }
        #expect(errors.count == 1 && errors[0].contains("\(path):8: external.mtu: 1 is out of range"), "\(errors)")
        #expect(p.isRunning)
        #expect(try httpGet(port: port, "/status").contains("\"reload_failures\": 1"))

        try Lab.write(good.replacingOccurrences(of: "\"mtu\": 1500, \"generate", with: "\"mtu\": 1400, \"generate"), to: path)
        kill(p.processIdentifier, SIGHUP)
        #expect(await eventually { stderrText.withLock { $0 }.contains("configuration reloaded") })
        #expect(metric(try httpGet(port: port, "/metrics"), "lwaftr_reloads_total") == 1)

        kill(p.processIdentifier, SIGTERM)
        #expect(await eventually(timeout: 20) { !p.isRunning })
        #expect(p.terminationStatus == 0)
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed.hasPrefix("ran "), "\(printed)")
        #expect(FileManager.default.fileExists(atPath: dir + "/b.snap"))   // written at shutdown
    }
}
