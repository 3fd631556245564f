import Testing
@testable import LwAFTRCore

@Suite struct PortSetTests {
    @Test func offset6Length8() throws {
        let ps = try #require(PortSet(offset: 6, psidLength: 8))
        #expect(ps.shift == 2)
        #expect(ps.psidMask == 0xFF)
        let ranges = ps.ranges(of: 0x34)
        #expect(ranges.count == 63)
        #expect(ranges.first == 1232...1235)
        #expect(ranges[1] == 2256...2259)
        #expect(ranges.last == 64720...64723)
        #expect(ps.portCount == 252)
        #expect(ranges.reduce(0) { $0 + $1.count } == 252)
        #expect(ps.psid(of: 1234) == 0x34)
        for r in ranges { for p in r { #expect(ps.psid(of: p) == 0x34 && ps.isValid(port: p)) } }
        #expect(ps.contains(psid: 255))
        #expect(!ps.contains(psid: 256))
    }

    @Test func offset6ExcludesWellKnownPorts() throws {
        let ps = try #require(PortSet(offset: 6, psidLength: 8))
        #expect(!ps.isValid(port: 0))
        #expect(!ps.isValid(port: 80))
        #expect(!ps.isValid(port: 1023))
        #expect(ps.isValid(port: 1024))
        #expect(ps.isValid(port: 65535))
        // Every valid port belongs to exactly one PSID's ranges.
        var owned = 0
        for psid in UInt16(0)...255 { owned += ps.ranges(of: psid).reduce(0) { $0 + $1.count } }
        #expect(owned == 65536 - 1024)
    }

    @Test func offset0Length6() throws {
        let ps = try #require(PortSet(offset: 0, psidLength: 6))
        #expect(ps.shift == 10)
        #expect(ps.portCount == 1024)
        #expect(ps.ranges(of: 4) == [4096...5119])
        #expect(ps.ranges(of: 63) == [64512...65535])
        #expect(ps.psid(of: 4096) == 4 && ps.psid(of: 5119) == 4 && ps.psid(of: 5120) == 5)
        #expect(ps.isValid(port: 0))  // no offset: all ports usable
        #expect(!ps.contains(psid: 64))
    }

    @Test func wholeAddress() throws {
        let ps = try #require(PortSet(offset: 0, psidLength: 0))
        #expect(ps.shift == 16)
        #expect(ps.psidMask == 0)
        #expect(ps.portCount == 65536)
        #expect(ps.ranges(of: 0) == [0...65535])
        #expect(ps.psid(of: 0) == 0 && ps.psid(of: 65535) == 0)
        #expect(ps.contains(psid: 0))
        #expect(!ps.contains(psid: 1))
    }

    @Test func oneSoftwirePerPort() throws {
        let ps = try #require(PortSet(offset: 0, psidLength: 16))
        #expect(ps.shift == 0)
        #expect(ps.psidMask == 0xFFFF)
        #expect(ps.portCount == 1)
        #expect(ps.ranges(of: 7850) == [7850...7850])
        #expect(ps.psid(of: 7850) == 7850)
        #expect(ps.contains(psid: 65535))
    }

    @Test func invalidParameters() {
        #expect(PortSet(offset: 0, psidLength: 17) == nil)
        #expect(PortSet(offset: 8, psidLength: 9) == nil)
        #expect(PortSet(offset: 16, psidLength: 0) == nil)
        #expect(PortSet(offset: 255, psidLength: 1) == nil)
        #expect(PortSet(offset: 15, psidLength: 1) != nil)
        #expect(PortSet(offset: 10, psidLength: 6) != nil)
    }

    @Test func maximalOffset() throws {
        let ps = try #require(PortSet(offset: 15, psidLength: 1))
        #expect(ps.shift == 0)
        #expect(ps.portCount == (1 << 15) - 1)
        #expect(!ps.isValid(port: 1) && ps.isValid(port: 2))
        #expect(ps.ranges(of: 1).first == 3...3)
        #expect(ps.ranges(of: 1).last == 65535...65535)
    }
}
