import Testing
import LwAFTRCore
@testable import DHCPWire

@Suite struct LeaseRecordTests {
    @Test func unassignedFullAddressRoundTrip() throws {
        let r = LeaseRecord(kind: .unassigned, ipv4: IPv4Address(198, 51, 100, 7), portParams: nil, b4: nil,
                            baseTime: UnixTime(seconds: 1_800_000_000), state: .released)
        let m = r.message(xid: 9)
        #expect(m.option(.portParams) == nil && m.ciaddr == IPv4Address(198, 51, 100, 7) && m.op == 2)
        #expect(try LeaseRecord(message: DHCPv4Message.decode(m.encode())) == r)
        #expect(r.key.psid == 0)
    }

    @Test func everyOptionalFieldSurvives() throws {
        var r = V.record
        r.startTimeOfState = 30; r.dataSource = 1
        let back = try LeaseRecord(message: DHCPv4Message.decode(r.message(xid: 1).encode()))
        #expect(back == r)
    }

    @Test func activeWithoutB4IsRejected() throws {
        var r = V.record
        r.b4 = nil
        #expect(throws: DHCPWireError.missing("option 109 in DHCPLEASEACTIVE for 192.0.2.1")) {
            try LeaseRecord(message: r.message(xid: 1))
        }
    }

    @Test func missingBaseTimeOrBadTypeIsRejected() throws {
        var m = V.record.message(xid: 1)
        m.remove(.baseTime)
        #expect(throws: DHCPWireError.self) { try LeaseRecord(message: m) }
        var t = V.record.message(xid: 1)
        t.set(.u8(.messageType, 5))
        #expect(throws: DHCPWireError.self) { try LeaseRecord(message: t) }
        var bad = V.record.message(xid: 1)
        bad.set(DHCPv4Option(code: .portParams, data: [6, 8, 0x34, 0x01]))
        #expect(throws: DHCPWireError.self) { try LeaseRecord(message: bad) }
    }

    @Test func keepAliveForms() throws {
        let plain = LeasequeryResponse(kind: .data, transactionID: 3)
        let inner = LeasequeryResponse(kind: .data, transactionID: 3, payload: .status(LeasequeryStatus(.connectionActive)))
        for r in [plain, inner] {
            let back = try LeasequeryResponse.decode(Array(r.framed().dropFirst(2)))
            #expect(back.isKeepAlive && back == r)
        }
    }

    @Test func replyAndDoneRoundTrip() throws {
        let reply = LeasequeryResponse(kind: .reply, transactionID: 1, serverDUID: [0, 3, 0, 1, 1, 1, 1, 1, 1, 1],
                                       clientDUID: V.requestorDUID, status: DHCPv6StatusCode(.dataMissing, "gap"),
                                       baseTime: V.base, payload: .record(V.record))
        let back = try LeasequeryResponse.decode(Array(reply.framed().dropFirst(2)))
        #expect(back == reply && back.isDataMissing && !back.isError)
        let done = LeasequeryResponse(kind: .done, transactionID: 1, status: DHCPv6StatusCode(.queryTerminated),
                                      baseTime: V.base, payload: .done(LeasequeryStatus(.queryTerminated, baseTime: V.base)))
        let d = try LeasequeryResponse.decode(Array(done.framed().dropFirst(2)))
        #expect(d == done && d.isError)
        let bareDone = LeasequeryResponse(kind: .done, transactionID: 1, payload: .done(LeasequeryStatus(.success, baseTime: V.base)))
        #expect(try LeasequeryResponse.decode(Array(bareDone.framed().dropFirst(2))) == bareDone)
    }

    @Test func frameDecoderHandlesArbitraryChunking() throws {
        let msgs: [[UInt8]] = [protocolsVector("A"), protocolsVector("B"), protocolsVector("C"), protocolsVector("D")]
        var stream: [UInt8] = msgs.flatMap { $0 }
        stream += [0, 0]   // plus an empty frame
        for chunk in [1, 2, 3, 7, 100, 1000] {
            var d = FrameReader()
            var got: [[UInt8]] = []
            var i = 0
            while i < stream.count {
                d.append(stream[i..<min(stream.count, i + chunk)])
                i += chunk
                while let f = d.nextMessage() { got.append(f) }
            }
            #expect(got == msgs.map { Array($0.dropFirst(2)) } + [[]], "chunk \(chunk)")
            #expect(d.bufferedByteCount == 0)
        }
        #expect(throws: DHCPWireError.self) { try TCPFraming.frame([UInt8](repeating: 0, count: 65536)) }
    }
}
