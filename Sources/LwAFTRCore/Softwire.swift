/// One binding: the public IPv4 address and PSID a subscriber owns, its B4 tunnel endpoint and
/// the lwAFTR address (br-address) it tunnels to.
public struct Softwire: Hashable, Sendable, CustomStringConvertible {
    public var ipv4: IPv4Address
    public var psid: UInt16
    public var b4: IPv6Address
    public var br: IPv6Address
    public var portSet: PortSet

    public init(ipv4: IPv4Address, psid: UInt16, b4: IPv6Address, br: IPv6Address, portSet: PortSet) {
        self.ipv4 = ipv4
        self.psid = psid
        self.b4 = b4
        self.br = br
        self.portSet = portSet
    }

    public var description: String {
        "\(ipv4) psid \(psid)/\(portSet.psidLength) offset \(portSet.offset) b4 \(b4) br \(br)"
    }
}
