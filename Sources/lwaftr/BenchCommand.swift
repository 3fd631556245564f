import ArgumentParser
import BindingTable
import LwAFTRCheck
import LwAFTRCore

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `lwaftr bench`: in-memory pcap replay throughput (`bench [run]`) and the synthetic traces for it
/// (`bench gen`).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Replay pcap traces in memory through the engine; generate benchmark traces.",
        subcommands: [BenchRunCommand.self, BenchGenCommand.self],
        defaultSubcommand: BenchRunCommand.self)
}

/// `lwaftr bench [run]`: Mpps and Gbps per direction.
struct BenchRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replay pcap traces in memory through the engine and report Mpps and Gbps per direction.",
        discussion: """
            Both traces are replayed round-robin, a batch per side per round, through one engine per \
            worker; the per-direction figures of a two-sided run share the core(s). Give `-` for a side \
            to measure the other one alone. Gbps counts the Ethernet frames as captured (no FCS, \
            preamble or gap). Under valgrind, pass --packets to run a fixed count and divide the \
            instruction total by it.
            """)

    @Option(help: "Seconds to run.") var duration: Double = 5
    @Option(help: "Stop after this many input packets per worker instead of after --duration.") var packets: UInt64?
    @Option(help: "Packets per side per batch.") var batch: Int = 128
    @Option(help: "Engines, one per thread, each with its own copy of the traces, sharing one table.") var workers: Int = 1
    @Option(help: "Binding-table snapshot to use instead of the configuration's softwires.") var snapshot: String?
    @Option(help: "Fixed binding-table hash seed (reproducible instruction counts; default random).") var seed: UInt64?
    @Flag(help: "Print one JSON object instead of text (and no progress lines).") var json = false
    @Argument(help: "Configuration (Snabb .conf or native .json).") var conf: String
    @Argument(help: "Frames for the IPv4 (internet) side, or - for none.") var in4: String
    @Argument(help: "Frames for the IPv6 (B4) side, or - for none.") var in6: String

    func validate() throws {
        guard workers >= 1 && workers <= 64 else { throw ValidationError("--workers must be 1...64") }
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1...4096") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard in4 != "-" || in6 != "-" else { throw ValidationError("give at least one trace") }
    }

    func run() throws {
        let config = try loadConfig(conf)
        let f4: [[UInt8]], f6: [[UInt8]]
        let table: BindingTable
        do {
            f4 = in4 == "-" ? [] : try OfflineRunner.frames(in4)
            f6 = in6 == "-" ? [] : try OfflineRunner.frames(in6)
            if let snapshot {
                table = try seed.map { try BindingTable(snapshot: snapshot, seed: $0, maxReaders: max(64, workers)) }
                    ?? BindingTable(snapshot: snapshot, maxReaders: max(64, workers))
            } else {
                table = try BindingTableFactory.make(config.softwires, seed: seed)
            }
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        guard !f4.isEmpty || !f6.isEmpty else {
            printError("both traces are empty")
            throw ExitCode(2)
        }
        var options = ReplayOptions()
        options.batch = batch
        options.packets = packets
        options.seconds = duration
        options.workers = workers
        let quiet = json, has4 = !f4.isEmpty, has6 = !f6.isEmpty
        let r = try Replay.run(config: config, table: table, in4: f4, in6: f6, options: options) { p in
            if quiet { return }
            let v4 = has4 ? "  v4→v6 \(fixed(p.mpps4, 3)) Mpps" : "", v6 = has6 ? "  v6→v4 \(fixed(p.mpps6, 3)) Mpps" : ""
            fputs("  \(fixed(p.seconds, 1)) s\(v4)\(v6)\n", stderr)
        }
        print(json ? Self.json(r) : Self.text(r, hasV4: !f4.isEmpty, hasV6: !f6.isEmpty))
    }

    static func json(_ r: ReplayResult) -> String {
        """
        {"seconds":\(r.seconds),"workers":\(r.workers),"ipv4_in_packets":\(r.packets4),\
        "ipv6_in_packets":\(r.packets6),"mpps_v4_to_v6":\(r.mpps4),"gbps_v4_to_v6":\(r.gbps4),\
        "mpps_v6_to_v4":\(r.mpps6),"gbps_v6_to_v4":\(r.gbps6),"mpps_total":\(r.mpps4 + r.mpps6),\
        "cpu_seconds":\(r.cpuSeconds),"mpps_per_cpu_v4_to_v6":\(r.mppsPerCPU4),\
        "mpps_per_cpu_v6_to_v4":\(r.mppsPerCPU6),"mpps_per_cpu_total":\(r.mppsPerCPU4 + r.mppsPerCPU6),\
        "emitted_ipv4":\(r.emitted4),"emitted_ipv6":\(r.emitted6),"dropped":\(r.dropped)}
        """
    }

    static func text(_ r: ReplayResult, hasV4: Bool, hasV6: Bool) -> String {
        var lines: [String] = []
        if hasV4 {
            lines.append("v4→v6 (encapsulation): \(fixed(r.mpps4, 3)) Mpps, \(fixed(r.gbps4, 3)) Gbps (\(r.packets4) packets)")
        }
        if hasV6 {
            lines.append("v6→v4 (decapsulation): \(fixed(r.mpps6, 3)) Mpps, \(fixed(r.gbps6, 3)) Gbps (\(r.packets6) packets)")
        }
        if hasV4 && hasV6 {
            lines.append("both: \(fixed(r.mpps4 + r.mpps6, 3)) Mpps, \(fixed(r.gbps4 + r.gbps6, 3)) Gbps")
        }
        var perCPU: [String] = []
        if hasV4 { perCPU.append("v4→v6 \(fixed(r.mppsPerCPU4, 3)) Mpps") }
        if hasV6 { perCPU.append("v6→v4 \(fixed(r.mppsPerCPU6, 3)) Mpps") }
        lines.append("per CPU second of the workers: " + perCPU.joined(separator: ", ")
                     + " (CPU \(fixed(r.cpuSeconds, 2)) s)")
        lines.append("time \(fixed(r.seconds, 2)) s, \(r.workers) worker\(r.workers == 1 ? "" : "s"), dropped \(r.dropped)")
        return lines.joined(separator: "\n")
    }
}

/// `x` with exactly `digits` decimals (no Foundation formatting on this path).
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let v = (abs(x) * scale).rounded()
    let whole = Int(v / scale)
    var frac = String(Int(v) - whole * Int(scale))
    while frac.count < digits { frac = "0" + frac }
    return (x < 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + frac : "")
}
