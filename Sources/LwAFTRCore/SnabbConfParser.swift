/// Reader for Snabb lwAFTR `.conf` files: snabb-softwire-v3 YANG data in curly-brace syntax
/// (`leaf value;`, `container { ... }`, lists as repeated blocks, everything inside
/// `softwire-config { }`). Errors name the line and the YANG path of the offending statement.
public enum SnabbConfParser {
    /// Parses `.conf` text into a validated configuration; `file` only labels errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> LwAFTRConfig {
        var parser = SnabbTreeParser(text: text, file: file)
        let root = try parser.parseFile()
        return try SnabbMapper(check: ConfigChecker(file: file)).map(root)
    }
}

/// One statement: a leaf (`value` set) or a container / list entry (`children` set).
struct SnabbNode {
    var name: String
    var line: Int
    /// The path of the enclosing container ("" at the top level).
    var parent: String
    var value: String?
    var children: [SnabbNode]?

    var path: String { parent.isEmpty ? name : parent + "/" + name }
    var loc: ConfigLoc {
        parent.isEmpty ? ConfigLoc(line: line, field: name) : ConfigLoc(line: line, parent: parent, leaf: "/" + name)
    }
}

// MARK: - Tokens and tree

struct SnabbToken {
    enum Kind { case word, quoted, open, close, semicolon, end }
    var kind: Kind
    var text: String
    var line: Int
}

/// Tokenizer plus recursive-descent tree builder; tracks line numbers.
struct SnabbTreeParser {
    private let bytes: [UInt8]
    private let file: String
    private var pos = 0
    private var line = 1
    private static let maxDepth = 64

    init(text: String, file: String) {
        bytes = Array(text.utf8)
        self.file = file
    }

    private func fail(_ line: Int, _ path: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: line, field: path.isEmpty ? "(top level)" : path, message: message)
    }

    mutating func parseFile() throws(ConfigError) -> SnabbNode {
        SnabbNode(name: "", line: 1, parent: "", value: nil, children: try parseBody(path: "", opener: nil, depth: 0))
    }

    private mutating func parseBody(path: String, opener: Int?, depth: Int) throws(ConfigError) -> [SnabbNode] {
        guard depth <= Self.maxDepth else { throw fail(opener ?? line, path, "nesting too deep") }
        var out: [SnabbNode] = []
        while true {
            let t = try token(path)
            switch t.kind {
            case .end:
                if let opener { throw fail(opener, path, "unbalanced braces: '{' is never closed") }
                return out
            case .close:
                guard opener != nil else { throw fail(t.line, path, "unbalanced braces: unexpected '}'") }
                return out
            case .open, .semicolon:
                throw fail(t.line, path, "unexpected '\(t.text)' where a leaf or container name was expected")
            case .quoted:
                throw fail(t.line, path, "unexpected quoted string \"\(t.text)\" where a name was expected")
            case .word:
                let child = SnabbNode(name: t.text, line: t.line, parent: path, value: nil, children: nil)
                let v = try token(child.path)
                switch v.kind {
                case .open:
                    let kids = try parseBody(path: child.path, opener: t.line, depth: depth + 1)
                    out.append(SnabbNode(name: t.text, line: t.line, parent: path, value: nil, children: kids))
                case .word, .quoted:
                    let after = try token(child.path)
                    switch after.kind {
                    case .semicolon:
                        out.append(SnabbNode(name: t.text, line: t.line, parent: path, value: v.text, children: nil))
                    case .open:
                        throw fail(t.line, child.path, "unexpected value '\(v.text)' before '{'")
                    default:
                        throw fail(v.line, child.path, "missing ';' after '\(t.text) \(v.text)'")
                    }
                case .semicolon, .close, .end:
                    throw fail(t.line, child.path, "missing value")
                }
            }
        }
    }

    /// The next token; `path` labels lexical errors.
    private mutating func token(_ path: @autoclosure () -> String) throws(ConfigError) -> SnabbToken {
        try skipSpaceAndComments(path())
        guard pos < bytes.count else { return SnabbToken(kind: .end, text: "end of file", line: line) }
        let c = bytes[pos]
        switch c {
        case UInt8(ascii: "{"): pos += 1; return SnabbToken(kind: .open, text: "{", line: line)
        case UInt8(ascii: "}"): pos += 1; return SnabbToken(kind: .close, text: "}", line: line)
        case UInt8(ascii: ";"): pos += 1; return SnabbToken(kind: .semicolon, text: ";", line: line)
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return try quoted(path())
        default:
            let start = pos
            while pos < bytes.count, !Self.isDelimiter(bytes[pos]) { pos += 1 }
            return SnabbToken(kind: .word, text: String(decoding: bytes[start..<pos], as: UTF8.self), line: line)
        }
    }

    private static func isDelimiter(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
             UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ";"):
            return true
        default: return false
        }
    }

    private func peek(_ offset: Int) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }

    /// Skips blanks, `#` and `//` line comments and `/* */` block comments.
    private mutating func skipSpaceAndComments(_ path: String) throws(ConfigError) {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\n") {
                line += 1; pos += 1
            } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                pos += 1
            } else if c == UInt8(ascii: "#") || (c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/")) {
                while pos < bytes.count, bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
            } else if c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                let startLine = line
                pos += 2
                while pos < bytes.count, !(bytes[pos] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) {
                    if bytes[pos] == UInt8(ascii: "\n") { line += 1 }
                    pos += 1
                }
                guard pos < bytes.count else { throw fail(startLine, path, "unterminated '/*' comment") }
                pos += 2
            } else {
                return
            }
        }
    }

    /// A `"..."` (escapes `\n \t \" \\`) or `'...'` (no escapes) string; may span lines.
    private mutating func quoted(_ path: String) throws(ConfigError) -> SnabbToken {
        let quote = bytes[pos], startLine = line
        pos += 1
        var out: [UInt8] = []
        while pos < bytes.count, bytes[pos] != quote {
            var c = bytes[pos]
            if c == UInt8(ascii: "\n") { line += 1 }
            if c == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                pos += 1
                guard pos < bytes.count else { break }
                switch bytes[pos] {
                case UInt8(ascii: "n"): c = UInt8(ascii: "\n")
                case UInt8(ascii: "t"): c = UInt8(ascii: "\t")
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): c = bytes[pos]
                default: throw fail(line, path, "invalid escape '\\\(Character(Unicode.Scalar(bytes[pos])))'")
                }
            }
            out.append(c)
            pos += 1
        }
        guard pos < bytes.count else { throw fail(startLine, path, "unterminated quoted string") }
        pos += 1
        return SnabbToken(kind: .quoted, text: String(decoding: out, as: UTF8.self), line: startLine)
    }
}

// MARK: - Mapping onto LwAFTRConfig

/// What a statement name means inside one container.
enum SnabbKind { case leaf, container, list, ignoredLeaf, ignoredContainer }

/// A container's children sorted by the schema: rejects unknown names, leaf/container mix-ups
/// and repeated leaves or containers. Blocks are small, so lookups are linear scans.
struct SnabbBlock {
    /// Children found under one name kind; `subscript` returns the (single) one with that name.
    struct Found {
        fileprivate var nodes: [SnabbNode] = []
        subscript(name: String) -> SnabbNode? { nodes.first { $0.name == name } }
    }

    let node: SnabbNode
    var leaves = Found()
    var containers = Found()
    var lists: [String: [SnabbNode]] = [:]

    init(_ node: SnabbNode, _ schema: KeyValuePairs<String, SnabbKind>, _ check: ConfigChecker) throws(ConfigError) {
        self.node = node
        var seen: [(name: String, line: Int)] = []
        for child in node.children ?? [] {
            let isLeaf = child.value != nil
            guard let kind = schema.first(where: { $0.key == child.name })?.value else {
                throw check.error(child.loc, "unknown \(isLeaf ? "leaf" : "container") '\(child.name)'")
            }
            switch kind {
            case .leaf, .ignoredLeaf:
                guard isLeaf else { throw check.error(child.loc, "'\(child.name)' takes a value, not '{ ... }'") }
            case .container, .ignoredContainer, .list:
                guard !isLeaf else {
                    throw check.error(child.loc, "'\(child.name)' is a container: expected '{ ... }', found a value")
                }
            }
            if kind != .list {
                if let first = seen.first(where: { $0.name == child.name }) {
                    throw check.error(child.loc, "duplicate '\(child.name)' (first at line \(first.line))")
                }
                seen.append((child.name, child.line))
            }
            switch kind {
            case .leaf: leaves.nodes.append(child)
            case .container: containers.nodes.append(child)
            case .list: lists[child.name, default: []].append(child)
            case .ignoredLeaf, .ignoredContainer: break
            }
        }
    }

    /// Where an absent child would have been: the container's line, the child's path.
    func missingLoc(_ name: String) -> ConfigLoc { ConfigLoc(line: node.line, parent: node.path, leaf: "/" + name) }
}

struct SnabbMapper {
    let check: ConfigChecker

    static let externalPolicySchema: KeyValuePairs<String, SnabbKind> = [
        "mtu": .leaf, "mru": .ignoredLeaf, "ingress-filter": .leaf, "egress-filter": .leaf,
        "allow-incoming-icmp": .leaf, "generate-icmp-errors": .leaf,
        "error-rate-limiting": .container, "reassembly": .container,
    ]
    static let internalPolicySchema: KeyValuePairs<String, SnabbKind> = [
        "mtu": .leaf, "mru": .ignoredLeaf, "ingress-filter": .leaf, "egress-filter": .leaf,
        "allow-incoming-icmp": .leaf, "generate-icmp-errors": .leaf,
        "error-rate-limiting": .container, "reassembly": .container,
        "hairpinning": .leaf, "flow-label": .leaf,
        "vlan-tag": .ignoredLeaf,  // in the v3 model, but the per-queue vlan-tag is the one that counts
    ]

    private func block(_ node: SnabbNode,
                       _ schema: KeyValuePairs<String, SnabbKind>) throws(ConfigError) -> SnabbBlock {
        try SnabbBlock(node, schema, check)
    }

    private func required(_ b: SnabbBlock, _ name: String) throws(ConfigError) -> SnabbNode {
        if let n = b.leaves[name] ?? b.containers[name] { return n }
        throw check.error(b.missingLoc(name), "missing required '\(name)'")
    }

    private func int(_ n: SnabbNode, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        try check.integer(n.value ?? "", range, n.loc)
    }

    private func bool(_ n: SnabbNode) throws(ConfigError) -> Bool { try check.bool(n.value ?? "", n.loc) }

    func map(_ root: SnabbNode) throws(ConfigError) -> LwAFTRConfig {
        let top = try block(root, ["softwire-config": .container])
        guard let sc = top.containers["softwire-config"] else {
            throw check.error(ConfigLoc(line: 1, field: "softwire-config"), "missing 'softwire-config { ... }'")
        }
        let b = try block(sc, ["name": .ignoredLeaf, "binding-table": .container, "instance": .list,
                               "external-interface": .container, "internal-interface": .container])
        var config = LwAFTRConfig()
        if let n = b.containers["external-interface"] { config.external = try policy(n, isInternal: false) }
        if let n = b.containers["internal-interface"] { config.internal = try policy(n, isInternal: true) }
        var instances: [(InstanceConfig, ConfigLoc)] = []
        for n in b.lists["instance"] ?? [] { instances += try instance(n) }
        try check.checkInstances(instances)
        config.instances = instances.map(\.0)
        if let n = b.containers["binding-table"] {
            config.softwires = try check.softwires(bindingTable(n), defaultBR: config.instances.first?.internal.ipv6)
        }
        return config
    }

    private func policy(_ n: SnabbNode, isInternal: Bool) throws(ConfigError) -> InterfacePolicy {
        let b = try block(n, isInternal ? Self.internalPolicySchema : Self.externalPolicySchema)
        var p = isInternal ? InterfacePolicy.internalDefault : .externalDefault
        if let v = b.leaves["mtu"] { p.mtu = try int(v, isInternal ? ConfigLimits.mtuIPv6 : ConfigLimits.mtuIPv4) }
        if let v = b.leaves["ingress-filter"] { p.ingressFilter = v.value }
        if let v = b.leaves["egress-filter"] { p.egressFilter = v.value }
        if let v = b.leaves["allow-incoming-icmp"] { p.allowIncomingICMP = try bool(v) }
        if let v = b.leaves["generate-icmp-errors"] { p.generateICMPErrors = try bool(v) }
        if let v = b.leaves["hairpinning"] { p.hairpinning = try bool(v) }
        if let v = b.leaves["flow-label"] { p.flowLabel = UInt32(try int(v, ConfigLimits.flowLabel)) }
        if let c = b.containers["error-rate-limiting"] {
            let e = try block(c, ["packets": .leaf, "period": .leaf])
            if let v = e.leaves["packets"] { p.errorRatePackets = try int(v, ConfigLimits.uint32) }
            if let v = e.leaves["period"] { p.errorRatePeriod = try int(v, ConfigLimits.positiveUInt32) }
        }
        if let c = b.containers["reassembly"] {
            let r = try block(c, ["max-fragments-per-packet": .leaf, "max-packets": .leaf])
            if let v = r.leaves["max-fragments-per-packet"] {
                p.maxFragmentsPerPacket = try int(v, ConfigLimits.positiveUInt32)
            }
            if let v = r.leaves["max-packets"] { p.maxFragmentedPackets = try int(v, ConfigLimits.uint32) }
        }
        return p
    }

    private func bindingTable(_ n: SnabbNode) throws(ConfigError) -> [SoftwireDraft] {
        let b = try block(n, ["softwire": .list, "version": .ignoredContainer])
        var drafts: [SoftwireDraft] = []
        for sw in b.lists["softwire"] ?? [] {
            let s = try block(sw, ["ipv4": .leaf, "psid": .leaf, "b4-ipv6": .leaf, "br-address": .leaf,
                                   "padding": .ignoredLeaf, "port-set": .container])
            let ipv4Node = try required(s, "ipv4")
            let ipv4 = try check.ipv4(ipv4Node.value ?? "", ipv4Node.loc)
            let psid = try s.leaves["psid"].map { (v) throws(ConfigError) in try int(v, ConfigLimits.psid) }
            let b4Node = try required(s, "b4-ipv6")
            let b4 = try check.ipv6(b4Node.value ?? "", b4Node.loc)
            let brNode = s.leaves["br-address"]
            let br = try brNode.map { (v) throws(ConfigError) in try check.ipv6(v.value ?? "", v.loc) }
            var length = 0, offset = 0
            var lengthLoc = ConfigLoc(line: sw.line, parent: sw.parent, leaf: "/softwire/port-set/psid-length")
            var offsetLoc = ConfigLoc(line: sw.line, parent: sw.parent,
                                      leaf: "/softwire/port-set/reserved-ports-bit-count")
            if let psNode = s.containers["port-set"] {
                let ps = try block(psNode, ["psid-length": .leaf, "reserved-ports-bit-count": .leaf])
                lengthLoc.line = psNode.line
                offsetLoc.line = psNode.line
                if let v = ps.leaves["psid-length"] { length = try int(v, ConfigLimits.psidLength); lengthLoc = v.loc }
                if let v = ps.leaves["reserved-ports-bit-count"] {
                    offset = try int(v, ConfigLimits.offset); offsetLoc = v.loc
                }
            }
            drafts.append(SoftwireDraft(
                ipv4: ipv4, psid: psid, psidLength: length, offset: offset, b4: b4, br: br, entryLine: sw.line,
                psidLoc: s.leaves["psid"]?.loc ?? ConfigLoc(line: sw.line, parent: sw.parent, leaf: "/softwire/psid"),
                psidLengthLoc: lengthLoc, offsetLoc: offsetLoc,
                brLoc: brNode?.loc ?? ConfigLoc(line: sw.line, parent: sw.parent, leaf: "/softwire/br-address")))
        }
        return drafts
    }

    private func instance(_ n: SnabbNode) throws(ConfigError) -> [(InstanceConfig, ConfigLoc)] {
        let b = try block(n, ["device": .leaf, "external-device": .ignoredLeaf, "queue": .list])
        let device = try required(b, "device").value ?? ""
        let queues = b.lists["queue"] ?? []
        guard !queues.isEmpty else { throw check.error(b.missingLoc("queue"), "instance '\(device)' has no queue") }
        var out: [(InstanceConfig, ConfigLoc)] = []
        for q in queues {
            let qb = try block(q, ["id": .leaf, "external-interface": .container, "internal-interface": .container])
            let id = try int(required(qb, "id"), ConfigLimits.queueID)
            let ext = try addressing(required(qb, "external-interface"), ipv6: false)
            let inner = try addressing(required(qb, "internal-interface"), ipv6: true)
            out.append((InstanceConfig(device: device, queueID: id, external: ext, internal: inner), q.loc))
        }
        return out
    }

    private func addressing(_ n: SnabbNode, ipv6: Bool) throws(ConfigError) -> InterfaceAddressing {
        let b = try block(n, ["ip": .leaf, "mac": .leaf, "vlan-tag": .leaf, "next-hop": .container])
        let ipNode = try required(b, "ip"), macNode = try required(b, "mac")
        let mac = try check.mac(macNode.value ?? "", macNode.loc)
        let nh = try block(required(b, "next-hop"), ["ip": .leaf, "mac": .leaf, "resolved-mac": .ignoredLeaf])
        let nextHop: NextHop
        switch (nh.leaves["ip"], nh.leaves["mac"]) {
        case (nil, nil):
            throw check.error(nh.node.loc, "next-hop needs 'ip' or 'mac'")
        case (.some, .some(let m)):
            throw check.error(m.loc, "next-hop takes 'ip' or 'mac', not both")
        case (.some(let ip), nil):
            nextHop = ipv6 ? .ipv6(try check.ipv6(ip.value ?? "", ip.loc))
                : .ipv4(try check.ipv4(ip.value ?? "", ip.loc))
        case (nil, .some(let m)):
            nextHop = .mac(try check.mac(m.value ?? "", m.loc))
        }
        let vlan = try b.leaves["vlan-tag"].map { (v) throws(ConfigError) in UInt16(try int(v, ConfigLimits.vlanTag)) }
        var a = InterfaceAddressing(mac: mac, nextHop: nextHop, vlanTag: vlan)
        if ipv6 { a.ipv6 = try check.ipv6(ipNode.value ?? "", ipNode.loc) } else {
            a.ipv4 = try check.ipv4(ipNode.value ?? "", ipNode.loc)
        }
        return a
    }
}
