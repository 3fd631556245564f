internal import BindingTable

/// Batch front ends of the two pipelines, with a fused fast path for the common case.
///
/// A plain frame — untagged IPv4 without options, not a fragment, not ICMP (or IPv6 carrying such
/// an IPv4 packet from a B4) — whose softwire is found and that needs no fragmentation, no filter,
/// no next-hop resolution and no hairpinning is encapsulated (decapsulated) and appended to the
/// output batch right here, with one counter update per batch. Everything else takes the full
/// per-frame stages. A batch switches to the full stages for good at its first frame that needs
/// them, so the order of frames is the one the staged pipeline produces.
extension LwAFTREngine {

    func ingressBatch4(_ batch: inout PacketBatch, out6: inout PacketBatch, now: UInt64) {
        let plain = settings.extVLAN == nil && extIngressFilter == nil
        // The fast path writes straight to the IPv6 output; it may only do so while nothing
        // staged is waiting to go out ahead of it.
        var fast = plain && settings.intVLAN == nil && intEgressFilter == nil && settings.intNextHopMAC != 0
            && held6.isEmpty && local6.isEmpty && core4.isEmpty && egress6.isEmpty
        var unneeded = 0, inBytes = 0, fastCount = 0, outBytes = 0
        let mtu6 = settings.intMTU, flowLabel = settings.flowLabel & 0xFFFFF
        let nextHop = settings.intNextHopMAC, ownMAC = settings.intMAC
        for i in 0..<batch.count {
            var p = batch[i]
            let d = p.data
            if plain && p.length >= 38 && d.be16(L.ethType) == L.typeIPv4 && d.u8(L.eth) == 0x45
                && d.be16(L.eth + L.v4Flags) & 0x3FFF == 0 && d.u8(L.eth + L.v4Proto) != L.protoICMP
                && Int(d.be16(L.eth + L.v4TotalLength)) <= p.length - L.eth && !core4.isFull {
                unneeded &+= 1
                let ip4 = d + L.eth
                let ttl = ip4.u8(L.v4TTL)
                let payload = p.length - L.eth
                if fast && ttl > 1 && payload + L.v6Header <= mtu6 && pool.frontroom(p) >= L.v6Header && !out6.isFull,
                   let v = reader.lookup(ipv4: ip4.be32(L.v4Dst), port: ip4.be16(20 + 2)) {
                    // TTL - 1 with the RFC 1624 checksum update (the TTL is the high byte of its word).
                    let sum = UInt32(~ip4.be16(L.v4Checksum)) &+ 0xFEFF
                    let folded = (sum & 0xFFFF) &+ (sum >> 16)
                    ip4.set8(L.v4TTL, ttl &- 1)
                    ip4.set16(L.v4Checksum, ~UInt16(truncatingIfNeeded: (folded & 0xFFFF) &+ (folded >> 16)))
                    let tos = ip4.u8(L.v4TOS)
                    p.data -= L.v6Header
                    p.length += L.v6Header
                    let o = p.data
                    o.setMAC(0, nextHop)
                    o.setMAC(6, ownMAC)
                    o.set16(L.ethType, L.typeIPv6)
                    let ip6 = o + L.eth
                    ip6.set32(0, 6 << 28 | UInt32(tos) << 20 | flowLabel)
                    ip6.set32(4, UInt32(truncatingIfNeeded: payload) << 16 | UInt32(L.protoIPv4) << 8 | 255)
                    let br = reader.brAddress(v.brIndex)
                    ip6.set64(L.v6Src, br.hi)
                    ip6.set64(L.v6Src + 8, br.lo)
                    ip6.set64(L.v6Dst, v.b4Hi)
                    ip6.set64(L.v6Dst + 8, v.b4Lo)
                    inBytes &+= payload &+ L.eth
                    outBytes &+= p.length
                    fastCount &+= 1
                    out6.append(p)
                    continue
                }
                fast = false
                core4.append(p)
            } else {
                fast = false
                ingress4(p, now: now)
            }
        }
        if unneeded != 0 { counters.add(.inIPv4FragReassemblyUnneeded, unneeded) }
        if fastCount != 0 {
            counters.add(.inIPv4Packets, fastCount)
            counters.add(.inIPv4Bytes, inBytes)
            counters.add(.outIPv6Packets, fastCount)
            counters.add(.outIPv6Bytes, outBytes)
            counters.add(.outIPv6FragNot, fastCount)
        }
        batch.removeAll()
    }

    func ingressBatch6(_ batch: inout PacketBatch, out4: inout PacketBatch, now: UInt64) {
        let plain = settings.intVLAN == nil && intIngressFilter == nil
        var fast = plain && settings.extVLAN == nil && extEgressFilter == nil && settings.extNextHopMAC != 0
            && held4.isEmpty && local4.isEmpty && core6.isEmpty && egress4.isEmpty
        var unneeded = 0, inBytes = 0, fastCount = 0
        let mtu4 = settings.extMTU, hairpinning = settings.hairpinning
        let nextHop = settings.extNextHopMAC, ownMAC = settings.extMAC
        for i in 0..<batch.count {
            var p = batch[i]
            let d = p.data
            // Next header 4 (IPv4 in IPv6) is never NDP, echo or a fragment.
            if plain && p.length >= 58 && d.be16(L.ethType) == L.typeIPv6 && d.u8(L.eth + L.v6NextHeader) == L.protoIPv4
                && Int(d.be16(L.eth + L.v6PayloadLength)) <= p.length - L.eth - L.v6Header && !core6.isFull {
                unneeded &+= 1
                let ip6 = d + L.eth
                let ip4 = ip6 + L.v6Header
                if fast && p.length >= L.eth + L.v6Header + 24 && ip4.u8(0) == 0x45 && ip4.u8(L.v4Proto) != L.protoICMP
                    && p.length - L.eth - L.v6Header <= mtu4 && !out4.isFull,
                   let v = reader.lookup(ipv4: ip4.be32(L.v4Src), port: ip4.be16(20)),
                   ip6.be64(L.v6Src) == v.b4Hi && ip6.be64(L.v6Src + 8) == v.b4Lo {
                    let br = reader.brAddress(v.brIndex)
                    if ip6.be64(L.v6Dst) == br.hi && ip6.be64(L.v6Dst + 8) == br.lo
                        && !(hairpinning && reader.isManaged(ipv4: ip4.be32(L.v4Dst))) {
                        inBytes &+= p.length
                        p.data += L.v6Header
                        p.length -= L.v6Header
                        p.data.setMAC(0, nextHop)
                        p.data.setMAC(6, ownMAC)
                        p.data.set16(L.ethType, L.typeIPv4)
                        fastCount &+= 1
                        out4.append(p)
                        continue
                    }
                }
                fast = false
                core6.append(p)
            } else {
                fast = false
                ingress6(p, now: now)
            }
        }
        if unneeded != 0 { counters.add(.inIPv6FragReassemblyUnneeded, unneeded) }
        if fastCount != 0 {
            counters.add(.inIPv6Packets, fastCount)
            counters.add(.inIPv6Bytes, inBytes)
            counters.add(.outIPv4Packets, fastCount)
            counters.add(.outIPv4Bytes, inBytes - fastCount * L.v6Header)
            counters.add(.outIPv4FragNot, fastCount)
        }
        batch.removeAll()
    }
}
