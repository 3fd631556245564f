import Foundation
import Synchronization
import Testing
import TestSupport
import NIOCore
import NIOPosix
import LwAFTRCore
import DHCPWire
import BindingTable
import Leasequery

/// Malformed and hostile server bytes end the session cleanly (close + backoff, reason kept),
/// never trap, and leave the table as it was; records that are well-formed but invalid are
/// skipped and counted while the session goes on.
@Suite struct HostileStreamTests {
    typealias Rig = SessionMachineTests.Rig
    static let a = SessionMachineTests.a

    /// A live session holding record `a`, and its active query.
    static func live() -> (Rig, UInt32) {
        let r = Rig()
        let q = r.startLive([a])
        return (r, q.transactionID)
    }

    static func expectEnded(_ r: Rig, _ acts: [SessionAction], _ why: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Fx.failed(acts), sourceLocation: sourceLocation)
        #expect(acts.contains(.close(.active)), sourceLocation: sourceLocation)
        #expect(r.s.phase == .backoff, sourceLocation: sourceLocation)
        #expect(r.s.status.lastError?.contains(why) == true, "\(r.s.status.lastError ?? "-")", sourceLocation: sourceLocation)
        #expect(Fx.rows(r.table) == Fx.rows([a]), sourceLocation: sourceLocation)
    }

    @Test func oversizedLengthPrefixEndsTheSessionBeforeTheBody() {
        let (r, _) = Self.live()
        Self.expectEnded(r, r.feed(.active, [0xFF, 0xFF, 0x11]), "exceeds the 16384-byte limit")
    }

    @Test func wrongMessageTypesEndTheSession() throws {
        for type: DHCPv6MessageType in [.reply, .solicit, .leasequery, .activeLeasequery, .relayReply] {
            let (r, xid) = Self.live()
            let bytes = try TCPFraming.frame(DHCPv6Message(type: type, transactionID: xid).encode())
            Self.expectEnded(r, r.feed(.active, bytes), "connection")
        }
        // A record whose inner DHCPv4 type is not a leasequery answer.
        let (r, xid) = Self.live()
        let inner = DHCPv4Message(op: 2, xid: xid, options: [.u8(.messageType, DHCPv4MessageType.ack.rawValue)])
        let m = DHCPv6Message(type: .leasequeryData, transactionID: xid, options: [try DHCPv6Option(DHCPv4MessageOption(inner))])
        Self.expectEnded(r, r.feed(.active, try TCPFraming.frame(m.encode())), "inner message type")
    }

    @Test func protocolViolationsEndTheSession() throws {
        var (r, xid) = Self.live()
        Self.expectEnded(r, r.feed(.active, Fx.data(xid ^ 1, Fx.record(.active, "192.0.2.7", psid: 1))), "transaction-id")
        (r, xid) = Self.live()
        Self.expectEnded(r, r.feed(.active, Fx.reply(xid)), "second REPLY")
        (r, xid) = Self.live()
        var wrongInner = try LeasequeryResponse(kind: .data, transactionID: xid, payload: .record(Fx.record(.active, "192.0.2.7", psid: 1))).message()
        var m4 = try wrongInner.value(DHCPv4MessageOption.self)!.message
        m4.xid = 0xDEAD
        wrongInner.options = [try DHCPv6Option(DHCPv4MessageOption(m4))]
        Self.expectEnded(r, r.feed(.active, try TCPFraming.frame(wrongInner.encode())), "inner xid")
        // DATA before REPLY on a fresh query.
        let r2 = Rig()
        r2.run(r2.s.start())
        let b = r2.open(.bulk)
        #expect(Fx.failed(r2.feed(.bulk, Fx.data(b.transactionID, Self.a))) && r2.table.count == 0)
        // REPLY for someone else's CLIENTID.
        let r3 = Rig()
        r3.run(r3.s.start())
        let b3 = r3.open(.bulk)
        #expect(Fx.failed(r3.feed(.bulk, Fx.reply(b3.transactionID, client: [0, 3, 0, 1, 9, 9, 9, 9, 9, 9]))))
    }

    @Test func fuzzedStreamsNeverTrapAndNeverTouchTheTable() {
        var rng = SplitMix(seed: 0x5EED)
        for round in 0..<300 {
            let (r, xid) = Self.live()
            var bytes = Fx.data(xid, Fx.record(.active, "192.0.2.\(round % 200 + 20)", psid: 3))
            let flips = Int(rng.next() % 8) + 1
            for _ in 0..<flips { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            if rng.next() % 4 == 0 { bytes += (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            let before = r.table.count
            let acts = r.feed(.active, bytes)
            // Either the damaged message still decodes as a record (valid → applied, invalid → counted)
            // and the session goes on, or the session ends (after at most that one whole record, when
            // the damage is in appended bytes); a trap would crash the test process.
            if Fx.failed(acts) {
                #expect(r.table.count <= before + 1 && r.s.phase == .backoff)
            } else {
                #expect(r.s.phase == .live)
            }
        }
        // Pure noise.
        for _ in 0..<200 {
            let (r, _) = Self.live()
            let noise = (0..<Int(rng.next() % 600 + 2)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            r.feed(.active, noise)
            #expect(Fx.rows(r.table) == Fx.rows([Self.a]))
        }
    }

    @Test func invalidAndConflictingRecordsAreSkippedAndCounted() throws {
        let (r, xid) = Self.live()
        // ACTIVE without option 109 (well-formed DHCPv4, invalid record).
        var noB4 = try LeasequeryResponse(kind: .data, transactionID: xid, payload: .record(Fx.record(.active, "192.0.2.8", psid: 1))).message()
        var m4 = try noB4.value(DHCPv4MessageOption.self)!.message
        m4.remove(.s46SourceAddress)
        noB4.options = [try DHCPv6Option(DHCPv4MessageOption(m4))]
        r.feed(.active, try TCPFraming.frame(noB4.encode()))
        // Semantically impossible values.
        r.feed(.active, Fx.data(xid, Fx.record(.active, "224.0.0.1", psid: 1)))
        r.feed(.active, Fx.data(xid, Fx.record(.active, "192.0.2.8", psid: 1, b4: "ff02::1")))
        r.feed(.active, Fx.data(xid, Fx.record(.active, "192.0.2.8", psid: 1, lease: 0)))
        // Same IPv4 as `a` (k = 6) with k = 4: rejected with a reason, `a` untouched.
        r.feed(.active, Fx.data(xid, Fx.record(.active, "192.0.2.1", psid: 3, k: 4, b4: "2001:db8::77")))
        var unassignedWrongK = Fx.record(.unassigned, "192.0.2.1", psid: 1, k: 8, b4: nil)
        unassignedWrongK.baseTime = UnixTime(seconds: Fx.t0 + 1)
        r.feed(.active, Fx.data(xid, unassignedWrongK))
        #expect(r.s.phase == .live)
        #expect(Fx.rows(r.table) == Fx.rows([Self.a]))
        let c = r.sync.counters
        #expect(c.rejectedInvalid == 4 && c.rejectedConflict == 2 && c.received == 6 && c.applied == 0)
    }
}

/// Over real sockets: a fake server answers every query with hostile bytes, in turn.
@Suite struct HostileServerTests {
    /// Answers the first frame it receives with `payloads[n % count]` (n = connection number).
    final class Hostile: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let payload: [UInt8]
        var answered = false
        init(_ p: [UInt8]) { payload = p }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            answered = true
            var b = unwrapInboundIn(data)
            let xid = b.getInteger(at: b.readerIndex + 2, as: UInt32.self).map { $0 & 0xFF_FFFF } ?? 0
            b.clear()
            let bytes = payload.isEmpty ? Fx.reply(xid, payload: .record(HostileStreamTests.a)) + [0, 6, 1, 0, 0, 1, 0, 0] : payload
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        }
    }

    @Test func hostileBytesOverTCPEndSessionsAndLeaveTheTableAlone() async throws {
        var rng = SplitMix(seed: 7)
        let payloads: [[UInt8]] = [
            [0xFF, 0xFF] + Array(repeating: 0, count: 100),                                   // oversized length
            (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) },                       // noise
            try TCPFraming.frame(DHCPv6Message(type: .advertise, transactionID: 1).encode()),   // wrong type
            [],                                                                                  // REPLY, then junk frame
        ]
        let n = Mutex(0)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    let i = n.withLock { v in defer { v += 1 }; return v }
                    try ch.pipeline.syncOperations.addHandler(Hostile(payloads[i % payloads.count]))
                }
            }
            .bind(host: "::1", port: 0).get()
        let table = try BindingTable(softwires: [
            Softwire(ipv4: Fx.ip("10.9.9.9"), psid: 0, b4: Fx.v6("2001:db8::99"), br: Fx.br, portSet: PortSet(offset: 0, psidLength: 0)!),
        ])
        let lq = try await LeasequeryService.start(configuration: Fx.config(port: server.localAddress!.port!), table: table,
                                                   logger: Fx.quiet, existing: .keep)
        // The exact status (not the once-a-second one): each error stays at least one backoff
        // (≥ 50 ms), so a 10 ms poll sees every one.
        var errors = Set<String>()
        _ = await Fx.eventually(timeout: 20) {
            if let e = try? await lq.status().sessions[0].lastError { errors.insert(String(e.prefix(60))) }
            let both = errors.contains { $0.contains("exceeds") } && errors.contains { $0.contains("undecodable") }
            return n.withLock { $0 } >= 8 && both || n.withLock { $0 } >= 24
        }
        let st = try await lq.status()
        #expect(st.sessions[0].reconnects >= 7 && st.sessions[0].phase != .live)
        #expect(errors.contains { $0.contains("exceeds") } && errors.contains { $0.contains("undecodable") })
        #expect(table.allSoftwires().map(\.b4) == [Fx.v6("2001:db8::99")] && st.counters.resyncs == 0)
        await lq.stop()
        try await server.close()
    }
}

