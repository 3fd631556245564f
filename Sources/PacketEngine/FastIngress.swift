internal import BindingTable

/// Batch front ends of the two pipelines, with a fused fast path for the common case, in three
/// passes per DESIGN.md: parse all, look all up (hash all → prefetch → probe, in the table), rewrite.
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
        let n = batch.count
        // Pass 1: the leading run of plain frames; their lookup keys (dst, dst port).
        var m = 0
        if plain {
            while m < n && m < scratchCapacity {
                let p = batch[m], d = p.data
                guard p.length >= 38 && d.be16(L.ethType) == L.typeIPv4 && d.u8(L.eth) == 0x45
                    && d.be16(L.eth + L.v4Flags) & 0x3FFF == 0 && d.u8(L.eth + L.v4Proto) != L.protoICMP
                    && Int(d.be16(L.eth + L.v4TotalLength)) <= p.length - L.eth else { break }
                scratchIPv4[m] = d.be32(L.eth + L.v4Dst)
                scratchPorts[m] = d.be16(L.eth + 20 + 2)
                m &+= 1
            }
        }
        // Pass 2: hash all, prefetch, probe (the table does the three stages over the batch).
        var i = 0
        // The fast path writes straight to the IPv6 output; it may only do so while nothing
        // staged is waiting to go out ahead of it.
        if m > 0 && settings.intVLAN == nil && intEgressFilter == nil && settings.intNextHopMAC != 0
            && held6.isEmpty && local6.isEmpty && core4.isEmpty && egress6.isEmpty {
            _ = reader.lookupBatch(ipv4: scratchIPv4, ports: scratchPorts, results: scratchResults, count: m)
            // Pass 3: rewrite in place, until the first frame that needs the full stages.
            var inBytes = 0, outBytes = 0
            let mtu6 = settings.intMTU, flowLabel = settings.flowLabel & 0xFFFFF
            let nextHop = settings.intNextHopMAC, ownMAC = settings.intMAC
            while i < m {
                var p = batch[i]
                let ip4 = p.data + L.eth
                let ttl = ip4.u8(L.v4TTL)
                let payload = p.length - L.eth
                let v = scratchResults[i]
                guard !v.isNotFound, ttl > 1, payload + L.v6Header <= mtu6, pool.frontroom(p) >= L.v6Header,
                      !out6.isFull else { break }
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
                out6.append(p)
                i &+= 1
            }
            if i != 0 {
                counters.add(.inIPv4Packets, i)
                counters.add(.inIPv4Bytes, inBytes)
                counters.add(.outIPv6Packets, i)
                counters.add(.outIPv6Bytes, outBytes)
                counters.add(.outIPv6FragNot, i)
            }
        }
        // The rest in order through the full stages: plain frames straight to the core queue.
        if m != 0 { counters.add(.inIPv4FragReassemblyUnneeded, m) }
        while i < n {
            if i < m && !core4.isFull { core4.append(batch[i]) } else { ingress4(batch[i], now: now) }
            i &+= 1
        }
        batch.removeAll()
    }

    func ingressBatch6(_ batch: inout PacketBatch, out4: inout PacketBatch, now: UInt64) {
        let plain = settings.intVLAN == nil && intIngressFilter == nil
        let n = batch.count
        // Pass 1: the leading run of plain tunnelled frames (next header 4 is never NDP, echo or a
        // fragment); their lookup keys (inner src, src port).
        var m = 0
        if plain {
            while m < n && m < scratchCapacity {
                let p = batch[m], d = p.data
                guard p.length >= 58 && d.be16(L.ethType) == L.typeIPv6 && d.u8(L.eth + L.v6NextHeader) == L.protoIPv4
                    && Int(d.be16(L.eth + L.v6PayloadLength)) <= p.length - L.eth - L.v6Header else { break }
                let ip4 = d + L.eth + L.v6Header
                scratchIPv4[m] = ip4.be32(L.v4Src)
                scratchPorts[m] = ip4.be16(20)
                m &+= 1
            }
        }
        var i = 0
        if m > 0 && settings.extVLAN == nil && extEgressFilter == nil && settings.extNextHopMAC != 0
            && held4.isEmpty && local4.isEmpty && core6.isEmpty && egress4.isEmpty {
            _ = reader.lookupBatch(ipv4: scratchIPv4, ports: scratchPorts, results: scratchResults, count: m)
            var inBytes = 0
            let mtu4 = settings.extMTU, hairpinning = settings.hairpinning
            let nextHop = settings.extNextHopMAC, ownMAC = settings.extMAC
            while i < m {
                var p = batch[i]
                let ip6 = p.data + L.eth
                let ip4 = ip6 + L.v6Header
                let v = scratchResults[i]
                // Options, ICMP (its ports live elsewhere), oversize, a wrong B4 or br-address, and
                // hairpinning all leave for the full stages.
                guard !v.isNotFound, ip4.u8(0) == 0x45, ip4.u8(L.v4Proto) != L.protoICMP,
                      p.length - L.eth - L.v6Header <= mtu4, !out4.isFull,
                      ip6.be64(L.v6Src) == v.b4Hi, ip6.be64(L.v6Src + 8) == v.b4Lo else { break }
                let br = reader.brAddress(v.brIndex)
                guard ip6.be64(L.v6Dst) == br.hi, ip6.be64(L.v6Dst + 8) == br.lo,
                      !(hairpinning && reader.isManaged(ipv4: ip4.be32(L.v4Dst))) else { break }
                inBytes &+= p.length
                p.data += L.v6Header
                p.length -= L.v6Header
                p.data.setMAC(0, nextHop)
                p.data.setMAC(6, ownMAC)
                p.data.set16(L.ethType, L.typeIPv4)
                out4.append(p)
                i &+= 1
            }
            if i != 0 {
                counters.add(.inIPv6Packets, i)
                counters.add(.inIPv6Bytes, inBytes)
                counters.add(.outIPv4Packets, i)
                counters.add(.outIPv4Bytes, inBytes - i * L.v6Header)
                counters.add(.outIPv4FragNot, i)
            }
        }
        if m != 0 { counters.add(.inIPv6FragReassemblyUnneeded, m) }
        while i < n {
            if i < m && !core6.isFull { core6.append(batch[i]) } else { ingress6(batch[i], now: now) }
            i &+= 1
        }
        batch.removeAll()
    }
}
