import ArgumentParser
import LwAFTRCheck
import LwAFTRCore

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `lwaftr bench`: in-memory pcap replay throughput, both directions at once.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Replay pcap traces in memory through the engine and report Mpps and Gbps per direction.",
        discussion: """
            Both traces are replayed round-robin, a batch per side per round, through one engine on one \
            core. Under valgrind, pass --packets to run a fixed count and divide the instruction total by it.
            """)

    @Option(help: "Seconds to run.") var duration: Double = 5
    @Option(help: "Stop after this many input packets instead of after --duration.") var packets: UInt64?
    @Option(help: "Packets per side per batch.") var batch: Int = 128
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Argument(help: "Configuration (Snabb .conf or native .json).") var conf: String
    @Argument(help: "Frames for the IPv4 (internet) side, or an empty pcap.") var in4: String
    @Argument(help: "Frames for the IPv6 (B4) side, or an empty pcap.") var in6: String

    func run() throws {
        let config = try loadConfig(conf)
        let f4: [[UInt8]], f6: [[UInt8]]
        do {
            f4 = try OfflineRunner.frames(in4)
            f6 = try OfflineRunner.frames(in6)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let showProgress = !json && packets == nil && isatty(1) != 0
        let r = try Replay.run(config: config, in4: f4, in6: f6, batch: batch, packets: packets, seconds: duration) { p in
            if showProgress {
                print("  \(fixed(p.seconds, 1)) s  v4→v6 \(fixed(p.mpps4, 3)) Mpps  v6→v4 \(fixed(p.mpps6, 3)) Mpps")
            }
        }
        if json {
            print("""
                {"seconds":\(r.seconds),"ipv4_in_packets":\(r.packets4),"ipv6_in_packets":\(r.packets6),\
                "mpps_v4_to_v6":\(r.mpps4),"gbps_v4_to_v6":\(r.gbps4),"mpps_v6_to_v4":\(r.mpps6),\
                "gbps_v6_to_v4":\(r.gbps6),"dropped":\(r.dropped)}
                """)
        } else {
            print("v4→v6 (encapsulation): \(fixed(r.mpps4, 3)) Mpps, \(fixed(r.gbps4, 3)) Gbps (\(r.packets4) packets)")
            print("v6→v4 (decapsulation): \(fixed(r.mpps6, 3)) Mpps, \(fixed(r.gbps6, 3)) Gbps (\(r.packets6) packets)")
            print("time \(fixed(r.seconds, 2)) s, dropped \(r.dropped)")
        }
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
