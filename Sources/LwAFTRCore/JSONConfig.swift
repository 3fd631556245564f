/// Native JSON configuration: the same settings as a Snabb `.conf`, in an operator-friendly shape.
///
/// ```json
/// {
///   "softwires": [
///     {"ipv4": "178.79.150.15", "psid": 1, "psid_length": 4, "offset": 0,
///      "b4": "127:22:33:44:55:66:77:128", "br": "8:9:a:b:c:d:e:f"}
///   ],
///   "external": {"mtu": 1460, "allow_incoming_icmp": true, "generate_icmp_errors": true,
///                "error_rate_limiting": {"packets": 600000, "period": 2},
///                "reassembly": {"max_fragments_per_packet": 20, "max_packets": 20000},
///                "ingress_filter": "ip", "egress_filter": "ip"},
///   "internal": {"mtu": 1500, "hairpinning": true, "flow_label": 0, ...same keys as external},
///   "instances": [
///     {"device": "test", "queue": 0,
///      "external": {"ip": "10.10.10.10", "mac": "12:12:12:12:12:12", "next_hop": {"mac": "68:68:68:68:68:68"}},
///      "internal": {"ip": "8:9:a:b:c:d:e:f", "mac": "22:22:22:22:22:22", "next_hop": {"ip": "8:9:a:b:4:3:2:1"},
///                   "vlan": 1638}}
///   ]
/// }
/// ```
/// An optional `"leasequery"` section configures the requestor (see `JSONMapper.leasequery`):
/// `{"servers": [{"address": "2001:db8:0:c::2", "port": 547, "tls": {"ca": "ca.pem", "certificate": "c.pem",
/// "private_key": "k.pem", "verify_hostname": true, "server_name": "x"}}], "br_address": "…",
/// "requestor_duid": "hex", "snapshot": "/var/lib/lwaftr/bindings.snap", "snapshot_interval": 60,
/// "catch_up_on_start": false, "timers": {"connect": 10, "active_receive": 120, "bulk_data": 300,
/// "reconnect_min": 60, "reconnect_max": 600}}`.
///
/// Every key is optional except softwire `ipv4`/`b4` (and `psid` when `psid_length` > 0) and
/// instance `device`, `ip`, `mac`, `next_hop`. `br` defaults to the first instance's internal `ip`;
/// `queue` defaults to 0. Unknown keys are errors; errors name the line and a path such as
/// `softwires[3].psid`.
public enum JSONConfig {
    /// Parses JSON text into a validated configuration; `file` only labels errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> LwAFTRConfig {
        var reader = JSONReader(text: text, file: file)
        let root = try reader.parseDocument()
        return try JSONMapper(check: ConfigChecker(file: file)).map(root)
    }

    /// Pretty JSON in a fixed key order, one softwire per line; `parse(toJSON(c)) == c` for any
    /// configuration a reader produced.
    public static func toJSON(_ config: LwAFTRConfig) -> String {
        var out = "{\n  \"softwires\": ["
        for (i, s) in config.softwires.enumerated() {
            out += (i == 0 ? "\n" : ",\n") + "    {\"ipv4\": \"\(s.ipv4)\", \"psid\": \(s.psid), "
                + "\"psid_length\": \(s.portSet.psidLength), \"offset\": \(s.portSet.offset), "
                + "\"b4\": \"\(s.b4)\", \"br\": \"\(s.br)\"}"
        }
        out += config.softwires.isEmpty ? "],\n" : "\n  ],\n"
        out += "  \"external\": " + policyJSON(config.external, isInternal: false) + ",\n"
        out += "  \"internal\": " + policyJSON(config.internal, isInternal: true) + ",\n"
        out += "  \"instances\": ["
        for (i, inst) in config.instances.enumerated() {
            out += (i == 0 ? "\n" : ",\n") + "    {\n      \"device\": \(quote(inst.device)),\n"
                + "      \"queue\": \(inst.queueID),\n"
                + "      \"external\": \(sideJSON(inst.external, ip: inst.external.ipv4?.description)),\n"
                + "      \"internal\": \(sideJSON(inst.internal, ip: inst.internal.ipv6?.description))\n    }"
        }
        out += config.instances.isEmpty ? "]" : "\n  ]"
        if let lq = config.leasequery { out += ",\n  \"leasequery\": " + leasequeryJSON(lq) }
        return out + "\n}\n"
    }

    private static func policyJSON(_ p: InterfacePolicy, isInternal: Bool) -> String {
        var lines = [
            "\"mtu\": \(p.mtu)",
            "\"allow_incoming_icmp\": \(p.allowIncomingICMP)",
            "\"generate_icmp_errors\": \(p.generateICMPErrors)",
            "\"error_rate_limiting\": {\"packets\": \(p.errorRatePackets), \"period\": \(p.errorRatePeriod)}",
            "\"reassembly\": {\"max_fragments_per_packet\": \(p.maxFragmentsPerPacket), "
                + "\"max_packets\": \(p.maxFragmentedPackets)}",
        ]
        if isInternal { lines += ["\"hairpinning\": \(p.hairpinning)", "\"flow_label\": \(p.flowLabel)"] }
        if let f = p.ingressFilter { lines.append("\"ingress_filter\": \(quote(f))") }
        if let f = p.egressFilter { lines.append("\"egress_filter\": \(quote(f))") }
        return "{\n    " + lines.joined(separator: ",\n    ") + "\n  }"
    }

    private static func sideJSON(_ a: InterfaceAddressing, ip: String?) -> String {
        let hop: String
        switch a.nextHop {
        case .mac(let m): hop = "{\"mac\": \"\(m)\"}"
        case .ipv4(let v): hop = "{\"ip\": \"\(v)\"}"
        case .ipv6(let v): hop = "{\"ip\": \"\(v)\"}"
        }
        var s = "{\"ip\": \(ip.map(quote) ?? "null"), \"mac\": \"\(a.mac)\", \"next_hop\": \(hop)"
        if let v = a.vlanTag { s += ", \"vlan\": \(v)" }
        return s + "}"
    }

    /// `s` as a JSON string literal (quotes, backslash and control characters escaped).
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

// MARK: - Mapping onto LwAFTRConfig

/// An object's members checked against the allowed keys (unknown or repeated keys are errors).
struct JSONObject {
    let node: JSONNode
    let path: String
    var members: [String: JSONNode] = [:]

    init(_ node: JSONNode, _ keys: Set<String>, _ check: ConfigChecker) throws(ConfigError) {
        self.node = node
        path = node.path
        guard case .object(let list) = node.value else { throw check.error(node.loc, "expected an object") }
        for m in list {
            let keyLoc = ConfigLoc(line: m.line, parent: m.value.parent, leaf: m.value.key)
            guard keys.contains(m.key) else { throw check.error(keyLoc, "unknown key '\(m.key)'") }
            if let first = members[m.key] {
                throw check.error(keyLoc, "duplicate key '\(m.key)' (first at line \(first.line))")
            }
            // An explicit null is the same as leaving the key out.
            if case .null = m.value.value { continue }
            members[m.key] = m.value
        }
    }

    subscript(key: String) -> JSONNode? { members[key] }

    func missingLoc(_ key: String) -> ConfigLoc {
        ConfigLoc(line: node.line, parent: path, leaf: path.isEmpty ? key : "." + key)
    }
}

struct JSONMapper {
    let check: ConfigChecker

    func object(_ n: JSONNode, _ keys: Set<String>) throws(ConfigError) -> JSONObject {
        try JSONObject(n, keys, check)
    }

    func required(_ o: JSONObject, _ key: String) throws(ConfigError) -> JSONNode {
        guard let n = o[key] else { throw check.error(o.missingLoc(key), "missing required key '\(key)'") }
        return n
    }

    func string(_ n: JSONNode) throws(ConfigError) -> String {
        guard case .string(let s) = n.value else { throw check.error(n.loc, "expected a string") }
        return s
    }

    func int(_ n: JSONNode, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .number(let text) = n.value else { throw check.error(n.loc, "expected an integer") }
        return try check.integer(text, range, n.loc)
    }

    func bool(_ n: JSONNode) throws(ConfigError) -> Bool {
        guard case .bool(let b) = n.value else { throw check.error(n.loc, "expected true or false") }
        return b
    }

    func array(_ n: JSONNode?) throws(ConfigError) -> [JSONNode] {
        guard let n else { return [] }
        guard case .array(let items) = n.value else { throw check.error(n.loc, "expected an array") }
        return items
    }

    func map(_ root: JSONNode) throws(ConfigError) -> LwAFTRConfig {
        let top = try object(root, ["softwires", "external", "internal", "instances", "leasequery"])
        var config = LwAFTRConfig()
        if let n = top["external"] { config.external = try policy(n, isInternal: false) }
        if let n = top["internal"] { config.internal = try policy(n, isInternal: true) }
        var instances: [(InstanceConfig, ConfigLoc)] = []
        for n in try array(top["instances"]) {
            let o = try object(n, ["device", "queue", "external", "internal"])
            let device = try string(required(o, "device"))
            let queue = try o["queue"].map { (q) throws(ConfigError) in try int(q, ConfigLimits.queueID) } ?? 0
            let ext = try side(required(o, "external"), ipv6: false)
            let inner = try side(required(o, "internal"), ipv6: true)
            instances.append((InstanceConfig(device: device, queueID: queue, external: ext, internal: inner), n.loc))
        }
        try check.checkInstances(instances)
        config.instances = instances.map(\.0)
        var drafts: [SoftwireDraft] = []
        for n in try array(top["softwires"]) { drafts.append(try softwire(n)) }
        config.softwires = try check.softwires(drafts, defaultBR: config.instances.first?.internal.ipv6)
        if let n = top["leasequery"] {
            config.leasequery = try leasequery(n)
            if config.leasequeryBRAddress == nil {
                throw check.error(ConfigLoc(line: n.line, parent: n.path, leaf: ".br_address"),
                                  "missing br_address (no instance internal ip or softwire br to default to)")
            }
        }
        return config
    }

    private func policy(_ n: JSONNode, isInternal: Bool) throws(ConfigError) -> InterfacePolicy {
        var keys: Set<String> = ["mtu", "allow_incoming_icmp", "generate_icmp_errors", "error_rate_limiting",
                                 "reassembly", "ingress_filter", "egress_filter"]
        if isInternal { keys.formUnion(["hairpinning", "flow_label"]) }
        let o = try object(n, keys)
        var p = isInternal ? InterfacePolicy.internalDefault : .externalDefault
        if let v = o["mtu"] { p.mtu = try int(v, isInternal ? ConfigLimits.mtuIPv6 : ConfigLimits.mtuIPv4) }
        if let v = o["allow_incoming_icmp"] { p.allowIncomingICMP = try bool(v) }
        if let v = o["generate_icmp_errors"] { p.generateICMPErrors = try bool(v) }
        if let v = o["hairpinning"] { p.hairpinning = try bool(v) }
        if let v = o["flow_label"] { p.flowLabel = UInt32(try int(v, ConfigLimits.flowLabel)) }
        if let v = o["ingress_filter"] { p.ingressFilter = try string(v) }
        if let v = o["egress_filter"] { p.egressFilter = try string(v) }
        if let c = o["error_rate_limiting"] {
            let e = try object(c, ["packets", "period"])
            if let v = e["packets"] { p.errorRatePackets = try int(v, ConfigLimits.uint32) }
            if let v = e["period"] { p.errorRatePeriod = try int(v, ConfigLimits.positiveUInt32) }
        }
        if let c = o["reassembly"] {
            let r = try object(c, ["max_fragments_per_packet", "max_packets"])
            if let v = r["max_fragments_per_packet"] {
                p.maxFragmentsPerPacket = try int(v, ConfigLimits.positiveUInt32)
            }
            if let v = r["max_packets"] { p.maxFragmentedPackets = try int(v, ConfigLimits.uint32) }
        }
        return p
    }

    private func softwire(_ n: JSONNode) throws(ConfigError) -> SoftwireDraft {
        let o = try object(n, ["ipv4", "psid", "psid_length", "offset", "b4", "br"])
        let ipv4Node = try required(o, "ipv4"), b4Node = try required(o, "b4")
        let ipv4 = try check.ipv4(string(ipv4Node), ipv4Node.loc)
        let b4 = try check.ipv6(string(b4Node), b4Node.loc)
        let br = try o["br"].map { (v) throws(ConfigError) in try check.ipv6(string(v), v.loc) }
        let psid = try o["psid"].map { (v) throws(ConfigError) in try int(v, ConfigLimits.psid) }
        let length = try o["psid_length"].map { (v) throws(ConfigError) in try int(v, ConfigLimits.psidLength) } ?? 0
        let offset = try o["offset"].map { (v) throws(ConfigError) in try int(v, ConfigLimits.offset) } ?? 0
        return SoftwireDraft(
            ipv4: ipv4, psid: psid, psidLength: length, offset: offset, b4: b4, br: br, entryLine: n.line,
            psidLoc: o["psid"]?.loc ?? o.missingLoc("psid"),
            psidLengthLoc: o["psid_length"]?.loc ?? o.missingLoc("psid_length"),
            offsetLoc: o["offset"]?.loc ?? o.missingLoc("offset"), brLoc: o["br"]?.loc ?? o.missingLoc("br"))
    }

    private func side(_ n: JSONNode, ipv6: Bool) throws(ConfigError) -> InterfaceAddressing {
        let o = try object(n, ["ip", "mac", "next_hop", "vlan"])
        let ipNode = try required(o, "ip"), macNode = try required(o, "mac")
        let mac = try check.mac(string(macNode), macNode.loc)
        let hop = try object(required(o, "next_hop"), ["ip", "mac"])
        let nextHop: NextHop
        switch (hop["ip"], hop["mac"]) {
        case (nil, nil):
            throw check.error(hop.node.loc, "next_hop needs \"ip\" or \"mac\"")
        case (.some, .some(let m)):
            throw check.error(m.loc, "next_hop takes \"ip\" or \"mac\", not both")
        case (.some(let ip), nil):
            nextHop = ipv6 ? .ipv6(try check.ipv6(string(ip), ip.loc)) : .ipv4(try check.ipv4(string(ip), ip.loc))
        case (nil, .some(let m)):
            nextHop = .mac(try check.mac(string(m), m.loc))
        }
        let vlan = try o["vlan"].map { (v) throws(ConfigError) in UInt16(try int(v, ConfigLimits.vlanTag)) }
        var a = InterfaceAddressing(mac: mac, nextHop: nextHop, vlanTag: vlan)
        if ipv6 { a.ipv6 = try check.ipv6(string(ipNode), ipNode.loc) } else {
            a.ipv4 = try check.ipv4(string(ipNode), ipNode.loc)
        }
        return a
    }
}
