import Glibc
import LwAFTRCore
import PacketIO
import Testing

/// Netlink changes checked with `ip -j` in the same namespace.
@Suite(.enabled(if: Privileges.canUseNamespaces, Privileges.message))
struct NetlinkTests {
    static func withVeth(_ tag: String) throws -> TestNamespace {
        let ns = try TestNamespace(tag)
        do {
            try ns.ip("link add nl0 type veth peer name nl1")
        } catch {
            ns.remove()
            throw error
        }
        return ns
    }

    /// `ip -j` output without spaces, for substring checks.
    static func json(_ ns: TestNamespace, _ args: String) throws -> String {
        try ns.ip("-j \(args)").filter { !$0.isWhitespace }
    }

    @Test func linksAddressesAndRoutesShowUpInIp() throws {
        let ns = try Self.withVeth("nl")
        defer { ns.remove() }
        let index = try ns.run { () throws -> Int32 in
            let nl = try Netlink()
            let i = try nl.interfaceIndex(named: "nl0")
            let peer = try nl.interfaceIndex(named: "nl1")
            try nl.setLink(i, up: true)
            try nl.setLink(peer, up: true)
            try nl.setMTU(i, 1400)
            try nl.addAddress(IPv4Address("192.0.2.1")!, prefixLength: 24, interface: i)
            try nl.addAddress(IPv6Address("2001:db8:5::1")!, prefixLength: 64, interface: i)
            try nl.addRoute(to: IPv4Address("198.51.100.0")!, prefixLength: 24, interface: i,
                            gateway: IPv4Address("192.0.2.254")!)
            try nl.addRoute(to: IPv4Address("203.0.113.0")!, prefixLength: 25, interface: i, metric: 77)
            try nl.addRoute(to: IPv6Address("2001:db8:99::")!, prefixLength: 48, interface: i)
            try nl.addRoute(to: IPv6Address("2001:db8:98::")!, prefixLength: 48, interface: i,
                            gateway: IPv6Address("2001:db8:5::fe")!)
            try nl.addRoute(to: IPv4Address("0.0.0.0")!, prefixLength: 0, interface: i,
                            gateway: IPv4Address("192.0.2.254")!, table: 1234)
            return i
        }
        let link = try Self.json(ns, "link show nl0")
        #expect(link.contains("\"ifindex\":\(index)"))
        #expect(link.contains("\"mtu\":1400"))
        #expect(link.contains("\"UP\""))
        let addr = try Self.json(ns, "addr show dev nl0")
        #expect(addr.contains("\"local\":\"192.0.2.1\",\"prefixlen\":24"))
        #expect(addr.contains("\"local\":\"2001:db8:5::1\",\"prefixlen\":64"))
        let r4 = try Self.json(ns, "route show")
        #expect(r4.contains("{\"dst\":\"198.51.100.0/24\",\"gateway\":\"192.0.2.254\",\"dev\":\"nl0\""))
        #expect(r4.contains("\"dst\":\"203.0.113.0/25\",\"dev\":\"nl0\""))
        #expect(r4.contains("\"metric\":77"))
        let r6 = try Self.json(ns, "-6 route show")
        #expect(r6.contains("{\"dst\":\"2001:db8:99::/48\",\"dev\":\"nl0\""))
        #expect(r6.contains("{\"dst\":\"2001:db8:98::/48\",\"gateway\":\"2001:db8:5::fe\",\"dev\":\"nl0\""))
        let t = try Self.json(ns, "route show table 1234")
        #expect(t.contains("{\"dst\":\"default\",\"gateway\":\"192.0.2.254\",\"dev\":\"nl0\""))

        // And away again.
        try ns.run { () throws in
            let nl = try Netlink()
            let i = try nl.interfaceIndex(named: "nl0")
            try nl.removeRoute(to: IPv4Address("198.51.100.0")!, prefixLength: 24)
            try nl.removeRoute(to: IPv6Address("2001:db8:99::")!, prefixLength: 48, interface: i)
            try nl.removeRoute(to: IPv4Address("0.0.0.0")!, prefixLength: 0, table: 1234)
            try nl.removeAddress(IPv4Address("192.0.2.1")!, prefixLength: 24, interface: i)
            try nl.removeAddress(IPv6Address("2001:db8:5::1")!, prefixLength: 64, interface: i)
            try nl.setLink(i, up: false)
        }
        let addrAfter = try Self.json(ns, "addr show dev nl0")
        #expect(!addrAfter.contains("192.0.2.1"))
        #expect(!addrAfter.contains("2001:db8:5::1"))
        #expect(!(try Self.json(ns, "route show")).contains("198.51.100.0/24"))
        #expect(!(try Self.json(ns, "-6 route show")).contains("2001:db8:99::/48"))
        #expect((try Self.json(ns, "route show table 1234")) == "[]")
        #expect(!(try Self.json(ns, "link show nl0")).contains("\"UP\""))
    }

    @Test func errorsCarryTheErrnoText() throws {
        let ns = try Self.withVeth("nlerr")
        defer { ns.remove() }
        let errors = try ns.run { () throws -> [NetlinkError] in
            let nl = try Netlink()
            var errors: [NetlinkError] = []
            do { _ = try nl.interfaceIndex(named: "missing0") } catch let e as NetlinkError { errors.append(e) }
            let i = try nl.interfaceIndex(named: "nl0")
            try nl.addAddress(IPv4Address("192.0.2.1")!, prefixLength: 24, interface: i)
            do { try nl.addAddress(IPv4Address("192.0.2.1")!, prefixLength: 24, interface: i) } catch let e as NetlinkError { errors.append(e) }
            do { try nl.setMTU(9999, 1500) } catch let e as NetlinkError { errors.append(e) }
            // The gateway is not on any link (the link is down): the kernel refuses with a reason.
            do {
                try nl.addRoute(to: IPv4Address("198.51.100.0")!, prefixLength: 24, interface: i,
                                gateway: IPv4Address("203.0.113.1")!)
            } catch let e as NetlinkError { errors.append(e) }
            return errors
        }
        #expect(errors.count == 4)
        guard errors.count == 4 else { return }
        #expect(errors[0].code == ENODEV)
        #expect(errors[0].description.contains("missing0"))
        #expect(errors[0].description.contains("No such device"))
        #expect(errors[1].code == EEXIST)
        #expect(errors[1].description.contains("File exists"))
        #expect(errors[1].description.contains("192.0.2.1/24"))
        #expect(errors[2].code == ENODEV)
        #expect(errors[3].code == ENETUNREACH || errors[3].code == EINVAL)
        #expect(errors[3].kernelMessage?.isEmpty == false, "no extended ack text: \(errors[3].description)")
    }
}
