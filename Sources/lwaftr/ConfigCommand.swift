import ArgumentParser
import LwAFTRCore

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `lwaftr config`: validate and convert configurations.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check or convert an lwAFTR configuration (Snabb .conf ⇄ native JSON).",
        subcommands: [Check.self, Convert.self])

    /// `lwaftr config check FILE`
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration; prints one error line (file:line: field: message) and exits 2 when bad.")
        @Argument(help: "Configuration file (.conf or .json).") var file: String

        func run() throws {
            let c = try loadConfig(file)
            let addresses = Set(c.softwires.map(\.ipv4)).count
            var line = "ok: \(file): \(c.softwires.count) softwires on \(addresses) IPv4 addresses, \(c.instances.count) instance(s)"
            if let lq = c.leasequery {
                line += ", leasequery: \(lq.servers.map(\.description).joined(separator: " ")) (br \(c.leasequeryBRAddress.map { "\($0)" } ?? "?"))"
            }
            print(line)
        }
    }

    /// `lwaftr config convert IN [--to json|conf] [-o OUT]`
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert between Snabb .conf and native JSON (default: to the other format).")
        enum Format: String, ExpressibleByArgument { case json, conf }
        @Argument(help: "Input configuration.") var input: String
        @Option(help: "Output format (json or conf).") var to: Format?
        @Option(name: .shortAndLong, help: "Write here instead of standard output.") var output: String?

        func run() throws {
            let c = try loadConfig(input)
            let isJSON = input.lowercased().hasSuffix(".json")
            let format = to ?? (isJSON ? .conf : .json)
            let text = format == .json ? ConfigLoader.toJSON(c) : SnabbConfWriter.write(c)
            if format == .conf && c.leasequery != nil {
                printError("warning: the leasequery section has no Snabb .conf form; it is left out")
            }
            if let output {
                guard let f = fopen(output, "w") else {
                    printError("\(output): cannot write")
                    throw ExitCode(2)
                }
                fputs(text, f)
                fclose(f)
            } else {
                print(text, terminator: "")
            }
        }
    }
}
