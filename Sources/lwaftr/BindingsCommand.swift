import ArgumentParser
import BindingTable
import LwAFTRCore

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `lwaftr bindings`: inspect a binding table (from a configuration or a snapshot) and build
/// snapshots from softwire lists.
struct BindingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bindings",
        abstract: "Inspect binding tables and build binding-table snapshots.",
        subcommands: [Dump.self, Lookup.self, Load.self, Stats.self, StatusCommand.self])

    /// Where the bindings come from: exactly one of `--config` and `--snapshot`.
    struct Source: ParsableArguments {
        @Option(help: "Configuration (Snabb .conf or native .json) whose softwires to use.") var config: String?
        @Option(help: "Binding-table snapshot to use.") var snapshot: String?

        func validate() throws {
            guard (config == nil) != (snapshot == nil) else {
                throw ValidationError("give exactly one of --config FILE and --snapshot FILE")
            }
        }

        func table() throws -> BindingTable {
            if let snapshot {
                do { return try BindingTable(snapshot: snapshot) } catch { throw fail("\(error)") }
            }
            let path = config!
            let conf: LwAFTRConfig
            do { conf = try ConfigLoader.load(path: path) } catch { throw fail("\(error)") }
            do { return try BindingTable(softwires: conf.softwires) } catch { throw fail("\(path): \(error)") }
        }
    }

    /// `dump`: every softwire, ordered by (IPv4, PSID), as CSV or JSON lines.
    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every softwire (ipv4, psid, psid_len, offset, b4_ipv6, br_ipv6).")
        @OptionGroup var source: Source
        @Option(help: "Output format: csv (with a header line) or jsonl.") var format: DumpFormat = .csv

        func run() throws {
            let table = try source.table()
            var out = OutputBuffer()
            if format == .csv { out.line(SoftwireText.csvHeader) }
            for s in table.allSoftwires() {
                out.line(format == .csv ? SoftwireText.csvLine(s) : SoftwireText.jsonLine(s))
            }
            out.flush()
        }
    }

    /// `lookup IPV4 PORT`: the softwire a packet to (IPV4, PORT) is tunnelled to.
    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the softwire owning an IPv4 address and port (exit 1 when none does).")
        @OptionGroup var source: Source
        @Argument(help: "Public IPv4 address.") var ipv4: String
        @Argument(help: "Port (0-65535).") var port: UInt16

        func run() throws {
            guard let ip = IPv4Address(ipv4) else { throw ValidationError("'\(ipv4)' is not an IPv4 address") }
            let table = try source.table()
            guard let ps = table.portSet(ipv4: ip.value) else {
                print("\(ip) port \(port): address not managed")
                throw ExitCode(1)
            }
            guard ps.isValid(port: port) else {
                print("\(ip) port \(port): port reserved by offset \(ps.offset)")
                throw ExitCode(1)
            }
            let psid = ps.psid(of: port)
            guard let v = table.lookup(ipv4: ip.value, port: port) else {
                print("\(ip) port \(port): no softwire for psid \(psid) (\(ps))")
                throw ExitCode(1)
            }
            print("ipv4=\(ip) port=\(port) psid=\(psid) psid_len=\(ps.psidLength) offset=\(ps.offset) "
                  + "b4_ipv6=\(v.b4) br_ipv6=\(table.brAddress(v.brIndex))")
        }
    }

    /// `load FILE --out SNAPSHOT`: validate a CSV / JSON-lines softwire list and write a snapshot.
    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a CSV or JSON-lines softwire list and write it as a snapshot.",
            discussion: """
                Fields: ipv4, psid, psid_len, offset, b4_ipv6, br_ipv6 (CSV: a header line may reorder \
                them; JSON lines: one object per line). Every softwire of one IPv4 address must use the \
                same psid_len and offset; a repeated (ipv4, psid) is an error. The snapshot is written \
                atomically (temporary file, then rename).
                """)
        @Argument(help: "CSV or JSON-lines file of softwires.") var file: String
        @Option(help: "Snapshot file to write.") var out: String
        @Option(help: "br-address for records without br_ipv6.") var br: String?

        func run() throws {
            var defaultBR: IPv6Address?
            if let br {
                guard let a = IPv6Address(br) else { throw ValidationError("'\(br)' is not an IPv6 address") }
                defaultBR = a
            }
            guard let text = readTextFile(file) else { throw fail("\(file): cannot read") }
            let records: [(line: Int, softwire: Softwire)]
            do { records = try SoftwireText.parseLines(text, defaultBR: defaultBR) } catch { throw fail("\(file): \(error)") }
            let table = BindingTable(capacity: records.count)
            var firstLine: [UInt64: Int] = [:]
            for (line, s) in records {
                do {
                    if try !table.insert(s) {
                        throw fail("\(file): line \(line): duplicate softwire \(s.ipv4) psid \(s.psid) "
                                   + "(first on line \(firstLine[softwireKey(s.ipv4.value, s.psid)] ?? 0))")
                    }
                } catch let e as BindingTableError {
                    throw fail("\(file): line \(line): \(e)")
                }
                firstLine[softwireKey(s.ipv4.value, s.psid)] = line
            }
            do { try table.saveSnapshot(to: out) } catch { throw fail("\(error)") }
            let st = table.stats
            print("\(out): \(st.count) softwires on \(st.addresses) addresses, \(st.brAddresses) br-addresses")
        }
    }

    /// `stats`: sizes of the table.
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the table's sizes.")
        @OptionGroup var source: Source

        func run() throws {
            let table = try source.table()
            let st = table.stats
            let perSoftwire = st.count == 0 ? 0 : Double(st.tableBytes) / Double(st.count)
            print("softwires       \(st.count)")
            print("addresses       \(st.addresses)")
            print("br-addresses    \(st.brAddresses)")
            print("slots           \(st.capacity) (load \(percent(st.count, st.capacity)), \(st.tombstones) tombstones)")
            print("address slots   \(st.addressCapacity) (load \(percent(st.addresses, st.addressCapacity)))")
            print("table bytes     \(st.tableBytes) (\(Int(perSoftwire.rounded())) per softwire)")
        }

        func percent(_ n: Int, _ d: Int) -> String { d == 0 ? "0%" : "\(n * 1000 / d / 10).\(n * 1000 / d % 10)%" }
    }
}

/// `--format` of `bindings dump`.
enum DumpFormat: String, ExpressibleByArgument {
    case csv, jsonl
}

/// Prints an error line and returns the exit code to throw (2: bad input).
private func fail(_ message: String) -> ExitCode {
    printError(message)
    return ExitCode(2)
}

/// Line output through stdout in 64 KiB writes (dumps of millions of lines).
private struct OutputBuffer {
    var text = ""
    mutating func line(_ s: String) {
        text += s
        text += "\n"
        if text.utf8.count >= 1 << 16 { flush() }
    }
    mutating func flush() {
        fputs(text, stdout)
        text = ""
    }
}
