import BindingTable
import BindingTable
import DHCPWire
import Foundation
import Leasequery
import LwAFTRCore
import LwAFTRRuntime
import PacketEngine
import Testing

/// Who owns a binding across reloads: learnt bindings survive a reload that leaves their static
/// twin unchanged; a reload that adds leasequery keeps the live table (no snapshot load) and
/// adopts non-configuration entries as replaceable orphans; a static port-set conflict refuses
/// the whole reload before anything changes. No data plane (`--io none`), unreachable server.
@Suite(.serialized) struct ReloadOwnershipTests {
    func config(_ text: String) throws -> LwAFTRConfig { try JSONConfig.parse(text, file: "t.json") }

    /// A leasequery section with one unreachable server (connection refused, retried) and `snapshot`.
    static func section(snapshot: String) -> String {
        ",\n  \"leasequery\": {\"servers\": [{\"address\": \"::1\", \"port\": 9}], \"snapshot\": \"\(snapshot)\", "
            + "\"snapshot_interval\": 0, \"timers\": {\"connect\": 1, \"reconnect_min\": 0.5, \"reconnect_max\": 1}}"
    }

    static func softwire(_ ip: String, psid: UInt16, b4: String, psidLength: UInt8 = 6) -> Softwire {
        Softwire(ipv4: IPv4Address(ip)!, psid: psid, b4: IPv6Address(b4)!, br: IPv6Address(Lab.br)!,
                 portSet: PortSet(offset: 0, psidLength: psidLength)!)
    }

    func runtime(_ text: String) throws -> LwAFTRRuntime {
        var o = RunOptions()
        o.io = .none
        return try LwAFTRRuntime(config: config(text), options: o)
    }

    @Test func reloadKeepsALearntBindingThatSharesTheKeyOfAnUnchangedStatic() async throws {
        let dir = try tempDir("own-learnt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = Lab.configJSON(psids: 1...4, extra: Self.section(snapshot: dir + "/b.snap"))
        let rt = try runtime(text)
        try await rt.prepare()
        let svc = try #require(rt.leasequery)
        let ip = IPv4Address("192.0.2.1")!
        let configured = try #require(rt.table.softwire(ipv4: ip, psid: 2))
        // A server's live record takes the key of static PSID 2 (another B4).
        let ps = configured.portSet
        let record = BindingRecord(kind: .active, ipv4: ip, portParams: PortParams(offset: ps.offset, psidLength: ps.psidLength, psid: 2),
                                   b4: IPv6Address("2001:db8:77::2")!, baseTime: UnixTime(seconds: 1_700_000_000), leaseTime: 3600)
        let outcome = try await svc.withSync { $0.apply(record, from: 0) }
        #expect(outcome == .replaced)
        #expect(rt.table.softwire(ipv4: ip, psid: 2)?.b4 == IPv6Address("2001:db8:77::2"))

        // The same file again: nothing static changed, the learnt binding stays.
        let r1 = try await rt.apply(config(text))
        #expect(r1.staticChanged == 0 && r1.staticRemoved == 0)
        #expect(rt.table.softwire(ipv4: ip, psid: 2)?.b4 == IPv6Address("2001:db8:77::2"))
        #expect(try await svc.withSync { $0.ownedCount(server: 0) } == 1)

        // A changed static still takes its key back.
        let moved = text.replacingOccurrences(of: "\"b4\": \"2001:db8:b4::2\"}", with: "\"b4\": \"2001:db8:b4::22\"}")
        let r2 = try await rt.apply(config(moved))
        #expect(r2.staticChanged == 1)
        #expect(rt.table.softwire(ipv4: ip, psid: 2)?.b4 == IPv6Address("2001:db8:b4::22"))
        #expect(try await svc.withSync { $0.ownedCount(server: 0) } == 0)
        await svc.stop()
    }

    @Test func reloadThatAddsLeasequeryKeepsTheLiveTableAndAdoptsTheRestAsOrphans() async throws {
        let dir = try tempDir("own-add")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let snap = dir + "/b.snap"
        // An older snapshot on disk that must NOT replace the live table.
        let stale = try BindingTable(softwires: [Self.softwire("198.18.7.7", psid: 1, b4: "2001:db8:99::1")])
        try stale.saveSnapshot(to: snap)

        let rt = try runtime(Lab.configJSON(psids: 1...4))
        // Left in the table by an earlier leasequery (removed by an earlier reload).
        let left = Self.softwire("203.0.113.9", psid: 3, b4: "2001:db8:77::9")
        _ = try rt.table.insert(left)

        let report = try await rt.apply(config(Lab.configJSON(psids: 1...4, extra: Self.section(snapshot: snap))))
        #expect(report.leasequeryStarted)
        let svc = try #require(rt.leasequery)
        // The live table stayed (4 static + the left-over), the stale snapshot was not loaded.
        #expect(rt.table.count == 5)
        #expect(rt.table.softwire(ipv4: left.ipv4, psid: 3) == left)
        #expect(rt.table.softwire(ipv4: IPv4Address("198.18.7.7")!, psid: 1) == nil)
        // The left-over is a replaceable orphan, the configuration's four are static (not orphans).
        // (no server is reachable, so the other four are the static ones).
        let status = try await svc.status()
        #expect(status.orphans == 1 && status.tableSize == 5)
        #expect(try await svc.withSync { $0.ownedCount(server: BindingSync.staticOwner) } == 4)
        await svc.stop()
    }

    @Test func reloadRestartsTheRequestorForSettingsItCannotChangeLive() async throws {
        let dir = try tempDir("own-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (snapA, snapB) = (dir + "/a.snap", dir + "/b.snap")
        let rt = try runtime(Lab.configJSON(psids: 1...4, extra: Self.section(snapshot: snapA)))
        try await rt.prepare()
        let first = try #require(rt.leasequery)
        let learnt = Self.softwire("203.0.113.9", psid: 3, b4: "2001:db8:77::9")
        _ = try rt.table.insert(learnt)

        // Same servers, other timers, snapshot path and br-address; PSID 4 dropped from the statics.
        let changed = Self.section(snapshot: snapB)
            .replacingOccurrences(of: "\"connect\": 1,", with: "\"connect\": 2,")
            .replacingOccurrences(of: "\"snapshot_interval\": 0,", with: "\"snapshot_interval\": 0, \"br_address\": \"2001:db8:ffff::99\",")
        let report = try await rt.apply(config(Lab.configJSON(psids: 1...3, extra: changed)))
        #expect(report.leasequeryRestarted == ["br_address", "timers", "snapshot"])
        #expect(report.serversAdded.isEmpty && report.serversRemoved.isEmpty)
        #expect(report.staticRemoved == 1 && report.staticChanged == 0)
        let second = try #require(rt.leasequery)
        #expect(second !== first)
        #expect(second.configuration.brAddress == IPv6Address("2001:db8:ffff::99"))
        #expect(second.configuration.timers.connectTimeout == 2 && second.configuration.snapshotPath == snapB)
        // The old requestor wrote its snapshot when it stopped; the table stayed live: three
        // statics and the learnt binding, now a replaceable orphan of the new requestor.
        #expect(FileManager.default.fileExists(atPath: snapA))
        #expect(rt.table.count == 4 && rt.table.softwire(ipv4: learnt.ipv4, psid: 3) == learnt)
        let status = try await second.status()
        #expect(status.orphans == 1)
        #expect(try await second.withSync { $0.ownedCount(server: BindingSync.staticOwner) } == 3)

        // A restart whose TLS files are unusable is refused before anything stops or changes.
        try "not a certificate".write(toFile: dir + "/bad-ca.pem", atomically: true, encoding: .utf8)
        let badTLS = changed.replacingOccurrences(of: "\"port\": 9}", with:
            "\"port\": 9, \"tls\": {\"ca\": \"\(dir)/bad-ca.pem\"}}")
            .replacingOccurrences(of: "\"connect\": 2,", with: "\"connect\": 3,")
        await #expect(throws: (any Error).self) { try await rt.apply(config(Lab.configJSON(psids: 1...2, extra: badTLS))) }
        #expect(rt.leasequery === second && rt.table.count == 4)
        await second.stop()
    }

    @Test func staticPortSetConflictRefusesTheWholeReload() async throws {
        let dir = try tempDir("own-conflict")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lwaftr.json"
        let good = Lab.configJSON(psids: 1...4)
        try Lab.write(good, to: path)
        var o = RunOptions()
        o.io = .none
        o.configPath = path
        let logs = LogCapture()
        let rt = try LwAFTRRuntime(config: config(good), options: o, logger: logs.logger)
        // 203.0.113.9 uses PSID length 6 in the table (learnt earlier, not in the configuration).
        let other = Self.softwire("203.0.113.9", psid: 3, b4: "2001:db8:77::9")
        _ = try rt.table.insert(other)
        let before = Set(rt.table.allSoftwires())
        let gen = rt.settings.generation

        // New file: a policy change, a new PSID for 192.0.2.1 (fine) and 203.0.113.9 with PSID length 4 (conflict).
        let bad = good
            .replacingOccurrences(of: "\"hairpinning\": true", with: "\"hairpinning\": false")
            .replacingOccurrences(of: "\"b4\": \"2001:db8:b4::4\"}",
                                  with: "\"b4\": \"2001:db8:b4::4\"},\n    {\"ipv4\": \"192.0.2.1\", \"psid\": 5, \"psid_length\": 6, \"b4\": \"2001:db8:b4::5\"},\n"
                                      + "    {\"ipv4\": \"203.0.113.9\", \"psid\": 1, \"psid_length\": 4, \"b4\": \"2001:db8:b4::9\"}")
        await #expect(throws: ReloadError.self) { try await rt.apply(config(bad)) }
        #expect(Set(rt.table.allSoftwires()) == before)
        #expect(rt.settings.generation == gen && rt.config.internal.hairpinning == true)

        // Through SIGHUP's path: one error line, the failure counter, nothing applied.
        try Lab.write(bad, to: path)
        #expect(await rt.reload() == false)
        let errors = logs.messages(.error)
        #expect(errors.count == 1 && errors[0].contains("203.0.113.9"), "\(errors)")
        #expect(rt.reloadFailures == 1 && rt.reloads == 0)
        #expect(Set(rt.table.allSoftwires()) == before && rt.settings.generation == gen)
    }
}
