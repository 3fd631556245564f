internal import BindingTable
internal import LwAFTRCore

/// Ingress stages per side: VLAN untag → reassembly → ingress filter → ARP/NDP → echo to the lwAFTR → core.
extension LwAFTREngine {

    /// Removes the configured 802.1Q tag in place. False when the frame does not carry it.
    @inline(__always)
    func untag(_ p: inout Packet, vlan: UInt16?) -> Bool {
        guard let vlan else { return true }
        guard p.length >= L.eth + 4, p.data.be16(L.ethType) == L.typeVLAN,
              p.data.be16(L.ethType + 2) & 0x0FFF == vlan else { return false }
        // Move the two MAC addresses 4 bytes forward over the tag.
        (p.data + 4).copyMemory(from: p.data, byteCount: 12)
        p.data += 4
        p.length -= 4
        return true
    }

    
    func ingress4(_ p0: Packet, now: UInt64) {
        var p = p0
        guard untag(&p, vlan: settings.extVLAN), p.length >= L.eth else { return drop(p) }
        let type = p.data.be16(L.ethType)
        if type == L.typeIPv4 {
            // Frames whose IPv4 length fields overrun the frame never go further.
            guard p.length >= L.eth + 20 else { return dropMalformed4Silently(p) }
            let ihl = Int(p.data.u8(L.eth) & 0x0F) << 2
            guard ihl >= 20, Int(p.data.be16(L.eth + L.v4TotalLength)) <= p.length - L.eth else {
                return dropMalformed4Silently(p)
            }
        }
        if type == L.typeIPv4 && p.data.be16(L.eth + L.v4Flags) & 0x3FFF != 0 {
            counters.add(.inIPv4FragNeedsReassembly)
            switch reassembler4.add(p, now: now) {
            case .incomplete: return
            case .invalid:
                counters.add(.dropIPv4FragInvalidReassembly)
                return
            case .complete(let whole):
                counters.add(.inIPv4FragReassembled)
                p = whole
            }
        } else {
            counters.add(.inIPv4FragReassemblyUnneeded)
        }
        if !filterRefs.extIngress.allows(p) { return drop(p) }
        if type == L.typeARP && p.length >= 42 { return arpInput(p) }
        if type == L.typeIPv4 && isEchoRequestToUs4(p) { return echoReply4(p) }
        enqueue(p, &core4)
    }

    func dropMalformed4Silently(_ p: Packet) {
        counters.add(.dropMalformedIPv4Packets)
        drop(p)
    }

    func dropMalformed6Silently(_ p: Packet) {
        counters.add(.dropMalformedIPv6Packets)
        drop(p)
    }

    func ingress6(_ p0: Packet, now: UInt64) {
        var p = p0
        guard untag(&p, vlan: settings.intVLAN), p.length >= L.eth else { return drop(p) }
        let type = p.data.be16(L.ethType)
        if type == L.typeIPv6 {
            guard p.length >= L.eth + L.v6Header,
                  Int(p.data.be16(L.eth + L.v6PayloadLength)) <= p.length - L.eth - L.v6Header else {
                return dropMalformed6Silently(p)
            }
        }
        if type == L.typeIPv6 && p.data.u8(L.eth + L.v6NextHeader) == L.protoFragment {
            counters.add(.inIPv6FragNeedsReassembly)
            switch reassembler6.add(p, now: now) {
            case .incomplete: return
            case .invalid:
                counters.add(.dropIPv6FragInvalidReassembly)
                return
            case .complete(let whole):
                counters.add(.inIPv6FragReassembled)
                p = whole
            }
        } else {
            counters.add(.inIPv6FragReassemblyUnneeded)
        }
        if !filterRefs.intIngress.allows(p) { return drop(p) }
        if type == L.typeIPv6 && p.length >= 58 && p.data.u8(L.eth + L.v6NextHeader) == L.protoICMPv6 {
            let icmpType = p.data.u8(L.eth + L.v6Header)
            if icmpType >= 133 && icmpType <= 137 { return ndpInput(p) }
            if icmpType == 128 && p.data.u8(L.eth + L.v6Header + 1) == 0 && isToUs6(p) { return echoReply6(p) }
        }
        enqueue(p, &core6)
    }

    func isEchoRequestToUs4(_ p: Packet) -> Bool {
        let ip = p.data + L.eth
        guard p.length >= L.eth + 28, ip.u8(L.v4Proto) == L.protoICMP, ip.be32(L.v4Dst) == settings.extIPv4,
              ip.be16(L.v4Flags) & 0x3FFF == 0 else { return false }
        let ihl = Int(ip.u8(0) & 0x0F) << 2
        return p.length >= L.eth + ihl + 8 && ip.u8(ihl) == 8 && ip.u8(ihl + 1) == 0
    }

    
    func isToUs6(_ p: Packet) -> Bool {
        let ip6 = p.data + L.eth
        return ip6.be64(L.v6Dst) == settings.intIPv6Hi && ip6.be64(L.v6Dst + 8) == settings.intIPv6Lo
    }

    /// Answers an ICMPv4 echo request addressed to the lwAFTR's external address, in place.
    
    func echoReply4(_ p: Packet) {
        counters.add(packets: .inICMPv4EchoPackets, bytes: .inICMPv4EchoBytes, p.length)
        let d = p.data
        swapMACs(d)
        let ip = d + L.eth
        let ihl = Int(ip.u8(0) & 0x0F) << 2
        let src = ip.be32(L.v4Src)
        ip.set32(L.v4Src, ip.be32(L.v4Dst))
        ip.set32(L.v4Dst, src)
        ip.set8(L.v4TTL, 64)
        ip.set16(L.v4Checksum, 0)
        ip.set16(L.v4Checksum, Checksum.compute(ip, ihl))
        let icmp = ip + ihl
        icmp.set8(0, 0)
        icmp.set16(2, 0)
        icmp.set16(2, Checksum.compute(icmp, p.length - L.eth - ihl))
        counters.add(packets: .outICMPv4EchoPackets, bytes: .outICMPv4EchoBytes, p.length)
        enqueue(p, &local4)
    }

    /// Answers an ICMPv6 echo request addressed to the lwAFTR's internal address, in place.
    
    func echoReply6(_ p: Packet) {
        counters.add(packets: .inICMPv6EchoPackets, bytes: .inICMPv6EchoBytes, p.length)
        let d = p.data
        swapMACs(d)
        let ip6 = d + L.eth
        let sHi = ip6.be64(L.v6Src), sLo = ip6.be64(L.v6Src + 8)
        ip6.set64(L.v6Src, ip6.be64(L.v6Dst))
        ip6.set64(L.v6Src + 8, ip6.be64(L.v6Dst + 8))
        ip6.set64(L.v6Dst, sHi)
        ip6.set64(L.v6Dst + 8, sLo)
        ip6.set8(L.v6HopLimit, 64)
        let icmp = ip6 + L.v6Header
        icmp.set8(0, 129)
        icmp.set16(2, 0)
        let plen = Int(ip6.be16(L.v6PayloadLength))
        let pseudo = Checksum.ipv6PseudoHeader(ip6, srcOffset: L.v6Src, length: plen, nextHeader: L.protoICMPv6)
        icmp.set16(2, Checksum.compute(icmp, p.length - L.eth - L.v6Header, initial: pseudo))
        counters.add(packets: .outICMPv6EchoPackets, bytes: .outICMPv6EchoBytes, p.length)
        enqueue(p, &local6)
    }

    @inline(__always)
    func swapMACs(_ d: UnsafeMutableRawPointer) {
        let dst = d.mac(0)
        d.setMAC(0, d.mac(6))
        d.setMAC(6, dst)
    }
}
