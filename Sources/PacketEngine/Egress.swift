internal import BindingTable
internal import LwAFTRCore

/// Egress stages per side: next-hop MAC (held until resolved) → egress filter → fragmentation →
/// VLAN tag → output batch.
extension LwAFTREngine {

    
    /// A core frame towards the internet: next-hop MACs, egress filter, fragmentation, tag.
    func egressIPv4(_ p: Packet, into out: inout PacketBatch) {
        p.data.setMAC(0, settings.extNextHopMAC)
        p.data.setMAC(6, settings.extMAC)
        filtered4(p, into: &out)
    }

    /// A core frame towards the B4s.
    func egressIPv6(_ p: Packet, into out: inout PacketBatch) {
        p.data.setMAC(0, settings.intNextHopMAC)
        p.data.setMAC(6, settings.intMAC)
        filtered6(p, into: &out)
    }

    /// Egress filter then fragmentation, for every frame leaving the IPv4 side.
    func filtered4(_ p: Packet, into out: inout PacketBatch) {
        if !filterRefs.extEgress.allows(p) { return drop(p) }
        finish4(p, into: &out)
    }

    /// Egress filter then fragmentation, for every frame leaving the IPv6 side.
    func filtered6(_ p: Packet, into out: inout PacketBatch) {
        if !filterRefs.intEgress.allows(p) { return drop(p) }
        finish6(p, into: &out)
    }

    /// Runs the IPv4 egress for this call: frames the engine answered itself, then core frames
    /// (held while the next hop is unresolved, released in order once it is).
    func drainEgress4(into out: inout PacketBatch) {
        for i in 0..<local4.count { filtered4(local4[i], into: &out) }
        local4.removeAll()
        if settings.extNextHopMAC == 0 {
            for i in 0..<egress4.count { enqueue(egress4[i], &held4) }
            egress4.removeAll()
            return
        }
        for i in 0..<held4.count { egressIPv4(held4[i], into: &out) }
        held4.removeAll()
        for i in 0..<egress4.count { egressIPv4(egress4[i], into: &out) }
        egress4.removeAll()
    }

    /// Runs the IPv6 egress for this call (see `drainEgress4`).
    func drainEgress6(into out: inout PacketBatch) {
        for i in 0..<local6.count { filtered6(local6[i], into: &out) }
        local6.removeAll()
        if settings.intNextHopMAC == 0 {
            for i in 0..<egress6.count { enqueue(egress6[i], &held6) }
            egress6.removeAll()
            return
        }
        for i in 0..<held6.count { egressIPv6(held6[i], into: &out) }
        held6.removeAll()
        for i in 0..<egress6.count { egressIPv6(egress6[i], into: &out) }
        egress6.removeAll()
    }

    /// Fragments an over-MTU IPv4 packet (DF clear) and tags the result.
    
    func finish4(_ p: Packet, into out: inout PacketBatch) {
        if p.data.be16(L.ethType) == L.typeIPv4 && p.length - L.eth > settings.extMTU {
            return fragment4(p, into: &out)
        }
        counters.add(.outIPv4FragNot)
        emit(p, vlan: settings.extVLAN, into: &out)
    }

    /// Fragments an over-MTU IPv6 packet and tags the result.
    
    func finish6(_ p: Packet, into out: inout PacketBatch) {
        if p.data.be16(L.ethType) == L.typeIPv6 && p.length - L.eth > settings.intMTU {
            return fragment6(p, into: &out)
        }
        counters.add(.outIPv6FragNot)
        emit(p, vlan: settings.intVLAN, into: &out)
    }

    /// Adds the side's 802.1Q tag (if any) and appends to the output.
    @inline(__always)
    func emit(_ p0: Packet, vlan: UInt16?, into out: inout PacketBatch) {
        var p = p0
        if let vlan {
            guard pool.frontroom(p) >= 4 else { return drop(p) }
            p.data -= 4
            p.length += 4
            p.data.copyMemory(from: p.data + 4, byteCount: 12)
            p.data.set16(12, L.typeVLAN)
            p.data.set16(14, vlan & 0x0FFF)
        }
        if !out.append(p) {
            counters.add(.dropOutputFullPackets)
            drop(p)
        }
    }

    /// RFC 791 fragmentation of an IPv4 frame to the external MTU.
    
    func fragment4(_ p: Packet, into out: inout PacketBatch) {
        let ip = p.data + L.eth
        let ihl = Int(ip.u8(0) & 0x0F) << 2
        let total = Int(ip.be16(L.v4TotalLength))
        let flags = ip.be16(L.v4Flags)
        guard flags & 0x4000 == 0, total <= p.length - L.eth, ihl >= 20 else {
            // DF set (or inconsistent lengths) on the way out: dropped (the reference does so silently).
            counters.add(.dropEgressDFOverMTUPackets)
            return drop(p)
        }
        let chunk = (settings.extMTU - ihl) & ~7
        guard chunk > 0 else { return drop(p) }
        let id = nextIPv4FragmentID
        nextIPv4FragmentID &+= 1
        let baseOffset = Int(flags & 0x1FFF) << 3
        let moreAfter = flags & 0x2000
        var offset = 0
        let payload = total - ihl
        while offset < payload {
            let size = min(chunk, payload - offset)
            let last = offset + size >= payload
            guard var f = pool.allocate() else {
                counters.add(.dropNoBufferPackets)
                break
            }
            f.data.copyMemory(from: p.data, byteCount: L.eth + ihl)
            (f.data + L.eth + ihl).copyMemory(from: ip + ihl + offset, byteCount: size)
            let fip = f.data + L.eth
            fip.set16(L.v4TotalLength, UInt16(ihl + size))
            fip.set16(L.v4ID, id)
            let fragFlags = UInt16((baseOffset + offset) >> 3) | (last ? moreAfter : 0x2000)
            fip.set16(L.v4Flags, fragFlags)
            fip.set16(L.v4Checksum, 0)
            fip.set16(L.v4Checksum, Checksum.compute(fip, ihl))
            f.length = L.eth + ihl + size
            counters.add(.outIPv4Frag)
            emit(f, vlan: settings.extVLAN, into: &out)
            offset += size
        }
        drop(p)
    }

    /// RFC 8200 §4.5 fragmentation of an IPv6 frame (no extension headers before the payload).
    
    func fragment6(_ p: Packet, into out: inout PacketBatch) {
        let ip6 = p.data + L.eth
        let payload = Int(ip6.be16(L.v6PayloadLength))
        guard payload <= p.length - L.eth - L.v6Header else { return drop(p) }
        let chunk = (settings.intMTU - L.v6Header - 8) & ~7
        guard chunk > 0 else { return drop(p) }
        let id = nextIPv6FragmentID
        nextIPv6FragmentID &+= 1
        let nextHeader = ip6.u8(L.v6NextHeader)
        var offset = 0
        while offset < payload {
            let size = min(chunk, payload - offset)
            let last = offset + size >= payload
            guard var f = pool.allocate() else {
                counters.add(.dropNoBufferPackets)
                break
            }
            f.data.copyMemory(from: p.data, byteCount: L.eth + L.v6Header)
            let fip = f.data + L.eth
            fip.set16(L.v6PayloadLength, UInt16(8 + size))
            fip.set8(L.v6NextHeader, L.protoFragment)
            let fh = fip + L.v6Header
            fh.set8(0, nextHeader)
            fh.set8(1, 0)
            fh.set16(2, UInt16(offset) | (last ? 0 : 1))
            fh.set32(4, id)
            (fh + 8).copyMemory(from: ip6 + L.v6Header + offset, byteCount: size)
            f.length = L.eth + L.v6Header + 8 + size
            counters.add(.outIPv6Frag)
            emit(f, vlan: settings.intVLAN, into: &out)
            offset += size
        }
        drop(p)
    }
}
