import Foundation
import Glibc
import Synchronization
import Testing

/// The built `lwaftr` binary under real signals: SIGHUP reaches the reload service (bad file: one
/// error line, run continues; good file: applied), SIGTERM shuts down gracefully and prints the
/// counters — also when the signals come right after exec, before the runtime is up (they are
/// queued, never fatal). `--io none`, loopback only.
@Suite(.serialized) struct SignalTests {
    final class TextBox: Sendable { let text = Mutex<String>("") }

    static let binary: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/debug/lwaftr").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// A running `lwaftr run` with its stderr collected.
    final class Child: @unchecked Sendable {
        let process: Process
        let out = Pipe()
        let collected = TextBox()

        init(_ arguments: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: SignalTests.binary!)
            p.arguments = arguments
            let err = Pipe()
            p.standardError = err
            p.standardOutput = out
            process = p
            err.fileHandleForReading.readabilityHandler = { [collected] h in
                let d = h.availableData
                collected.text.withLock { $0 += String(decoding: d, as: UTF8.self) }
            }
            // Spawn with SIGHUP/SIGTERM/SIGINT blocked (the mask is inherited across exec, as from a
            // test runner or a supervisor that blocks them): lwaftr must unblock them itself.
            var set = sigset_t(), saved = sigset_t()
            sigemptyset(&set)
            for s in [SIGHUP, SIGTERM, SIGINT] { sigaddset(&set, s) }
            pthread_sigmask(SIG_BLOCK, &set, &saved)
            defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
            try p.run()
        }

        var stderr: String { collected.text.withLock { $0 } }

        /// Waits (polling /proc, up to 5 s) until the process catches SIGHUP and SIGTERM: the
        /// earliest moment any code of ours can take a signal (the constructor, before `main`).
        /// Before it the kernel is still mapping the binary; nothing in the process can help.
        func waitUntilCatching() -> Bool {
            let want: UInt64 = 1 << (UInt64(SIGHUP) - 1) | 1 << (UInt64(SIGTERM) - 1)
            for _ in 0..<25_000 {
                if let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
                   let line = text.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
                   let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16),
                   mask & want == want {
                    return true
                }
                usleep(200)
            }
            return false
        }
        func signal(_ s: Int32) { kill(process.processIdentifier, s) }
        func killIfRunning() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var stdout: String { String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
    }

    @Test(.enabled(if: SignalTests.binary != nil, "needs .build/debug/lwaftr (swift build)"))
    func hangupReloadsAndTermStopsGracefully() async throws {
        let dir = try tempDir("signals")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lwaftr.json"
        let good = Lab.configJSON()
        try Lab.write(good, to: path)
        let c = try Child(["run", path, "--io", "none", "--metrics", "127.0.0.1:0", "--snapshot", dir + "/b.snap"])
        defer { c.killIfRunning() }
        // The bound port is in the "metrics listening" line.
        var port = 0
        #expect(await eventually(timeout: 20) {
            let text = c.stderr
            guard let r = text.range(of: "url=http://127.0.0.1:"), let end = text[r.upperBound...].firstIndex(of: "/") else { return false }
            port = Int(text[r.upperBound..<end]) ?? 0
            return text.contains("no data plane")
        })
        try #require(port > 0)

        try Lab.write(good.replacingOccurrences(of: "\"mtu\": 1500, \"generate", with: "\"mtu\": 1, \"generate"), to: path)
        c.signal(SIGHUP)
        #expect(await eventually { c.stderr.contains("configuration reload failed") })
        let errors = c.stderr.split(separator: "\n").filter { $0.contains(" error ") }
        #expect(errors.count == 1 && errors[0].contains("\(path):8: external.mtu: 1 is out of range"), "\(errors)")
        #expect(c.process.isRunning)
        #expect(try httpGet(port: port, "/status").contains("\"reload_failures\": 1"))

        try Lab.write(good.replacingOccurrences(of: "\"mtu\": 1500, \"generate", with: "\"mtu\": 1400, \"generate"), to: path)
        c.signal(SIGHUP)
        #expect(await eventually { c.stderr.contains("configuration reloaded") })
        #expect(metric(try httpGet(port: port, "/metrics"), "lwaftr_reloads_total") == 1)

        c.signal(SIGTERM)
        try #require(await eventually(timeout: 20) { !c.process.isRunning })   // (terminationReason traps while running)
        #expect(c.process.terminationReason == .exit && c.process.terminationStatus == 0)
        let printed = c.stdout
        #expect(printed.hasPrefix("ran "), "\(printed)")
        #expect(FileManager.default.fileExists(atPath: dir + "/b.snap"))   // written at shutdown
    }

    /// SIGHUP then SIGTERM right after spawn (as soon as the process catches them, before
    /// `main`; or 10 ms, whichever is later): no death by signal, a graceful exit with the
    /// counters printed and the snapshot written.
    @Test(.enabled(if: SignalTests.binary != nil, "needs .build/debug/lwaftr (swift build)"))
    func signalsDuringStartupAreQueuedNotFatal() async throws {
        let dir = try tempDir("early-signals")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lwaftr.json"
        try Lab.write(Lab.configJSON(), to: path)
        for round in 0..<3 {
            let snap = dir + "/b\(round).snap"
            let c = try Child(["run", path, "--io", "none", "--metrics", "127.0.0.1:0", "--snapshot", snap])
            defer { c.killIfRunning() }
            let started = Date()
            #expect(c.waitUntilCatching())
            if round > 0 { usleep(UInt32(max(0, 10_000 - Int(Date().timeIntervalSince(started) * 1e6)))) }
            c.signal(SIGHUP)
            c.signal(SIGTERM)
            try #require(await eventually(timeout: 20) { !c.process.isRunning })
            #expect(c.process.terminationReason == .exit, "killed by signal \(c.process.terminationStatus): \(c.stderr)")
            #expect(c.process.terminationStatus == 0, "\(c.stderr)")
            #expect(c.stdout.hasPrefix("ran "))
            #expect(FileManager.default.fileExists(atPath: snap), "\(c.stderr)")
        }
    }

    /// A SIGHUP during startup is a reload once the service group runs.
    @Test(.enabled(if: SignalTests.binary != nil, "needs .build/debug/lwaftr (swift build)"))
    func hangupDuringStartupReloadsAfterStart() async throws {
        let dir = try tempDir("early-hup")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lwaftr.json"
        try Lab.write(Lab.configJSON(), to: path)
        let c = try Child(["run", path, "--io", "none", "--snapshot", dir + "/b.snap"])
        defer { c.killIfRunning() }
        #expect(c.waitUntilCatching())
        c.signal(SIGHUP)
        #expect(await eventually(timeout: 20) { c.stderr.contains("configuration reloaded") }, "\(c.stderr)")
        #expect(c.process.isRunning)
        c.signal(SIGTERM)
        try #require(await eventually(timeout: 20) { !c.process.isRunning })
        #expect(c.process.terminationReason == .exit && c.process.terminationStatus == 0, "\(c.stderr)")
    }
}
