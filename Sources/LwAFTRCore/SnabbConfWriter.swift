/// Writes a configuration in Snabb's snabb-softwire-v3 `.conf` syntax (the inverse of
/// `SnabbConfParser`): `SnabbConfParser.parse(SnabbConfWriter.write(c)) == c`.
public enum SnabbConfWriter {
    public static func write(_ c: LwAFTRConfig) -> String {
        var w = Writer()
        w.open("softwire-config")
        w.open("binding-table")
        for s in c.softwires {
            w.open("softwire")
            w.leaf("ipv4", "\(s.ipv4)")
            w.leaf("psid", "\(s.psid)")
            w.leaf("b4-ipv6", "\(s.b4)")
            w.leaf("br-address", "\(s.br)")
            w.open("port-set")
            w.leaf("psid-length", "\(s.portSet.psidLength)")
            if s.portSet.offset != 0 { w.leaf("reserved-ports-bit-count", "\(s.portSet.offset)") }
            w.close()
            w.close()
        }
        w.close()
        policy(&w, "external-interface", c.external, isInternal: false)
        policy(&w, "internal-interface", c.internal, isInternal: true)
        for inst in c.instances {
            w.open("instance")
            w.leaf("device", quoteIfNeeded(inst.device))
            w.open("queue")
            w.leaf("id", "\(inst.queueID)")
            side(&w, "external-interface", inst.external, ip: inst.external.ipv4?.description)
            side(&w, "internal-interface", inst.internal, ip: inst.internal.ipv6?.description)
            w.close()
            w.close()
        }
        w.close()
        return w.text
    }

    private static func policy(_ w: inout Writer, _ name: String, _ p: InterfacePolicy, isInternal: Bool) {
        w.open(name)
        w.leaf("allow-incoming-icmp", "\(p.allowIncomingICMP)")
        w.leaf("generate-icmp-errors", "\(p.generateICMPErrors)")
        w.leaf("mtu", "\(p.mtu)")
        if let f = p.ingressFilter { w.leaf("ingress-filter", quoteIfNeeded(f)) }
        if let f = p.egressFilter { w.leaf("egress-filter", quoteIfNeeded(f)) }
        w.open("error-rate-limiting")
        w.leaf("packets", "\(p.errorRatePackets)")
        w.leaf("period", "\(p.errorRatePeriod)")
        w.close()
        w.open("reassembly")
        w.leaf("max-fragments-per-packet", "\(p.maxFragmentsPerPacket)")
        w.leaf("max-packets", "\(p.maxFragmentedPackets)")
        w.close()
        if isInternal {
            w.leaf("hairpinning", "\(p.hairpinning)")
            if p.flowLabel != 0 { w.leaf("flow-label", "\(p.flowLabel)") }
        }
        w.close()
    }

    private static func side(_ w: inout Writer, _ name: String, _ a: InterfaceAddressing, ip: String?) {
        w.open(name)
        if let ip { w.leaf("ip", ip) }
        w.leaf("mac", "\(a.mac)")
        w.open("next-hop")
        switch a.nextHop {
        case .mac(let m): w.leaf("mac", "\(m)")
        case .ipv4(let v): w.leaf("ip", "\(v)")
        case .ipv6(let v): w.leaf("ip", "\(v)")
        }
        w.close()
        if let v = a.vlanTag { w.leaf("vlan-tag", "\(v)") }
        w.close()
    }

    private static func quoteIfNeeded(_ s: String) -> String {
        s.contains(where: { $0 == " " || $0 == ";" || $0 == "{" || $0 == "}" || $0 == "\"" }) || s.isEmpty
            ? "\"" + s.replacingAll("\"", with: "\\\"") + "\"" : s
    }

    private struct Writer {
        var text = ""
        var depth = 0
        mutating func open(_ name: String) {
            text += String(repeating: "  ", count: depth) + name + " {\n"
            depth += 1
        }
        mutating func close() {
            depth -= 1
            text += String(repeating: "  ", count: depth) + "}\n"
        }
        mutating func leaf(_ name: String, _ value: String) {
            text += String(repeating: "  ", count: depth) + name + " " + value + ";\n"
        }
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for ch in self { if ch == target { out += replacement } else { out.append(ch) } }
        return out
    }
}
