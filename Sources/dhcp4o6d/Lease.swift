import ArgumentParser
import DHCP4o6Server
import LwAFTRCore

/// `dhcp4o6d lease`: a one-shot B4 agent. Obtains one shared-address lease for one softwire source
/// over DHCPv4-over-DHCPv6 (RFC 7341 DHCPV4-QUERY/RESPONSE, unicast to the server; DISCOVER → OFFER →
/// REQUEST → ACK with option 159 port parameters and option 109 softwire source, RFC 7618/8539) and
/// prints it as shell-friendly `key=value` lines for the lab scripts:
///
///     ipv4=192.0.2.1 psid=1 psid_length=6 offset=0 first=1024 last=2047 lease=3600 br=2001:db8:ffff::1
///
/// `first`/`last` are only printed when the port set is one contiguous range (offset 0).
/// `--release` gives a lease back instead.
struct LeaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lease",
        abstract: "Obtain (or release) one lease for one B4 over DHCPv4-over-DHCPv6 and print it.")

    @Option(help: "Server UDP address, e.g. '[2001:db8:1:1::1]:547'.") var server: String
    @Option(help: "The B4's softwire source IPv6 address (RFC 8539 option 109).") var b4: String
    @Option(help: "Client identifier number (unique per B4; default: from the B4 address).") var clientID: UInt32?
    @Option(help: "Seconds to wait per attempt.") var timeout: Double = 1
    @Option(help: "Attempts per message.") var attempts: Int = 4
    @Flag(help: "Release the lease held for this client instead (needs --ipv4).") var release = false
    @Option(help: "Leased IPv4 address (with --release).") var ipv4: String?

    func run() throws {
        guard let b4Address = IPv6Address(b4) else { throw ValidationError("--b4: bad IPv6 address '\(b4)'") }
        let l = try parseListen(server)
        guard let serverAddress = IPv6Address(l.address) else { throw ValidationError("--server: IPv6 address wanted") }
        let cid = clientID ?? UInt32(truncatingIfNeeded: b4Address.lo)
        var agent = try B4LeaseClient(server: serverAddress, port: UInt16(l.port), b4: b4Address, clientID: cid)
        defer { agent.close() }
        agent.timeout = timeout
        agent.attempts = attempts
        if release {
            guard let v4 = ipv4.flatMap(IPv4Address.init) else { throw ValidationError("--release needs --ipv4") }
            try agent.release(v4)
            print("released=\(v4)")
            return
        }
        let lease = try agent.obtain()
        var line = "ipv4=\(lease.ipv4) psid=\(lease.params.psid) psid_length=\(lease.params.psidLength) offset=\(lease.params.offset)"
        if let r = lease.contiguousPorts { line += " first=\(r.lowerBound) last=\(r.upperBound)" }
        line += " lease=\(lease.seconds)"
        if let br = lease.br { line += " br=\(br)" }
        print(line)
    }
}

