import ArgumentParser
import DHCP4o6Server
import DHCPWire
import Foundation
import LwAFTRCore
import NIOCore
import NIOPosix

/// `dhcp4o6d query`: a bulk (or active) leasequery that prints the records.
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a bulk leasequery (or --active) and print the records.")

    @Option(help: "Leasequery TCP address, e.g. '[::1]:10547'.")
    var server: String = "[::1]:10547"

    @Flag(help: "Active leasequery: print changes until interrupted or --seconds elapse.")
    var active = false

    @Option(help: "query-start-time (Unix seconds): bulk window start / active catch-up start.")
    var start: UInt32?

    @Option(help: "Stop an active query after this many seconds.")
    var seconds: Double = 60

    func run() async throws {
        let l = try parseListen(server)
        let group = MultiThreadedEventLoopGroup.singleton
        let probe = try await LeasequeryProbe.connect(host: l.address, port: l.port, group: group)
        let duid = DUIDOption.linkLayer([2, 0, 0, 0, 0, 1])
        let startTime = start.map { UnixTime(seconds: $0) }
        if active {
            try await probe.send(LeasequeryRequest(kind: .active, transactionID: 1, requestorDUID: duid, requestBaseTime: true,
                                                   queryStartTime: startTime))
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                guard let r = try? await probe.next(timeout: .seconds(Int64(max(1, seconds)))) else { break }
                show(r)
            }
        } else {
            for r in try await probe.bulk(LeasequeryRequest(kind: .bulk, transactionID: 1, requestorDUID: duid, queryStartTime: startTime)) {
                show(r)
            }
        }
        await probe.close()
    }

    func show(_ r: LeasequeryResponse) {
        var line = "\(r.kind)"
        if let s = r.status { line += " status \(s.status) '\(s.message)'" }
        if let b = r.baseTime { line += " base \(b)" }
        switch r.payload {
        case .record(let rec): line += " \(rec)"
        case .status(let s): line += " inner \(s.code) \(s.message)"
        case .done(let s): line += " done \(s.code)"
        case .none: break
        }
        print(line)
    }
}
