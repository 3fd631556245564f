import Testing
import LwAFTRCore
@testable import DHCPWire

/// tshark (4.0) must read our bytes the way we mean them (PROTOCOLS.md §9).
@Suite(.enabled(if: PcapFrames.tsharkAvailable, "tshark not installed at /usr/bin/tshark: skipped"))
struct TsharkTests {
    @Test func bulkLeasequeryOverTCP547() throws {
        // Vectors D (request) and B (DATA) plus a REPLY with a status, all built by our encoder.
        let reply = try LeasequeryResponse(kind: .reply, transactionID: 1, serverDUID: [0, 3, 0, 1, 2, 0, 0, 0, 0, 0xff],
                                           clientDUID: V.requestorDUID, status: DHCPv6StatusCode(.catchUpComplete, "x"),
                                           baseTime: V.base).framed()
        let d = try LeasequeryRequest(kind: .bulk, transactionID: 1, requestorDUID: V.requestorDUID).framed()
        let b = try LeasequeryResponse(kind: .data, transactionID: V.xid, payload: .record(V.record)).framed()
        let lines = try PcapFrames.tshark(
            [PcapFrames.frame(ipv6: true, .tcp(src: 40000, dst: 547), payload: d),
             PcapFrames.frame(ipv6: true, .tcp(src: 547, dst: 40000), payload: b + reply)],   // two PDUs in one segment
            fields: ["dhcpv6.bulk_leasequery.size", "dhcpv6.bulk_leasequery.msgtype", "dhcpv6.option.type",
                     "dhcpv6.status_code", "dhcpv6.duidll.link_layer_addr"])
        #expect(lines.count == 2)
        #expect(lines[0] == "282|14|1,6,87||02:00:00:00:00:01")
        #expect(lines[1] == "314,\(reply.count - 2)|17,15|87,2,1,13,100|13|02:00:00:00:00:ff,02:00:00:00:00:01")
    }

    @Test func innerRecordAsDHCPv4OverUDP() throws {
        var rec = V.record
        rec.startTimeOfState = 30
        let lease = try rec.message(xid: V.xid).encode()
        let status = try LeasequeryResponse(kind: .data, transactionID: V.xid,
                                            payload: .status(LeasequeryStatus(.queryTerminated, "bye", baseTime: V.base)))
            .message().value(DHCPv4MessageOption.self)!.message.encode()
        let query = try LeasequeryRequest(kind: .active, transactionID: V.xid, requestorDUID: V.requestorDUID, queryStartTime: V.qst)
            .message().value(DHCPv4MessageOption.self)!.message.encode()
        let lines = try PcapFrames.tshark(
            [lease, status, query].map { PcapFrames.frame(ipv6: false, .udp(src: 67, dst: 68), payload: $0) },
            fields: ["dhcp.id", "dhcp.ip.client", "dhcp.option.dhcp", "dhcp.option.ip_address_lease_time",
                     "dhcp.option.client_last_transaction_time", "dhcp.option.bulk_lease.start_time_of_state",
                     "dhcp.option.bulk_lease.dhcp_state", "dhcp.option.portparams.offset",
                     "dhcp.option.portparams.psid_length", "dhcp.option.bulk_lease.status_code",
                     "dhcp.option.bulk_lease.status_code_message", "dhcp.option.type", "dhcp.option.end"])
        #expect(lines.count == 3)
        // (tshark lists END as type 0 and reports it in dhcp.option.end.)
        #expect(lines[0] == "0x00123456|192.0.2.1|13|3600|60|30|2|6|8|||53,61,51,152,91,153,156,159,109,0|255")
        #expect(lines[1] == "0x00123456|0.0.0.0|17|||||||2|bye|53,151,152,0|255")
        #expect(lines[2] == "0x00123456|0.0.0.0|16|||||||||53,55,154,0|255")
    }

    @Test func s46OptionsInDHCPv6ReplyOverUDP() throws {
        let bind = S46V4V6Bind(ipv4: IPv4Address(192, 0, 2, 1),
                               bindPrefix: IPv6Prefix(address: IPv6Address("2001:db8:12:3400::")!, length: 56)!,
                               options: [try DHCPv6Option(S46PortParams(PortParams(offset: 0, psidLength: 8, psid: 0x34)!))])
        let m = DHCPv6Message(type: .reply, transactionID: 0x010203, options: [
            DHCPv6Option(code: .serverID, data: [0, 3, 0, 1, 2, 0, 0, 0, 0, 0xff]),
            try S46Container([try DHCPv6Option(bind), try DHCPv6Option(S46BR(IPv6Address("2001:db8:ffff::1")!))]).option(.s46ContLW),
            try DHCPv6Option(DHCP4oDHCP6Servers([IPv6Address("2001:db8::547")!])),
        ])
        let lines = try PcapFrames.tshark([PcapFrames.frame(ipv6: true, .udp(src: 547, dst: 546), payload: try m.encode())],
                                          fields: ["dhcpv6.msgtype", "dhcpv6.s46_v4v6bind.ipv4_address",
                                                   "dhcpv6.s46_v4v6bind.ipv6_pref_len", "dhcpv6.s46_v4v6bind.ipv6_prefix",
                                                   "dhcpv6.s46_portparam.psid_len", "dhcpv6.s46_portparam.psid",
                                                   "dhcpv6.s46_br.address", "dhcpv6.option.type"])
        // tshark shows the PSID right-aligned (field 0x3400, k 8 → 52), as PROTOCOLS.md §9 notes.
        #expect(lines == ["7|192.0.2.1|56|2001:db8:12:3400::|8|52|2001:db8:ffff::1|2,96,92,93,90,88"])
    }
}
