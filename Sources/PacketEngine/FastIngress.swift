/// Batch front ends of the two ingress pipelines. Plain, unfragmented IPv4/IPv6 frames with no
/// local business (no ARP/NDP, no echo to us, no filter, no VLAN to strip) go straight to the core
/// queue with one counter update per batch; every other frame takes the full per-frame stages.
/// Both paths append to the same queue in arrival order, so output order is unchanged.
extension LwAFTREngine {

    func ingressBatch4(_ batch: inout PacketBatch, now: UInt64) {
        let plain = settings.extVLAN == nil && extIngressFilter == nil
        var unneeded = 0
        for i in 0..<batch.count {
            let p = batch[i]
            let d = p.data
            // 0x45: IPv4 without options; proto != ICMP keeps echo-to-us and ICMP rules on the slow path.
            if plain && p.length >= 38 && d.be16(L.ethType) == L.typeIPv4 && d.u8(L.eth) == 0x45
                && d.be16(L.eth + L.v4Flags) & 0x3FFF == 0 && d.u8(L.eth + L.v4Proto) != L.protoICMP
                && Int(d.be16(L.eth + L.v4TotalLength)) <= p.length - L.eth && !core4.isFull {
                unneeded &+= 1
                core4.append(p)
            } else {
                ingress4(p, now: now)
            }
        }
        if unneeded != 0 { counters.add(.inIPv4FragReassemblyUnneeded, unneeded) }
        batch.removeAll()
    }

    func ingressBatch6(_ batch: inout PacketBatch, now: UInt64) {
        let plain = settings.intVLAN == nil && intIngressFilter == nil
        var unneeded = 0
        for i in 0..<batch.count {
            let p = batch[i]
            let d = p.data
            // Next header 4 (IPv4 in IPv6) is never NDP, echo or a fragment.
            if plain && p.length >= 58 && d.be16(L.ethType) == L.typeIPv6 && d.u8(L.eth + L.v6NextHeader) == L.protoIPv4
                && Int(d.be16(L.eth + L.v6PayloadLength)) <= p.length - L.eth - L.v6Header && !core6.isFull {
                unneeded &+= 1
                core6.append(p)
            } else {
                ingress6(p, now: now)
            }
        }
        if unneeded != 0 { counters.add(.inIPv6FragReassemblyUnneeded, unneeded) }
        batch.removeAll()
    }
}
