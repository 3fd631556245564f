#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import LwAFTRCheck
import LwAFTRCore
import Testing

/// Runs every Snabb lwAFTR conformance case in-process and compares frames and counters.
struct ConformanceTests {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/ConformanceTests/ConformanceTests.swift
        return parts.joined(separator: "/")
    }()
    static let vectors = root + "/../shared/conformance/snabb-lwaftr"

    struct Case: Sendable, CustomStringConvertible {
        var base: String
        var name, conf, in4, in6, out4, out6, counters: String
        var description: String { name }
    }

    static func readText(_ path: String) -> String? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func cases(_ table: String, base: String = vectors) -> [Case] {
        guard let text = readText("\(base)/\(table)") else { return [] }
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Case(base: base, name: f[0], conf: f[1], in4: f[2], in6: f[3], out4: f[4], out6: f[5], counters: f[6])
        }
    }

    static var knownFailures: [String: String] {
        guard let text = readText(root + "/Tests/ConformanceTests/known-failures.tsv") else { return [:] }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if f.count == 2 { out[f[0]] = f[1] }
        }
        return out
    }

    static func path(_ rel: String, base: String = vectors) -> String { rel.isEmpty ? "" : "\(base)/data/\(rel)" }

    /// Runs one case; returns the differences (empty = pass).
    static func run(_ c: Case, expected6Override: [[UInt8]]? = nil) throws -> [String] {
        let path = { (rel: String) in Self.path(rel, base: c.base) }
        let config = try ConfigLoader.load(path: path(c.conf))
        let r = try OfflineRunner.run(config: config, in4: OfflineRunner.frames(path(c.in4)),
                                      in6: OfflineRunner.frames(path(c.in6)))
        var report = CheckReport()
        Checker.compare(side: "ipv4", actual: r.out4, expected: try OfflineRunner.frames(path(c.out4)), into: &report)
        Checker.compare(side: "ipv6", actual: r.out6,
                        expected: try expected6Override ?? OfflineRunner.frames(path(c.out6)), into: &report)
        let counters = readText(path(c.counters)).map(CounterFile.parse) ?? [:]
        Checker.compare(counters: r.counters, expected: counters, into: &report)
        return report.problems
    }

    static func runTable(_ table: String) throws -> (passed: Int, failed: [String]) {
        let all = cases(table)
        let known = knownFailures
        var passed = 0
        var unexpected: [String] = []
        var failed = 0
        for c in all {
            let problems = try run(c)
            if problems.isEmpty {
                passed += 1
                if known[c.name] != nil && table == "cases.tsv" {
                    unexpected.append("\(c.name): passes now; remove it from known-failures.tsv")
                }
            } else {
                failed += 1
                if let why = known[c.name], table == "cases.tsv" {
                    print("conformance known failure: \(c.name) (\(why.prefix(80))…)")
                } else {
                    unexpected.append("\(c.name):\n  " + problems.joined(separator: "\n  "))
                }
            }
        }
        print("conformance \(table): \(passed) of \(all.count) cases pass byte for byte and on counters (\(failed) not)")
        for u in unexpected { print("conformance FAIL \(u)") }
        return (passed, unexpected)
    }

    @Test("Snabb conformance table, untagged (84 cases)")
    func untagged() throws {
        let n = Self.cases("cases.tsv").count
        try #require(n > 0, "conformance vectors not found under \(Self.vectors)")
        let (passed, unexpected) = try Self.runTable("cases.tsv")
        #expect(unexpected.isEmpty, "\(unexpected.joined(separator: "\n"))")
        #expect(passed + Self.knownFailures.count == n)
    }

    @Test("Snabb conformance table, 802.1Q-tagged variant (84 cases)")
    func tagged() throws {
        let n = Self.cases("cases-vlan.tsv").count
        try #require(n > 0, "conformance vectors not found under \(Self.vectors)")
        let (passed, unexpected) = try Self.runTable("cases-vlan.tsv")
        #expect(unexpected.isEmpty, "\(unexpected.joined(separator: "\n"))")
        #expect(passed == n)
    }

    @Test("Project vectors (RFC behaviour where the reference deviates)")
    func projectVectors() throws {
        let all = Self.cases("cases.tsv", base: Self.root + "/Tests/Vectors")
        try #require(!all.isEmpty)
        for c in all {
            let problems = try Self.run(c)
            #expect(problems.isEmpty, "\(c.name):\n\(problems.joined(separator: "\n"))")
        }
    }

    /// The upstream expected file for this case is stale (old NS form); the vectors' README gives
    /// the correct expectation: the multicast NS, then the released hairpinned packet.
    @Test("NDP with NA received, against the corrected expectation")
    func ndpWithNACorrected() throws {
        let name = "NDP: With receiving NA, next_hop6_mac not initially set"
        let c = try #require(Self.cases("cases.tsv").first { $0.name == name })
        let corrected = try OfflineRunner.frames(Self.path("ndp_outgoing_ns.pcap"))
            + OfflineRunner.frames(Self.path("recap-ipv6.pcap"))
        #expect(corrected.count == 2)
        let problems = try Self.run(c, expected6Override: corrected)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
