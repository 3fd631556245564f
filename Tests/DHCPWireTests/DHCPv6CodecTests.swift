import Testing
import LwAFTRCore
@testable import DHCPWire

func hex(_ s: String) -> [UInt8] {
    let c = Array(s.filter { !$0.isWhitespace && $0 != ":" }.utf8)
    return stride(from: 0, to: c.count, by: 2).map { UInt8(String(decoding: c[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

@Suite struct DHCPv6CodecTests {
    /// PROTOCOLS.md §3.1 byte example: CONT_LW{ V4V6BIND{192.0.2.1, 2001:db8:12:3400::/56, PORTPARAMS{0, 8, 0x34}}, BR }.
    static let contLW = hex("0060 002c 005c 0014 c0000201 38 20010db8001234 005d 0004 00 08 3400 005a 0010 20010db8ffff00000000000000000001")

    @Test func s46LightweightContainerMatchesProtocolsExample() throws {
        let bind = S46V4V6Bind(ipv4: IPv4Address(192, 0, 2, 1),
                               bindPrefix: IPv6Prefix(address: IPv6Address("2001:db8:12:3400::")!, length: 56)!,
                               options: [try DHCPv6Option(S46PortParams(PortParams(offset: 0, psidLength: 8, psid: 0x34)!))])
        let cont = S46Container([try DHCPv6Option(bind), try DHCPv6Option(S46BR(IPv6Address("2001:db8:ffff::1")!))])
        var w = ByteWriter()
        let o = try cont.option(.s46ContLW)
        try w.option6(o.code.rawValue, o.data)
        #expect(w.bytes == Self.contLW)

        let back = try S46Container(optionData: Array(Self.contLW.dropFirst(4)))
        let b = try back.options[0].decode(as: S46V4V6Bind.self)
        #expect(b == bind)
        #expect(try b.portParams() == PortParams(offset: 0, psidLength: 8, psid: 0x34))
        #expect(try back.options[1].decode(as: S46BR.self).address == IPv6Address("2001:db8:ffff::1"))
    }

    @Test func clientServerRoundTrip() throws {
        let m = DHCPv6Message(type: .reply, transactionID: 0xABCDEF, options: [
            DHCPv6Option(code: .serverID, data: [0, 3, 0, 1, 1, 2, 3, 4, 5, 6]),
            try DHCPv6Option(DHCPv6StatusCode(.notAllowed, "no")),
            try DHCPv6Option(OptionRequest([88, 90, 137])),
            DHCPv6Message.secondsOption(.lqBaseTime, 12345),
            DHCPv6Option(code: DHCPv6OptionCode(999), data: [1, 2, 3]),   // unknown option survives
        ])
        let bytes = try m.encode()
        #expect(Array(bytes.prefix(4)) == [7, 0xAB, 0xCD, 0xEF])
        let back = try DHCPv6Message.decode(bytes)
        #expect(back == m)
        #expect(try back.value(DHCPv6StatusCode.self) == DHCPv6StatusCode(.notAllowed, "no"))
        #expect(try back.value(OptionRequest.self)?.contains(.s46BR) == true)
        #expect(try back.seconds(.lqBaseTime) == 12345)
    }

    @Test func relayForwardNestsTheClientMessage() throws {
        let inner = DHCPv6Message(type: .dhcpv4Query, transactionID: DHCPv6Message.unicastFlag, options: [])
        let relay = DHCPv6Message(relay: .relayForward, hopCount: 1, linkAddress: IPv6Address("2001:db8:1::1")!,
                                  peerAddress: IPv6Address("fe80::1")!, options: [
                                      DHCPv6Option(code: .interfaceID, data: [9, 9]), try DHCPv6Option(RelayMessage(inner))])
        let bytes = try relay.encode()
        #expect(bytes.count == 34 + 6 + 8)
        #expect(bytes[0] == 12 && bytes[1] == 1)
        let back = try DHCPv6Message.decode(bytes)
        #expect(back == relay && back.transactionID == 0)
        #expect(try back.value(RelayMessage.self)?.message.transactionID == 0x800000)
    }

    @Test func leasequeryOptionsRoundTrip() throws {
        let q = LQQuery(queryType: 1, linkAddress: IPv6Address("2001:db8::")!,
                        options: [DHCPv6Option(code: DHCPv6OptionCode(5), data: [1, 2])])
        #expect(try LQQuery(optionData: q.optionData()) == q)
        let cd = ClientData([DHCPv6Option(code: .clientID, data: [0, 1]), DHCPv6Message.secondsOption(.cltTime, 60)])
        #expect(try ClientData(optionData: cd.optionData()) == cd)
        let rd = LQRelayData(peerAddress: IPv6Address("fe80::2")!, relayMessage: [12, 0])
        #expect(try LQRelayData(optionData: rd.optionData()) == rd)
        let cl = LQClientLink([IPv6Address("2001:db8::1")!, IPv6Address("2001:db8::2")!])
        #expect(try LQClientLink(optionData: cl.optionData()) == cl)
        let sv = DHCP4oDHCP6Servers([IPv6Address("::1")!])
        #expect(try DHCP4oDHCP6Servers(optionData: sv.optionData()) == sv)
        #expect(try DHCP4oDHCP6Servers(optionData: []).servers.isEmpty)
        let rule = S46Rule(flags: 1, eaLength: 16, ipv4Prefix: IPv4Address(198, 51, 100, 0), ipv4PrefixLength: 24,
                           ipv6Prefix: IPv6Prefix(address: IPv6Address("2001:db8::")!, length: 40)!)
        #expect(try S46Rule(optionData: rule.optionData()) == rule)
        let dmr = S46DMR(IPv6Prefix(address: IPv6Address("64:ff9b::")!, length: 96)!)
        #expect(try S46DMR(optionData: dmr.optionData()) == dmr)
    }

    @Test func bindPrefixOption137() throws {
        let p = S46BindIPv6Prefix(IPv6Prefix(address: IPv6Address("2001:db8:12:3400::")!, length: 56)!)
        #expect(p.optionData() == hex("38 20010db8001234"))
        // Bits beyond the length are ignored: /52 with 0x34 in its last byte is 2001:db8:12:3000::/52.
        #expect(try S46BindIPv6Prefix(optionData: hex("34 20010db8001234")).prefix.address == IPv6Address("2001:db8:12:3000::"))
        #expect(throws: DHCPWireError.self) { try S46BindIPv6Prefix(optionData: hex("38 20010db8001234ff")) }  // count disagrees
        #expect(throws: DHCPWireError.self) { try S46BindIPv6Prefix(optionData: [129] + [UInt8](repeating: 0, count: 17)) }
        #expect(throws: DHCPWireError.self) { try S46BindIPv6Prefix(optionData: hex("38 20010db80012")) }  // short
        #expect(throws: DHCPWireError.self) { try S46BindIPv6Prefix(optionData: hex("38 20010db8001234 00 00")) }  // long
    }

    @Test func malformedMessagesThrow() {
        #expect(throws: DHCPWireError.self) { try DHCPv6Message.decode([]) }
        #expect(throws: DHCPWireError.self) { try DHCPv6Message.decode([1, 0, 0]) }
        #expect(throws: DHCPWireError.self) { try DHCPv6Message.decode([1, 0, 0, 0, 0, 1, 0, 5, 1]) }  // option overruns
        #expect(throws: DHCPWireError.self) { try DHCPv6Message.decode([12, 0] + [UInt8](repeating: 0, count: 20)) }
        #expect(throws: DHCPWireError.self) { try OptionRequest(optionData: [0, 1, 2]) }
        #expect(throws: DHCPWireError.self) { try S46BR(optionData: [1, 2]) }
        #expect(throws: DHCPWireError.self) { try PortParams(bytes: [16, 1, 0, 0]) }
        #expect(throws: DHCPWireError.self) { try PortParams(bytes: [6, 8, 0x34, 0x01]) }   // padding bits set
        #expect(throws: DHCPWireError.self) { try PortParams(bytes: [10, 8, 0, 0]) }        // a + k > 16
        #expect(throws: DHCPWireError.self) { try DHCPv6Message(type: .reply, transactionID: 1, options: [
            DHCPv6Option(code: .clientID, data: [UInt8](repeating: 0, count: 70_000))]).encode() }
    }

    @Test func portParamsEdgeValues() throws {
        #expect(try PortParams(bytes: [0, 16, 0xFF, 0xFF]).psid == 0xFFFF)
        #expect(try PortParams(bytes: [0, 0, 0, 0]).psidLength == 0)
        #expect(PortParams(offset: 0, psidLength: 6, psid: 63)?.psidField == 0xFC00)
        #expect(PortParams(offset: 0, psidLength: 6, psid: 64) == nil)
    }

    @Test func unixTimeConversions() {
        #expect(UnixTime(dhcpv6Seconds: 0).seconds == 946_684_800)
        #expect(UnixTime(seconds: 100).dhcpv6Seconds == 0)
        #expect(UnixTime(dhcpv6Seconds: .max).seconds == .max)
        #expect(UnixTime(seconds: .max).adding(5).seconds == .max)
    }
}
