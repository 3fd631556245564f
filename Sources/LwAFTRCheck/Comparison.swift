/// Differences between an offline run and the expected output.
public struct CheckReport: Sendable {
    public var problems: [String] = []
    public init() {}
    public var passed: Bool { problems.isEmpty }
}

/// Compares emitted frames and counters with expectations, and explains every difference.
public enum Checker {
    /// Compares one side's frames packet by packet.
    public static func compare(side: String, actual: [[UInt8]], expected: [[UInt8]], into r: inout CheckReport) {
        if actual.count != expected.count {
            r.problems.append("\(side): \(actual.count) packets emitted, \(expected.count) expected")
        }
        for i in 0..<min(actual.count, expected.count) where actual[i] != expected[i] {
            let a = actual[i], e = expected[i]
            var first = 0
            while first < min(a.count, e.count) && a[first] == e[first] { first += 1 }
            r.problems.append("\(side) packet \(i): differs at byte \(first) (lengths \(a.count) vs \(e.count))\n"
                + "  got:      \(hex(a, around: first))\n  expected: \(hex(e, around: first))")
        }
    }

    /// Compares counters that changed with the expected map, ignoring `memuse-*` and this
    /// implementation's extension counters.
    public static func compare(counters actual: [String: UInt64], expected: [String: UInt64], into r: inout CheckReport) {
        let relevant = { (n: String) in !n.hasPrefix("memuse-") && !OfflineRunner.extensionCounters.contains(n) }
        for (n, v) in expected.sorted(by: { $0.key < $1.key }) where relevant(n) {
            let got = actual[n] ?? 0
            if got != v { r.problems.append("counter \(n): got \(got), expected \(v)") }
        }
        for (n, v) in actual.sorted(by: { $0.key < $1.key }) where relevant(n) && expected[n] == nil {
            r.problems.append("counter \(n): got \(v), expected no change")
        }
    }

    /// Hex dump of up to 32 bytes around `at`.
    static func hex(_ b: [UInt8], around at: Int) -> String {
        let start = max(0, at - 8), end = min(b.count, start + 32)
        guard start < end else { return "(no bytes at \(at))" }
        let digits = "0123456789abcdef".map { $0 }
        let body = b[start..<end].map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined(separator: " ")
        return "[\(start)..<\(end)] \(body)"
    }
}

/// Reads a counters file: Snabb's Lua table (`["name"] = 123,`) or a flat JSON object.
public enum CounterFile {
    public static func parse(_ text: String) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        var i = text.startIndex
        while let q1 = text[i...].firstIndex(of: "\"") {
            let nameStart = text.index(after: q1)
            guard let q2 = text[nameStart...].firstIndex(of: "\"") else { break }
            let name = String(text[nameStart..<q2])
            var j = text.index(after: q2)
            while j < text.endIndex && !text[j].isNumber && text[j] != "\"" { j = text.index(after: j) }
            var k = j
            while k < text.endIndex && text[k].isNumber { k = text.index(after: k) }
            if j < k, let v = UInt64(text[j..<k]) { out[name] = v }
            i = k
        }
        return out
    }
}
