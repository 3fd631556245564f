import ArgumentParser

/// `dhcp4o6d`: the project's reference DHCP 4o6 server, its B4 client simulator, and a
/// leasequery diagnostic client.
@main
struct DHCP4o6D: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dhcp4o6d",
        abstract: "Reference DHCPv4-over-DHCPv6 server with shared IPv4 + PSID pools and leasequery.",
        subcommands: [Serve.self, Simulate.self, Query.self, LeaseCommand.self, ExampleConfig.self],
        defaultSubcommand: Serve.self)
}
