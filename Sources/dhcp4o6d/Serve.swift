import ArgumentParser
import DHCP4o6Server
import Foundation
import Logging
import NIOCore
import NIOPosix

/// `dhcp4o6d serve`: runs the server until SIGINT/SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (default).")

    @Option(name: .shortAndLong, help: "JSON configuration file (see `dhcp4o6d example-config`).")
    var config: String?

    @Option(help: "Override the UDP listen address:port, e.g. '[::1]:10547'.")
    var dhcpListen: String?

    @Option(help: "Override the leasequery TCP listen address:port.")
    var leasequeryListen: String?

    @Option(help: "Override the lease store directory.")
    var leaseDirectory: String?

    @Option(help: "Log level (trace, debug, info, notice, warning, error).")
    var logLevel: String = "info"

    func run() async throws {
        var cfg = try config.map { try ServerConfig.load(path: $0) } ?? ServerConfig.example
        if let l = dhcpListen { cfg.dhcp = try parseListen(l) }
        if let l = leasequeryListen { cfg.leasequery.listen = try parseListen(l) }
        if let d = leaseDirectory { cfg.leaseDirectory = d }
        var logger = Logger(label: "dhcp4o6d")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let server = try await DHCP4o6Server.start(config: cfg, logger: logger)
        await waitForSignal()
        let stats = try await server.stats()
        logger.info("stopping", metadata: ["stats": "\(stats)"])
        try await server.stop()
    }
}

/// "[::1]:547", "127.0.0.1:67" or "::1" (port 547).
func parseListen(_ s: String) throws -> ServerConfig.Listen {
    if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
        let host = String(s[s.index(after: s.startIndex)..<close])
        let rest = s[s.index(after: close)...]
        guard rest.isEmpty || rest.hasPrefix(":"), let port = rest.isEmpty ? 547 : Int(rest.dropFirst()) else {
            throw ValidationError("bad address '\(s)'")
        }
        return .init(address: host, port: port)
    }
    if s.filter({ $0 == ":" }).count == 1, let i = s.firstIndex(of: ":"), let port = Int(s[s.index(after: i)...]) {
        return .init(address: String(s[..<i]), port: port)
    }
    return .init(address: s, port: 547)
}

/// Suspends until SIGINT or SIGTERM.
func waitForSignal() async {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        let once = OnceBox(c)
        for sig in [SIGINT, SIGTERM] {
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler { once.resume() }
            src.resume()
            SignalSources.keep(src)
        }
    }
}

/// Resumes a continuation at most once.
final class OnceBox: @unchecked Sendable {
    private let lock = NSLock()
    private var c: CheckedContinuation<Void, Never>?
    init(_ c: CheckedContinuation<Void, Never>) { self.c = c }
    func resume() {
        lock.lock(); let k = c; c = nil; lock.unlock()
        k?.resume()
    }
}

/// Keeps signal sources alive for the process lifetime.
enum SignalSources {
    nonisolated(unsafe) static var all: [any DispatchSourceSignal] = []
    static func keep(_ s: any DispatchSourceSignal) { all.append(s) }
}

/// `dhcp4o6d example-config`: prints a loopback configuration to start from.
struct ExampleConfig: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an example JSON configuration.")
    func run() throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try e.encode(ServerConfig.example), as: UTF8.self))
    }
}
