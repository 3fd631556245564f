@testable import BindingTable
import LwAFTRCore
import Testing

struct SoftwireTextTests {
    @Test func csvAndJSONRoundTrip() throws {
        let list = [Fx.sw(Fx.ip(1), psid: 3, k: 6), Fx.sw(Fx.ip(2), psid: 1, k: 4, offset: 6, br: Fx.br2)]
        let csv = ([SoftwireText.csvHeader] + list.map(SoftwireText.csvLine)).joined(separator: "\n") + "\n"
        #expect(try SoftwireText.parse(csv) == list)
        let jsonl = list.map(SoftwireText.jsonLine).joined(separator: "\n")
        #expect(try SoftwireText.parse(jsonl) == list)
        #expect(SoftwireText.jsonLine(list[1]) == "{\"ipv4\":\"10.0.0.2\",\"psid\":1,\"psid_len\":4,\"offset\":6,"
                + "\"b4_ipv6\":\"\(Fx.b4(Fx.ip(2), 1))\",\"br_ipv6\":\"2001:db8::2\"}")
    }

    @Test func headerReordersColumnsAndDefaultBR() throws {
        let text = """
            # comment
            b4_ipv6, ipv4, psid_len, psid
            2001:db8::b4, 192.0.2.1, 8, 200

            """
        let got = try SoftwireText.parse(text, defaultBR: Fx.br)
        #expect(got == [Softwire(ipv4: IPv4Address("192.0.2.1")!, psid: 200, b4: IPv6Address("2001:db8::b4")!,
                                 br: Fx.br, portSet: PortSet(psidLength: 8)!)])
        let json = #"{"ipv4": "192.0.2.1", "b4_ipv6": "2001:db8::b4"}"#  // psid_len 0: whole address
        #expect(try SoftwireText.parse(json, defaultBR: Fx.br).first?.portSet == PortSet(psidLength: 0))
    }

    @Test func errorsNameTheLine() {
        func err(_ text: String, br: IPv6Address? = Fx.br) -> String? {
            do { _ = try SoftwireText.parse(text, defaultBR: br); return nil } catch { return error.description }
        }
        #expect(err("10.0.0.1,1,6,0,2001:db8::1\n10.0.0.1,64,6,0,2001:db8::1") == "line 2: psid 64 does not fit psid_len 6")
        #expect(err("10.0.0.300,1,6,0,2001:db8::1") == "line 1: bad ipv4 '10.0.0.300'")
        #expect(err("10.0.0.1,1,6,12,2001:db8::1") == "line 1: offset 12 + psid_len 6 exceeds 16")
        #expect(err("10.0.0.1,1,6,0,2001:db8::1", br: nil) == "line 1: missing br_ipv6 (and no default br-address)")
        #expect(err("10.0.0.1,1,6,0,nope") == "line 1: bad b4_ipv6 'nope'")
        #expect(err("ipv4,psid,color") == "line 1: unknown column 'color'")
        #expect(err(#"{"ipv4":"10.0.0.1","psid":1,"psid_len":6,"b4_ipv6":"::1","x":1}"#)?.hasPrefix("line 1: JSON: unknown key 'x'") == true)
        #expect(err(#"{"ipv4":"10.0.0.1","psid":-1}"#)?.hasPrefix("line 1: JSON: expected a string") == true)
        #expect(err(#"{"ipv4":"10.0.0.1","psid_len":4,"b4_ipv6":"::1"}"#) == "line 1: missing psid")
    }
}
