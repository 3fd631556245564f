import Foundation
import Synchronization
import Testing
import NIOCore
import NIOPosix
import LwAFTRCore
import DHCPWire
import BindingTable
import DHCP4o6Server
import Leasequery

/// In-test versions of the acceptance figures (the canonical benchmark with CSV output is
/// `Bench/Benchmarks/LeasequeryBench`: from Bench/, `swift run -c release LeasequeryBench`; its
/// active latency starts at the server's commit, this one at the DHCP REQUEST). Run in release
/// mode only when asked:
/// `LQ_PERF=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build-lq-rel --filter PerformanceTests`
/// (`LQ_PERF_LEASES`, `LQ_PERF_RATE`, `LQ_PERF_SECONDS`, `LQ_PERF_PRL=51,109,152,159` change the
/// sizes and the bulk PRL; `LQ_TEST_LOG=1` adds the resync's phase timings).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["LQ_PERF"] != nil)) struct PerformanceTests {
    static let env = ProcessInfo.processInfo.environment
    static let leases = Int(env["LQ_PERF_LEASES"] ?? "") ?? 1_000_000

    /// Seeds a `dhcp4o6d` lease directory with `n` active leases of pool 10.0.0.0/18 (k = 6;
    /// PSID 0, ports 0–1023, is never used), each with a 4-byte client-id.
    static func writeServerLeases(dir: String, n: Int, now: UInt32) throws {
        func lease(_ i: Int) -> SeedLease {
            let ipv4 = IPv4Address(0x0A00_0000 + UInt32(i / 63))
            let params = PortParams(offset: 0, psidLength: 6, psid: UInt16(1 + i % 63))!
            let hi: UInt64 = 0x2001_0db8_0000_0000 | UInt64(i >> 16) << 16 | UInt64(i & 0xFFFF)
            let cid: [UInt8] = withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
            return SeedLease(ipv4: ipv4, portParams: params, b4: IPv6Address(hi: hi, lo: 1), clientID: cid)
        }
        try LeaseDirectorySeed.write((0..<n).lazy.map(lease), directory: dir, now: now)
    }

    @Test func bulkResyncOfOneMillionLeases() async throws {
        let dir = try Fx.tempDir("perf-bulk")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let now = UInt32(Date().timeIntervalSince1970)
        try Self.writeServerLeases(dir: dir + "/server", n: Self.leases, now: now)
        var t = Date()
        let srv = try await TestServer(TestServer.serverConfig(pools: [.init(prefix: "10.0.0.0/18", psidLength: 6)], dir: dir + "/server"))
        print("server loaded \(Self.leases) leases in \(String(format: "%.2f", Date().timeIntervalSince(t))) s")
        let table = BindingTable(capacity: Self.leases)
        t = Date()
        let prl: [UInt8]? = Self.env["LQ_PERF_PRL"].map { $0.split(separator: ",").compactMap { UInt8($0) } }
        let lq = try await Fx.service(port: srv.lqPort, table: table) { c in if let prl { c.bulkParameterRequestList = prl } }
        var seen = 0
        while seen < Self.leases && Date().timeIntervalSince(t) < 60 {
            try await Task.sleep(nanoseconds: 2_000_000)
            seen = try await lq.withSync { $0.counters.resyncs > 0 ? $0.count : 0 }
        }
        let wall = Date().timeIntervalSince(t)
        let st = try await lq.status()
        print("""
            bulk resync: \(seen) softwires published \(String(format: "%.3f", wall)) s after start \
            (session: connect → publish \(String(format: "%.3f", st.sessions[0].lastResyncSeconds ?? -1)) s); \
            rejected \(st.counters.rejected)
            """)
        #expect(seen == Self.leases && table.count == Self.leases && st.counters.rejected == 0)
        #expect(wall <= 3.0)
        await lq.stop()
        await srv.stop()
    }

    /// Requestor side only: 1 M DATA records from memory through a `LeasequerySession` in 64 KiB
    /// chunks (decode, validate, build aside, publish).
    @Test func requestorBulkCostWithoutAServer() throws {
        let n = Self.leases
        let table = BindingTable(capacity: n)
        let sync = BindingSync(table: table, brAddress: Fx.br, logger: Fx.quiet)
        let s = LeasequerySession(index: 0, configuration: Fx.config(), sync: sync, logger: Fx.quiet)
        let g = Fx.connectGeneration(s.start(), .bulk)!
        let q = Fx.queries(s.connected(.bulk, generation: g))[0].1
        var stream: [UInt8] = []
        stream.reserveCapacity(n * 320)
        for i in 0..<n {
            let a = 0x0A00_0000 + UInt32(i / 63)
            let r = LeaseRecord(kind: .active, ipv4: IPv4Address(a), portParams: PortParams(offset: 0, psidLength: 6, psid: UInt16(1 + i % 63)),
                                b4: IPv6Address(hi: 0x2001_0db8_0000_0000 | UInt64(i), lo: 1), baseTime: UnixTime(seconds: Fx.t0),
                                clientID: [255, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 0xB4], leaseTime: 3600,
                                clientLastTransaction: 0, state: .active)
            stream += i == 0 ? Fx.reply(q.transactionID, payload: .record(r)) : Fx.data(q.transactionID, r)
        }
        stream += Fx.done(q.transactionID)
        let t = Date()
        stream.withUnsafeBytes { all in
            var off = 0
            while off < all.count {
                let end = min(off + 65536, all.count)
                _ = s.received(.bulk, generation: g, bytes: UnsafeRawBufferPointer(rebasing: all[off..<end]))
                off = end
            }
        }
        let secs = Date().timeIntervalSince(t)
        print("requestor alone: \(n) records (\(stream.count >> 20) MiB) decoded, validated, published in \(String(format: "%.3f", secs)) s "
              + "(\(Int(secs * 1e9 / Double(n))) ns/record)")
        #expect(table.count == n && sync.counters.resyncs == 1)
    }

    /// The floor of a publication: `BindingTable.replaceAll` of 1 M softwires alone.
    @Test func replaceAllFloor() throws {
        let n = Self.leases
        let ps = PortSet(offset: 0, psidLength: 6)!
        var sws: [Softwire] = []
        sws.reserveCapacity(n)
        for i in 0..<n {
            let ip = IPv4Address(0x0A00_0000 + UInt32(i / 63))
            let b4 = IPv6Address(hi: 0x2001_0db8_0000_0000 | UInt64(i), lo: 1)
            sws.append(Softwire(ipv4: ip, psid: UInt16(1 + i % 63), b4: b4, br: Fx.br, portSet: ps))
        }
        let table = BindingTable(capacity: 1024)
        try table.replaceAll(with: Array(sws.prefix(1000)))
        let t = Date()
        try table.replaceAll(with: sws)
        print("BindingTable.replaceAll of \(n) softwires: \(String(format: "%.3f", Date().timeIntervalSince(t))) s")
    }

    @Test func activeUpdateLatencyUnderTenThousandUpdatesPerSecond() async throws {
        let rate = Double(Self.env["LQ_PERF_RATE"] ?? "") ?? 10_000
        let seconds = Double(Self.env["LQ_PERF_SECONDS"] ?? "") ?? 10
        let srv = try await TestServer(TestServer.serverConfig(pools: [.init(prefix: "10.0.0.0/20", psidLength: 6)]) {
            $0.b4UpdateMinimumSeconds = 0
        })
        _ = try await srv.lease(2000)
        let clients = try await srv.activeRecords()
        let sent = Mutex<[IPv6Address: UInt64]>([:])
        let acks = Mutex<[UInt32: UInt64]>([:])
        let lat = Mutex<[UInt64]>([])
        let legs = Mutex<(udp: [Int64], lq: [Int64])>(([], []))
        let table = BindingTable(capacity: 8192)
        let lq = try await Fx.service(port: srv.lqPort, table: table, observer: { r, outcome in
            guard outcome == .replaced, let b4 = r.b4 else { return }
            let now = NIODeadline.now().uptimeNanoseconds
            // Visible: the writer applied it; a lock-free reader sees it from here on.
            guard let t0 = sent.withLock({ $0.removeValue(forKey: b4) }) else { return }
            lat.withLock { $0.append(now - t0) }
            if let ack = acks.withLock({ $0.removeValue(forKey: UInt32(truncatingIfNeeded: b4.lo)) }) {
                legs.withLock { $0.udp.append(Int64(ack) - Int64(t0)); $0.lq.append(Int64(now) - Int64(ack)) }
            }
        })
        #expect(try await Fx.synced(table, srv, lq))
        let total = Int(rate * seconds)
        try await RenewalLoad.run(server: srv.udpAddress, clients: clients, rate: rate, count: total, willSend: { b4 in
            sent.withLock { $0[b4] = NIODeadline.now().uptimeNanoseconds }
        }, acked: { xid in
            let now = NIODeadline.now().uptimeNanoseconds
            acks.withLock { $0[xid] = now }
        })
        _ = await Fx.eventually(timeout: 5) { lat.withLock { $0.count } >= total }
        var l = lat.withLock { $0 }.sorted()
        let lost = sent.withLock { $0.count }
        if l.isEmpty { l = [0] }
        func p(_ q: Double) -> Double { Double(l[min(l.count - 1, Int(Double(l.count) * q))]) / 1000 }
        let edges: [UInt64] = [100, 200, 300, 500, 750, 1000, 2000, 5000, 10_000, .max]
        var hist = [Int](repeating: 0, count: edges.count)
        for v in l { hist[edges.firstIndex { v / 1000 < $0 }!] += 1 }
        let lg = legs.withLock { $0 }
        let legCount = lg.lq.count
        func legText(_ k: KeyPath<(udp: [Int64], lq: [Int64]), [Int64]>) -> String {
            let v = lg[keyPath: k].sorted()
            guard !v.isEmpty else { return "-" }
            return "\(v[v.count / 2] / 1000)/\(v[min(v.count - 1, v.count * 99 / 100)] / 1000)"
        }
        let histText = zip(edges, hist).map { "<\($0 == .max ? "inf" : "\($0)") µs: \($1)" }.joined(separator: ", ")
        print("""
            active latency (REQUEST sent → record applied to the table), \(l.count) updates at \(Int(rate))/s, lost \(lost): \
            p50 \(String(format: "%.0f", p(0.5))) µs, p90 \(String(format: "%.0f", p(0.9))) µs, p99 \(String(format: "%.0f", p(0.99))) µs, \
            p99.9 \(String(format: "%.0f", p(0.999))) µs, max \(String(format: "%.0f", p(1))) µs
            histogram: \(histText)
            legs (µs, p50/p99): REQUEST → DHCPACK at the load generator \(legText(\.udp)); \
            DHCPACK → applied (server's leasequery send + TCP + requestor) \(legText(\.lq)) over \(legCount) updates
            """)
        #expect(p(0.99) <= 1000)
        await lq.stop()
        await srv.stop()
    }
}

/// DHCP 4o6 renewals that move each lease to a new B4 (RFC 8539 update; needs
/// `b4UpdateMinimumSeconds = 0`), paced at `rate` per second: one leasequery update each.
enum RenewalLoad {
    /// Notes when each DHCPACK arrives (by DHCPv4 xid).
    final class Sink: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let acked: @Sendable (UInt32) -> Void
        init(_ acked: @escaping @Sendable (UInt32) -> Void) { self.acked = acked }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let b = unwrapInboundIn(data).data
            if let m = try? DHCPv6Message.decode(Array(b.readableBytesView)),
               let m4 = try? m.value(DHCPv4MessageOption.self)?.message, m4.messageType == .ack { acked(m4.xid) }
        }
    }

    /// Sends `count` renewals; the i-th (from 1) has DHCPv4 xid i and moves its lease to B4
    /// 2001:db8:8000::i.
    static func run(server: SocketAddress, clients: [LeaseRecord], rate: Double, count: Int,
                    willSend: @escaping @Sendable (IPv6Address) -> Void, acked: @escaping @Sendable (UInt32) -> Void) async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let ch = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(Sink(acked)) } }
            .bind(host: "::1", port: 0).get()
        let done = loop.makePromise(of: Void.self)
        let start = NIODeadline.now()
        let state = try await loop.submit { NIOLoopBound(Box(), eventLoop: loop) }.get()
        let task = loop.scheduleRepeatedTask(initialDelay: .milliseconds(1), delay: .microseconds(500)) { task in
            let s = state.value
            let due = min(count, Int(Double((NIODeadline.now() - start).nanoseconds) / 1e9 * rate))
            while s.sent < due {
                let c = clients[s.sent % clients.count]
                let b4 = IPv6Address(hi: 0x2001_0db8_8000_0000, lo: UInt64(s.sent + 1))
                willSend(b4)
                let m4 = DHCPv4Message(op: 1, xid: UInt32(s.sent + 1), ciaddr: c.ipv4, options: [
                    .u8(.messageType, DHCPv4MessageType.request.rawValue), DHCPv4Option(code: .clientID, data: c.clientID!),
                    DHCPv4Option(code: .parameterRequestList, data: [1, 51, 54, 159]),
                    DHCPv4Option(code: .portParams, data: c.portParams!.bytes), DHCPv4Message.s46SourceAddressOption(b4)])
                let m6 = DHCPv6Message(type: .dhcpv4Query, transactionID: DHCPv6Message.unicastFlag, options: [
                    try! DHCPv6Option(OptionRequest([DHCPv6OptionCode.s46BR.rawValue])), try! DHCPv6Option(DHCPv4MessageOption(m4))])
                ch.write(AddressedEnvelope(remoteAddress: server, data: ch.allocator.buffer(bytes: try! m6.encode())), promise: nil)
                s.sent += 1
            }
            ch.flush()
            if s.sent >= count { task.cancel(); done.succeed(()) }
        }
        try await done.futureResult.get()
        _ = task
        try await ch.close()
    }

    final class Box { var sent = 0 }
}
