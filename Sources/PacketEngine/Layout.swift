/// Header offsets and protocol numbers used on the packet path. Packets inside the engine are
/// always untagged Ethernet frames; VLAN tags are removed at ingress and added at egress.
@usableFromInline enum L {
    @inlinable static var eth: Int { 14 }
    @inlinable static var ethType: Int { 12 }
    @inlinable static var typeIPv4: UInt16 { 0x0800 }
    @inlinable static var typeIPv6: UInt16 { 0x86DD }
    @inlinable static var typeARP: UInt16 { 0x0806 }
    @inlinable static var typeVLAN: UInt16 { 0x8100 }

    // IPv4 header fields, relative to the IPv4 header.
    @inlinable static var v4TOS: Int { 1 }
    @inlinable static var v4TotalLength: Int { 2 }
    @inlinable static var v4ID: Int { 4 }
    @inlinable static var v4Flags: Int { 6 }
    @inlinable static var v4TTL: Int { 8 }
    @inlinable static var v4Proto: Int { 9 }
    @inlinable static var v4Checksum: Int { 10 }
    @inlinable static var v4Src: Int { 12 }
    @inlinable static var v4Dst: Int { 16 }

    // IPv6 header fields, relative to the IPv6 header.
    @inlinable static var v6Header: Int { 40 }
    @inlinable static var v6PayloadLength: Int { 4 }
    @inlinable static var v6NextHeader: Int { 6 }
    @inlinable static var v6HopLimit: Int { 7 }
    @inlinable static var v6Src: Int { 8 }
    @inlinable static var v6Dst: Int { 24 }

    @inlinable static var protoICMP: UInt8 { 1 }
    @inlinable static var protoIPv4: UInt8 { 4 }
    @inlinable static var protoTCP: UInt8 { 6 }
    @inlinable static var protoUDP: UInt8 { 17 }
    @inlinable static var protoFragment: UInt8 { 44 }
    @inlinable static var protoICMPv6: UInt8 { 58 }
}
