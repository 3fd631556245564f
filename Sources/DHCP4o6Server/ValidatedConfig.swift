import Foundation
import LwAFTRCore
import DHCPWire

/// `ServerConfig` checked and parsed into the types the server runs on.
struct ValidatedConfig: Sendable {
    let raw: ServerConfig
    let pools: [AddressPool]
    let serverIdentifier: IPv4Address
    let serverDUID: [UInt8]
    let borderRouters: [IPv6Address]
    let dhcp4o6Servers: [IPv6Address]

    var sharedPoolIndices: [Int] { pools.filter(\.isShared).map(\.index) }
    var fullPoolIndices: [Int] { pools.filter { !$0.isShared }.map(\.index) }
}

extension ServerConfig {
    /// Validates every field; the error names the first bad one.
    func validated() throws -> ValidatedConfig {
        guard !pools.isEmpty else { throw ServerConfigError("pools: at least one pool is required") }
        let ps = try pools.enumerated().map { try AddressPool(index: $0.offset, $0.element) }
        for i in ps.indices { for j in ps.indices where j > i {
            let a = ps[i], b = ps[j]
            let aEnd = UInt64(a.network) + UInt64(a.addressCount), bEnd = UInt64(b.network) + UInt64(b.addressCount)
            if UInt64(a.network) < bEnd && UInt64(b.network) < aEnd {
                throw ServerConfigError("pools[\(i)] and pools[\(j)] overlap")
            }
        } }
        guard let sid = IPv4Address(serverIdentifier) else { throw ServerConfigError("serverIdentifier '\(serverIdentifier)'") }
        var duid: [UInt8]
        if let h = serverDUID {
            guard let d = LeaseJournal.unhex(Substring(h.replacingOccurrences(of: ":", with: ""))), d.count >= 2, d.count <= 130 else {
                throw ServerConfigError("serverDUID '\(h)' is not 2–130 hex bytes")
            }
            duid = d
        } else {
            let b = sid.bytes
            duid = DUIDOption.linkLayer([0x02, 0x00, b.0, b.1, b.2, b.3])
        }
        let brs = try borderRouters.map { s in
            guard let a = IPv6Address(s) else { throw ServerConfigError("borderRouters: '\(s)' is not an IPv6 address") }
            return a
        }
        let srv = try dhcp4o6Servers.map { s in
            guard let a = IPv6Address(s) else { throw ServerConfigError("dhcp4o6Servers: '\(s)' is not an IPv6 address") }
            return a
        }
        guard (1...65535).contains(dhcp.port) || dhcp.port == 0 else { throw ServerConfigError("dhcp.port \(dhcp.port)") }
        guard (0...65535).contains(leasequery.listen.port) else { throw ServerConfigError("leasequery.listen.port") }
        guard leasequery.maxConnections >= 1 else { throw ServerConfigError("leasequery.maxConnections must be >= 1") }
        guard leaseSeconds >= 10, offerSeconds >= 1 else { throw ServerConfigError("leaseSeconds >= 10 and offerSeconds >= 1") }
        guard leasequery.keepAliveSeconds > 0, leasequery.idleTimeoutSeconds > 0, leasequery.sendTimeoutSeconds > 0, sweepSeconds > 0 else {
            throw ServerConfigError("leasequery timers and sweepSeconds must be > 0")
        }
        return ValidatedConfig(raw: self, pools: ps, serverIdentifier: sid, serverDUID: duid, borderRouters: brs, dhcp4o6Servers: srv)
    }
}
