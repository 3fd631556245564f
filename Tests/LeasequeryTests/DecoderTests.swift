import Testing
import TestSupport
import LwAFTRCore
import DHCPWire
import Leasequery

/// Framing and the two decode paths (allocation-free fast path, `DHCPWire` full path) agree on
/// every input, including damaged ones.
@Suite struct DecoderTests {
    /// Vector B of PROTOCOLS.md §8 (316 bytes with the prefix).
    static let vectorB: [UInt8] = {
        let cid: [UInt8] = [255, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 0xB4]
        let r = LeaseRecord(kind: .active, ipv4: IPv4Address("192.0.2.1")!, portParams: PortParams(offset: 6, psidLength: 8, psid: 0x34),
                            b4: IPv6Address("2001:db8::1")!, baseTime: UnixTime(seconds: 1_767_225_660), clientID: cid,
                            leaseTime: 3600, clientLastTransaction: 60, state: .active)
        return try! LeasequeryResponse(kind: .data, transactionID: 0x123456, payload: .record(r)).framed()
    }()

    @Test func vectorBDecodesToItsBinding() throws {
        #expect(Self.vectorB.count == 316 && Self.vectorB.prefix(6) == [0x01, 0x3a, 0x11, 0x12, 0x34, 0x56])
        let m = try Self.vectorB.dropFirst(2).withUnsafeBytes { try ServerMessage.decode($0) }
        #expect(m.kind == .data && m.transactionID == 0x123456 && m.innerOp == 2 && m.innerTransactionID == 0x123456)
        guard case .record(let r) = m.payload else { Issue.record("no record"); return }
        #expect(r.kind == .active && r.ipv4 == IPv4Address("192.0.2.1")! && r.psid == 0x34 && r.portSet.offset == 6)
        #expect(r.b4 == IPv6Address("2001:db8::1")! && r.leaseTime == 3600 && r.baseTime.seconds == 1_767_225_660)
        #expect(r.key == UInt64(0xC000_0201) << 32 | 0x34)
    }

    @Test func vectorCIsCatchUpComplete() throws {
        let c = try LeasequeryResponse(kind: .data, transactionID: 0x123456,
                                       payload: .status(LeasequeryStatus(.catchUpComplete, "catch-up complete",
                                                                         baseTime: UnixTime(seconds: 1_767_225_665)))).framed()
        #expect(c.count == 280)
        let m = try c.dropFirst(2).withUnsafeBytes { try ServerMessage.decode($0) }
        #expect(m.isCatchUpComplete && !m.isDataMissing && m.errorDescription == nil)
        #expect(m.serverTime == UnixTime(seconds: 1_767_225_665))
    }

    @Test func frameReaderSplitsAnySegmentationAndRefusesOversizedPrefixes() throws {
        var fr = FrameReader(maxMessageBytes: 400)
        let stream = Self.vectorB + [0, 0] + Self.vectorB
        var frames: [Int] = []
        for b in stream {
            fr.append([b])
            while let n = try fr.next({ $0.count }) { frames.append(n) }
        }
        #expect(frames == [314, 0, 314] && fr.bufferedByteCount == 0)
        var small = FrameReader(maxMessageBytes: 300)
        small.append(Array(Self.vectorB.prefix(2)))
        #expect(throws: FrameError.oversized(length: 314, limit: 300)) { try small.next { $0.count } }
    }

    /// Record frames of several shapes.
    static let samples: [[UInt8]] = [
        Fx.data(7, Fx.record(.active, "192.0.2.1", psid: 5)),
        Fx.data(7, Fx.record(.active, "198.51.100.3", k: 0, b4: "2001:db8::3")),
        Fx.data(7, Fx.record(.unassigned, "192.0.2.1", psid: 5, b4: nil)),
        Fx.data(7, Fx.record(.unknown, "192.0.2.9", psid: 63, k: 6, offset: 4, b4: "2001:db8::9")),
        vectorB,
    ].map { Array($0.dropFirst(2)) }

    @Test func fastAndFullPathsAgreeOnDamagedInput() throws {
        var rng = SplitMix(seed: 42)
        var accepted = 0, refused = 0
        for i in 0..<20_000 {
            var b = Self.samples[i % Self.samples.count]
            switch rng.next() % 5 {
            case 0: b[Int(rng.next() % UInt64(b.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            case 1: b.removeLast(Int(rng.next() % UInt64(b.count)))
            case 2:                                 // damage an option length or code in the inner options
                let at = min(b.count - 1, 8 + 240 + Int(rng.next() % 60))
                b[at] = UInt8(truncatingIfNeeded: rng.next())
            case 3: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(b.count)))
            default: break
            }
            let fast = Result { try b.withUnsafeBytes { try ServerMessage.decode($0) } }
            let full = Result { try ServerMessage.decodeFull(b) }
            switch (fast, full) {
            case (.success(let x), .success(let y)): #expect(x == y); accepted += 1
            case (.failure, .failure): refused += 1
            default: Issue.record("paths disagree on \(b)")
            }
        }
        #expect(accepted > 1000 && refused > 1000)
    }

    @Test func decodeMatchesDHCPWireForEveryWellFormedRecord() throws {
        for s in Self.samples {
            let lr = try LeasequeryResponse.decode(s)
            let m = try s.withUnsafeBytes { try ServerMessage.decode($0) }
            guard case .record(let want) = lr.payload, case .record(let got) = m.payload else { Issue.record("no record"); continue }
            #expect(got == BindingRecord(want))
        }
    }
}
