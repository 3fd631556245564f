import Foundation
import NIOCore
import NIOPosix
import LwAFTRCore
import DHCPWire
import BindingTable
import DHCP4o6Server
import Leasequery
#if canImport(Glibc)
import Glibc
#endif

/// Start-up bulk resync of `n` leases: end to end, then server alone and requestor alone.
enum BulkBench {
    static func run(leases n: Int, split: Bool, csv: CSVLog) async throws {
        let dir = try Shared.tempDir("bulk")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Shared.writeServerLeases(dir: dir + "/server", n: n, now: UInt32(Date().timeIntervalSince1970))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var t = monoNanos()
        let srv = try await DHCP4o6Server.start(config: Shared.serverConfig(pools: [.init(prefix: "10.0.0.0/18", psidLength: 6)],
                                                                            dir: dir + "/server"),
                                                logger: Shared.quiet, group: group)
        let port = srv.leasequeryAddress!.port!
        print("bulk \(n): server loaded the leases in \(fmt(Double(monoNanos() - t) / 1e9)) s")

        // End to end: service start → table published.
        let table = BindingTable(capacity: n)
        t = monoNanos()
        let cpu0 = processCPU()
        let lq = try await LeasequeryService.start(configuration: Shared.requestorConfig(port: port), table: table, logger: Shared.quiet)
        while lq.currentStatus.counters.resyncs == 0 && monoNanos() - t < 60_000_000_000 { usleep(200) }
        let wall = Double(monoNanos() - t) / 1e9
        let cpu = processCPU() - cpu0
        let st = lq.currentStatus
        let ok = table.count == n && st.counters.rejected == 0 && st.counters.resyncRecords == n
        print("bulk \(n): sync \(fmt(wall)) s (session connect → publish \(fmt(st.sessions[0].lastResyncSeconds ?? -1)) s, "
              + "process CPU \(fmt(cpu)) s), "
              + "table \(table.count), rejected \(st.counters.rejected)\(ok ? "" : "  ** INCOMPLETE **")")
        csv.add("bulk_sync", wall, "s", tableSize: n)
        csv.add("bulk_sync_process_cpu", cpu, "s", tableSize: n)
        await lq.stop()

        if split {
            // Server alone: raw client, read to the DONE, keep the bytes.
            t = monoNanos()
            let c0 = processCPU(), tc0 = threadCPU()
            let (stream, records) = try RawBulkClient.fetch(port: port, expected: n)
            let serverSecs = Double(monoNanos() - t) / 1e9
            let serverCPU = processCPU() - c0 - (threadCPU() - tc0)   // minus the raw client's own thread
            print("bulk \(n): server alone (query → DONE read, \(stream.count >> 20) MiB, \(records) records) \(fmt(serverSecs)) s, "
                  + "server CPU ≈ \(fmt(serverCPU)) s")
            csv.add("bulk_server_alone", serverSecs, "s", tableSize: n)
            csv.add("bulk_server_alone_cpu", serverCPU, "s", tableSize: n)

            // Requestor alone: the same bytes through a session, from memory, 64 KiB at a time.
            let (secs, cpu) = try requestorAlone(stream: stream, n: n)
            print("bulk \(n): requestor alone (decode, validate, build, publish) \(fmt(secs)) s, CPU \(fmt(cpu)) s "
                  + "(\(Int(cpu * 1e9 / Double(max(n, 1)))) ns/record)")
            csv.add("bulk_requestor_alone", secs, "s", tableSize: n)
            csv.add("bulk_requestor_alone_cpu", cpu, "s", tableSize: n)
        }
        try await srv.stop()
        try await group.shutdownGracefully()
    }

    /// A bulk answer (xid 1) with `n` records shaped like the server's (`Shared.writeServerLeases`).
    static func syntheticStream(_ n: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n * 320 + 4096)
        let now = UInt32(Date().timeIntervalSince1970)
        for i in 0..<n {
            let r = LeaseRecord(kind: .active, ipv4: IPv4Address(0x0A00_0000 + UInt32(i / 63)),
                                portParams: PortParams(offset: 0, psidLength: 6, psid: UInt16(1 + i % 63)),
                                b4: IPv6Address(hi: 0x2001_0db8_0000_0000 | UInt64(i >> 16) << 16 | UInt64(i & 0xFFFF), lo: 1 << 48),
                                baseTime: UnixTime(seconds: now), clientID: [0xFF, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init),
                                leaseTime: 3600, clientLastTransaction: 0, state: .active)
            if i == 0 {
                out += try LeasequeryResponse(kind: .reply, transactionID: 1, serverDUID: DUIDOption.linkLayer([2, 0, 0, 0, 0, 0x53]),
                                              clientDUID: Shared.requestor, baseTime: UnixTime(seconds: now), payload: .record(r)).framed()
            } else {
                out += LeaseRecordWriter.data(r, xid: 1)!
            }
        }
        out += try LeasequeryResponse(kind: .done, transactionID: 1, baseTime: UnixTime(seconds: now),
                                      payload: .done(LeasequeryStatus(.success, baseTime: UnixTime(seconds: now)))).framed()
        return out
    }

    /// Feeds a captured bulk stream (REPLY … DONE, xid 1) to a fresh session.
    static func requestorAlone(stream: [UInt8], n: Int) throws -> (wall: Double, cpu: Double) {
        let table = BindingTable(capacity: n)
        let sync = BindingSync(table: table, brAddress: Shared.br, logger: Shared.quiet)
        let s = LeasequerySession(index: 0, configuration: Shared.requestorConfig(port: 547), sync: sync, logger: Shared.quiet)
        guard case .connect(_, let g)? = s.start().first else { throw BenchError("session did not connect") }
        var xid: UInt32 = 0
        for case .send(_, let bytes) in s.connected(.bulk, generation: g) { xid = UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 8 | UInt32(bytes[5]) }
        var copy = stream
        RawBulkClient.rewriteXIDs(&copy, to: xid)
        let t = monoNanos(), c0 = threadCPU()
        copy.withUnsafeBytes { all in
            var off = 0
            while off < all.count {
                let end = min(off + 65536, all.count)
                _ = s.received(.bulk, generation: g, bytes: UnsafeRawBufferPointer(rebasing: all[off..<end]))
                off = end
            }
        }
        let secs = Double(monoNanos() - t) / 1e9, cpu = threadCPU() - c0
        guard table.count == n, sync.counters.resyncs == 1 else { throw BenchError("requestor alone: table \(table.count) of \(n)") }
        return (secs, cpu)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A blocking-socket bulk leasequery client: sends the profile's bulk query (xid 1) and reads
/// until the DONE frame (or a REPLY without records). No decoding beyond the frame headers.
enum RawBulkClient {
    static func fetch(port: Int, expected: Int) throws -> (stream: [UInt8], records: Int) {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: errno \(errno)") }
        defer { close(fd) }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = in_port_t(UInt16(port).bigEndian)
        sa.sin6_addr = in6addr_loopback
        let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        guard rc == 0 else { throw BenchError("connect: errno \(errno)") }
        let q = try LeasequeryRequest(kind: .bulk, transactionID: 1, requestorDUID: Shared.requestor,
                                      parameterRequestList: LeasequeryRequest.bulkParameterRequestList).framed()
        guard q.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == q.count else { throw BenchError("send") }
        var out: [UInt8] = []
        out.reserveCapacity(expected * 330 + (1 << 20))
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var scan = 0, records = 0
        while true {
            let r = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard r > 0 else { throw BenchError("server closed after \(out.count) bytes") }
            out.append(contentsOf: buf[0..<r])
            while out.count - scan >= 3 {
                let len = Int(out[scan]) << 8 | Int(out[scan + 1])
                guard out.count - scan >= 2 + len else { break }
                let type = out[scan + 2]
                scan += 2 + len
                if type == 17 || type == 15 { records += 1 }
                if type == 16 || (type == 15 && len < 60) { return (out, type == 16 ? records : 0) }
            }
        }
    }

    /// Sets the outer and inner transaction-ids of every frame to `xid`.
    static func rewriteXIDs(_ s: inout [UInt8], to xid: UInt32) {
        var i = 0
        while i + 6 <= s.count {
            let len = Int(s[i]) << 8 | Int(s[i + 1])
            s[i + 3] = UInt8(xid >> 16 & 255); s[i + 4] = UInt8(xid >> 8 & 255); s[i + 5] = UInt8(xid & 255)
            // Option 87 anywhere in the message: inner xid at +4 of the DHCPv4 message.
            var o = i + 6
            while o + 4 <= i + 2 + len {
                let code = Int(s[o]) << 8 | Int(s[o + 1]), olen = Int(s[o + 2]) << 8 | Int(s[o + 3])
                if code == 87 && olen >= 8 {
                    s[o + 8] = 0; s[o + 9] = UInt8(xid >> 16 & 255); s[o + 10] = UInt8(xid >> 8 & 255); s[o + 11] = UInt8(xid & 255)
                }
                o += 4 + olen
            }
            i += 2 + len
        }
    }
}
