import Foundation
import Testing
@testable import LwAFTRCore

/// A valid JSON config; the tests below edit it.
let baseJSON = """
{
  "softwires": [
    {"ipv4": "178.79.150.15", "psid": 1, "psid_length": 4, "b4": "127:22:33:44:55:66:77:128"},
    {"ipv4": "178.79.150.1", "b4": "127::1", "br": "8:9:a:b:c:d:e:f"}
  ],
  "external": {"mtu": 1460, "allow_incoming_icmp": false, "ingress_filter": "ip"},
  "internal": {"hairpinning": false, "error_rate_limiting": {"packets": 6000}, "reassembly": {"max_packets": 10}},
  "instances": [
    {
      "device": "test",
      "external": {"ip": "10.10.10.10", "mac": "12:12:12:12:12:12", "next_hop": {"ip": "4.5.6.7"}, "vlan": 1092},
      "internal": {"ip": "8:9:a:b:c:d:e:f", "mac": "22:22:22:22:22:22", "next_hop": {"mac": "44:44:44:44:44:44"}}
    }
  ]
}
"""
// Lines: 3 first softwire, 4 second, 6 external, 7 internal, 9 instance "{", 10 device, 11 external side,
// 12 internal side, 15 final "}".

func jsonError(_ text: String) -> ConfigError? {
    do {
        _ = try JSONConfig.parse(text, file: "bad.json")
        return nil
    } catch {
        return error
    }
}

func expectJSONError(_ text: String, line: Int, field: String, _ message: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    guard let e = jsonError(text) else {
        Issue.record("expected an error at line \(line)", sourceLocation: sourceLocation)
        return
    }
    #expect(e.file == "bad.json", sourceLocation: sourceLocation)
    #expect(e.line == line, "\(e)", sourceLocation: sourceLocation)
    #expect(e.field == field, "\(e)", sourceLocation: sourceLocation)
    #expect(e.message.contains(message), "\(e)", sourceLocation: sourceLocation)
}

func edit(_ old: String, _ new: String) -> String {
    precondition(baseJSON.contains(old), old)
    return baseJSON.replacingOccurrences(of: old, with: new)
}

@Suite struct JSONConfigTests {
    @Test func parsesBase() throws {
        let c = try JSONConfig.parse(baseJSON, file: "base.json")
        #expect(c.softwires.count == 2)
        let first = c.softwires[0]
        #expect(first.description == "178.79.150.15 psid 1/4 offset 0 b4 127:22:33:44:55:66:77:128 br 8:9:a:b:c:d:e:f")
        #expect(c.softwires[1].psid == 0 && c.softwires[1].portSet.psidLength == 0)
        #expect(!c.external.allowIncomingICMP && c.external.generateICMPErrors && c.external.ingressFilter == "ip")
        #expect(!c.internal.hairpinning && c.internal.errorRatePackets == 6000 && c.internal.errorRatePeriod == 2)
        #expect(c.internal.maxFragmentedPackets == 10 && c.internal.maxFragmentsPerPacket == 20)
        let inst = try #require(c.instances.first)
        #expect(inst.device == "test" && inst.queueID == 0)
        #expect(inst.external.nextHop == .ipv4(try #require(IPv4Address("4.5.6.7"))))
        #expect(inst.external.vlanTag == 1092 && inst.internal.vlanTag == nil)
        #expect(try JSONConfig.parse(JSONConfig.toJSON(c), file: "again.json") == c)
    }

    @Test func minimalDocument() throws {
        #expect(try JSONConfig.parse("{}", file: "m.json") == LwAFTRConfig())
        #expect(try JSONConfig.parse(" {\"softwires\": null} \n", file: "m.json") == LwAFTRConfig())
    }

    @Test func schemaErrors() {
        expectJSONError(edit("\"psid\": 1,", "\"psid\": 16,"), line: 3, field: "softwires[0].psid",
                        "does not fit in a 4-bit PSID")
        expectJSONError(edit("\"psid\": 1,", "\"psid\": 1.5,"), line: 3, field: "softwires[0].psid",
                        "expected an integer")
        expectJSONError(edit("\"psid\": 1,", "\"psid\": \"1\","), line: 3, field: "softwires[0].psid",
                        "expected an integer")
        expectJSONError(edit("\"psid\": 1,", ""), line: 3, field: "softwires[0].psid", "missing psid")
        expectJSONError(edit("\"ipv4\": \"178.79.150.1\", ", ""), line: 4, field: "softwires[1].ipv4",
                        "missing required key 'ipv4'")
        expectJSONError(edit("\"b4\": \"127::1\"", "\"b4\": \"127::1::2\""), line: 4, field: "softwires[1].b4",
                        "invalid IPv6 address")
        expectJSONError(edit("\"mtu\": 1460", "\"mtu\": 67"), line: 6, field: "external.mtu", "out of range 68...65535")
        expectJSONError(edit("\"mtu\": 1460", "\"mtu\": -1"), line: 6, field: "external.mtu", "out of range")
        expectJSONError(edit("\"mtu\": 1460", "\"hairpinning\": true"), line: 6, field: "external.hairpinning",
                        "unknown key 'hairpinning'")
        expectJSONError(edit("\"hairpinning\": false", "\"hairpinning\": \"false\""), line: 7,
                        field: "internal.hairpinning", "expected true or false")
        expectJSONError(edit("\"vlan\": 1092", "\"vlan\": 4096"), line: 11, field: "instances[0].external.vlan",
                        "out of range 0...4095")
        expectJSONError(edit("{\"ip\": \"4.5.6.7\"}", "{\"ip\": \"4.5.6.7\", \"mac\": \"01:02:03:04:05:06\"}"),
                        line: 11, field: "instances[0].external.next_hop.mac", "not both")
        expectJSONError(edit("{\"ip\": \"4.5.6.7\"}", "{}"), line: 11, field: "instances[0].external.next_hop",
                        "needs \"ip\" or \"mac\"")
        expectJSONError(edit("\"device\": \"test\",", ""), line: 9, field: "instances[0].device", "missing")
        expectJSONError(edit("\"mac\": \"22:22:22:22:22:22\"", "\"mac\": \"22:22:22:22:22\""), line: 12,
                        field: "instances[0].internal.mac", "invalid MAC address")
        expectJSONError(edit("\"device\": \"test\"", "\"device\": 7"), line: 10, field: "instances[0].device",
                        "expected a string")
        expectJSONError("{\n\"softwires\": {}}", line: 2, field: "softwires", "expected an array")
        expectJSONError("{\"instances\": [{\"device\": \"d\", \"external\": 1}]}", line: 1,
                        field: "instances[0].external", "expected an object")
    }

    @Test func crossEntryErrors() {
        let dup = "    {\"ipv4\": \"178.79.150.15\", \"psid\": 1, \"psid_length\": 4, \"b4\": \"127::9\"},\n"
        expectJSONError(edit("    {\"ipv4\": \"178.79.150.1\",", dup + "    {\"ipv4\": \"178.79.150.1\","),
                        line: 4, field: "softwires[1].psid", "duplicate softwire 178.79.150.15 psid 1 (first at line 3)")
        let clash = "    {\"ipv4\": \"178.79.150.15\", \"psid\": 2, \"psid_length\": 6, \"b4\": \"127::9\"},\n"
        expectJSONError(edit("    {\"ipv4\": \"178.79.150.1\",", clash + "    {\"ipv4\": \"178.79.150.1\","),
                        line: 4, field: "softwires[1].psid_length", "disagrees with a=0 k=4 m=12 at line 3")
        expectJSONError(edit("\"psid_length\": 4,", "\"psid_length\": 4, \"offset\": 13,"), line: 3,
                        field: "softwires[0].psid_length", "exceeds 16")
        let noInstances = baseJSON.components(separatedBy: "\n")[0..<7].joined(separator: "\n")
            .replacingOccurrences(of: "{\"max_packets\": 10}},", with: "{\"max_packets\": 10}}") + "\n}"
        expectJSONError(noInstances, line: 3, field: "softwires[0].br", "missing BR address")
    }

    @Test func syntaxErrors() {
        expectJSONError(edit("\"mtu\": 1460,", "\"mtu\": 1460"), line: 6, field: "external",
                        "expected ',' or '}', found '\"'")
        expectJSONError(edit("\"mtu\": 1460", "\"mtu\": 01460"), line: 6, field: "external.mtu", "invalid number")
        expectJSONError(edit("\"mtu\": 1460", "\"mtu\": tru"), line: 6, field: "external.mtu", "invalid literal")
        expectJSONError(edit("\"mtu\": 1460", "\"mtu\": 1460, \"mtu\": 1500"), line: 6, field: "external.mtu",
                        "duplicate key 'mtu' (first at line 6)")
        expectJSONError(edit("\"ingress_filter\": \"ip\"", "\"ingress_filter\": \"ip\\x\""), line: 6,
                        field: "external.ingress_filter", "invalid escape")
        expectJSONError(baseJSON + "\n{}", line: 16, field: "(top level)", "unexpected text after the JSON value")
        expectJSONError(String(baseJSON.dropLast()), line: 15, field: "(top level)", "unexpected end of input")
        expectJSONError("", line: 1, field: "(top level)", "unexpected end of input")
        expectJSONError("[]", line: 1, field: "(top level)", "expected an object")
        expectJSONError(String(repeating: "[", count: 100), line: 1, field: String(repeating: "[0]", count: 65),
                        "nesting too deep")
    }

    @Test func stringEscapes() throws {
        let text = edit("\"ingress_filter\": \"ip\"", "\"ingress_filter\": \"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"")
        let c = try JSONConfig.parse(text, file: "e.json")
        #expect(c.external.ingressFilter == "a\"b\\c/d\n\u{e9}\u{1F600}")
        #expect(try JSONConfig.parse(JSONConfig.toJSON(c), file: "again.json") == c)
        expectJSONError(edit("\"ip\"}", "\"\\ud83d\"}"), line: 6, field: "external.ingress_filter",
                        "unpaired surrogate")
    }

    @Test func toJSONIsStable() throws {
        let c = try JSONConfig.parse(baseJSON, file: "base.json")
        let once = JSONConfig.toJSON(c)
        #expect(once == JSONConfig.toJSON(try JSONConfig.parse(once, file: "x.json")))
        #expect(once.hasPrefix("{\n  \"softwires\": [\n    {\"ipv4\": \"178.79.150.15\", \"psid\": 1, \"psid_length\": 4, "))
        #expect(once.contains("\"next_hop\": {\"ip\": \"4.5.6.7\"}, \"vlan\": 1092}"))
        #expect(once.hasSuffix("}\n  ]\n}\n"))
    }
}

@Suite(.enabled(if: ConformanceData.present, ConformanceData.absentMessage))
struct JSONRoundTripTests {
    @Test(arguments: ConformanceData.confFiles)
    func confToJSONRoundTrips(_ name: String) throws {
        let fromConf = try ConformanceData.load(name)
        let json = ConfigLoader.toJSON(fromConf)
        #expect(try ConfigLoader.parseJSON(json, file: name + ".json") == fromConf)
        let data = try #require(json.data(using: .utf8))
        #expect(try JSONSerialization.jsonObject(with: data) is [String: Any])  // valid JSON for other tools
    }
}

@Suite struct ConfigLoaderTests {
    @Test func missingFile() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/dir/x.conf")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 0 && error.field == "file" && error.file == "/nonexistent/dir/x.conf")
            #expect(error.message.contains("cannot open"), "\(error)")
        }
    }

    @Test func unreadableDirectory() {
        do {
            _ = try ConfigLoader.load(path: NSTemporaryDirectory())
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 0 && error.field == "file", "\(error)")
        }
    }

    @Test func choosesFormatByExtension() throws {
        let dir = NSTemporaryDirectory() + "lwaftr-config-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let expected = try ConfigLoader.parseSnabb(baseConf, file: "base.conf")
        try baseConf.write(toFile: dir + "/a.conf", atomically: true, encoding: .utf8)
        try ConfigLoader.toJSON(expected).write(toFile: dir + "/a.JSON", atomically: true, encoding: .utf8)
        try baseConf.write(toFile: dir + "/b.txt", atomically: true, encoding: .utf8)
        #expect(try ConfigLoader.load(path: dir + "/a.conf") == expected)
        #expect(try ConfigLoader.load(path: dir + "/a.JSON") == expected)
        #expect(try ConfigLoader.load(path: dir + "/b.txt") == expected)
        // A .json file holding Snabb syntax is read as JSON and fails on line 1, naming the file.
        try baseConf.write(toFile: dir + "/wrong.json", atomically: true, encoding: .utf8)
        do {
            _ = try ConfigLoader.load(path: dir + "/wrong.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == dir + "/wrong.json" && error.line == 1, "\(error)")
        }
        // Invalid UTF-8.
        try Data([0x73, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: dir + "/bin.conf"))
        do {
            _ = try ConfigLoader.load(path: dir + "/bin.conf")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 0 && error.field == "file" && error.message.contains("UTF-8"), "\(error)")
        }
    }
}
