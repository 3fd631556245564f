/// A filter expression that could not be compiled.
public struct FilterError: Error, Sendable, CustomStringConvertible {
    public var expression: String
    public var message: String
    public var description: String { "filter \"\(expression)\": \(message)" }
}

/// A compiled packet filter for the pflang subset lwAFTR configurations use:
/// protocol words (`ip`, `ip6`, `arp`, `tcp`, `udp`, `icmp`, `icmp6`, `vlan`), `len OP N`
/// (`<`, `<=`, `>`, `>=`, `=`, `==`, `!=`), `not`/`!`, `and`/`&&`, `or`/`||` and parentheses.
/// Evaluated over untagged Ethernet frames; `len` is the frame length.
public final class PacketFilter {
    @usableFromInline indirect enum Node {
        case ethertype(UInt16)
        case ipProto(UInt8, v6: Bool?)  // v6 nil = either family
        case length(op: UInt8, value: Int)
        case not(Node)
        case and(Node, Node)
        case or(Node, Node)
        case constant(Bool)
    }

    public let expression: String
    @usableFromInline let root: Node

    public init(_ expression: String) throws(FilterError) {
        self.expression = expression
        var parser = Parser(text: expression)
        do {
            let n = try parser.parseOr()
            guard parser.atEnd else { throw FilterError(expression: expression, message: "unexpected '\(parser.peek ?? "")'") }
            root = n
        } catch let e as FilterError {
            throw FilterError(expression: expression, message: e.message)
        } catch {
            throw FilterError(expression: expression, message: "\(error)")
        }
    }

    /// Whether the frame passes the filter.
    @inlinable public func matches(_ p: Packet) -> Bool { Self.eval(root, p) }

    @inlinable static func eval(_ n: Node, _ p: Packet) -> Bool {
        switch n {
        case .constant(let b): return b
        case .ethertype(let t): return p.length >= 14 && p.data.be16(12) == t
        case .ipProto(let proto, let v6):
            guard p.length >= 14 else { return false }
            let t = p.data.be16(12)
            if t == 0x0800 && v6 != true { return p.length >= 34 && p.data.u8(14 + 9) == proto }
            if t == 0x86DD && v6 != false { return p.length >= 54 && p.data.u8(14 + 6) == proto }
            return false
        case .length(let op, let v):
            switch op {
            case 0: return p.length < v
            case 1: return p.length <= v
            case 2: return p.length > v
            case 3: return p.length >= v
            case 4: return p.length == v
            default: return p.length != v
            }
        case .not(let x): return !eval(x, p)
        case .and(let x, let y): return eval(x, p) && eval(y, p)
        case .or(let x, let y): return eval(x, p) || eval(y, p)
        }
    }

    struct Parser {
        var tokens: [String]
        var pos = 0

        init(text: String) {
            var out: [String] = []
            var cur = ""
            func flush() { if !cur.isEmpty { out.append(cur); cur = "" } }
            let chars = Array(text)
            var i = 0
            while i < chars.count {
                let ch = chars[i]
                if ch == " " || ch == "\t" || ch == "\n" { flush(); i += 1; continue }
                if ch == "(" || ch == ")" { flush(); out.append(String(ch)); i += 1; continue }
                if "<>=!&|".contains(ch) {
                    flush()
                    var op = String(ch)
                    if i + 1 < chars.count, "=&|".contains(chars[i + 1]) { op.append(chars[i + 1]); i += 1 }
                    out.append(op)
                    i += 1
                    continue
                }
                cur.append(ch)
                i += 1
            }
            flush()
            tokens = out
        }

        var atEnd: Bool { pos >= tokens.count }
        var peek: String? { atEnd ? nil : tokens[pos] }
        mutating func next() -> String? { defer { pos += 1 }; return peek }

        mutating func parseOr() throws -> Node {
            var l = try parseAnd()
            while peek == "or" || peek == "||" { pos += 1; l = .or(l, try parseAnd()) }
            return l
        }

        mutating func parseAnd() throws -> Node {
            var l = try parseUnary()
            while peek == "and" || peek == "&&" { pos += 1; l = .and(l, try parseUnary()) }
            return l
        }

        mutating func parseUnary() throws -> Node {
            guard let t = next() else { throw FilterError(expression: "", message: "unexpected end of expression") }
            switch t {
            case "not", "!": return .not(try parseUnary())
            case "(":
                let n = try parseOr()
                guard next() == ")" else { throw FilterError(expression: "", message: "missing ')'") }
                return n
            case "ip": return .ethertype(0x0800)
            case "ip6": return .ethertype(0x86DD)
            case "arp": return .ethertype(0x0806)
            case "tcp": return .ipProto(6, v6: nil)
            case "udp": return .ipProto(17, v6: nil)
            case "icmp": return .ipProto(1, v6: false)
            case "icmp6": return .ipProto(58, v6: true)
            case "len":
                guard let op = next(), let vs = next(), let v = Int(vs) else {
                    throw FilterError(expression: "", message: "'len' needs a comparison and a number")
                }
                let code: UInt8
                switch op {
                case "<": code = 0
                case "<=": code = 1
                case ">": code = 2
                case ">=": code = 3
                case "=", "==": code = 4
                case "!=": code = 5
                default: throw FilterError(expression: "", message: "unknown comparison '\(op)'")
                }
                return .length(op: code, value: v)
            default:
                throw FilterError(expression: "", message: "unsupported primitive '\(t)'")
            }
        }
    }
}
