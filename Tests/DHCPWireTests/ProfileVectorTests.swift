import Testing
import LwAFTRCore
@testable import DHCPWire

/// PROTOCOLS.md §8 values.
enum V {
    static let xid: UInt32 = 0x123456
    static let requestorDUID: [UInt8] = [0x00, 0x03, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0x01]
    static let qst = UnixTime(seconds: 1_767_225_600)
    static let base = UnixTime(seconds: 1_767_225_660)
    static let clientID: [UInt8] = [255, 0, 0, 0, 1, 0x00, 0x03, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0xb4]
    static let record = LeaseRecord(
        kind: .active, ipv4: IPv4Address(192, 0, 2, 1),
        portParams: PortParams(offset: 6, psidLength: 8, psid: 0x34), b4: IPv6Address("2001:db8::1")!,
        baseTime: base, clientID: clientID, leaseTime: 3600, clientLastTransaction: 60, state: .active)
}

@Suite struct ProfileVectorTests {
    @Test func vectorA_activeLeasequery() throws {
        let q = LeasequeryRequest(kind: .active, transactionID: V.xid, requestorDUID: V.requestorDUID, queryStartTime: V.qst)
        #expect(try q.framed() == protocolsVector("A"))
        // Server side decode of the same bytes.
        var d = FrameReader(); d.append(protocolsVector("A"))
        let frame = d.nextMessage()
        let parsed = try LeasequeryRequest(message: DHCPv6Message.decode(#require(frame)))
        #expect(parsed == q)
        #expect(parsed.queryStartTime == V.qst && parsed.kind == .active && !parsed.requestBaseTime)
    }

    @Test func vectorB_leaseActiveData() throws {
        let r = LeasequeryResponse(kind: .data, transactionID: V.xid, payload: .record(V.record))
        #expect(try r.framed() == protocolsVector("B"))
        let back = try LeasequeryResponse.decode(Array(protocolsVector("B").dropFirst(2)))
        #expect(back == r)
        guard case .record(let rec) = back.payload else { Issue.record("no record"); return }
        #expect(rec.key == SoftwireKey(ipv4: IPv4Address(192, 0, 2, 1), psid: 0x34))
        #expect(rec.portParams?.psidField == 0x3400)
        #expect(rec.expiry == UnixTime(seconds: 1_767_225_660 + 3600))
        let sw = try #require(rec.softwire(br: IPv6Address("2001:db8:ffff::1")!))
        #expect(sw.portSet.ranges(of: sw.psid).first == 1232...1235)
        #expect(sw.portSet.psid(of: 1234) == 0x34)
    }

    @Test func vectorC_catchUpComplete() throws {
        let r = LeasequeryResponse(kind: .data, transactionID: V.xid,
                                   payload: .status(LeasequeryStatus(.catchUpComplete, "catch-up complete", baseTime: V.base.adding(5))))
        #expect(try r.framed() == protocolsVector("C"))
        let back = try LeasequeryResponse.decode(Array(protocolsVector("C").dropFirst(2)))
        #expect(back == r && back.isCatchUpComplete && !back.isKeepAlive && !back.isError)
    }

    @Test func vectorD_bulkLeasequery() throws {
        let q = LeasequeryRequest(kind: .bulk, transactionID: 1, requestorDUID: V.requestorDUID)
        #expect(try q.framed() == protocolsVector("D"))
        let parsed = try LeasequeryRequest(message: DHCPv6Message.decode(Array(protocolsVector("D").dropFirst(2))))
        #expect(parsed == q && parsed.requestBaseTime && parsed.queryStartTime == nil)
    }

    @Test func outerStartTimeIsConvertedWhenInnerAbsent() throws {
        var m = try LeasequeryRequest(kind: .active, transactionID: 7, requestorDUID: V.requestorDUID).message()
        m.options.append(DHCPv6Message.secondsOption(.lqStartTime, V.qst.dhcpv6Seconds))
        #expect(try LeasequeryRequest(message: m).queryStartTime == V.qst)
        #expect(V.qst.dhcpv6Seconds == 1_767_225_600 - 946_684_800)
    }

    @Test func malformedQueriesAreRefusedWithStatus() throws {
        var cases: [(String, DHCPv6Message, DHCPv6Status)] = []
        cases.append(("active with end time", try LeasequeryRequest(kind: .active, transactionID: 1, requestorDUID: V.requestorDUID,
                                                                    queryEndTime: V.qst).message(), .malformedQuery))
        var noClient = try LeasequeryRequest(kind: .bulk, transactionID: 1, requestorDUID: V.requestorDUID).message()
        noClient.options.removeAll { $0.code == .clientID }
        cases.append(("no client id", noClient, .malformedQuery))
        cases.append(("no 87, has 44", DHCPv6Message(type: .leasequery, transactionID: 1, options: [
            DHCPv6Option(code: .clientID, data: V.requestorDUID),
            try DHCPv6Option(LQQuery(queryType: 1, linkAddress: IPv6Address(hi: 0, lo: 0)))]), .unknownQueryType))
        cases.append(("garbage 87", DHCPv6Message(type: .leasequery, transactionID: 1, options: [
            DHCPv6Option(code: .clientID, data: V.requestorDUID), DHCPv6Option(code: .dhcpv4Message, data: [1, 2, 3])]),
                      .malformedQuery))
        var mismatch = try LeasequeryRequest(kind: .bulk, transactionID: 1, requestorDUID: V.requestorDUID).message()
        mismatch.type = .activeLeasequery
        cases.append(("inner type mismatch", mismatch, .malformedQuery))
        let q4 = DHCPv4Message(op: 1, xid: 1, htype: 1, hlen: 6, chaddr: [2, 0, 0, 0, 0, 1],
                               options: [.u8(.messageType, 14), .init(code: .parameterRequestList, data: [152])])
        cases.append(("selector", DHCPv6Message(type: .leasequery, transactionID: 1, options: [
            DHCPv6Option(code: .clientID, data: V.requestorDUID), try DHCPv6Option(DHCPv4MessageOption(q4))]), .unknownQueryType))
        cases.append(("two 87", DHCPv6Message(type: .leasequery, transactionID: 1, options: [
            DHCPv6Option(code: .clientID, data: V.requestorDUID), try DHCPv6Option(DHCPv4MessageOption(q4)),
            try DHCPv6Option(DHCPv4MessageOption(q4))]), .malformedQuery))
        for (name, m, status) in cases {
            do {
                _ = try LeasequeryRequest(message: m)
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.status == status, "\(name): \(error)")
            }
        }
    }
}
