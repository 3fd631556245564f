import Testing
import LwAFTRCore
@testable import DHCPWire

@Suite struct DHCPv4CodecTests {
    static func discover() -> DHCPv4Message {
        DHCPv4Message(op: 1, xid: 0xDEADBEEF, htype: 1, hlen: 6, chaddr: [2, 0, 0, 0, 0, 1], flags: 0x8000, options: [
            .u8(.messageType, 1),
            DHCPv4Option(code: .clientID, data: [255, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1]),
            DHCPv4Option(code: .parameterRequestList, data: [1, 3, 159]),
            DHCPv4Option(code: .portParams, data: PortParams(offset: 0, psidLength: 6, psid: 0)!.bytes),
        ])
    }

    @Test func headerLayoutAndRoundTrip() throws {
        let m = Self.discover()
        let b = try m.encode()
        #expect(b.count == 240 + 3 + 17 + 5 + 6 + 1)
        #expect(Array(b[0..<4]) == [1, 1, 6, 0])
        #expect(Array(b[4..<8]) == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(Array(b[10..<12]) == [0x80, 0])
        #expect(Array(b[28..<34]) == [2, 0, 0, 0, 0, 1])
        #expect(Array(b[236..<240]) == [0x63, 0x82, 0x53, 0x63])
        #expect(b.last == 255)
        let back = try DHCPv4Message.decode(b)
        #expect(back == m)
        #expect(back.messageType == .discover && back.requests(.portParams))
        #expect(try back.portParams() == PortParams(offset: 0, psidLength: 6, psid: 0))
    }

    @Test func longOptionsAreSplitAndConcatenated() throws {
        var m = Self.discover()
        let big = (0..<600).map { UInt8(truncatingIfNeeded: $0) }
        m.set(DHCPv4Option(code: DHCPv4OptionCode(224), data: big))
        let b = try m.encode()
        let plain = try Self.discover().encode().count
        #expect(b.count == plain + 600 + 3 * 2)
        #expect(try DHCPv4Message.decode(b).option(DHCPv4OptionCode(224))?.data == big)
    }

    @Test func repeatedOptionsConcatenateRFC3396() throws {
        var b = try DHCPv4Message(op: 1, xid: 1).encode()
        b.removeLast()
        b += [224, 2, 1, 2, 0, 0, 224, 1, 3, 255, 0, 0]   // pads inside, trailing padding after END
        #expect(try DHCPv4Message.decode(b).option(DHCPv4OptionCode(224))?.data == [1, 2, 3])
    }

    @Test func overloadedFileAndSnameAreRead() throws {
        var b = try DHCPv4Message(op: 1, xid: 1).encode()
        b.removeLast()
        b += [52, 1, 3, 53, 1, 3, 255]
        b.replaceSubrange(108..<114, with: [50, 4, 10, 0, 0, 1])      // file: requested address
        b[114] = 255
        b.replaceSubrange(44..<48, with: [224, 2, 7, 7])               // sname: option 224
        b[48] = 255
        let m = try DHCPv4Message.decode(b)
        #expect(try m.address(.requestedAddress) == IPv4Address(10, 0, 0, 1))
        #expect(m.option(DHCPv4OptionCode(224))?.data == [7, 7])
        #expect(m.option(.overload) == nil && m.file.allSatisfy { $0 == 0 } && m.sname.allSatisfy { $0 == 0 })
        #expect(try DHCPv4Message.decode(m.encode()) == m)
    }

    @Test func malformedThrows() throws {
        let good = try Self.discover().encode()
        #expect(throws: DHCPWireError.self) { try DHCPv4Message.decode(Array(good.prefix(239))) }
        var badCookie = good; badCookie[236] = 0
        #expect(throws: DHCPWireError.self) { try DHCPv4Message.decode(badCookie) }
        #expect(throws: DHCPWireError.self) { try DHCPv4Message.decode(Array(good.dropLast())) }    // no END
        var overrun = Array(good.prefix(240)); overrun += [61, 40, 1]
        #expect(throws: DHCPWireError.self) { try DHCPv4Message.decode(overrun) }
        var badOverload = Array(good.prefix(240)); badOverload += [52, 1, 9, 255]
        #expect(throws: DHCPWireError.self) { try DHCPv4Message.decode(badOverload) }
        var m = Self.discover(); m.set(.u8(.baseTime, 1))
        #expect(throws: DHCPWireError.self) { try m.u32(.baseTime) }
        m.set(DHCPv4Option(code: .s46SourceAddress, data: [1, 2]))
        #expect(throws: DHCPWireError.self) { try m.s46SourceAddress() }
    }

    @Test func leasequeryOptionAccessors() throws {
        var m = DHCPv4Message(op: 2, xid: 5)
        m.set(DHCPv4Option(code: .statusCode, data: [5] + Array("gap".utf8)))
        m.set(DHCPv4Option(code: .associatedIP, data: [10, 0, 0, 1, 10, 0, 0, 2]))
        m.set(DHCPv4Message.s46SourceAddressOption(IPv6Address("2001:db8::b4")!))
        let back = try DHCPv4Message.decode(m.encode())
        #expect(try back.leasequeryStatus()?.code == .dataMissing)
        #expect(try back.leasequeryStatus()?.message == "gap")
        #expect(try back.associatedAddresses() == [IPv4Address(10, 0, 0, 1), IPv4Address(10, 0, 0, 2)])
        #expect(try back.s46SourceAddress() == IPv6Address("2001:db8::b4"))
    }
}
