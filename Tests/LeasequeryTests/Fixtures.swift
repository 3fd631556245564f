import Foundation
import Testing
import Logging
import Synchronization
import NIOCore
import LwAFTRCore
import DHCPWire
import BindingTable
import Leasequery

/// A settable local clock for `BindingSync` / `LeasequerySession` (seconds).
final class TestClock: Sendable {
    private let t: Mutex<Double>
    init(_ start: Double = 1000) { t = Mutex(start) }
    var now: @Sendable () -> Double { { self.t.withLock { $0 } } }
    func advance(_ s: Double) { t.withLock { $0 += s } }
}

/// Shared values and builders for the requestor tests.
enum Fx {
    static let br = IPv6Address("2001:db8:ffff::1")!
    static let serverDUID = DUIDOption.linkLayer([2, 0, 0, 0, 0, 0x53])
    static let requestor = DUIDOption.linkLayer([2, 0, 0, 0, 0, 1])
    static let t0: UInt32 = 1_767_225_600

    static var quiet: Logger {
        var l = Logger(label: "lq-test")
        l.logLevel = ProcessInfo.processInfo.environment["LQ_TEST_LOG"] != nil ? .info : .critical
        return l
    }

    static func config(host: String = "::1", port: Int = 547, tls: LeasequeryTLSOptions? = nil,
                       _ configure: (inout LeasequeryConfiguration) -> Void = { _ in }) -> LeasequeryConfiguration {
        var c = LeasequeryConfiguration(servers: [LeasequeryServerAddress(host: host, port: port, tls: tls)], brAddress: br,
                                        requestorDUID: requestor)
        c.timers = LeasequeryTimers(connectTimeout: 2, activeReceiveTimeout: 5, bulkDataTimeout: 5, reconnectMinimum: 0.05,
                                    reconnectMaximum: 0.5, stableAfter: 30)
        configure(&c)
        return c
    }

    static func ip(_ s: String) -> IPv4Address { IPv4Address(s)! }
    static func v6(_ s: String) -> IPv6Address { IPv6Address(s)! }

    /// An ACTIVE (or other kind) record: `k` = 0 means a full address.
    static func record(_ kind: LeaseRecord.Kind = .active, _ ip: String, psid: UInt16 = 0, k: UInt8 = 6, offset: UInt8 = 0,
                       b4: String? = "2001:db8::1", base: UInt32 = t0, lease: UInt32? = 3600) -> LeaseRecord {
        let pp = k == 0 ? nil : PortParams(offset: offset, psidLength: k, psid: psid)!
        return LeaseRecord(kind: kind, ipv4: IPv4Address(ip)!, portParams: pp, b4: b4.map { IPv6Address($0)! }, baseTime: UnixTime(seconds: base),
                           clientID: [255, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 0xB4], leaseTime: kind == .active ? lease : nil,
                           clientLastTransaction: 0, state: kind == .active ? .active : .released)
    }

    static func binding(_ r: LeaseRecord) -> BindingRecord { BindingRecord(r) }

    // MARK: server → requestor bytes

    static func reply(_ xid: UInt32, base: UInt32? = t0, status: DHCPv6StatusCode? = nil,
                      payload: LeasequeryResponse.Payload = .none, client: [UInt8] = requestor) -> [UInt8] {
        try! LeasequeryResponse(kind: .reply, transactionID: xid, serverDUID: serverDUID, clientDUID: client, status: status,
                                baseTime: base.map { UnixTime(seconds: $0) }, payload: payload).framed()
    }

    static func data(_ xid: UInt32, _ r: LeaseRecord) -> [UInt8] {
        try! LeasequeryResponse(kind: .data, transactionID: xid, payload: .record(r)).framed()
    }

    static func status(_ xid: UInt32, _ code: LeasequeryStatusCode, base: UInt32) -> [UInt8] {
        try! LeasequeryResponse(kind: .data, transactionID: xid,
                                payload: .status(LeasequeryStatus(code, baseTime: UnixTime(seconds: base)))).framed()
    }

    static func done(_ xid: UInt32, base: UInt32 = t0, status: DHCPv6StatusCode? = nil) -> [UInt8] {
        try! LeasequeryResponse(kind: .done, transactionID: xid, status: status, baseTime: UnixTime(seconds: base),
                                payload: .done(LeasequeryStatus(.success, baseTime: UnixTime(seconds: base)))).framed()
    }

    // MARK: requestor → server bytes

    /// The queries among `actions`, decoded as a server would.
    static func queries(_ actions: [SessionAction]) -> [(ConnectionRole, LeasequeryRequest)] {
        actions.compactMap { a -> (ConnectionRole, LeasequeryRequest)? in
            guard case .send(let role, let bytes) = a, bytes.count > 2,
                  let m = try? DHCPv6Message.decode(Array(bytes.dropFirst(2))),
                  let q = try? LeasequeryRequest(message: m) else { return nil }
            #expect(Int(bytes[0]) << 8 | Int(bytes[1]) == bytes.count - 2)
            return (role, q)
        }
    }

    /// The generation of the first `.connect(role, …)` in `actions`.
    static func connectGeneration(_ actions: [SessionAction], _ role: ConnectionRole) -> Int? {
        for a in actions { if case .connect(let r, let g) = a, r == role { return g } }
        return nil
    }

    static func failed(_ actions: [SessionAction]) -> Bool {
        actions.contains { if case .scheduleReconnect = $0 { true } else { false } }
    }

    /// The table as comparable tuples.
    static func rows(_ t: BindingTable) -> Set<Row> {
        Set(t.allSoftwires().map { Row(ipv4: $0.ipv4.value, psid: $0.psid, b4: $0.b4, offset: $0.portSet.offset, k: $0.portSet.psidLength) })
    }

    static func rows(_ records: [LeaseRecord]) -> Set<Row> {
        Set(records.filter { $0.kind == .active }.map {
            Row(ipv4: $0.ipv4.value, psid: $0.portParams?.psid ?? 0, b4: $0.b4!, offset: $0.portParams?.offset ?? 0,
                k: $0.portParams?.psidLength ?? 0)
        })
    }

    struct Row: Hashable, CustomStringConvertible {
        var ipv4: UInt32, psid: UInt16, b4: IPv6Address, offset: UInt8, k: UInt8
        var description: String { "\(IPv4Address(ipv4))#\(psid)/\(k)@\(offset)->\(b4)" }
    }

    /// Polls `cond` until it holds or `timeout` passes; returns whether it held.
    static func eventually(timeout: Double = 10, every: Double = 0.01, _ cond: () async throws -> Bool) async rethrows -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if try await cond() { return true }
            try? await Task.sleep(nanoseconds: UInt64(every * 1e9))
        }
        return try await cond()
    }
}
