public import Leasequery
public import LwAFTRCore

/// Turns the `leasequery` section of an `LwAFTRConfig` into the requestor's configuration.
public enum LeasequeryMapping {
    /// The requestor configuration, or nil when the configuration has no leasequery servers.
    public static func configuration(for config: LwAFTRConfig) -> LeasequeryConfiguration? {
        guard let lq = config.leasequery, !lq.servers.isEmpty, let br = config.leasequeryBRAddress else { return nil }
        var c = LeasequeryConfiguration(servers: lq.servers.map(server), brAddress: br)
        if let d = lq.requestorDUID { c.requestorDUID = d }
        c.timers = LeasequeryTimers(connectTimeout: lq.timers.connect, activeReceiveTimeout: lq.timers.activeReceive,
                                    bulkDataTimeout: lq.timers.bulkData, reconnectMinimum: lq.timers.reconnectMin,
                                    reconnectMaximum: lq.timers.reconnectMax)
        c.snapshotPath = lq.snapshot
        c.snapshotInterval = lq.snapshotInterval
        c.catchUpOnStart = lq.catchUpOnStart
        return c
    }

    /// One server's address and TLS options.
    public static func server(_ s: LeasequeryServerConfig) -> LeasequeryServerAddress {
        LeasequeryServerAddress(host: s.address, port: s.port, tls: s.tls.map {
            LeasequeryTLSOptions(trustRootsFile: $0.ca, certificateFile: $0.certificate, privateKeyFile: $0.privateKey,
                                 verifyHostname: $0.verifyHostname, serverHostname: $0.serverName)
        })
    }

    /// `HOST[:PORT]` / `[V6]:PORT` / bare IPv6 literal (port 547) as a server, or nil.
    public static func parseServer(_ text: String) -> LeasequeryServerConfig? {
        var host = text, port = LeasequeryServerConfig.defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":", let p = Int(rest.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
            guard IPv6Address(host) != nil else { return nil }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
        } else if text.contains(":") {
            guard IPv6Address(text) != nil else { return nil }
        }
        guard !host.isEmpty else { return nil }
        return LeasequeryServerConfig(address: host, port: port)
    }
}
