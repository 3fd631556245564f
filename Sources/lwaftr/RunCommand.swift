import ArgumentParser
import LwAFTRCheck
import LwAFTRCore
import LwAFTRRuntime

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `lwaftr run`: the router.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the lwAFTR on TUN devices or AF_PACKET interfaces until SIGTERM/SIGINT.",
        discussion: """
            tun mode creates two TUN devices (--external/--internal names) and routes the given IPv4 \
            prefixes and IPv6 br-addresses into them; af-packet mode owns two Ethernet interfaces \
            (ARP/NDP answered by the lwAFTR). Counters are printed on exit.
            """)

    @Argument(help: "Configuration (Snabb .conf or native .json).") var conf: String
    @Option(help: "tun or af-packet.") var io: String = "tun"
    @Option(help: "External (IPv4 side) TUN name or interface.") var external: String = "lwaftr4"
    @Option(name: .customLong("internal"), help: "Internal (IPv6/B4 side) TUN name or interface.") var internalDevice: String = "lwaftr6"
    @Option(help: "Packet worker threads.") var workers: Int = 1
    @Option(help: "Pin worker i to CPU (N + i).") var pinCPU: Int?
    @Option(parsing: .singleValue, help: "IPv4 prefix routed into the external TUN (repeatable), e.g. 192.0.2.0/24.")
    var route4: [String] = []
    @Option(parsing: .singleValue, help: "IPv6 prefix routed into the internal TUN (repeatable), e.g. 2001:db8::1/128.")
    var route6: [String] = []
    @Option(help: "Serve Prometheus metrics on HOST:PORT.") var metrics: String?
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Flag(help: "Spin instead of sleeping when idle.") var busyPoll = false

    func run() throws {
        let config = try loadConfig(conf)
        var o = RunOptions()
        guard let mode = RunOptions.IOMode(rawValue: io) else {
            printError("--io must be tun or af-packet")
            throw ExitCode(2)
        }
        o.io = mode
        o.externalDevice = external
        o.internalDevice = internalDevice
        o.workers = max(1, workers)
        o.pinBaseCPU = pinCPU
        o.duration = duration
        o.busyPoll = busyPoll
        do {
            o.ipv4Routes = try route4.map { r in
                let (a, l) = try prefix(r)
                guard let v4 = IPv4Address(a), l <= 32 else { throw ValidationError("bad IPv4 prefix \(r)") }
                return (v4, l)
            }
            o.ipv6Routes = try route6.map { r in
                let (a, l) = try prefix(r)
                guard let v6 = IPv6Address(a), l <= 128 else { throw ValidationError("bad IPv6 prefix \(r)") }
                return (v6, l)
            }
            if let m = metrics {
                guard let colon = m.lastIndex(of: ":"), let port = Int(m[m.index(after: colon)...]) else {
                    throw ValidationError("--metrics wants HOST:PORT")
                }
                var host = String(m[..<colon])
                if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                o.metricsListen = (host, port)
            }
        } catch let e as ValidationError {
            printError(e.message)
            throw ExitCode(2)
        }
        let table = try BindingTableFactory.make(config.softwires)
        let runtime = LwAFTRRuntime(config: config, options: o, table: table)
        do {
            let summary = try runtime.run { line in
                fputs("lwaftr: \(line)\n", stderr)
            }
            print("ran \(fixed(summary.seconds, 1)) s, \(summary.received) frames received; counters:")
            for (name, value) in summary.counters.sorted(by: { $0.key < $1.key }) { print("  \(name) \(value)") }
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    func prefix(_ s: String) throws -> (String, Int) {
        let parts = s.split(separator: "/")
        guard parts.count <= 2 else { throw ValidationError("bad prefix \(s)") }
        let len = parts.count == 2 ? Int(parts[1]) : nil
        if parts.count == 2 && len == nil { throw ValidationError("bad prefix length in \(s)") }
        return (String(parts[0]), len ?? (s.contains(":") ? 128 : 32))
    }
}
