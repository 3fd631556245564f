import ArgumentParser
import LwAFTRCheck

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `lwaftr bench gen`: the synthetic benchmark workload (configuration, snapshot, traces).
struct BenchGenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Write a benchmark configuration, binding-table snapshot and traces into a cache folder.",
        discussion: """
            DIR/lwaftr.conf (no softwires), DIR/bindings.snap (all of them), DIR/full.conf with \
            --full-conf (all softwires inline, for other implementations), and for every flow count F \
            and size S: DIR/fF/ipv4-S.pcap (internet → bound address and port) and DIR/fF/ipv6-S.pcap \
            (the same flows 4in6 from their B4s). Softwires: 64 per IPv4 address from 100.64.0.0, \
            PSID length 6, B4 2001:db8::(n+1), br-address 2001:db8:ffff::1. Sizes are Ethernet frame \
            lengths without FCS (IPv6 frames are at least 82 bytes); imix is 7:4:1 of 64/576/1500. \
            Files already present are kept.
            """)

    @Option(help: "Number of softwires.") var bindings: Int
    @Option(help: "Active flows, comma separated (e.g. 1,2000,20000).") var flows: String = ""
    @Option(help: "Frame sizes, comma separated (e.g. 64,550,1500,imix).") var sizes: String = ""
    @Flag(help: "Also write full.conf with every softwire inline.") var fullConf = false
    @Option(help: "Cache folder for these bindings.") var out: String

    func run() throws {
        guard bindings > 0 && bindings <= 16_000_000 else { throw ValidationError("--bindings must be 1...16000000") }
        let flowList = try flows.split(separator: ",").map { t -> Int in
            guard let n = Int(t), n > 0, n <= 16_000_000 else { throw ValidationError("bad flow count '\(t)'") }
            return n
        }
        let sizeList = try sizes.split(separator: ",").map { t -> BenchFrameSize in
            guard let s = BenchFrameSize(t) else { throw ValidationError("bad size '\(t)' (60...9000 or imix)") }
            return s
        }
        do {
            var written = try BenchTraceWriter.writeTable(bindings: bindings, dir: out, fullConf: fullConf)
            for f in flowList {
                for s in sizeList {
                    written += try BenchTraceWriter.writeTraces(bindings: bindings, flows: f, size: s, dir: out)
                }
            }
            for p in written { print(p) }
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }
}
