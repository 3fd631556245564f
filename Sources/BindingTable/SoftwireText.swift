public import LwAFTRCore

/// Text forms of softwires for `lwaftr bindings dump` / `load`: CSV (with a header line) and
/// JSON lines, fields `ipv4, psid, psid_len, offset, b4_ipv6, br_ipv6`.
///
/// Reading: blank lines and lines starting with `#` are skipped; a line starting with `{` is a
/// JSON object, anything else CSV. A CSV header line (names only: no `.` or `:`) sets the column order
/// for the lines after it; without one the order above is assumed. `br_ipv6` may be left out
/// when a default br-address is given. Every record is validated (addresses, port set, PSID);
/// cross-record conflicts are the table's to reject.
public enum SoftwireText {
    /// A line that is not a valid softwire.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// 1-based line number.
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// The CSV header line.
    public static let csvHeader = "ipv4,psid,psid_len,offset,b4_ipv6,br_ipv6"

    static let fields = ["ipv4", "psid", "psid_len", "offset", "b4_ipv6", "br_ipv6"]

    /// One CSV line (no newline).
    public static func csvLine(_ s: Softwire) -> String {
        "\(s.ipv4),\(s.psid),\(s.portSet.psidLength),\(s.portSet.offset),\(s.b4),\(s.br)"
    }

    /// One JSON object line (no newline).
    public static func jsonLine(_ s: Softwire) -> String {
        "{\"ipv4\":\"\(s.ipv4)\",\"psid\":\(s.psid),\"psid_len\":\(s.portSet.psidLength),"
            + "\"offset\":\(s.portSet.offset),\"b4_ipv6\":\"\(s.b4)\",\"br_ipv6\":\"\(s.br)\"}"
    }

    /// Parses a CSV / JSON-lines file.
    public static func parse(_ text: String, defaultBR: IPv6Address? = nil) throws(ParseError) -> [Softwire] {
        try parseLines(text, defaultBR: defaultBR).map(\.softwire)
    }

    /// Parses a CSV / JSON-lines file, keeping each softwire's 1-based line number.
    public static func parseLines(_ text: String, defaultBR: IPv6Address? = nil)
        throws(ParseError) -> [(line: Int, softwire: Softwire)] {
        var out: [(line: Int, softwire: Softwire)] = []
        var columns = fields
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            var values: [String: Substring] = [:]
            if line.hasPrefix("{") {
                values = try jsonObject(line, line: lineNo)
            } else {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
                if cells.allSatisfy({ !$0.contains(":") && !$0.contains(".") }) {  // a header line
                    for c in cells where !fields.contains(String(c)) {
                        throw ParseError(line: lineNo, message: "unknown column '\(c)'")
                    }
                    columns = cells.map(String.init)
                    continue
                }
                guard cells.count <= columns.count else {
                    throw ParseError(line: lineNo, message: "\(cells.count) fields, expected \(columns.count)")
                }
                for (name, cell) in zip(columns, cells) where !cell.isEmpty { values[name] = cell }
            }
            out.append((lineNo, try softwire(values, defaultBR: defaultBR, line: lineNo)))
        }
        return out
    }

    static func softwire(_ v: [String: Substring], defaultBR: IPv6Address?, line: Int) throws(ParseError) -> Softwire {
        func need(_ key: String) throws(ParseError) -> Substring {
            guard let s = v[key] else { throw ParseError(line: line, message: "missing \(key)") }
            return s
        }
        func number<T: FixedWidthInteger>(_ key: String, _: T.Type, default d: T? = nil) throws(ParseError) -> T {
            if v[key] == nil, let d { return d }
            let s = try need(key)
            guard let n = T(s) else { throw ParseError(line: line, message: "\(key) '\(s)' is not a number in 0...\(T.max)") }
            return n
        }
        let ipText = try need("ipv4")
        guard let ip = IPv4Address(ipText) else { throw ParseError(line: line, message: "bad ipv4 '\(ipText)'") }
        let b4Text = try need("b4_ipv6")
        guard let b4 = IPv6Address(b4Text) else { throw ParseError(line: line, message: "bad b4_ipv6 '\(b4Text)'") }
        let br: IPv6Address
        if let t = v["br_ipv6"] {
            guard let a = IPv6Address(t) else { throw ParseError(line: line, message: "bad br_ipv6 '\(t)'") }
            br = a
        } else if let d = defaultBR {
            br = d
        } else {
            throw ParseError(line: line, message: "missing br_ipv6 (and no default br-address)")
        }
        let k = try number("psid_len", UInt8.self, default: 0), a = try number("offset", UInt8.self, default: 0)
        guard let ps = PortSet(offset: a, psidLength: k) else {
            throw ParseError(line: line, message: "offset \(a) + psid_len \(k) exceeds 16")
        }
        let psid = try number("psid", UInt16.self, default: k == 0 ? 0 : nil)
        guard ps.contains(psid: psid) else {
            throw ParseError(line: line, message: "psid \(psid) does not fit psid_len \(k)")
        }
        return Softwire(ipv4: ip, psid: psid, b4: b4, br: br, portSet: ps)
    }

    /// A flat JSON object of string and integer members.
    static func jsonObject(_ s: Substring, line: Int) throws(ParseError) -> [String: Substring] {
        let u = Array(s.utf8)
        var i = 0
        func fail(_ m: String) -> ParseError { ParseError(line: line, message: "JSON: \(m) at column \(i + 1)") }
        func skip() { while i < u.count, u[i] == 0x20 || u[i] == 0x09 || u[i] == 0x0D { i += 1 } }
        func expect(_ c: UInt8) throws(ParseError) {
            skip()
            guard i < u.count, u[i] == c else { throw fail("expected '\(Character(UnicodeScalar(c)))'") }
            i += 1
        }
        func string() throws(ParseError) -> Substring {
            try expect(UInt8(ascii: "\""))
            let start = i
            while i < u.count, u[i] != UInt8(ascii: "\"") {
                guard u[i] != UInt8(ascii: "\\") else { throw fail("escapes are not supported") }
                i += 1
            }
            guard i < u.count else { throw fail("unterminated string") }
            i += 1
            return Substring(String(decoding: u[start..<(i - 1)], as: UTF8.self))
        }
        var out: [String: Substring] = [:]
        try expect(UInt8(ascii: "{"))
        skip()
        if i < u.count, u[i] == UInt8(ascii: "}") { i += 1 } else {
            while true {
                let key = String(try string())
                guard fields.contains(key) else { throw fail("unknown key '\(key)'") }
                guard out[key] == nil else { throw fail("duplicate key '\(key)'") }
                try expect(UInt8(ascii: ":"))
                skip()
                if i < u.count, u[i] == UInt8(ascii: "\"") {
                    out[key] = try string()
                } else {
                    let start = i
                    while i < u.count, u[i] >= UInt8(ascii: "0") && u[i] <= UInt8(ascii: "9") { i += 1 }
                    guard i > start else { throw fail("expected a string or a non-negative integer") }
                    out[key] = Substring(String(decoding: u[start..<i], as: UTF8.self))
                }
                skip()
                guard i < u.count else { throw fail("unterminated object") }
                if u[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        skip()
        guard i == u.count else { throw fail("trailing characters") }
        return out
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }
}
