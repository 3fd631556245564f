internal import BindingTable
internal import LwAFTRCore

/// The lwAFTR core (RFC 7596 §6): encapsulation towards B4s, decapsulation with the source
/// softwire check, hairpinning, and the ICMP errors those paths generate. Counter semantics
/// follow the Snabb lwAFTR so that the conformance vectors' counter files apply unchanged.
extension LwAFTREngine {

    // MARK: B4 → internet

    /// A frame from the B4 side (untagged, reassembled).
    
    func fromB4(_ p0: Packet, now: UInt64) {
        var p = p0
        let d = p.data
        let len = p.length
        guard len >= L.eth, d.be16(L.ethType) == L.typeIPv6 else {
            counters.add(packets: .dropMisplacedNotIPv6Packets, bytes: .dropMisplacedNotIPv6Bytes, len)
            counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, len)
            return drop(p)
        }
        counters.add(packets: .inIPv6Packets, bytes: .inIPv6Bytes, len)
        let ip6 = d + L.eth
        guard len >= L.eth + L.v6Header else { return dropMalformed6(p) }
        let nextHeader = ip6.u8(L.v6NextHeader)
        if nextHeader != L.protoIPv4 {
            if nextHeader == L.protoFragment {
                counters.add(.dropIPv6FragDisabled)
                counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, len)
                return drop(p)
            }
            if nextHeader == L.protoICMPv6 {
                guard settings.intAllowIncomingICMP else {
                    counters.add(packets: .dropInByPolicyICMPv6Packets, bytes: .dropInByPolicyICMPv6Bytes, len)
                    counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, len)
                    return drop(p)
                }
                return icmpv6FromB4(p, now: now)
            }
            counters.add(packets: .dropUnknownProtocolIPv6Packets, bytes: .dropUnknownProtocolIPv6Bytes, len)
            counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, len)
            return drop(p)
        }
        let ip4 = ip6 + L.v6Header
        let ip4Room = len - L.eth - L.v6Header
        guard ip4Room >= 20 else { return dropMalformed6(p) }
        let ihl = Int(ip4.u8(0) & 0x0F) << 2
        guard ihl >= 20, ip4Room >= ihl + 4 else { return dropMalformed6(p) }
        let l4 = ip4 + ihl
        let port: UInt16
        if ip4.u8(L.v4Proto) == L.protoICMP {
            let type = l4.u8(0)
            if type == 8 {
                guard ip4Room >= ihl + 8 else { return dropMalformed6(p) }
                port = l4.be16(4)  // echo request from the B4: identifier is in its port set
            } else if type == 0 {
                port = 0  // only softwires owning port 0 answer pings
            } else {
                // ICMP error: source port of the embedded packet.
                guard ip4Room >= ihl + 8 + 20 else { return dropMalformed6(p) }
                let inner = l4 + 8
                let innerIHL = Int(inner.u8(0) & 0x0F) << 2
                guard ip4Room >= ihl + 8 + innerIHL + 2 else { return dropMalformed6(p) }
                port = inner.be16(innerIHL)
            }
        } else {
            port = l4.be16(0)
        }
        let src4 = ip4.be32(L.v4Src)
        let found = reader.lookup(ipv4: src4, port: port)
        var brHi: UInt64 = 0, brLo: UInt64 = 0, haveBR = false
        if let v = found {
            let br = reader.brAddress(v.brIndex)
            brHi = br.hi; brLo = br.lo; haveBR = true
            if ip6.be64(L.v6Src) == v.b4Hi && ip6.be64(L.v6Src + 8) == v.b4Lo
                && ip6.be64(L.v6Dst) == brHi && ip6.be64(L.v6Dst + 8) == brLo {
                // Valid softwire: strip the IPv6 header in place.
                p.data += L.v6Header
                p.length -= L.v6Header
                writeEthernet(p.data, type: L.typeIPv4)
                return transmitIPv4(p)
            }
        }
        counters.add(packets: .dropNoSourceSoftwireIPv6Packets, bytes: .dropNoSourceSoftwireIPv6Bytes, len)
        counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, len)
        guard settings.intGenerateICMPErrors else {
            counters.add(.dropOutByPolicyICMPv6Packets)
            return drop(p)
        }
        // ICMPv6 1/5 back to the outer source, from the softwire's br-address (or the address used).
        if !haveBR { brHi = ip6.be64(L.v6Dst); brLo = ip6.be64(L.v6Dst + 8) }
        let dstHi = ip6.be64(L.v6Src), dstLo = ip6.be64(L.v6Src + 8)
        if let e = makeICMPv6(type: 1, code: 5, srcHi: brHi, srcLo: brLo, dstHi: dstHi, dstLo: dstLo,
                              quoting: p, from: L.eth) {
            transmitICMPv6Error(e, now: now)
        }
        drop(p)
    }

    
    func dropMalformed6(_ p: Packet) {
        counters.add(.dropMalformedIPv6Packets)
        counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, p.length)
        drop(p)
    }

    
    func dropMalformed4(_ p: Packet, hairpinned: Bool) {
        counters.add(.dropMalformedIPv4Packets)
        dropIPv4(p, hairpinned: hairpinned)
    }

    /// A decapsulated IPv4 frame: hairpin it when its destination is ours, else send it out.
    
    func transmitIPv4(_ p: Packet) {
        let dst = p.data.be32(L.eth + L.v4Dst)
        if settings.hairpinning && reader.isManaged(ipv4: dst) {
            counters.add(packets: .hairpinIPv4Packets, bytes: .hairpinIPv4Bytes, p.length)
            enqueue(p, &hairpin)
        } else {
            counters.add(packets: .outIPv4Packets, bytes: .outIPv4Bytes, p.length)
            enqueue(p, &egress4)
        }
    }

    /// ICMPv6 from the B4 side that is not NDP or echo to us (RFC 2473 relay, as Snabb maps it).
    
    func icmpv6FromB4(_ p: Packet, now: UInt64) {
        let len = p.length
        let icmp = p.data + L.eth + L.v6Header
        guard len >= L.eth + L.v6Header + 8 else { return dropMalformed6(p) }
        let type = icmp.u8(0), code = icmp.u8(1)
        var v4code: UInt8 = 1
        var mtu: UInt16 = 0
        if type == 2 {
            guard code == 0 else {
                counters.add(packets: .dropTooBigTypeButNotCodeICMPv6Packets, bytes: .dropTooBigTypeButNotCodeICMPv6Bytes, len)
                counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, len)
                return drop(p)
            }
            v4code = 4
            mtu = icmp.be16(6) &- 40
        } else if type <= 4 {
            if type == 3 && code != 0 {
                counters.add(packets: .dropOverTimeButNotHopLimitICMPv6Packets, bytes: .dropOverTimeButNotHopLimitICMPv6Bytes, len)
                counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, len)
                return drop(p)
            }
        } else {
            counters.add(packets: .dropUnknownProtocolICMPv6Packets, bytes: .dropUnknownProtocolICMPv6Bytes, len)
            counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, len)
            return drop(p)
        }
        // The quoted packet is an IPv6 header followed by the tunnelled IPv4 packet.
        let quotedIPv4 = L.eth + L.v6Header + 8 + L.v6Header
        guard len >= quotedIPv4 + 20 else { return dropMalformed6(p) }
        let to = p.data.be32(quotedIPv4 + L.v4Src)
        if let e = makeICMPv4(type: 3, code: v4code, rest: UInt32(mtu), dst: to, quoting: p, from: quotedIPv4) {
            transmitICMPv4Error(e, now: now)
        }
        drop(p)
    }

    // MARK: internet → B4

    /// A frame from the internet side, or an IPv4 frame hairpinned from a B4.
    
    func fromInternet(_ p: Packet, hairpinned: Bool, now: UInt64) {
        let d = p.data
        let len = p.length
        if !hairpinned {
            guard len >= L.eth, d.be16(L.ethType) == L.typeIPv4 else {
                counters.add(packets: .dropMisplacedNotIPv4Packets, bytes: .dropMisplacedNotIPv4Bytes, len)
                counters.add(packets: .dropAllIPv4IfacePackets, bytes: .dropAllIPv4IfaceBytes, len)
                return drop(p)
            }
            counters.add(packets: .inIPv4Packets, bytes: .inIPv4Bytes, len)
        }
        let ip4 = d + L.eth
        let room = len - L.eth
        guard room >= 20 else { return dropMalformed4(p, hairpinned: hairpinned) }
        let ihl = Int(ip4.u8(0) & 0x0F) << 2
        guard ihl >= 20, room >= ihl + 4 else { return dropMalformed4(p, hairpinned: hairpinned) }
        let l4 = ip4 + ihl
        let port: UInt16
        if ip4.u8(L.v4Proto) == L.protoICMP {
            guard settings.extAllowIncomingICMP else {
                counters.add(packets: .dropInByPolicyICMPv4Packets, bytes: .dropInByPolicyICMPv4Bytes, len)
                return dropIPv4(p, hairpinned: hairpinned)
            }
            let total = Int(ip4.be16(L.v4TotalLength))
            let icmpBytes = total - ihl
            guard icmpBytes >= 8, total <= room else { return dropMalformed4(p, hairpinned: hairpinned) }
            if Checksum.sum(l4, icmpBytes) != 0xFFFF {
                counters.add(packets: .dropBadChecksumICMPv4Packets, bytes: .dropBadChecksumICMPv4Bytes, len)
                return dropIPv4(p, hairpinned: hairpinned)
            }
            let type = l4.u8(0)
            if type == 8 {
                port = 0
            } else if type == 0 {
                port = l4.be16(4)
            } else {
                guard icmpBytes >= 8 + 20 else { return dropMalformed4(p, hairpinned: hairpinned) }
                let inner = l4 + 8
                let innerIHL = Int(inner.u8(0) & 0x0F) << 2
                guard icmpBytes >= 8 + innerIHL + 2 else { return dropMalformed4(p, hairpinned: hairpinned) }
                port = inner.be16(innerIHL)
            }
        } else {
            if ip4.be16(L.v4Flags) & 0x3FFF != 0 {  // a fragment reached the core: reassembly is off
                counters.add(.dropIPv4FragDisabled)
                return dropIPv4(p, hairpinned: hairpinned)
            }
            port = l4.be16(2)
        }
        let dst = ip4.be32(L.v4Dst)
        guard let v = reader.lookup(ipv4: dst, port: port) else {
            return noDestinationSoftwire(p, hairpinned: hairpinned, now: now)
        }
        encapsulate(p, b4Hi: v.b4Hi, b4Lo: v.b4Lo, brIndex: v.brIndex, hairpinned: hairpinned, now: now)
    }

    /// Counts a dropped IPv4-path frame against the interface it came in on.
    
    func dropIPv4(_ p: Packet, hairpinned: Bool) {
        if hairpinned {
            // It entered as an IPv6 frame 40 bytes longer (B4s send no extension headers).
            counters.add(packets: .dropAllIPv6IfacePackets, bytes: .dropAllIPv6IfaceBytes, p.length + L.v6Header)
        } else {
            counters.add(packets: .dropAllIPv4IfacePackets, bytes: .dropAllIPv4IfaceBytes, p.length)
        }
        drop(p)
    }

    /// RFC 7596 §6.2: no softwire for (dst, port): drop, maybe ICMPv4 3/1.
    
    func noDestinationSoftwire(_ p: Packet, hairpinned: Bool, now: UInt64) {
        counters.add(packets: .dropNoDestSoftwireIPv4Packets, bytes: .dropNoDestSoftwireIPv4Bytes, p.length)
        guard settings.extGenerateICMPErrors else {
            counters.add(.dropOutByPolicyICMPv4Packets)
            return dropIPv4(p, hairpinned: hairpinned)
        }
        if p.data.u8(L.eth + L.v4Proto) == L.protoICMP {
            // RFC 7596 §8.1: never answer ICMP with an ICMP error.
            counters.add(packets: .dropInByRFC7596ICMPv4Packets, bytes: .dropInByRFC7596ICMPv4Bytes, p.length)
            return dropIPv4(p, hairpinned: hairpinned)
        }
        let to = p.data.be32(L.eth + L.v4Src)
        let e = makeICMPv4(type: 3, code: 1, rest: 0, dst: to, quoting: p, from: L.eth)
        dropIPv4(p, hairpinned: hairpinned)
        if let e { transmitICMPv4Error(e, now: now) }
    }

    /// TTL, DF/MTU check, then prepend the IPv6 header in place.
    
    func encapsulate(_ p0: Packet, b4Hi: UInt64, b4Lo: UInt64, brIndex: UInt32, hairpinned: Bool, now: UInt64) {
        var p = p0
        let ip4 = p.data + L.eth
        let oldTTL = ip4.u8(L.v4TTL)
        var newTTL: UInt8 = 0
        if oldTTL != 0 {
            newTTL = oldTTL &- 1
            ip4.set8(L.v4TTL, newTTL)
            let c = Checksum.update(ip4.be16(L.v4Checksum), old: UInt16(oldTTL) << 8 | UInt16(ip4.u8(L.v4Proto)),
                                    new: UInt16(newTTL) << 8 | UInt16(ip4.u8(L.v4Proto)))
            ip4.set16(L.v4Checksum, c)
        }
        if newTTL == 0 {
            counters.add(packets: .dropTTLZeroIPv4Packets, bytes: .dropTTLZeroIPv4Bytes, p.length)
            guard settings.extGenerateICMPErrors else {
                counters.add(.dropOutByPolicyICMPv4Packets)
                return dropIPv4(p, hairpinned: hairpinned)
            }
            let e = makeICMPv4(type: 11, code: 0, rest: 0, dst: ip4.be32(L.v4Src), quoting: p, from: L.eth)
            dropIPv4(p, hairpinned: hairpinned)
            if let e { transmitICMPv4Error(e, now: now) }
            return
        }
        let payload = p.length - L.eth
        if payload + L.v6Header > settings.intMTU && ip4.u8(L.v4Flags) & 0x40 != 0 {
            counters.add(packets: .dropOverMTUButDontFragmentIPv4Packets, bytes: .dropOverMTUButDontFragmentIPv4Bytes, p.length)
            guard settings.extGenerateICMPErrors else {
                counters.add(.dropOutByPolicyICMPv4Packets)
                return dropIPv4(p, hairpinned: hairpinned)
            }
            let e = makeICMPv4(type: 3, code: 4, rest: UInt32(settings.intMTU - L.v6Header),
                               dst: ip4.be32(L.v4Src), quoting: p, from: L.eth)
            dropIPv4(p, hairpinned: hairpinned)
            if let e { transmitICMPv4Error(e, now: now) }
            return
        }
        let tos = ip4.u8(L.v4TOS)
        guard pool.frontroom(p) >= L.v6Header + 4 else { return dropIPv4(p, hairpinned: hairpinned) }
        p.data -= L.v6Header
        p.length += L.v6Header
        writeEthernet(p.data, type: L.typeIPv6)
        let ip6 = p.data + L.eth
        ip6.set32(0, 6 << 28 | UInt32(tos) << 20 | (settings.flowLabel & 0xFFFFF))
        ip6.set16(L.v6PayloadLength, UInt16(truncatingIfNeeded: payload))
        ip6.set8(L.v6NextHeader, L.protoIPv4)
        ip6.set8(L.v6HopLimit, 255)
        let br = reader.brAddress(brIndex)
        ip6.set64(L.v6Src, br.hi)
        ip6.set64(L.v6Src + 8, br.lo)
        ip6.set64(L.v6Dst, b4Hi)
        ip6.set64(L.v6Dst + 8, b4Lo)
        counters.add(packets: .outIPv6Packets, bytes: .outIPv6Bytes, p.length)
        enqueue(p, &egress6)
    }

    /// Ethernet header with zero addresses (the egress stage fills them in).
    @inline(__always)
    func writeEthernet(_ d: UnsafeMutableRawPointer, type: UInt16) {
        d.set64(0, 0)
        d.set32(8, 0)
        d.set16(L.ethType, type)
    }
}
