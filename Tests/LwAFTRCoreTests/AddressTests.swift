import Testing
@testable import LwAFTRCore

@Suite struct IPv4AddressTests {
    @Test func parsesAndPrints() throws {
        let a = try #require(IPv4Address("192.0.2.1"))
        #expect(a.value == 0xC000_0201)
        #expect(a.description == "192.0.2.1")
        #expect(IPv4Address("0.0.0.0")?.value == 0)
        #expect(IPv4Address("255.255.255.255")?.value == 0xFFFF_FFFF)
        #expect(IPv4Address(178, 79, 150, 233).description == "178.79.150.233")
        #expect(IPv4Address(0x0A0A_0A0A).description == "10.10.10.10")
    }

    @Test(arguments: ["", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "01.2.3.4", "1.2.3.04", "1..2.3",
                      ".1.2.3", "1.2.3.", " 1.2.3.4", "1.2.3.4 ", "a.b.c.d", "1.2.3.4/24", "1000.1.1.1", "+1.2.3.4"])
    func rejects(_ text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func orders() throws {
        #expect(try #require(IPv4Address("10.0.0.1")) < #require(IPv4Address("10.0.0.2")))
        #expect(try #require(IPv4Address("9.255.255.255")) < #require(IPv4Address("10.0.0.0")))
    }
}

@Suite struct IPv6AddressTests {
    /// (input, RFC 5952 canonical text)
    static let canonical: [(String, String)] = [
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),        // first of two equal runs
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),  // leading zeros dropped
        ("2001:DB8::ABCD", "2001:db8::abcd"),                 // lower case
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),     // a single zero group is not "::"
        ("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"),         // the longest run wins
        ("0:0:0:0:0:0:0:0", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("8:9:a:b:c:d:e:f", "8:9:a:b:c:d:e:f"),
        ("fe80::100", "fe80::100"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),               // "::" standing for one group
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),             // IPv4-mapped: mixed notation
        ("0:0:0:0:0:ffff:c000:201", "::ffff:192.0.2.1"),
        ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),          // other embeddings stay hex
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ]

    @Test(arguments: canonical)
    func canonicalText(_ input: String, _ expected: String) throws {
        let a = try #require(IPv6Address(input), "\(input) should parse")
        #expect(a.description == expected)
        #expect(IPv6Address(expected) == a)
    }

    @Test(arguments: ["", ":", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1",
                      ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
                      "+1::", "-0::", "::+f", "1.2.3.4", "1.2.3.4::", "::1.2.3", "::1.2.3.4:5", "1::2 ",
                      "fe80::1%eth0", "::ffff:256.1.1.1"])
    func rejects(_ text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test func bytesAndGroups() throws {
        let a = try #require(IPv6Address("2001:db8::1"))
        #expect(a.hi == 0x2001_0DB8_0000_0000 && a.lo == 1)
        #expect(a.bytes == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(a.groups == [0x2001, 0xDB8, 0, 0, 0, 0, 0, 1])
        #expect(IPv6Address(bytes: a.bytes) == a)
    }
}

@Suite struct MACAddressTests {
    @Test func parsesAndPrints() throws {
        let m = try #require(MACAddress("68:68:68:68:68:68"))
        #expect(m.value == 0x6868_6868_6868)
        #expect(MACAddress("02:AA:bb:0c:d:e")?.description == "02:aa:bb:0c:0d:0e")
        #expect(MACAddress("02-aa-bb-cc-dd-ee")?.description == "02:aa:bb:cc:dd:ee")
        #expect(MACAddress.broadcast.description == "ff:ff:ff:ff:ff:ff")
        #expect(MACAddress.zero.bytes == [0, 0, 0, 0, 0, 0])
        #expect(MACAddress(0x1_2345_6789_ABCD).value == 0x2345_6789_ABCD)  // only 48 bits kept
    }

    @Test(arguments: ["", "12:12:12:12:12", "12:12:12:12:12:12:12", "123:12:12:12:12:12", "12::12:12:12:12",
                      "gg:12:12:12:12:12", "+1:12:12:12:12:12", "-0:12:12:12:12:12", "12:12:12-12:12:12",
                      "12:12:12:12:12:12 ", "121212121212"])
    func rejects(_ text: String) {
        #expect(MACAddress(text) == nil)
    }
}
