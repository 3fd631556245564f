public import DHCPWire
public import LwAFTRCore
#if canImport(Glibc)
import Glibc
#endif

/// What the server granted one B4.
public struct GrantedLease: Sendable, Hashable {
    public var ipv4: IPv4Address
    public var params: PortParams
    public var seconds: UInt32
    public var br: IPv6Address?

    /// The leased ports as one range when the port set is contiguous (offset 0), else nil.
    public var contiguousPorts: ClosedRange<UInt16>? {
        let r = params.portSet.ranges(of: params.psid)
        return r.count == 1 ? r.first : nil
    }
}

/// A minimal B4 DHCP 4o6 client (the lab's B4 agent, `dhcp4o6d lease`): one softwire source, one
/// lease. DHCPV4-QUERY/RESPONSE unicast to the server (RFC 7341), DISCOVER → OFFER → REQUEST → ACK
/// with option 159 port parameters (RFC 7618) and option 109 softwire source (RFC 8539), the BR from
/// OPTION_S46_BR. Blocking, with retransmission; not for the packet path.
public struct B4LeaseClient {
    let client: UDPClient
    public let b4: IPv6Address
    public let clientID: UInt32
    public var timeout: Double = 1
    public var attempts: Int = 4

    /// Opens a UDP socket towards `server`:`port`. `clientID` must be unique per B4.
    public init(server: IPv6Address, port: UInt16, b4: IPv6Address, clientID: UInt32) throws {
        client = try UDPClient(server: server, port: port)
        self.b4 = b4; self.clientID = clientID
    }

    /// Closes the socket.
    public func close() { client.close() }

    var clientIDOption: DHCPv4Option { B4Messages.clientID(clientID) }

    /// Obtains (or renews) this B4's lease.
    public func obtain() throws -> GrantedLease {
        let xid = UInt32(truncatingIfNeeded: clientID &* 2_654_435_761) | 1
        let discover: [DHCPv4Option] = [.u8(.messageType, DHCPv4MessageType.discover.rawValue), clientIDOption,
                                        DHCPv4Option(code: .parameterRequestList, data: [1, 51, 54, 159])]
        let (offer, _) = try exchange(DHCPv4Message(op: 1, xid: xid, options: discover), want: .offer)
        guard let params = try offer.portParams() else { throw LeaseError("OFFER without port parameters (option 159)") }
        var request: [DHCPv4Option] = [.u8(.messageType, DHCPv4MessageType.request.rawValue), clientIDOption,
                                       DHCPv4Option(code: .parameterRequestList, data: [1, 51, 54, 159]),
                                       .u32(.requestedAddress, offer.yiaddr.value),
                                       DHCPv4Option(code: .portParams, data: params.bytes),
                                       DHCPv4Message.s46SourceAddressOption(b4)]
        if let s = try offer.address(.serverID) { request.append(.u32(.serverID, s.value)) }
        let (ack, response) = try exchange(DHCPv4Message(op: 1, xid: xid &+ 1, options: request), want: .ack)
        guard let granted = try ack.portParams() else { throw LeaseError("ACK without port parameters (option 159)") }
        let br = try response.options(.s46BR).first.map { try S46BR(optionData: $0.data).address }
        return GrantedLease(ipv4: ack.yiaddr, params: granted, seconds: try ack.u32(.leaseTime) ?? 0, br: br)
    }

    /// Gives the lease on `v4` back (no answer is expected).
    public func release(_ v4: IPv4Address) throws {
        let o: [DHCPv4Option] = [.u8(.messageType, DHCPv4MessageType.release.rawValue), clientIDOption]
        try client.send(try query(DHCPv4Message(op: 1, xid: clientID | 1, ciaddr: v4, options: o)))
    }

    func query(_ m4: DHCPv4Message) throws -> [UInt8] { try B4Messages.query(m4, unicast: true) }

    /// Sends `m4` and waits for the matching DHCPv4 reply of type `want`, retransmitting.
    func exchange(_ m4: DHCPv4Message, want: DHCPv4MessageType) throws -> (DHCPv4Message, DHCPv6Message) {
        let bytes = try query(m4)
        for _ in 0..<max(1, attempts) {
            try client.send(bytes)
            var deadline = timeout
            while deadline > 0, let (reply, waited) = client.receive(timeout: deadline) {
                deadline -= waited
                guard let m6 = try? DHCPv6Message.decode(reply), m6.type == .dhcpv4Response,
                      let r4 = try? m6.value(DHCPv4MessageOption.self)?.message, r4.xid == m4.xid else { continue }
                if r4.messageType == .nak { throw LeaseError("server answered NAK") }
                if r4.messageType == want { return (r4, m6) }
            }
        }
        throw LeaseError("no \(want) from the server after \(attempts) attempts")
    }
}

/// A lease exchange that failed.
public struct LeaseError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// A UDP/IPv6 socket that sends to the server and accepts replies from any address (a server bound
/// to the wildcard answers from the address of the link it received on), one request at a time.
final class UDPClient {
    let fd: Int32
    var server = sockaddr_in6()

    init(server: IPv6Address, port: UInt16) throws {
        fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw LeaseError("socket: \(String(cString: strerror(errno)))") }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: server.hi >> (56 - 8 * UInt64(i))) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: server.lo >> (56 - 8 * UInt64(i))) }
        }
        self.server = sa
    }

    func send(_ bytes: [UInt8]) throws {
        let n = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &server) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard n == bytes.count else { throw LeaseError("send: \(String(cString: strerror(errno)))") }
    }

    /// One datagram, or nil after `timeout` seconds; also returns the seconds waited.
    func receive(timeout: Double) -> ([UInt8], Double)? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var start = timespec(); clock_gettime(CLOCK_MONOTONIC, &start)
        guard poll(&p, 1, Int32(max(1, timeout * 1000))) > 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        var end = timespec(); clock_gettime(CLOCK_MONOTONIC, &end)
        let waited = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        guard n > 0 else { return ([], waited) }
        return (Array(buf[0..<n]), waited)
    }

    func close() { Glibc.close(fd) }
}
