/// The `leasequery` section of the native JSON configuration: reading and writing.
extension JSONMapper {
    static let leasequeryKeys: Set<String> = ["servers", "br_address", "requestor_duid", "snapshot",
                                              "snapshot_interval", "catch_up_on_start", "timers"]

    /// A non-negative finite number of seconds (integers or decimals).
    func seconds(_ n: JSONNode, min: Double = 0) throws(ConfigError) -> Double {
        guard case .number(let text) = n.value else { throw check.error(n.loc, "expected a number of seconds") }
        guard let v = Double(text), v.isFinite, v >= min, v <= 86_400 * 365 else {
            throw check.error(n.loc, "\(text) is out of range \(min == 0 ? "0" : "\(min)")...31536000 seconds")
        }
        return v
    }

    func nonEmpty(_ n: JSONNode) throws(ConfigError) -> String {
        let s = try string(n)
        guard !s.isEmpty else { throw check.error(n.loc, "must not be empty") }
        return s
    }

    func leasequery(_ n: JSONNode) throws(ConfigError) -> LeasequeryConfig {
        let o = try object(n, Self.leasequeryKeys)
        var lq = LeasequeryConfig()
        let serversNode = try required(o, "servers")
        var seen: [String: Int] = [:]
        for s in try array(serversNode) {
            let server = try leasequeryServer(s)
            if let first = seen[server.description] {
                throw check.error(s.loc, "duplicate server \(server) (first at line \(first))")
            }
            seen[server.description] = s.line
            lq.servers.append(server)
        }
        if lq.servers.isEmpty { throw check.error(serversNode.loc, "at least one server is needed") }
        if let v = o["br_address"] { lq.brAddress = try check.ipv6(string(v), v.loc) }
        if let v = o["requestor_duid"] { lq.requestorDUID = try duid(v) }
        if let v = o["snapshot"] { lq.snapshot = try nonEmpty(v) }
        if let v = o["snapshot_interval"] { lq.snapshotInterval = try seconds(v) }
        if let v = o["catch_up_on_start"] { lq.catchUpOnStart = try bool(v) }
        if let t = o["timers"] {
            let to = try object(t, ["connect", "active_receive", "bulk_data", "reconnect_min", "reconnect_max"])
            if let v = to["connect"] { lq.timers.connect = try seconds(v, min: 0.001) }
            if let v = to["active_receive"] { lq.timers.activeReceive = try seconds(v, min: 0.001) }
            if let v = to["bulk_data"] { lq.timers.bulkData = try seconds(v, min: 0.001) }
            if let v = to["reconnect_min"] { lq.timers.reconnectMin = try seconds(v, min: 0.001) }
            if let v = to["reconnect_max"] { lq.timers.reconnectMax = try seconds(v, min: 0.001) }
            if lq.timers.reconnectMax < lq.timers.reconnectMin {
                throw check.error(to["reconnect_max"]?.loc ?? to.missingLoc("reconnect_max"),
                                  "reconnect_max \(lq.timers.reconnectMax) is below reconnect_min \(lq.timers.reconnectMin)")
            }
        }
        return lq
    }

    private func leasequeryServer(_ n: JSONNode) throws(ConfigError) -> LeasequeryServerConfig {
        let o = try object(n, ["address", "port", "tls"])
        let a = try required(o, "address")
        var address = try nonEmpty(a)
        if address.hasPrefix("[") && address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
        if address.contains(":") {
            guard IPv6Address(address) != nil else { throw check.error(a.loc, "invalid IPv6 address '\(address)'") }
        } else if !address.utf8.allSatisfy({ isHostNameByte($0) }) {
            throw check.error(a.loc, "'\(address)' is neither an IP address nor a host name")
        }
        var server = LeasequeryServerConfig(address: address)
        if let v = o["port"] { server.port = try int(v, 1...65535) }
        if let t = o["tls"] {
            let to = try object(t, ["ca", "certificate", "private_key", "verify_hostname", "server_name"])
            var tls = LeasequeryTLSConfig(ca: try nonEmpty(required(to, "ca")))
            if let v = to["certificate"] { tls.certificate = try nonEmpty(v) }
            if let v = to["private_key"] { tls.privateKey = try nonEmpty(v) }
            if let v = to["verify_hostname"] { tls.verifyHostname = try bool(v) }
            if let v = to["server_name"] { tls.serverName = try nonEmpty(v) }
            if (tls.certificate == nil) != (tls.privateKey == nil) {
                let key = tls.certificate == nil ? "certificate" : "private_key"
                throw check.error(to.missingLoc(key), "certificate and private_key go together")
            }
            server.tls = tls
        }
        return server
    }

    private func isHostNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == UInt8(ascii: "-")
            || b == UInt8(ascii: ".")
    }

    /// Hex digits, optionally separated by ':' or '-': 3 to 130 bytes (RFC 8415 DUID sizes).
    private func duid(_ n: JSONNode) throws(ConfigError) -> [UInt8] {
        let text = try string(n)
        var bytes: [UInt8] = []
        var pending: UInt8?
        for c in text.utf8 {
            if c == UInt8(ascii: ":") || c == UInt8(ascii: "-") {
                guard pending == nil else { throw check.error(n.loc, "odd number of hex digits before a separator") }
                continue
            }
            guard let v = hexValue(c) else { throw check.error(n.loc, "'\(text)' is not hexadecimal") }
            if let hi = pending { bytes.append(hi << 4 | v); pending = nil } else { pending = v }
        }
        guard pending == nil else { throw check.error(n.loc, "odd number of hex digits") }
        guard (3...130).contains(bytes.count) else {
            throw check.error(n.loc, "a DUID has 3 to 130 bytes, this one \(bytes.count)")
        }
        return bytes
    }
}

extension JSONConfig {
    static func leasequeryJSON(_ lq: LeasequeryConfig) -> String {
        var servers: [String] = []
        for s in lq.servers {
            var line = "{\"address\": \(quote(s.address)), \"port\": \(s.port)"
            if let t = s.tls {
                var parts = ["\"ca\": \(quote(t.ca))"]
                if let c = t.certificate { parts.append("\"certificate\": \(quote(c))") }
                if let k = t.privateKey { parts.append("\"private_key\": \(quote(k))") }
                parts.append("\"verify_hostname\": \(t.verifyHostname)")
                if let n = t.serverName { parts.append("\"server_name\": \(quote(n))") }
                line += ", \"tls\": {" + parts.joined(separator: ", ") + "}"
            }
            servers.append(line + "}")
        }
        var lines = ["\"servers\": [\n      " + servers.joined(separator: ",\n      ") + "\n    ]"]
        if let br = lq.brAddress { lines.append("\"br_address\": \"\(br)\"") }
        if let d = lq.requestorDUID { lines.append("\"requestor_duid\": \"\(hex(d))\"") }
        if let p = lq.snapshot { lines.append("\"snapshot\": \(quote(p))") }
        lines.append("\"snapshot_interval\": \(number(lq.snapshotInterval))")
        lines.append("\"catch_up_on_start\": \(lq.catchUpOnStart)")
        let t = lq.timers
        lines.append("\"timers\": {\"connect\": \(number(t.connect)), \"active_receive\": \(number(t.activeReceive)), "
                     + "\"bulk_data\": \(number(t.bulkData)), \"reconnect_min\": \(number(t.reconnectMin)), "
                     + "\"reconnect_max\": \(number(t.reconnectMax))}")
        return "{\n    " + lines.joined(separator: ",\n    ") + "\n  }"
    }

    /// Integral values without a fraction; others in Swift's shortest round-tripping form.
    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return v.description
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
