import Foundation
import Testing
@testable import LwAFTRCore

/// A valid conf; the tests below edit single lines of it (line map below).
let baseConf = """
softwire-config {
  binding-table {
    softwire {
      ipv4 178.79.150.15;
      psid 1;
      b4-ipv6 127:22:33:44:55:66:77:128;
      br-address 8:9:a:b:c:d:e:f;
      port-set {
        psid-length 4;
      }
    }
  }
  external-interface {
    allow-incoming-icmp false;
    mtu 1460;
  }
  internal-interface {
    hairpinning true;
    mtu 1500;
  }
  instance {
    device test;
    queue {
      id 0;
      external-interface {
        ip 10.10.10.10;
        mac 12:12:12:12:12:12;
        next-hop {
          mac 68:68:68:68:68:68;
        }
      }
      internal-interface {
        ip 8:9:a:b:c:d:e:f;
        mac 22:22:22:22:22:22;
        next-hop {
          mac 44:44:44:44:44:44;
        }
      }
    }
  }
}
"""
// Lines: 4 ipv4, 5 psid, 6 b4-ipv6, 7 br-address, 8 port-set, 9 psid-length, 11 end of softwire,
// 13 external-interface, 14 allow-incoming-icmp, 15 mtu, 19 internal mtu, 21 instance, 23 queue,
// 24 id, 27 ext mac, 28 next-hop, 29 next-hop mac, 33 int ip, 41 final "}".

/// `baseConf` with line `n` (1-based) replaced by `lines` (none = deleted).
func conf(replacing n: Int, with lines: String...) -> String {
    var all = baseConf.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    all.replaceSubrange((n - 1)..<n, with: lines)
    return all.joined(separator: "\n")
}

/// `baseConf` with `lines` inserted after line `n`.
func conf(inserting lines: String..., after n: Int) -> String {
    var all = baseConf.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    all.insert(contentsOf: lines, at: n)
    return all.joined(separator: "\n")
}

func snabbError(_ text: String) -> ConfigError? {
    do {
        _ = try SnabbConfParser.parse(text, file: "bad.conf")
        return nil
    } catch {
        return error
    }
}

/// Expects `text` to fail at `line` on `field`; `message` must appear in the error message.
func expectSnabbError(_ text: String, line: Int, field: String, _ message: String,
                      sourceLocation: SourceLocation = #_sourceLocation) {
    guard let e = snabbError(text) else {
        Issue.record("expected an error at line \(line)", sourceLocation: sourceLocation)
        return
    }
    #expect(e.file == "bad.conf", sourceLocation: sourceLocation)
    #expect(e.line == line, "\(e)", sourceLocation: sourceLocation)
    #expect(e.field == field, "\(e)", sourceLocation: sourceLocation)
    #expect(e.message.contains(message), "\(e)", sourceLocation: sourceLocation)
}

let sw = "softwire-config/binding-table/softwire"
let extQ = "softwire-config/instance/queue/external-interface"

@Suite struct SnabbConfErrorTests {
    @Test func baseIsValid() throws {
        let c = try SnabbConfParser.parse(baseConf, file: "base.conf")
        #expect(c.softwires.count == 1 && c.instances.count == 1)
    }

    @Test func badAddresses() {
        expectSnabbError(conf(replacing: 4, with: "      ipv4 178.79.150.256;"),
                         line: 4, field: "\(sw)/ipv4", "invalid IPv4 address '178.79.150.256'")
        expectSnabbError(conf(replacing: 6, with: "      b4-ipv6 127::22::1;"),
                         line: 6, field: "\(sw)/b4-ipv6", "invalid IPv6 address")
        expectSnabbError(conf(replacing: 7, with: "      br-address 10.0.0.1;"),
                         line: 7, field: "\(sw)/br-address", "invalid IPv6 address")
        expectSnabbError(conf(replacing: 27, with: "        mac 12:12:12:12:12;"),
                         line: 27, field: "\(extQ)/mac", "invalid MAC address")
        expectSnabbError(conf(replacing: 29, with: "          ip 8:9:a:b:4:3:2:1;"),
                         line: 29, field: "\(extQ)/next-hop/ip", "invalid IPv4 address")
        expectSnabbError(conf(replacing: 33, with: "        ip 10.10.10.10;"),
                         line: 33, field: "softwire-config/instance/queue/internal-interface/ip",
                         "invalid IPv6 address")
    }

    @Test func numbersOutOfRange() {
        expectSnabbError(conf(replacing: 15, with: "    mtu 67;"),
                         line: 15, field: "softwire-config/external-interface/mtu", "out of range 68...65535")
        expectSnabbError(conf(replacing: 19, with: "    mtu 1279;"),
                         line: 19, field: "softwire-config/internal-interface/mtu", "out of range 1280...65535")
        expectSnabbError(conf(replacing: 19, with: "    mtu 65536;"),
                         line: 19, field: "softwire-config/internal-interface/mtu", "out of range")
        expectSnabbError(conf(replacing: 9, with: "        psid-length 17;"),
                         line: 9, field: "\(sw)/port-set/psid-length", "out of range 0...16")
        expectSnabbError(conf(inserting: "        vlan-tag 4096;", after: 27),
                         line: 28, field: "\(extQ)/vlan-tag", "out of range 0...4095")
        expectSnabbError(conf(replacing: 24, with: "      id 256;"),
                         line: 24, field: "softwire-config/instance/queue/id", "out of range 0...255")
        expectSnabbError(conf(replacing: 15, with: "    mtu 1.5e3;"),
                         line: 15, field: "softwire-config/external-interface/mtu", "expected an integer")
    }

    @Test func psidMustFitItsLength() {
        expectSnabbError(conf(replacing: 5, with: "      psid 16;"),
                         line: 5, field: "\(sw)/psid", "psid 16 does not fit in a 4-bit PSID")
    }

    @Test func offsetPlusLengthAtMost16() {
        expectSnabbError(conf(inserting: "        reserved-ports-bit-count 13;", after: 9),
                         line: 9, field: "\(sw)/port-set/psid-length", "exceeds 16")
        expectSnabbError(conf(replacing: 9, with: "        reserved-ports-bit-count 16;"),
                         line: 9, field: "\(sw)/port-set/reserved-ports-bit-count", "leaves no ports")
    }

    @Test func duplicateSoftwire() {
        let entry = baseConf.split(separator: "\n").map(String.init)[2...10]
        // The copy occupies lines 12-20; its psid is on line 14.
        expectSnabbError(conf(inserting: entry.joined(separator: "\n"), after: 11),
                         line: 14, field: "\(sw)/psid", "duplicate softwire 178.79.150.15 psid 1 (first at line 3)")
    }

    @Test func portSetsOfOneAddressMustAgree() {
        let other = ["    softwire {", "      ipv4 178.79.150.15;", "      psid 2;",
                     "      b4-ipv6 127::2;", "      port-set {", "        psid-length 6;", "      }", "    }"]
        expectSnabbError(conf(inserting: other.joined(separator: "\n"), after: 11),
                         line: 17, field: "\(sw)/port-set/psid-length", "disagrees with a=0 k=4 m=12 at line 3")
    }

    @Test func missingLeaves() {
        expectSnabbError(conf(replacing: 6), line: 3, field: "\(sw)/b4-ipv6", "missing required 'b4-ipv6'")
        expectSnabbError(conf(replacing: 4), line: 3, field: "\(sw)/ipv4", "missing required 'ipv4'")
        expectSnabbError(conf(replacing: 5), line: 3, field: "\(sw)/psid", "missing psid")
        expectSnabbError(conf(replacing: 27), line: 25, field: "\(extQ)/mac", "missing required 'mac'")
        expectSnabbError(conf(replacing: 22), line: 21, field: "softwire-config/instance/device", "missing")
        expectSnabbError("", line: 1, field: "softwire-config", "missing 'softwire-config")
    }

    @Test func psidDefaultsToZeroOnlyForWholeAddresses() throws {
        let noPSID = baseConf.replacingOccurrences(of: "      psid 1;\n", with: "")
        let whole = noPSID.replacingOccurrences(of: "      port-set {\n        psid-length 4;\n      }\n", with: "")
        let c = try SnabbConfParser.parse(whole, file: "t.conf")
        #expect(c.softwires[0].psid == 0 && c.softwires[0].portSet.psidLength == 0)
        expectSnabbError(noPSID, line: 3, field: "\(sw)/psid", "missing psid (required when the PSID length is 4)")
    }

    @Test func brAddressDefaultsToInternalInterfaceIP() throws {
        let c = try SnabbConfParser.parse(conf(replacing: 7), file: "t.conf")
        #expect(c.softwires[0].br == IPv6Address("8:9:a:b:c:d:e:f"))
        let noInstance = conf(replacing: 7).split(separator: "\n", omittingEmptySubsequences: false)
        let text = (noInstance[0..<19] + noInstance[39...]).joined(separator: "\n")
        expectSnabbError(text, line: 3, field: "\(sw)/br-address", "missing BR address")
    }

    @Test func unknownLeaf() {
        expectSnabbError(conf(inserting: "    frobnicate 1;", after: 14),
                         line: 15, field: "softwire-config/external-interface/frobnicate", "unknown leaf 'frobnicate'")
        expectSnabbError(conf(inserting: "    hairpinning false;", after: 14),
                         line: 15, field: "softwire-config/external-interface/hairpinning", "unknown leaf")
        expectSnabbError(conf(inserting: "      bogus { }", after: 3),
                         line: 4, field: "\(sw)/bogus", "unknown container 'bogus'")
    }

    @Test func duplicateLeaf() {
        expectSnabbError(conf(inserting: "    mtu 1500;", after: 15),
                         line: 16, field: "softwire-config/external-interface/mtu", "duplicate 'mtu' (first at line 15)")
    }

    @Test func unbalancedBraces() {
        expectSnabbError(conf(replacing: 41), line: 1, field: "softwire-config", "'{' is never closed")
        expectSnabbError(baseConf + "\n}", line: 42, field: "(top level)", "unexpected '}'")
    }

    @Test func missingSemicolon() {
        expectSnabbError(conf(replacing: 24, with: "      id 0"),
                         line: 24, field: "softwire-config/instance/queue/id", "missing ';' after 'id 0'")
        expectSnabbError(conf(replacing: 5, with: "      psid 1 2;"),
                         line: 5, field: "\(sw)/psid", "missing ';'")
        expectSnabbError(conf(replacing: 5, with: "      psid;"), line: 5, field: "\(sw)/psid", "missing value")
    }

    @Test func containerAndValueMixUps() {
        expectSnabbError(conf(inserting: "    reassembly 40;", after: 14),
                         line: 15, field: "softwire-config/external-interface/reassembly", "is a container")
        expectSnabbError(conf(inserting: "    generate-icmp-errors { }", after: 14),
                         line: 15, field: "softwire-config/external-interface/generate-icmp-errors", "takes a value")
        expectSnabbError(conf(replacing: 13, with: "  external-interface on {"),
                         line: 13, field: "softwire-config/external-interface", "unexpected value 'on' before '{'")
    }

    @Test func booleans() {
        expectSnabbError(conf(replacing: 14, with: "    allow-incoming-icmp yes;"),
                         line: 14, field: "softwire-config/external-interface/allow-incoming-icmp",
                         "expected true or false, found 'yes'")
        expectSnabbError(conf(replacing: 18, with: "    hairpinning 1;"),
                         line: 18, field: "softwire-config/internal-interface/hairpinning", "expected true or false")
    }

    @Test func nextHopChoice() {
        expectSnabbError(conf(inserting: "          ip 1.2.3.4;", after: 28),
                         line: 30, field: "\(extQ)/next-hop/mac", "not both")
        expectSnabbError(conf(replacing: 29, with: "          resolved-mac 01:02:03:04:05:06;"),
                         line: 28, field: "\(extQ)/next-hop", "needs 'ip' or 'mac'")
    }

    @Test func duplicateInstance() {
        let block = baseConf.split(separator: "\n").map(String.init)[20...39].joined(separator: "\n")
        expectSnabbError(conf(inserting: block, after: 40),
                         line: 43, field: "softwire-config/instance/queue", "duplicate instance device 'test' queue 0")
    }

    @Test func lexicalErrors() {
        expectSnabbError(conf(replacing: 14, with: "    ingress-filter \"len < 0;", "    mtu 1500;"),
                         line: 14, field: "softwire-config/external-interface/ingress-filter",
                         "unterminated quoted string")
        expectSnabbError(conf(inserting: "  /* never closed", after: 12),
                         line: 13, field: "softwire-config", "unterminated '/*' comment")
        expectSnabbError(conf(inserting: "  ;", after: 12), line: 13, field: "softwire-config", "unexpected ';'")
    }

    @Test func commentsAndQuotes() throws {
        let text = conf(inserting: "  # a comment { not parsed", "  // another ; one",
                        "  /* block", "     comment */", after: 1)
            .replacingOccurrences(of: "mtu 1460;", with: "mtu \"1400\"; ingress-filter 'udp port 53';")
        let c = try SnabbConfParser.parse(text, file: "t.conf")
        #expect(c.external.mtu == 1400)
        #expect(c.external.ingressFilter == "udp port 53")
        let escaped = try SnabbConfParser.parse(
            conf(replacing: 15, with: "    egress-filter \"a \\\"b\\\"\\n\\tc\";"), file: "t.conf")
        #expect(escaped.external.egressFilter == "a \"b\"\n\tc")
        // Errors after a multi-line comment still report the right line.
        let shifted = conf(inserting: "  /*", "", "  */", after: 1).replacingOccurrences(of: "psid 1;", with: "psid x;")
        #expect(snabbError(shifted)?.line == 8)
    }

    @Test func acceptsKnownUnusedLeaves() throws {
        var text = conf(inserting: "      padding 0;", after: 3)
        text = text.replacingOccurrences(of: "    mtu 1460;", with: "    mtu 1460;\n    mru 1460;")
        text = text.replacingOccurrences(of: "    device test;", with: "    device test;\n    external-device test2;")
        text = text.replacingOccurrences(of: "          mac 68:68:68:68:68:68;",
                                         with: "          ip 4.5.6.7;\n          resolved-mac 68:68:68:68:68:68;")
        text = text.replacingOccurrences(of: "softwire-config {", with: "softwire-config {\n  name lwaftr1;")
        text = text.replacingOccurrences(of: "    hairpinning true;",
                                         with: "    hairpinning false;\n    flow-label 7;\n    vlan-tag 5;")
        let c = try SnabbConfParser.parse(text, file: "t.conf")
        #expect(c.instances[0].external.nextHop == .ipv4(try #require(IPv4Address("4.5.6.7"))))
        #expect(c.internal.flowLabel == 7 && !c.internal.hairpinning)
        #expect(c.instances[0].internal.vlanTag == nil)
    }

    @Test func describesErrorsOnOneLine() throws {
        let e = try #require(snabbError(conf(replacing: 5, with: "      psid 16;")))
        #expect(e.description == "bad.conf:5: \(sw)/psid: psid 16 does not fit in a 4-bit PSID (maximum 15)")
    }
}
