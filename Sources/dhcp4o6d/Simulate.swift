import ArgumentParser
import DHCP4o6Server
import DHCPWire
import Foundation
import NIOCore
import NIOPosix

/// `dhcp4o6d simulate`: B4 client load generator (loopback only).
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Obtain N leases over UDP, then churn them (renew/release/new clients) for a bounded time.")

    @Option(help: "Server UDP address, e.g. '[::1]:10547'.")
    var server: String = "[::1]:10547"

    @Option(help: "Number of clients leasing in phase 1.")
    var clients: Int = 1000

    @Option(help: "Transactions in flight.")
    var window: Int = 256

    @Option(help: "Churn operations per second in phase 2.")
    var rate: Double = 0

    @Option(help: "Seconds of churn (phase 2).")
    var duration: Double = 0

    @Option(help: "Also time a bulk leasequery against this TCP address afterwards, e.g. '[::1]:10547'.")
    var bulk: String?

    func run() async throws {
        let l = try parseListen(server)
        guard isLoopback(l.address) else { throw ValidationError("simulate only sends to loopback addresses") }
        let group = MultiThreadedEventLoopGroup.singleton
        var cfg = SimulationConfig(server: try SocketAddress.makeAddressResolvingHost(l.address, port: l.port), clients: clients)
        cfg.window = window
        cfg.churnRate = rate
        cfg.churnSeconds = duration
        let report = try await B4Simulator.run(cfg, group: group)
        print("simulate: \(report)")
        if let b = bulk {
            let t = try parseListen(b)
            guard isLoopback(t.address) else { throw ValidationError("bulk query only to loopback addresses") }
            let probe = try await LeasequeryProbe.connect(host: t.address, port: t.port, group: group)
            let start = Date()
            let rs = try await probe.bulk(LeasequeryRequest(kind: .bulk, transactionID: 1, requestorDUID: DUIDOption.linkLayer([2, 0, 0, 0, 0, 1])),
                                          timeout: .seconds(600))
            let secs = Date().timeIntervalSince(start)
            let records = rs.filter { if case .record = $0.payload { return true } else { return false } }.count
            print("bulk: \(records) records in \(String(format: "%.3f", secs)) s (\(Int(Double(records) / max(secs, 1e-9))) records/s)")
            await probe.close()
        }
    }
}

func isLoopback(_ host: String) -> Bool {
    host == "::1" || host == "localhost" || host.hasPrefix("127.")
}
