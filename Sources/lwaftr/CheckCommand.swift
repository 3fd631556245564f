import ArgumentParser
import LwAFTRCheck
import LwAFTRCore

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Loads a configuration, printing one error line and exiting 2 when it is bad.
func loadConfig(_ path: String) throws -> LwAFTRConfig {
    do {
        return try ConfigLoader.load(path: path)
    } catch {
        printError("\(error)")
        throw ExitCode(2)
    }
}

/// `HOST:PORT` or `[IPV6]:PORT` (the --metrics listener); nil when malformed.
func parseHostPort(_ s: String) -> (host: String, port: UInt16)? {
    guard let colon = s.lastIndex(of: ":"), let port = UInt16(s[s.index(after: colon)...]) else { return nil }
    var host = String(s[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host, port)
}

func printError(_ s: String) {
    fputs("lwaftr: \(s)\n", stderr)
}

func readTextFile(_ path: String) -> String? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

/// `lwaftr check`: runs the engine over two input pcaps and compares with expected pcaps.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run the engine on pcap input and compare its output (and counters) with expected files.",
        discussion: "An empty side is given as an empty pcap file. Exits 0 only when everything matches.")

    @Option(help: "Expected counter changes (Snabb .lua table or JSON object).") var counters: String?
    @Argument(help: "Configuration (Snabb .conf or native .json).") var conf: String
    @Argument(help: "Frames arriving on the IPv4 (internet) side.") var in4: String
    @Argument(help: "Frames arriving on the IPv6 (B4) side.") var in6: String
    @Argument(help: "Frames expected on the IPv4 side.") var expected4: String
    @Argument(help: "Frames expected on the IPv6 side.") var expected6: String

    func run() throws {
        let config = try loadConfig(conf)
        var report = CheckReport()
        do {
            let result = try OfflineRunner.run(config: config, in4: OfflineRunner.frames(in4),
                                               in6: OfflineRunner.frames(in6))
            Checker.compare(side: "ipv4", actual: result.out4, expected: try OfflineRunner.frames(expected4), into: &report)
            Checker.compare(side: "ipv6", actual: result.out6, expected: try OfflineRunner.frames(expected6), into: &report)
            if let counters {
                guard let text = readTextFile(counters) else {
                    printError("\(counters): cannot read counters file")
                    throw ExitCode(2)
                }
                Checker.compare(counters: result.counters, expected: CounterFile.parse(text), into: &report)
            }
        } catch let e as ExitCode {
            throw e
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        if report.passed {
            print("ok: outputs\(counters == nil ? "" : " and counters") match")
        } else {
            for p in report.problems { print(p) }
            print("FAILED: \(report.problems.count) difference(s)")
            throw ExitCode(1)
        }
    }
}

/// `lwaftr process`: runs the engine and writes what it emits.
struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Run the engine on pcap input and write the frames it emits on each side.")

    @Option(name: .customLong("counters-out"), help: "Write the counters that changed to this file.") var countersOut: String?
    @Argument var conf: String
    @Argument var in4: String
    @Argument var in6: String
    @Argument var out4: String
    @Argument var out6: String

    func run() throws {
        let config = try loadConfig(conf)
        do {
            let r = try OfflineRunner.run(config: config, in4: OfflineRunner.frames(in4), in6: OfflineRunner.frames(in6))
            try OfflineRunner.write(r.out4, to: out4)
            try OfflineRunner.write(r.out6, to: out6)
            let lines = r.counters.sorted { $0.key < $1.key }.map { "   [\"\($0.key)\"] = \($0.value)," }
            let text = "return {\n" + lines.joined(separator: "\n") + "\n}\n"
            if let countersOut {
                guard let f = fopen(countersOut, "w") else {
                    printError("\(countersOut): cannot write")
                    throw ExitCode(2)
                }
                fputs(text, f)
                fclose(f)
            }
            print("ipv4: \(r.out4.count) frames -> \(out4); ipv6: \(r.out6.count) frames -> \(out6)")
        } catch let e as ExitCode {
            throw e
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }
}
