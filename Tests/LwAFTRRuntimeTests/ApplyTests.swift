import Foundation
import LwAFTRCore
import LwAFTRRuntime
import PacketEngine
import Testing

/// `LwAFTRRuntime.apply` without a requestor: the static softwires are diffed straight on the
/// table (other entries untouched), engine settings are published only when a policy changed.
struct ApplyTests {
    func config(_ text: String) throws -> LwAFTRConfig { try JSONConfig.parse(text, file: "t.json") }

    @Test func staticDiffLeavesOtherBindingsAlone() async throws {
        var o = RunOptions()
        o.io = .none
        let runtime = try LwAFTRRuntime(config: config(Lab.configJSON(psids: 1...4)), options: o)
        let other = Softwire(ipv4: IPv4Address("203.0.113.9")!, psid: 3, b4: IPv6Address("2001:db8:77::1")!,
                             br: IPv6Address(Lab.br)!, portSet: PortSet(offset: 0, psidLength: 6)!)
        _ = try runtime.table.insert(other)   // e.g. from a snapshot
        let gen = runtime.settings.generation

        // PSID 4 removed, PSID 2 moved to another B4, PSID 5 added; policies unchanged.
        let text = Lab.configJSON(psids: 1...3)
            .replacingOccurrences(of: "\"b4\": \"2001:db8:b4::2\"}", with: "\"b4\": \"2001:db8:b4::22\"}")
            .replacingOccurrences(of: "\"b4\": \"2001:db8:b4::3\"}",
                                  with: "\"b4\": \"2001:db8:b4::3\"},\n {\"ipv4\": \"192.0.2.1\", \"psid\": 5, \"psid_length\": 6, \"b4\": \"2001:db8:b4::5\"}")
        let report = try await runtime.apply(config(text))
        #expect(report.staticChanged == 2 && report.staticRemoved == 1 && report.staticFailed.isEmpty)
        #expect(!report.policiesChanged && runtime.settings.generation == gen)
        let sws = runtime.table.allSoftwires()
        #expect(sws.filter { $0.ipv4 == IPv4Address("192.0.2.1")! }.map(\.psid).sorted() == [1, 2, 3, 5])
        #expect(runtime.table.softwire(ipv4: IPv4Address("192.0.2.1")!, psid: 2)?.b4 == IPv6Address("2001:db8:b4::22"))
        #expect(runtime.table.softwire(ipv4: other.ipv4, psid: 3) == other)

        // A policy change publishes new engine settings once.
        let r2 = try await runtime.apply(config(text.replacingOccurrences(of: "\"hairpinning\": true", with: "\"hairpinning\": false")))
        #expect(r2.policiesChanged && r2.staticChanged == 0 && r2.staticRemoved == 0)
        #expect(runtime.settings.generation == gen + 1 && runtime.settings.read().0.hairpinning == false)

        // A bad filter is refused before anything changes.
        await #expect(throws: ConfigError.self) {
            try await runtime.apply(config(Lab.configJSON(psids: 1...1)
                .replacingOccurrences(of: "\"hairpinning\": true", with: "\"hairpinning\": true, \"egress_filter\": \"len >\"")))
        }
        #expect(runtime.table.allSoftwires().count == 5 && runtime.settings.generation == gen + 1)
    }
}
