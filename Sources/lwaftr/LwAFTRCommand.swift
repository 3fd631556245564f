import ArgumentParser

/// The `lwaftr` command line: subcommands for each job.
@main
struct LwAFTRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lwaftr",
        abstract: "Lightweight 4over6 AFTR (RFC 7596).",
        subcommands: [RunCommand.self, CheckCommand.self, ProcessCommand.self, BenchCommand.self, BindingsCommand.self, ConfigCommand.self])
}
