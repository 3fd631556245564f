#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an lwAFTR configuration from a file or from text, in Snabb `.conf` or native JSON form.
public enum ConfigLoader {
    /// Loads `path`: `.json` files as native JSON, anything else as a Snabb lwAFTR `.conf`.
    /// A missing or unreadable file is reported with line 0 and field `file`.
    public static func load(path: String) throws(ConfigError) -> LwAFTRConfig {
        let text = try readFile(path)
        if path.lowercased().hasSuffix(".json") { return try JSONConfig.parse(text, file: path) }
        return try SnabbConfParser.parse(text, file: path)
    }

    /// Parses Snabb `softwire-config { ... }` text; `file` only labels errors.
    public static func parseSnabb(_ text: String, file: String) throws(ConfigError) -> LwAFTRConfig {
        try SnabbConfParser.parse(text, file: file)
    }

    /// Parses native JSON configuration text; `file` only labels errors.
    public static func parseJSON(_ text: String, file: String) throws(ConfigError) -> LwAFTRConfig {
        try JSONConfig.parse(text, file: file)
    }

    /// Renders `config` as native JSON (see `JSONConfig.toJSON`).
    public static func toJSON(_ config: LwAFTRConfig) -> String { JSONConfig.toJSON(config) }

    static func readFile(_ path: String) throws(ConfigError) -> String {
        func fail(_ what: String) -> ConfigError {
            ConfigError(file: path, line: 0, field: "file", message: what)
        }
        guard let fp = fopen(path, "rb") else { throw fail("cannot open: \(errnoText())") }
        defer { fclose(fp) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, fp) }
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(fp) != 0 { throw fail("cannot read: \(errnoText())") }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("not valid UTF-8 text") }
        return text
    }

    private static func errnoText() -> String {
        guard let s = strerror(errno) else { return "error \(errno)" }
        return String(cString: s)
    }
}

// MARK: - Shared by both readers

/// Where a value sits in the source: its line and its field path (`parent + leaf`, kept apart so
/// that making a location for every value read rarely allocates).
struct ConfigLoc {
    var line: Int
    var parent: String
    var leaf: String

    init(line: Int, field: String) { self.init(line: line, parent: field, leaf: "") }
    init(line: Int, parent: String, leaf: String) {
        self.line = line
        self.parent = parent
        self.leaf = leaf
    }

    var field: String { parent + leaf }
}

/// Value ranges both readers enforce.
enum ConfigLimits {
    static let mtuIPv4 = 68...65535
    static let mtuIPv6 = 1280...65535
    static let vlanTag = 0...4095
    static let psid = 0...65535
    static let psidLength = 0...16
    static let offset = 0...16
    static let queueID = 0...255
    static let uint32 = 0...Int(UInt32.max)
    static let positiveUInt32 = 1...Int(UInt32.max)
    static let flowLabel = 0...0xF_FFFF
}

/// Value conversions and cross-entry checks shared by the Snabb and JSON readers.
struct ConfigChecker {
    let file: String

    func error(_ loc: ConfigLoc, _ message: String) -> ConfigError {
        ConfigError(file: file, line: loc.line, field: loc.field, message: message)
    }

    func ipv4(_ text: String, _ loc: ConfigLoc) throws(ConfigError) -> IPv4Address {
        guard let a = IPv4Address(text) else { throw error(loc, "invalid IPv4 address '\(text)'") }
        return a
    }

    func ipv6(_ text: String, _ loc: ConfigLoc) throws(ConfigError) -> IPv6Address {
        guard let a = IPv6Address(text) else { throw error(loc, "invalid IPv6 address '\(text)'") }
        return a
    }

    func mac(_ text: String, _ loc: ConfigLoc) throws(ConfigError) -> MACAddress {
        guard let a = MACAddress(text) else { throw error(loc, "invalid MAC address '\(text)'") }
        return a
    }

    func bool(_ text: String, _ loc: ConfigLoc) throws(ConfigError) -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw error(loc, "expected true or false, found '\(text)'")
        }
    }

    /// A decimal integer (optional sign) within `range`.
    func integer(_ text: String, _ range: ClosedRange<Int>, _ loc: ConfigLoc) throws(ConfigError) -> Int {
        let digits = text.utf8.drop(while: { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") })
        guard !digits.isEmpty, text.utf8.count - digits.count <= 1,
              digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw error(loc, "expected an integer, found '\(text)'")
        }
        guard let v = Int(text), range.contains(v) else {
            throw error(loc, "\(text) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// Turns softwire drafts into softwires: fills in the default br-address, checks the port set,
    /// that the PSID fits, that (ipv4, psid) is unique and that one IPv4 has one port set.
    func softwires(_ drafts: [SoftwireDraft], defaultBR: IPv6Address?) throws(ConfigError) -> [Softwire] {
        var out: [Softwire] = []
        out.reserveCapacity(drafts.count)
        var seen: [SoftwireKey: Int] = [:]
        var portSets: [IPv4Address: (PortSet, Int)] = [:]
        for d in drafts {
            guard let portSet = PortSet(offset: UInt8(d.offset), psidLength: UInt8(d.psidLength)) else {
                if d.offset > 15 { throw error(d.offsetLoc, "offset \(d.offset) leaves no ports") }
                throw error(d.psidLengthLoc, "PSID length \(d.psidLength) + offset \(d.offset) exceeds 16 bits")
            }
            guard let psidValue = d.psid ?? (d.psidLength == 0 ? 0 : nil) else {
                throw error(d.psidLoc, "missing psid (required when the PSID length is \(d.psidLength))")
            }
            let psid = UInt16(psidValue)
            guard portSet.contains(psid: psid) else {
                throw error(d.psidLoc, "psid \(psid) does not fit in a \(d.psidLength)-bit PSID "
                            + "(maximum \(portSet.psidMask))")
            }
            guard let br = d.br ?? defaultBR else {
                throw error(d.brLoc, "missing BR address (and no instance internal address to default to)")
            }
            if let (other, line) = portSets[d.ipv4], other != portSet {
                let loc = other.psidLength != portSet.psidLength ? d.psidLengthLoc : d.offsetLoc
                throw error(loc, "port set \(portSet) of \(d.ipv4) disagrees with \(other) at line \(line)")
            }
            portSets[d.ipv4] = portSets[d.ipv4] ?? (portSet, d.entryLine)
            let key = SoftwireKey(ipv4: d.ipv4, psid: psid)
            if let first = seen[key] {
                throw error(d.psidLoc, "duplicate softwire \(d.ipv4) psid \(psid) (first at line \(first))")
            }
            seen[key] = d.entryLine
            out.append(Softwire(ipv4: d.ipv4, psid: psid, b4: d.b4, br: br, portSet: portSet))
        }
        return out
    }

    /// Rejects two instances with the same (device, queue).
    func checkInstances(_ instances: [(InstanceConfig, ConfigLoc)]) throws(ConfigError) {
        var seen: [String: Int] = [:]
        for (inst, loc) in instances {
            let key = "\(inst.device)\u{0}\(inst.queueID)"
            if let first = seen[key] {
                throw error(loc, "duplicate instance device '\(inst.device)' queue \(inst.queueID) "
                            + "(first at line \(first))")
            }
            seen[key] = loc.line
        }
    }
}

struct SoftwireKey: Hashable {
    var ipv4: IPv4Address
    var psid: UInt16
}

/// A softwire as read, before defaults and cross-entry checks. Locations of absent leaves point
/// at the entry itself.
struct SoftwireDraft {
    var ipv4: IPv4Address
    var psid: Int?
    var psidLength: Int
    var offset: Int
    var b4: IPv6Address
    var br: IPv6Address?
    var entryLine: Int
    var psidLoc: ConfigLoc
    var psidLengthLoc: ConfigLoc
    var offsetLoc: ConfigLoc
    var brLoc: ConfigLoc
}

// MARK: - A small JSON reader that records line numbers

/// A parsed JSON value with the line it starts on and its path (`instances[0].external.mac`).
struct JSONNode {
    indirect enum Value {
        case object([(key: String, line: Int, value: JSONNode)])
        case array([JSONNode])
        case string(String)
        case number(String)
        case bool(Bool)
        case null
    }
    var value: Value
    var line: Int
    /// The path is `parent + key`: key is `name` at the top, `.name` inside an object, `[i]` in an array.
    var parent: String
    var key: String

    var path: String { parent + key }
    var loc: ConfigLoc {
        key.isEmpty ? ConfigLoc(line: line, field: "(top level)") : ConfigLoc(line: line, parent: parent, leaf: key)
    }
}

/// RFC 8259 reader over UTF-8 bytes; numbers are kept as text.
struct JSONReader {
    private let bytes: [UInt8]
    private let file: String
    private var pos = 0
    private var line = 1
    private static let maxDepth = 64

    init(text: String, file: String) {
        bytes = Array(text.utf8)
        self.file = file
    }

    private func fail(_ path: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: line, field: path.isEmpty ? "(top level)" : path, message: message)
    }

    mutating func parseDocument() throws(ConfigError) -> JSONNode {
        let v = try value(parent: "", key: "", depth: 0)
        skipSpace()
        guard pos == bytes.count else { throw fail("", "unexpected text after the JSON value") }
        return v
    }

    private mutating func skipSpace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): break
            default: return
            }
            pos += 1
        }
    }

    private mutating func expect(_ c: UInt8, _ path: @autoclosure () -> String) throws(ConfigError) {
        skipSpace()
        guard pos < bytes.count, bytes[pos] == c else {
            throw fail(path(), "expected '\(Character(Unicode.Scalar(c)))', found \(found())")
        }
        pos += 1
    }

    private func found() -> String {
        guard pos < bytes.count else { return "end of input" }
        let c = bytes[pos]
        return c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(String(c, radix: 16))"
    }

    private mutating func value(parent: String, key: String, depth: Int) throws(ConfigError) -> JSONNode {
        func path() -> String { parent + key }
        skipSpace()
        guard depth <= Self.maxDepth else { throw fail(path(), "nesting too deep") }
        guard pos < bytes.count else { throw fail(path(), "unexpected end of input") }
        let startLine = line
        func node(_ v: JSONNode.Value) -> JSONNode { JSONNode(value: v, line: startLine, parent: parent, key: key) }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            let own = path()
            var members: [(key: String, line: Int, value: JSONNode)] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return node(.object([])) }
            repeat {
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                    throw fail(own, "expected a key string, found \(found())")
                }
                let keyLine = line
                let name = try string(own)
                try expect(UInt8(ascii: ":"), own)
                let child = try value(parent: own, key: own.isEmpty ? name : "." + name, depth: depth + 1)
                members.append((name, keyLine, child))
            } while try more(close: UInt8(ascii: "}"), own)
            return node(.object(members))
        case UInt8(ascii: "["):
            pos += 1
            let own = path()
            var items: [JSONNode] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return node(.array([])) }
            repeat {
                items.append(try value(parent: own, key: "[\(items.count)]", depth: depth + 1))
            } while try more(close: UInt8(ascii: "]"), own)
            return node(.array(items))
        case UInt8(ascii: "\""): return node(.string(try string(path())))
        case UInt8(ascii: "t"): try literal("true", path()); return node(.bool(true))
        case UInt8(ascii: "f"): try literal("false", path()); return node(.bool(false))
        case UInt8(ascii: "n"): try literal("null", path()); return node(.null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return node(.number(try number(path())))
        default: throw fail(path(), "unexpected \(found())")
        }
    }

    /// After an element: true on `,`, false on `close`.
    private mutating func more(close: UInt8, _ path: @autoclosure () -> String) throws(ConfigError) -> Bool {
        skipSpace()
        guard pos < bytes.count else { throw fail(path(), "unexpected end of input (unbalanced brackets)") }
        if bytes[pos] == UInt8(ascii: ",") { pos += 1; return true }
        if bytes[pos] == close { pos += 1; return false }
        throw fail(path(), "expected ',' or '\(Character(Unicode.Scalar(close)))', found \(found())")
    }

    private mutating func literal(_ word: String, _ path: @autoclosure () -> String) throws(ConfigError) {
        for c in word.utf8 {
            guard pos < bytes.count, bytes[pos] == c else { throw fail(path(), "invalid literal (expected \(word))") }
            pos += 1
        }
    }

    private mutating func number(_ path: @autoclosure () -> String) throws(ConfigError) -> String {
        let start = pos
        func digits() -> Int {
            let s = pos
            while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1 }
            return pos - s
        }
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        let intStart = pos
        let n = digits()
        guard n > 0, n == 1 || bytes[intStart] != UInt8(ascii: "0") else { throw fail(path(), "invalid number") }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw fail(path(), "invalid number") }
        }
        if pos < bytes.count, bytes[pos] | 0x20 == UInt8(ascii: "e") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw fail(path(), "invalid number") }
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func string(_ path: @autoclosure () -> String) throws(ConfigError) -> String {
        pos += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw fail(path(), "unterminated string") }
            let c = bytes[pos]
            pos += 1
            if c == UInt8(ascii: "\"") { break }
            guard c >= 0x20 else { throw fail(path(), "control character in string") }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard pos < bytes.count else { throw fail(path(), "unterminated string") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4(path())
                if (0xD800..<0xDC00).contains(scalar) {
                    guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                    else { throw fail(path(), "unpaired surrogate in \\u escape") }
                    pos += 2
                    let low = try hex4(path())
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw fail(path(), "unpaired surrogate in \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail(path(), "invalid \\u escape") }
                out.append(contentsOf: String(Character(u)).utf8)
            default: throw fail(path(), "invalid escape in string")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4(_ path: @autoclosure () -> String) throws(ConfigError) -> UInt32 {
        guard pos + 4 <= bytes.count, bytes[pos..<pos + 4].allSatisfy(isHexDigit),
              let v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
        else { throw fail(path(), "invalid \\u escape") }
        pos += 4
        return v
    }
}

/// Whether something exists at `path` (stat(2) succeeds).
public func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}
