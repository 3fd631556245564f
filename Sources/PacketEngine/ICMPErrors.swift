internal import BindingTable
internal import LwAFTRCore

/// Construction and rate-limited transmission of the ICMP errors the lwAFTR originates.
/// ICMPv4 errors quote as much of the offending packet as fits in 576 bytes (RFC 1812 §4.3.2.3);
/// ICMPv6 errors as much as fits in the IPv6 minimum MTU of 1280 (RFC 4443 §2.4).
extension LwAFTREngine {
    static var maxICMPv4Packet: Int { 576 }
    static var maxICMPv6Packet: Int { 1280 }

    /// A new ICMPv4 error frame from the external address to `dst`, quoting `src` from byte `from`.
    
    func makeICMPv4(type: UInt8, code: UInt8, rest: UInt32, dst: UInt32, quoting src: Packet, from: Int) -> Packet? {
        guard var e = pool.allocate() else {
            counters.add(.dropNoBufferPackets)
            return nil
        }
        let quote = max(0, min(src.length - from, Self.maxICMPv4Packet - 20 - 8))
        let d = e.data
        writeEthernet(d, type: L.typeIPv4)
        let ip = d + L.eth
        let total = 20 + 8 + quote
        ip.set32(0, 0x4500_0000 | UInt32(total))
        ip.set32(4, 0)
        ip.set8(L.v4TTL, 255)
        ip.set8(L.v4Proto, L.protoICMP)
        ip.set16(L.v4Checksum, 0)
        ip.set32(L.v4Src, settings.extIPv4)
        ip.set32(L.v4Dst, dst)
        ip.set16(L.v4Checksum, Checksum.compute(ip, 20))
        let icmp = ip + 20
        icmp.set8(0, type)
        icmp.set8(1, code)
        icmp.set16(2, 0)
        icmp.set32(4, rest)
        (icmp + 8).copyMemory(from: src.data + from, byteCount: quote)
        icmp.set16(2, Checksum.compute(icmp, 8 + quote))
        e.length = L.eth + total
        return e
    }

    /// A new ICMPv6 error frame quoting `src` from byte `from`.
    
    func makeICMPv6(type: UInt8, code: UInt8, srcHi: UInt64, srcLo: UInt64, dstHi: UInt64, dstLo: UInt64,
                    quoting src: Packet, from: Int) -> Packet? {
        guard var e = pool.allocate() else {
            counters.add(.dropNoBufferPackets)
            return nil
        }
        let quote = max(0, min(src.length - from, Self.maxICMPv6Packet - L.v6Header - 8))
        let d = e.data
        writeEthernet(d, type: L.typeIPv6)
        let ip6 = d + L.eth
        let plen = 8 + quote
        ip6.set32(0, 6 << 28)
        ip6.set16(L.v6PayloadLength, UInt16(plen))
        ip6.set8(L.v6NextHeader, L.protoICMPv6)
        ip6.set8(L.v6HopLimit, 255)
        ip6.set64(L.v6Src, srcHi)
        ip6.set64(L.v6Src + 8, srcLo)
        ip6.set64(L.v6Dst, dstHi)
        ip6.set64(L.v6Dst + 8, dstLo)
        let icmp = ip6 + L.v6Header
        icmp.set8(0, type)
        icmp.set8(1, code)
        icmp.set16(2, 0)
        icmp.set32(4, 0)
        (icmp + 8).copyMemory(from: src.data + from, byteCount: quote)
        let pseudo = Checksum.ipv6PseudoHeader(ip6, srcOffset: L.v6Src, length: plen, nextHeader: L.protoICMPv6)
        icmp.set16(2, Checksum.compute(icmp, plen, initial: pseudo))
        e.length = L.eth + L.v6Header + plen
        return e
    }

    /// Sends an ICMPv4 error if the rate limit allows: towards a B4 (tunnelled via the hairpin
    /// queue, not counted as hairpinning) or out of the IPv4 side.
    
    func transmitICMPv4Error(_ e: Packet, now: UInt64) {
        guard icmp4Bucket.take(now: now) else {
            counters.add(packets: .dropOverRateLimitICMPv4Packets, bytes: .dropOverRateLimitICMPv4Bytes, e.length)
            return drop(e)
        }
        counters.add(packets: .outICMPv4ErrorPackets, bytes: .outICMPv4ErrorBytes, e.length)
        if reader.isManaged(ipv4: e.data.be32(L.eth + L.v4Dst)) {
            enqueue(e, &hairpin)
        } else {
            counters.add(packets: .outIPv4Packets, bytes: .outIPv4Bytes, e.length)
            enqueue(e, &egress4)
        }
    }

    /// Sends an ICMPv6 error towards a B4 if the rate limit allows (RFC 7596 §9 MUST).
    
    func transmitICMPv6Error(_ e: Packet, now: UInt64) {
        guard icmp6Bucket.take(now: now) else {
            counters.add(packets: .dropOverRateLimitICMPv6Packets, bytes: .dropOverRateLimitICMPv6Bytes, e.length)
            return drop(e)
        }
        counters.add(packets: .outICMPv6ErrorPackets, bytes: .outICMPv6ErrorBytes, e.length)
        counters.add(packets: .outIPv6Packets, bytes: .outIPv6Bytes, e.length)
        enqueue(e, &egress6)
    }
}
