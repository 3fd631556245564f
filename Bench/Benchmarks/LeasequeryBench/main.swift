// Leasequery end-to-end benchmark (issue #7 acceptance): the reference server (DHCP4o6Server, as in
// dhcp4o6d) and the requestor (LeasequeryService) in one process, talking TCP over loopback.
//
// Run from Bench/ (release; the figures mean nothing in debug):
//     swift run -c release LeasequeryBench            # bulk 10 k / 100 k / 1 M, then active 10 k/s × 10 s
//     swift run -c release LeasequeryBench bulk       # or: active
// Environment: LQB_SIZES=10000,100000,1000000  LQB_RATE=10000  LQB_SECONDS=10  LQB_CLIENTS=2000
//              LQB_SPLIT=0 (skip the server-alone / requestor-alone split runs)
//              LQB_TAG=nice-10 (appended to the CSV metric names as "@nice-10", e.g. for runs under
//              `nice -n -10` that keep the other builds on a shared box from preempting the loops)
// Every figure is printed and appended to Bench/results/leasequery.csv
// (metric,value,unit,table_size,date).
//
// Bulk: the server loads n leases from a lease snapshot, then a fresh LeasequeryService connects,
// runs the start-up bulk leasequery and publishes the table; "bulk_sync" is service start →
// table published with n softwires (the acceptance figure). Split: "bulk_server_alone" = a raw
// socket client sends the same query and reads to the DONE (server + loopback, no decoding);
// "bulk_requestor_alone" = the captured byte stream fed from memory to a LeasequerySession
// (decode, validate, build aside, publish; no socket).
// Active: `LQB_CLIENTS` leases; a sender thread paces DHCP 4o6 renewals that move a lease to a new
// B4 (one active-leasequery update each) at `LQB_RATE`/s for `LQB_SECONDS` s. Latency (the
// acceptance figure) = the server commits the change (its store observer, called before any
// leasequery session sends the record) → the record is applied to the table (BindingSync
// observer, on the requestor's loop). Also shown: renewal sent → applied (adds the server's
// DHCP handling) and renewal sent → DHCPACK received.
import Foundation

let args = CommandLine.arguments.dropFirst()
let what = args.first ?? "all"
let env = ProcessInfo.processInfo.environment
let csv = CSVLog(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../results/leasequery.csv").standardized.path)

if what == "all" || what == "bulk" {
    let sizes = (env["LQB_SIZES"] ?? "10000,100000,1000000").split(separator: ",").compactMap { Int($0) }
    for n in sizes { try await BulkBench.run(leases: n, split: env["LQB_SPLIT"] != "0", csv: csv) }
}
if what == "requestor" {       // requestor alone on a synthetic stream (for profiling), no server
    for n in (env["LQB_SIZES"] ?? "1000000").split(separator: ",").compactMap({ Int($0) }) {
        let (wall, cpu) = try BulkBench.requestorAlone(stream: BulkBench.syntheticStream(n), n: n)
        print("requestor alone, synthetic \(n): \(fmt(wall)) s, CPU \(fmt(cpu)) s (\(Int(cpu * 1e9 / Double(n))) ns/record)")
    }
}
if what == "all" || what == "active" {
    try await ActiveBench.run(rate: Double(env["LQB_RATE"] ?? "") ?? 10_000, seconds: Double(env["LQB_SECONDS"] ?? "") ?? 10,
                              clients: Int(env["LQB_CLIENTS"] ?? "") ?? 2000, csv: csv)
}
