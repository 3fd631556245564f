import DHCP4o6Server
import Foundation
import Glibc
import Logging
import LwAFTRCore
import LwAFTRRuntime
import NIOCore
import NIOPosix
import Synchronization

/// The data-plane lab: a namespace where the runtime's TUN pair lives, a local "internet host"
/// (198.51.100.1 on lo) that sends UDP into the shared prefix 192.0.2.0/24, and the B4
/// addresses (2001:db8:b4::/64 on lo) where the encapsulated packets are received with a raw
/// IPv6 socket for next header 4 (IPv4-in-IPv6).
enum Lab {
    static let host4 = "198.51.100.1"
    static let br = "2001:db8:ff::1"

    /// Static softwires: 192.0.2.1 PSID 1..4 of 6 bits → B4 2001:db8:b4::1..4. Port 1500 is PSID 1.
    static func softwiresJSON(_ psids: ClosedRange<Int> = 1...4) -> String {
        psids.map { "    {\"ipv4\": \"192.0.2.1\", \"psid\": \($0), \"psid_length\": 6, \"b4\": \"2001:db8:b4::\($0)\"}" }
            .joined(separator: ",\n")
    }

    /// A native JSON configuration; `extra` is inserted as more top-level members.
    static func configJSON(generateICMP: Bool = true, psids: ClosedRange<Int> = 1...4, extra: String = "") -> String {
        """
        {
          "softwires": [
        \(softwiresJSON(psids))
          ],
          "external": {"mtu": 1500, "generate_icmp_errors": \(generateICMP),
                       "error_rate_limiting": {"packets": 1000, "period": 1}},
          "internal": {"mtu": 1500, "hairpinning": true},
          "instances": [
            {"device": "tun", "queue": 0,
             "external": {"ip": "198.18.0.1", "mac": "02:00:00:00:00:01", "next_hop": {"mac": "02:00:00:00:00:02"}},
             "internal": {"ip": "\(br)", "mac": "02:00:00:00:00:01", "next_hop": {"mac": "02:00:00:00:00:02"}}}
          ]\(extra)
        }

        """
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Addresses of the lab in `ns`.
    static func setUp(_ ns: TestNamespace) throws {
        try ns.ip("addr add \(host4)/32 dev lo")
        try ns.ip("-6 addr add 2001:db8:b4::1/64 dev lo nodad")
        for i in 2...8 { try ns.ip("-6 addr add 2001:db8:b4::\(i)/128 dev lo nodad") }
    }

    static func options(_ ns: TestNamespace, configPath: String) -> RunOptions {
        var o = RunOptions()
        o.io = .tun
        o.namespace = ns.name
        o.externalDevice = "rt4"
        o.internalDevice = "rt6"
        o.ipv4Routes = [(IPv4Address("192.0.2.0")!, 24)]
        o.ipv6Routes = [(IPv6Address(br)!, 128)]
        o.metricsListen = ("127.0.0.1", 0)
        o.configPath = configPath
        return o
    }
}

/// A UDP socket of the lab's internet host (made inside the namespace).
struct Sender: Sendable {
    let fd: Int32

    init(_ ns: TestNamespace) throws {
        fd = try ns.run {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, Lab.host4, &a.sin_addr)
            let rc = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, rc == 0 else { throw TestFailure("sender socket: errno \(errno)") }
            return fd
        }
    }

    /// One datagram to 192.0.2.1:`port` carrying `seq`.
    func send(port: UInt16, seq: UInt32) -> Bool {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        inet_pton(AF_INET, "192.0.2.1", &a.sin_addr)
        var payload = seq.bigEndian
        let n = withUnsafePointer(to: &a) { ap in
            ap.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                sendto(fd, &payload, 4, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return n == 4
    }

    func close() { Glibc.close(fd) }
}

/// Receives the encapsulated packets on the B4 side and records the (port, seq) of each inner
/// UDP datagram, on its own thread.
final class Receiver: Sendable {
    let fd: Int32
    let seen = Mutex<[UInt16: [UInt32]]>([:])
    let stopFlag = Atomic<Bool>(false)
    let done = Atomic<Bool>(false)

    init(_ ns: TestNamespace) throws {
        fd = try ns.run {
            let fd = socket(AF_INET6, Int32(SOCK_RAW.rawValue), 4)
            guard fd >= 0 else { throw TestFailure("raw socket: errno \(errno)") }
            var size: Int32 = 8 << 20
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4)
            var tv = timeval(tv_sec: 0, tv_usec: 50_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }
        Thread.detachNewThread { [self] in
            var buf = [UInt8](repeating: 0, count: 2048)
            while !stopFlag.load(ordering: .relaxed) {
                let n = recv(fd, &buf, buf.count, 0)
                guard n >= 32, buf[0] >> 4 == 4, buf[9] == 17 else { continue }
                let ihl = Int(buf[0] & 15) * 4
                guard n >= ihl + 12 else { continue }
                let port = UInt16(buf[ihl + 2]) << 8 | UInt16(buf[ihl + 3])
                let seq = UInt32(buf[ihl + 8]) << 24 | UInt32(buf[ihl + 9]) << 16 | UInt32(buf[ihl + 10]) << 8 | UInt32(buf[ihl + 11])
                seen.withLock { $0[port, default: []].append(seq) }
            }
            done.store(true, ordering: .relaxed)
        }
    }

    func received(port: UInt16) -> [UInt32] { seen.withLock { $0[port] ?? [] } }

    func stop() {
        stopFlag.store(true, ordering: .relaxed)
        while !done.load(ordering: .relaxed) { usleep(5_000) }
        close(fd)
    }
}

/// The reference DHCP 4o6 server with an active-leasequery listener on ::1 (ephemeral ports).
final class LeaseServer: Sendable {
    let server: DHCP4o6Server
    let group: MultiThreadedEventLoopGroup
    let lqPort: Int

    init(pool: String = "203.0.113.0/24", br: String = Lab.br) async throws {
        var lq = ServerConfig.Leasequery(listen: .init(address: "::1", port: 0))
        lq.active = true
        lq.allowInsecure = true
        lq.keepAliveSeconds = 1
        var c = ServerConfig(dhcp: .init(address: "::1", port: 0), leasequery: lq,
                             pools: [.init(prefix: pool, psidLength: 6)])
        c.borderRouters = [br]
        var logger = Logger(label: "rt-test-dhcp4o6d")
        logger.logLevel = .critical
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        server = try await DHCP4o6Server.start(config: c, logger: logger, group: group)
        lqPort = server.leasequeryAddress!.port!
    }

    /// Leases `n` B4 clients through the UDP service.
    func lease(_ n: Int, seed: UInt64 = 1) async throws {
        var sc = SimulationConfig(server: server.udpAddress, clients: n)
        sc.seed = seed
        _ = try await B4Simulator.run(sc, group: MultiThreadedEventLoopGroup.singleton)
    }

    func stop() async {
        try? await server.stop()
        try? await group.shutdownGracefully()
    }

    /// A `leasequery` member for `Lab.configJSON(extra:)` with short timers.
    static func section(ports: [Int]) -> String {
        let servers = ports.map { "{\"address\": \"::1\", \"port\": \($0)}" }.joined(separator: ", ")
        return ",\n  \"leasequery\": {\"servers\": [\(servers)], \"snapshot_interval\": 0, "
            + "\"timers\": {\"connect\": 2, \"active_receive\": 5, \"bulk_data\": 5, \"reconnect_min\": 0.05, \"reconnect_max\": 0.5}}"
    }
}

/// Runs the runtime's service group in a task; `stop()` shuts it down gracefully.
final class RunningRuntime: Sendable {
    let runtime: LwAFTRRuntime
    let task: Task<RunSummary, any Error>

    init(_ runtime: LwAFTRRuntime) async throws {
        self.runtime = runtime
        task = Task { try await runtime.run() }
        let up = await eventually(timeout: 20) { runtime.isRunning }
        if !up {
            task.cancel()
            _ = try? await task.value
            throw TestFailure("runtime did not start")
        }
    }

    var port: Int { runtime.metricsPort! }

    func stop() async throws -> RunSummary {
        await runtime.requestShutdown()
        return try await task.value
    }

    /// For `defer`: shuts the runtime down in the background when a test left early (a failed
    /// `#require`); a no-op after `stop()`.
    func stopDetached() {
        let runtime = runtime, task = task
        Task {
            await runtime.requestShutdown()
            _ = try? await task.value
        }
    }
}
