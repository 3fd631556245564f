internal import CMnl
internal import Glibc
public import LwAFTRCore

/// A refused rtnetlink request: what was asked, the errno and its text, and the kernel's extended
/// acknowledgement message when it sent one (e.g. "Nexthop has invalid gateway").
public struct NetlinkError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var code: Int32
    public var kernelMessage: String?

    public var description: String {
        var s = "\(operation): \(errnoText(code))"
        if let m = kernelMessage, !m.isEmpty { s += ": \(m)" }
        return s
    }
}

/// rtnetlink over libmnl: links (up/down, MTU, index by name), IPv4/IPv6 addresses and routes.
/// Works in the network namespace of the thread that created it. Not for the packet lane (one
/// request at a time, blocking); not thread-safe.
public final class Netlink {
    let socket: OpaquePointer
    let portID: UInt32
    var sequence: UInt32
    let buffer: UnsafeMutableRawPointer
    let bufferSize: Int

    public init() throws(NetlinkError) {
        guard let nl = mnl_socket_open(NETLINK_ROUTE) else {
            throw NetlinkError(operation: "open rtnetlink socket", code: errno)
        }
        var one: Int32 = 1
        // Extended acks carry the kernel's reason text; capped acks do not echo our request back.
        _ = mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        guard mnl_socket_bind(nl, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let e = errno
            mnl_socket_close(nl)
            throw NetlinkError(operation: "bind rtnetlink socket", code: e)
        }
        socket = nl
        portID = mnl_socket_get_portid(nl)
        sequence = UInt32(truncatingIfNeeded: time(nil))
        bufferSize = 32768
        buffer = .allocate(byteCount: bufferSize, alignment: 8)
    }

    deinit {
        mnl_socket_close(socket)
        buffer.deallocate()
    }

    // MARK: - links

    /// The interface index of `name` (ENODEV when there is none).
    public func interfaceIndex(named name: String) throws(NetlinkError) -> Int32 {
        let op = "look up interface \(name)"
        guard name.utf8.count < Int(IFNAMSIZ) else { throw NetlinkError(operation: op, code: EINVAL) }
        let nlh = header(type: RTM_GETLINK, flags: NLM_F_REQUEST)
        let ifi = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifinfomsg>.size).assumingMemoryBound(to: ifinfomsg.self)
        ifi.pointee.ifi_family = UInt8(AF_UNSPEC)
        mnl_attr_put_strz(nlh, UInt16(IFLA_IFNAME), name)
        var index: Int32 = 0
        try transact(nlh, op) { reply in
            if reply.pointee.nlmsg_type == UInt16(RTM_NEWLINK) {
                index = mnl_nlmsg_get_payload(reply)!.assumingMemoryBound(to: ifinfomsg.self).pointee.ifi_index
            }
        }
        guard index > 0 else { throw NetlinkError(operation: op, code: ENODEV) }
        return index
    }

    /// Sets the link administratively up or down.
    public func setLink(_ interface: Int32, up: Bool) throws(NetlinkError) {
        let nlh = header(type: RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK)
        let ifi = linkMessage(nlh, interface)
        ifi.pointee.ifi_change = UInt32(IFF_UP)
        ifi.pointee.ifi_flags = up ? UInt32(IFF_UP) : 0
        try transact(nlh, "set link \(interface) \(up ? "up" : "down")")
    }

    /// Sets the link's MTU.
    public func setMTU(_ interface: Int32, _ mtu: Int) throws(NetlinkError) {
        let nlh = header(type: RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK)
        _ = linkMessage(nlh, interface)
        mnl_attr_put_u32(nlh, UInt16(IFLA_MTU), UInt32(truncatingIfNeeded: mtu))
        try transact(nlh, "set MTU \(mtu) on link \(interface)")
    }

    // MARK: - addresses

    public func addAddress(_ address: IPv4Address, prefixLength: Int, interface: Int32) throws(NetlinkError) {
        try address4(RTM_NEWADDR, address, prefixLength, interface, "add address \(address)/\(prefixLength)")
    }

    public func removeAddress(_ address: IPv4Address, prefixLength: Int, interface: Int32) throws(NetlinkError) {
        try address4(RTM_DELADDR, address, prefixLength, interface, "remove address \(address)/\(prefixLength)")
    }

    /// Adds an IPv6 address; `skipDAD` makes it usable at once (IFA_F_NODAD).
    public func addAddress(_ address: IPv6Address, prefixLength: Int, interface: Int32,
                           skipDAD: Bool = true) throws(NetlinkError) {
        try address6(RTM_NEWADDR, address, prefixLength, interface, skipDAD ? UInt32(IFA_F_NODAD) : 0,
                     "add address \(address)/\(prefixLength)")
    }

    public func removeAddress(_ address: IPv6Address, prefixLength: Int, interface: Int32) throws(NetlinkError) {
        try address6(RTM_DELADDR, address, prefixLength, interface, 0, "remove address \(address)/\(prefixLength)")
    }

    // MARK: - routes

    /// Adds a route to `destination/prefixLength` out of `interface`, through `gateway` when given.
    /// `table` nil is the main table.
    public func addRoute(to destination: IPv4Address, prefixLength: Int, interface: Int32,
                         gateway: IPv4Address? = nil, metric: UInt32? = nil, table: UInt32? = nil) throws(NetlinkError) {
        try route(RTM_NEWROUTE, family: AF_INET, destination: destination.networkBytes, prefixLength: prefixLength,
                  interface: interface, gateway: gateway?.networkBytes, metric: metric, table: table,
                  op: "add route \(destination)/\(prefixLength)\(gateway.map { " via \($0)" } ?? "") dev \(interface)")
    }

    public func removeRoute(to destination: IPv4Address, prefixLength: Int, interface: Int32? = nil,
                            gateway: IPv4Address? = nil, table: UInt32? = nil) throws(NetlinkError) {
        try route(RTM_DELROUTE, family: AF_INET, destination: destination.networkBytes, prefixLength: prefixLength,
                  interface: interface, gateway: gateway?.networkBytes, metric: nil, table: table,
                  op: "remove route \(destination)/\(prefixLength)")
    }

    public func addRoute(to destination: IPv6Address, prefixLength: Int, interface: Int32,
                         gateway: IPv6Address? = nil, metric: UInt32? = nil, table: UInt32? = nil) throws(NetlinkError) {
        try route(RTM_NEWROUTE, family: AF_INET6, destination: destination.bytes, prefixLength: prefixLength,
                  interface: interface, gateway: gateway?.bytes, metric: metric, table: table,
                  op: "add route \(destination)/\(prefixLength)\(gateway.map { " via \($0)" } ?? "") dev \(interface)")
    }

    public func removeRoute(to destination: IPv6Address, prefixLength: Int, interface: Int32? = nil,
                            gateway: IPv6Address? = nil, table: UInt32? = nil) throws(NetlinkError) {
        try route(RTM_DELROUTE, family: AF_INET6, destination: destination.bytes, prefixLength: prefixLength,
                  interface: interface, gateway: gateway?.bytes, metric: nil, table: table,
                  op: "remove route \(destination)/\(prefixLength)")
    }

    // MARK: - message building

    func header(type: Int, flags: Int32) -> UnsafeMutablePointer<nlmsghdr> {
        let nlh = mnl_nlmsg_put_header(buffer)!
        nlh.pointee.nlmsg_type = UInt16(type)
        nlh.pointee.nlmsg_flags = UInt16(flags)
        sequence &+= 1
        nlh.pointee.nlmsg_seq = sequence
        return nlh
    }

    func linkMessage(_ nlh: UnsafeMutablePointer<nlmsghdr>, _ interface: Int32) -> UnsafeMutablePointer<ifinfomsg> {
        let ifi = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifinfomsg>.size).assumingMemoryBound(to: ifinfomsg.self)
        ifi.pointee.ifi_family = UInt8(AF_UNSPEC)
        ifi.pointee.ifi_index = interface
        return ifi
    }

    func address4(_ type: Int, _ a: IPv4Address, _ plen: Int, _ interface: Int32, _ op: String) throws(NetlinkError) {
        guard (0...32).contains(plen) else { throw NetlinkError(operation: op, code: EINVAL) }
        let flags = type == RTM_NEWADDR ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL : NLM_F_REQUEST | NLM_F_ACK
        let nlh = header(type: type, flags: flags)
        let ifa = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifaddrmsg>.size).assumingMemoryBound(to: ifaddrmsg.self)
        ifa.pointee.ifa_family = UInt8(AF_INET)
        ifa.pointee.ifa_prefixlen = UInt8(plen)
        ifa.pointee.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        ifa.pointee.ifa_index = UInt32(bitPattern: interface)
        mnl_attr_put_u32(nlh, UInt16(IFA_LOCAL), a.value.bigEndian)
        mnl_attr_put_u32(nlh, UInt16(IFA_ADDRESS), a.value.bigEndian)
        try transact(nlh, "\(op) dev \(interface)")
    }

    func address6(_ type: Int, _ a: IPv6Address, _ plen: Int, _ interface: Int32, _ extraFlags: UInt32,
                  _ op: String) throws(NetlinkError) {
        guard (0...128).contains(plen) else { throw NetlinkError(operation: op, code: EINVAL) }
        let flags = type == RTM_NEWADDR ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL : NLM_F_REQUEST | NLM_F_ACK
        let nlh = header(type: type, flags: flags)
        let ifa = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifaddrmsg>.size).assumingMemoryBound(to: ifaddrmsg.self)
        ifa.pointee.ifa_family = UInt8(AF_INET6)
        ifa.pointee.ifa_prefixlen = UInt8(plen)
        ifa.pointee.ifa_flags = UInt8(truncatingIfNeeded: extraFlags)
        ifa.pointee.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        ifa.pointee.ifa_index = UInt32(bitPattern: interface)
        a.bytes.withUnsafeBytes { b in
            mnl_attr_put(nlh, UInt16(IFA_ADDRESS), 16, b.baseAddress)
        }
        if extraFlags != 0 { mnl_attr_put_u32(nlh, UInt16(IFA_FLAGS), extraFlags) }
        try transact(nlh, "\(op) dev \(interface)")
    }

    func route(_ type: Int, family: Int32, destination: [UInt8], prefixLength: Int, interface: Int32?,
               gateway: [UInt8]?, metric: UInt32?, table: UInt32?, op: String) throws(NetlinkError) {
        guard (0...(destination.count * 8)).contains(prefixLength) else { throw NetlinkError(operation: op, code: EINVAL) }
        let adding = type == RTM_NEWROUTE
        let nlh = header(type: type, flags: adding ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
                                                    : NLM_F_REQUEST | NLM_F_ACK)
        let rtm = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<rtmsg>.size).assumingMemoryBound(to: rtmsg.self)
        rtm.pointee.rtm_family = UInt8(family)
        rtm.pointee.rtm_dst_len = UInt8(prefixLength)
        let t = table ?? UInt32(RT_TABLE_MAIN.rawValue)
        rtm.pointee.rtm_table = t < 256 ? UInt8(t) : UInt8(RT_TABLE_UNSPEC.rawValue)
        if adding {
            rtm.pointee.rtm_protocol = UInt8(RTPROT_STATIC)
            rtm.pointee.rtm_scope = UInt8((gateway == nil && family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE).rawValue)
            rtm.pointee.rtm_type = UInt8(RTN_UNICAST)
        } else {
            rtm.pointee.rtm_scope = UInt8(RT_SCOPE_NOWHERE.rawValue)
        }
        if prefixLength > 0 {
            destination.withUnsafeBytes { d in mnl_attr_put(nlh, UInt16(RTA_DST.rawValue), d.count, d.baseAddress) }
        }
        if let gateway {
            gateway.withUnsafeBytes { g in mnl_attr_put(nlh, UInt16(RTA_GATEWAY.rawValue), g.count, g.baseAddress) }
        }
        if let interface { mnl_attr_put_u32(nlh, UInt16(RTA_OIF.rawValue), UInt32(bitPattern: interface)) }
        if let metric { mnl_attr_put_u32(nlh, UInt16(RTA_PRIORITY.rawValue), metric) }
        if t >= 256 { mnl_attr_put_u32(nlh, UInt16(RTA_TABLE.rawValue), t) }
        try transact(nlh, op)
    }

    // MARK: - request/reply

    /// Sends the request in `buffer` and reads replies until the acknowledgement (or, for a request
    /// without NLM_F_ACK, the reply). Replies other than errors go to `onReply`.
    func transact(_ nlh: UnsafeMutablePointer<nlmsghdr>, _ op: String,
                  onReply: (UnsafePointer<nlmsghdr>) -> Void = { _ in }) throws(NetlinkError) {
        let seq = nlh.pointee.nlmsg_seq
        let wantsAck = Int32(nlh.pointee.nlmsg_flags) & NLM_F_ACK != 0
        guard mnl_socket_sendto(socket, nlh, Int(nlh.pointee.nlmsg_len)) >= 0 else {
            throw NetlinkError(operation: op, code: errno)
        }
        while true {
            let n = mnl_socket_recvfrom(socket, buffer, bufferSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw NetlinkError(operation: op, code: errno)
            }
            var len = Int32(n)
            var msg: UnsafeMutablePointer<nlmsghdr>? = buffer.assumingMemoryBound(to: nlmsghdr.self)
            while let m = msg, mnl_nlmsg_ok(m, len) {
                defer { msg = mnl_nlmsg_next(m, &len) }
                guard m.pointee.nlmsg_seq == seq, m.pointee.nlmsg_pid == portID || m.pointee.nlmsg_pid == 0 else { continue }
                switch Int32(m.pointee.nlmsg_type) {
                case NLMSG_ERROR:
                    let err = mnl_nlmsg_get_payload(m)!.assumingMemoryBound(to: nlmsgerr.self)
                    let code = -err.pointee.error
                    if code == 0 { return }  // the acknowledgement
                    throw NetlinkError(operation: op, code: code, kernelMessage: Self.extendedAckMessage(m))
                case NLMSG_DONE:
                    return
                default:
                    onReply(UnsafePointer(m))
                    if !wantsAck { return }
                }
            }
        }
    }

    /// NLMSGERR_ATTR_MSG from an error message with extended-ack attributes.
    static func extendedAckMessage(_ m: UnsafeMutablePointer<nlmsghdr>) -> String? {
        guard Int32(m.pointee.nlmsg_flags) & NLM_F_ACK_TLVS != 0 else { return nil }
        let err = mnl_nlmsg_get_payload(m)!.assumingMemoryBound(to: nlmsgerr.self)
        // The TLVs follow struct nlmsgerr, after the echoed request unless the ack was capped.
        var offset = MemoryLayout<nlmsgerr>.size
        if Int32(m.pointee.nlmsg_flags) & NLM_F_CAPPED == 0 {
            offset += Int(err.pointee.msg.nlmsg_len) - MemoryLayout<nlmsghdr>.size
        }
        let payload = mnl_nlmsg_get_payload(m)!
        let total = Int(mnl_nlmsg_get_payload_len(m))
        var pos = offset
        while pos + 4 <= total {
            let attr = (payload + pos).assumingMemoryBound(to: nlattr.self)
            let alen = Int(attr.pointee.nla_len)
            guard alen >= 4, pos + alen <= total else { break }
            if Int(attr.pointee.nla_type) & 0x3FFF == Int(NLMSGERR_ATTR_MSG.rawValue) {
                let start = (payload + pos + 4).assumingMemoryBound(to: UInt8.self)
                let bytes = UnsafeBufferPointer(start: start, count: alen - 4)
                return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            pos += (alen + 3) & ~3
        }
        return nil
    }
}

extension IPv4Address {
    /// The four bytes in network order.
    var networkBytes: [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
}
