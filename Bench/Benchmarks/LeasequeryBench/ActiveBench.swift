import Foundation
import Synchronization
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

/// Per-update timestamps (monotonic ns), one array per writer thread; read after the run.
final class Stamps: @unchecked Sendable {
    let n: Int
    let sent: UnsafeMutablePointer<UInt64>, acked: UnsafeMutablePointer<UInt64>, applied: UnsafeMutablePointer<UInt64>
    /// When the server committed the change (its store observer, before any leasequery send).
    let committed: UnsafeMutablePointer<UInt64>
    let appliedCount = Atomic<Int>(0)
    init(_ n: Int) {
        self.n = n
        sent = .allocate(capacity: n); acked = .allocate(capacity: n); applied = .allocate(capacity: n)
        committed = .allocate(capacity: n)
        for p in [sent, acked, applied, committed] { p.initialize(repeating: 0, count: n) }
    }
    deinit { for p in [sent, acked, applied, committed] { p.deallocate() } }
}

/// Active leasequery latency under a steady stream of lease changes.
enum ActiveBench {
    static let b4Hi: UInt64 = 0x2001_0db8_8000_0000

    static func run(rate: Double, seconds: Double, clients: Int, csv: CSVLog) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let total = Int(rate * seconds)
        let st = Stamps(total)
        let srv = try await DHCP4o6Server.start(config: Shared.serverConfig(pools: [.init(prefix: "10.0.0.0/18", psidLength: 6)], dir: nil),
                                                logger: Shared.quiet, group: group, changeObserver: { r in
            guard r.kind == .active, let b4 = r.b4, b4.hi == b4Hi, b4.lo >= 1, b4.lo <= UInt64(st.n) else { return }
            st.committed[Int(b4.lo) - 1] = monoNanos()
        })
        var sc = SimulationConfig(server: srv.udpAddress, clients: clients)
        sc.seed = 1
        _ = try await B4Simulator.run(sc, group: MultiThreadedEventLoopGroup.singleton)
        let leases = try await srv.activeRecords()
        let table = BindingTable(capacity: 1 << 16)
        let lq = try await LeasequeryService.start(configuration: Shared.requestorConfig(port: srv.leasequeryAddress!.port!), table: table,
                                                   logger: Shared.quiet, observer: { r, outcome in
            guard outcome == .replaced, let b4 = r.b4, b4.hi == b4Hi, b4.lo >= 1, b4.lo <= UInt64(st.n) else { return }
            st.applied[Int(b4.lo) - 1] = monoNanos()
            st.appliedCount.add(1, ordering: .releasing)
        })
        let t0 = monoNanos()
        while !(lq.currentStatus.allLive && table.count == leases.count) {
            guard monoNanos() - t0 < 30_000_000_000 else { throw BenchError("requestor not live with \(leases.count) softwires") }
            usleep(1000)
        }
        print("active: \(leases.count) leases synced; sending \(total) renewals at \(Int(rate))/s")
        let msgs = try (0..<total).map { i in try renewal(i, leases[i % leases.count]) }
        try Load.run(port: srv.udpAddress.port!, messages: msgs, rate: rate, stamps: st)
        let waitFrom = monoNanos()
        while st.appliedCount.load(ordering: .acquiring) < total && monoNanos() - waitFrom < 5_000_000_000 { usleep(1000) }
        await lq.stop()
        try await srv.stop()
        try await group.shutdownGracefully()
        report(st, rate: rate, seconds: seconds, csv: csv, tableSize: leases.count)
    }

    /// DHCPV4-QUERY{REQUEST} renewing lease `c` with a new B4 2001:db8:8000::(i+1) (RFC 8539 update).
    static func renewal(_ i: Int, _ c: LeaseRecord) throws -> [UInt8] {
        let m4 = DHCPv4Message(op: 1, xid: UInt32(i + 1), ciaddr: c.ipv4, options: [
            .u8(.messageType, DHCPv4MessageType.request.rawValue), DHCPv4Option(code: .clientID, data: c.clientID!),
            DHCPv4Option(code: .parameterRequestList, data: [1, 51, 54, 159]),
            DHCPv4Option(code: .portParams, data: c.portParams!.bytes),
            DHCPv4Message.s46SourceAddressOption(IPv6Address(hi: b4Hi, lo: UInt64(i + 1)))])
        return try DHCPv6Message(type: .dhcpv4Query, transactionID: DHCPv6Message.unicastFlag, options: [
            try DHCPv6Option(OptionRequest([DHCPv6OptionCode.s46BR.rawValue])), try DHCPv6Option(DHCPv4MessageOption(m4))]).encode()
    }

    static func report(_ st: Stamps, rate: Double, seconds: Double, csv: CSVLog, tableSize: Int) {
        var lat: [UInt64] = [], e2e: [UInt64] = [], udp: [UInt64] = []
        lat.reserveCapacity(st.n)
        for i in 0..<st.n where st.applied[i] != 0 && st.committed[i] != 0 {
            lat.append(st.applied[i] > st.committed[i] ? st.applied[i] - st.committed[i] : 0)
            if st.sent[i] != 0 { e2e.append(st.applied[i] &- st.sent[i]) }
            if st.acked[i] != 0 && st.sent[i] != 0 { udp.append(st.acked[i] &- st.sent[i]) }
        }
        let lost = st.n - lat.count
        let p = Percentiles(lat), pe = Percentiles(e2e), pu = Percentiles(udp)
        func us(_ v: UInt64) -> Double { Double(v) / 1000 }
        let qs: [(String, Double)] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999), ("max", 1)]
        func line(_ p: Percentiles) -> String { qs.map { "\($0.0) \(fmt(us(p.at($0.1)), 0)) µs" }.joined(separator: ", ") }
        print("active latency (server commit → record applied to the table), \(lat.count) updates at \(Int(rate))/s "
              + "for \(Int(seconds)) s, lost \(lost): " + line(p))
        let edges: [UInt64] = [50, 100, 200, 300, 500, 750, 1000, 2000, 5000, 10_000, .max]
        var hist = [Int](repeating: 0, count: edges.count)
        for v in lat { hist[edges.firstIndex { v / 1000 < $0 }!] += 1 }
        print("histogram: " + zip(edges, hist).map { "<\($0 == .max ? "inf" : "\($0)") µs: \($1)" }.joined(separator: ", "))
        print("end to end (renewal sent → applied, includes the server's DHCP handling): " + line(pe))
        print("UDP leg (renewal sent → DHCPACK received, ±1 send period): p50 \(fmt(us(pu.at(0.5)), 0)) µs, p99 \(fmt(us(pu.at(0.99)), 0)) µs")
        for (name, q) in qs {
            csv.add("active_latency_\(name)", us(p.at(q)), "us", tableSize: tableSize)
            csv.add("active_e2e_\(name)", us(pe.at(q)), "us", tableSize: tableSize)
        }
        csv.add("active_lost", Double(lost), "updates", tableSize: tableSize)
    }
}

/// The UDP load: a paced sender on this thread that also notes each DHCPACK.
enum Load {
    static func run(port: Int, messages: [[UInt8]], rate: Double, stamps st: Stamps) throws {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: errno \(errno)") }
        defer { close(fd) }
        var big: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = in_port_t(UInt16(port).bigEndian)
        sa.sin6_addr = in6addr_loopback
        let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        guard rc == 0 else { throw BenchError("connect: errno \(errno)") }
        // One thread only (no receiver thread): on a 2-core box every extra wake-up per update
        // competes with the server and requestor loops. DHCPACKs are drained without blocking
        // after each send, so their times are accurate to the send period.
        var buf = [UInt8](repeating: 0, count: 2048)
        func drainAcks() {
            while true {
                let r = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard r > 0 else { return }
                let now = monoNanos()
                if let xid = ackXID(buf, r), xid >= 1, Int(xid) <= st.n { st.acked[Int(xid) - 1] = now }
            }
        }
        let period = 1e9 / rate
        let start = monoNanos() + 1_000_000
        for (i, m) in messages.enumerated() {
            let due = start + UInt64(Double(i) * period)
            if monoNanos() < due {
                var ts = timespec(tv_sec: Int(due / 1_000_000_000), tv_nsec: Int(due % 1_000_000_000))
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil)
            }
            st.sent[i] = monoNanos()
            _ = m.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            drainAcks()
        }
        let end = monoNanos() + 300_000_000
        while monoNanos() < end { drainAcks(); usleep(1000) }
    }

    /// The DHCPv4 xid of a DHCPV4-RESPONSE carrying a DHCPACK, else nil.
    static func ackXID(_ b: [UInt8], _ n: Int) -> UInt32? {
        guard n > 4, b[0] == 21 else { return nil }
        var o = 4
        while o + 4 <= n {
            let code = Int(b[o]) << 8 | Int(b[o + 1]), len = Int(b[o + 2]) << 8 | Int(b[o + 3])
            guard o + 4 + len <= n else { return nil }
            if code == 87 && len >= 240 {
                let m = o + 4
                var j = m + 240
                while j + 2 < m + len {
                    if b[j] == 255 { break }
                    if b[j] == 0 { j += 1; continue }
                    if b[j] == 53 { return b[j + 2] == 5 ? UInt32(b[m + 4]) << 24 | UInt32(b[m + 5]) << 16 | UInt32(b[m + 6]) << 8 | UInt32(b[m + 7]) : nil }
                    j += 2 + Int(b[j + 1])
                }
                return nil
            }
            o += 4 + len
        }
        return nil
    }
}
