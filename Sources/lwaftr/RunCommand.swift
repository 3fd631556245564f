import ArgumentParser
import Logging
import LwAFTRCheck
import LwAFTRCore
import LwAFTRRuntime
import Telemetry

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `lwaftr run`: the router.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the lwAFTR on TUN devices or AF_PACKET interfaces until SIGTERM/SIGINT (SIGHUP reloads).",
        discussion: """
            tun mode creates two TUN devices (--external/--internal names) and routes the given IPv4 \
            prefixes and IPv6 br-addresses into them; af-packet mode owns two Ethernet interfaces \
            (ARP/NDP answered by the lwAFTR); none runs only the control lane (leasequery) and metrics. \
            With a "leasequery" section (or --leasequery) the binding table follows the DHCP 4o6 \
            servers; the configuration's softwires stay as static bindings. SIGHUP re-reads the \
            configuration file (policies, static softwires, leasequery servers) without stopping \
            forwarding; a file that does not load leaves the running configuration in place. \
            Counters are printed on exit.
            """)

    @Argument(help: "Configuration (Snabb .conf or native .json).") var conf: String
    @Option(help: "tun, af-packet or none.") var io: String = "tun"
    @Option(help: "External (IPv4 side) TUN name or interface.") var external: String = "lwaftr4"
    @Option(name: .customLong("internal"), help: "Internal (IPv6/B4 side) TUN name or interface.") var internalDevice: String = "lwaftr6"
    @Option(help: "Packet worker threads.") var workers: Int = 1
    @Option(help: "Pin worker i to CPU (N + i).") var pinCPU: Int?
    @Option(parsing: .singleValue, help: "IPv4 prefix routed into the external TUN (repeatable), e.g. 192.0.2.0/24.")
    var route4: [String] = []
    @Option(parsing: .singleValue, help: "IPv6 prefix routed into the internal TUN (repeatable), e.g. 2001:db8::1/128.")
    var route6: [String] = []
    @Option(help: "Serve Prometheus metrics (/metrics) and sync status (/status) on HOST:PORT.") var metrics: String?
    @Option(parsing: .singleValue, help: "Leasequery server HOST[:PORT] or [IPV6]:PORT (repeatable; added to the configuration's).")
    var leasequery: [String] = []
    @Option(help: "Binding-table snapshot (overrides leasequery.snapshot; without leasequery: loaded at start, written at exit).")
    var snapshot: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Option(help: "Stop after this many seconds.") var duration: Double?
    @Option(help: "Open the devices in this network namespace (/run/netns/NAME).") var netns: String?
    @Flag(help: "Spin instead of sleeping when idle.") var busyPoll = false
    @Option(help: "af-packet: receive ring block size in KiB (a power-of-two number of pages).") var ringBlockKb: Int?
    @Option(help: "af-packet: receive ring blocks per side per worker.") var ringBlocks: Int?

    func run() async throws {
        // SIGHUP/SIGTERM/SIGINT handlers (already in place from a constructor for `lwaftr run`):
        // a signal during startup is kept for the runtime instead of killing the process.
        ControlSignals.install()
        guard let level = Logger.Level(rawValue: logLevel) else {
            printError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        var logger = Logger(label: "lwaftr")
        logger.logLevel = level
        let config = try loadConfig(conf)
        var o = RunOptions()
        guard let mode = RunOptions.IOMode(rawValue: io) else {
            printError("--io must be tun, af-packet or none")
            throw ExitCode(2)
        }
        o.io = mode
        o.externalDevice = external
        o.internalDevice = internalDevice
        o.workers = max(1, workers)
        o.pinBaseCPU = pinCPU
        o.duration = duration
        o.busyPoll = busyPoll
        if let kb = ringBlockKb {
            guard kb >= 4, kb & (kb - 1) == 0 else { printError("--ring-block-kb must be a power of two ≥ 4"); throw ExitCode(2) }
            o.ringBlockSize = kb * 1024
        }
        if let n = ringBlocks {
            guard n >= 1 else { printError("--ring-blocks must be ≥ 1"); throw ExitCode(2) }
            o.ringBlocks = n
        }
        o.namespace = netns
        o.configPath = conf
        o.snapshotPath = snapshot
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
            o.extraLeasequeryServers = try leasequery.map { s in
                guard let server = LeasequeryMapping.parseServer(s) else {
                    throw ValidationError("--leasequery wants HOST[:PORT] or [IPV6]:PORT, not \(s)")
                }
                return server
            }
            if let m = metrics {
                guard let (host, port) = parseHostPort(m) else { throw ValidationError("--metrics wants HOST:PORT") }
                o.metricsListen = (host, Int(port))
            }
        } catch let e as ValidationError {
            printError(e.message)
            throw ExitCode(2)
        }
        if !o.extraLeasequeryServers.isEmpty && o.effective(config).leasequeryBRAddress == nil {
            printError("--leasequery needs a br-address: set leasequery.br_address, an instance or a softwire in \(conf)")
            throw ExitCode(2)
        }
        do {
            let runtime = try LwAFTRRuntime(config: config, options: o, logger: logger)
            let summary = try await runtime.run()
            print("ran \(fixed(summary.seconds, 1)) s, \(summary.received) frames received; counters:")
            for (name, value) in summary.counters.sorted(by: { $0.key < $1.key }) { print("  \(name) \(value)") }
            if o.io != .none {
                for (side, d) in zip(DeviceSide.allCases, summary.devices) {
                    print("device \(side.label): rx \(d.rxPackets) (dropped \(d.rxDropped), ring full \(d.rxRingFull), "
                          + "pool empty \(d.rxPoolEmpty)), tx \(d.txPackets) (dropped \(d.txDropped))")
                }
            }
            if let lq = summary.leasequery {
                print("leasequery: table \(lq.tableSize), \(lq.counters)")
            }
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
