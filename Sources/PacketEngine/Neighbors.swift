internal import BindingTable
internal import LwAFTRCore

/// ARP (RFC 826) on the IPv4 side and Neighbour Discovery (RFC 4861) on the IPv6 side: answer for
/// the lwAFTR's own addresses and resolve a next hop configured by IP address.
extension LwAFTREngine {

    
    func arpInput(_ p: Packet) {
        let a = p.data + L.eth
        guard p.length >= L.eth + 28, a.be16(0) == 1, a.be16(2) == 0x0800, a.u8(4) == 6, a.u8(5) == 4 else {
            return drop(p)
        }
        let op = a.be16(6)
        if op == 1 {
            counters.add(packets: .inARPRequestPackets, bytes: .inARPRequestBytes, p.length)
            guard a.be32(24) == settings.extIPv4, settings.extIPv4 != 0 else { return drop(p) }
            // Turn the request into the reply in place.
            let senderMAC = a.mac(8), senderIP = a.be32(14)
            let d = p.data
            d.setMAC(0, senderMAC)
            d.setMAC(6, settings.extMAC)
            a.set16(6, 2)
            a.setMAC(8, settings.extMAC)
            a.set32(14, settings.extIPv4)
            a.setMAC(18, senderMAC)
            a.set32(24, senderIP)
            counters.add(packets: .outARPReplyPackets, bytes: .outARPReplyBytes, p.length)
            enqueue(p, &local4)
        } else if op == 2 {
            counters.add(packets: .inARPReplyPackets, bytes: .inARPReplyBytes, p.length)
            if settings.extNextHopIPv4 != 0 && a.be32(14) == settings.extNextHopIPv4 {
                settings.extNextHopMAC = a.mac(8)
            }
            drop(p)
        } else {
            drop(p)
        }
    }

    
    func ndpInput(_ p0: Packet) {
        var p = p0
        let ip6 = p.data + L.eth
        let icmp = ip6 + L.v6Header
        let type = icmp.u8(0)
        let plen = Int(ip6.be16(L.v6PayloadLength))
        guard ip6.u8(L.v6HopLimit) == 255, icmp.u8(1) == 0, plen >= 8,
              Checksum.sum(icmp, plen, initial: Checksum.ipv6PseudoHeader(
                ip6, srcOffset: L.v6Src, length: plen, nextHeader: L.protoICMPv6)) == 0xFFFF else {
            return drop(p)
        }
        if type == 135 {
            counters.add(packets: .inNDPNSPackets, bytes: .inNDPNSBytes, p.length)
            guard p.length >= 78 else { return drop(p) }
            let tHi = icmp.be64(8), tLo = icmp.be64(16)
            guard tHi == settings.intIPv6Hi && tLo == settings.intIPv6Lo, tHi >> 56 != 0xFF else { return drop(p) }
            var sHi = ip6.be64(L.v6Src), sLo = ip6.be64(L.v6Src + 8)
            if sHi == 0 && sLo == 0 {
                // DAD probe: answer to all-nodes, unless it was sent to a solicited-node group.
                if ip6.be64(L.v6Dst) == 0xFF02_0000_0000_0000 && ip6.be64(L.v6Dst + 8) >> 24 == 0x0000_0001_FF {
                    return drop(p)
                }
                sHi = 0xFF02_0000_0000_0000; sLo = 1
            }
            // Reply with a solicited NA carrying our link-layer address, in place.
            let d = p.data
            let peerMAC = d.mac(6)
            d.setMAC(0, peerMAC)
            d.setMAC(6, settings.intMAC)
            ip6.set32(0, 6 << 28)
            ip6.set16(L.v6PayloadLength, 32)
            ip6.set64(L.v6Src, tHi)
            ip6.set64(L.v6Src + 8, tLo)
            ip6.set64(L.v6Dst, sHi)
            ip6.set64(L.v6Dst + 8, sLo)
            icmp.set8(0, 136)
            icmp.set32(4, 0xC000_0000)  // Router | Solicited
            icmp.set8(24, 2)  // target link-layer address option
            icmp.set8(25, 1)
            icmp.setMAC(26, settings.intMAC)
            icmp.set16(2, 0)
            let pseudo = Checksum.ipv6PseudoHeader(ip6, srcOffset: L.v6Src, length: 32, nextHeader: L.protoICMPv6)
            icmp.set16(2, Checksum.compute(icmp, 32, initial: pseudo))
            p.length = L.eth + L.v6Header + 32
            counters.add(packets: .outNDPNAPackets, bytes: .outNDPNABytes, p.length)
            enqueue(p, &local6)
        } else if type == 136 {
            counters.add(packets: .inNDPNAPackets, bytes: .inNDPNABytes, p.length)
            let hi = settings.intNextHopIPv6Hi, lo = settings.intNextHopIPv6Lo
            if settings.intNextHopMAC == 0, (hi | lo) != 0, p.length >= 78, icmp.u8(4) & 0x40 != 0,
               icmp.be64(8) == hi, icmp.be64(16) == lo {
                var mac = p.data.mac(6)
                var at = 24
                let end = min(plen, p.length - L.eth - L.v6Header)
                while at + 2 <= end {
                    let optLen = Int(icmp.u8(at + 1)) * 8
                    if optLen == 0 || at + optLen > end { break }
                    if icmp.u8(at) == 2 && optLen == 8 { mac = icmp.mac(at + 2); break }
                    at += optLen
                }
                settings.intNextHopMAC = mac
            }
            drop(p)
        } else {
            drop(p)  // RS, RA, redirect: consumed
        }
    }

    /// Sends an ARP request / Neighbour Solicitation for each next hop still unresolved.
    func solicitNextHops(now: UInt64) {
        solicited = true
        lastSolicitation = now
        if settings.extNextHopMAC == 0 && settings.extNextHopIPv4 != 0, var r = pool.allocate() {
            let d = r.data
            d.setMAC(0, 0xFFFF_FFFF_FFFF)
            d.setMAC(6, settings.extMAC)
            d.set16(L.ethType, L.typeARP)
            let a = d + L.eth
            a.set16(0, 1); a.set16(2, 0x0800); a.set8(4, 6); a.set8(5, 4); a.set16(6, 1)
            a.setMAC(8, settings.extMAC)
            a.set32(14, settings.extIPv4)
            a.setMAC(18, 0)
            a.set32(24, settings.extNextHopIPv4)
            r.length = L.eth + 28
            counters.add(packets: .outARPRequestPackets, bytes: .outARPRequestBytes, r.length)
            enqueue(r, &local4)
        }
        let hi = settings.intNextHopIPv6Hi, lo = settings.intNextHopIPv6Lo
        if settings.intNextHopMAC == 0 && (hi | lo) != 0, var r = pool.allocate() {
            let d = r.data
            let low24 = lo & 0xFF_FFFF
            d.setMAC(0, 0x3333_FF00_0000 | low24)
            d.setMAC(6, settings.intMAC)
            d.set16(L.ethType, L.typeIPv6)
            let ip6 = d + L.eth
            ip6.set32(0, 6 << 28)
            ip6.set16(L.v6PayloadLength, 32)
            ip6.set8(L.v6NextHeader, L.protoICMPv6)
            ip6.set8(L.v6HopLimit, 255)
            ip6.set64(L.v6Src, settings.intIPv6Hi)
            ip6.set64(L.v6Src + 8, settings.intIPv6Lo)
            ip6.set64(L.v6Dst, 0xFF02_0000_0000_0000)  // solicited-node multicast ff02::1:ffXX:XXXX
            ip6.set64(L.v6Dst + 8, 0x0000_0001_FF00_0000 | low24)
            let icmp = ip6 + L.v6Header
            icmp.set8(0, 135); icmp.set8(1, 0); icmp.set16(2, 0); icmp.set32(4, 0)
            icmp.set64(8, hi); icmp.set64(16, lo)
            icmp.set8(24, 1); icmp.set8(25, 1)  // source link-layer address option
            icmp.setMAC(26, settings.intMAC)
            let pseudo = Checksum.ipv6PseudoHeader(ip6, srcOffset: L.v6Src, length: 32, nextHeader: L.protoICMPv6)
            icmp.set16(2, Checksum.compute(icmp, 32, initial: pseudo))
            r.length = L.eth + L.v6Header + 32
            counters.add(packets: .outNDPNSPackets, bytes: .outNDPNSBytes, r.length)
            enqueue(r, &local6)
        }
    }
}
