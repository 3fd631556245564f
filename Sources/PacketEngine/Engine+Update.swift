/// Live settings change (configuration reload): called by the worker that owns the engine,
/// between two `process` calls, never on the per-packet path.
extension LwAFTREngine {
    /// Adopts new policies (ICMP, hairpinning, MTU, flow label, filters, rate limits, addresses,
    /// next hops, reassembly limits). Resolved neighbours and counters are kept; so are the
    /// datagrams being reassembled, unless that side's reassembly limits change: then its
    /// reassembler is rebuilt with them and their fragments are dropped (buffers back to the
    /// pool). Filters are compiled first, so on error nothing changes.
    public func update(settings new: EngineSettings) throws(FilterError) {
        let filters = (try new.extIngressFilter.map { (f) throws(FilterError) in try PacketFilter(f) },
                       try new.extEgressFilter.map { (f) throws(FilterError) in try PacketFilter(f) },
                       try new.intIngressFilter.map { (f) throws(FilterError) in try PacketFilter(f) },
                       try new.intEgressFilter.map { (f) throws(FilterError) in try PacketFilter(f) })
        var s = new
        let old = settings
        // A next hop still resolved by ARP/ND keeps the address it learnt.
        if s.extNextHopMAC == 0 && s.extNextHopIPv4 == old.extNextHopIPv4 { s.extNextHopMAC = old.extNextHopMAC }
        if s.intNextHopMAC == 0 && s.intNextHopIPv6Hi == old.intNextHopIPv6Hi && s.intNextHopIPv6Lo == old.intNextHopIPv6Lo {
            s.intNextHopMAC = old.intNextHopMAC
        }
        if s.extErrorRatePackets != old.extErrorRatePackets || s.extErrorRatePeriodNs != old.extErrorRatePeriodNs {
            icmp4Bucket = TokenBucket(burst: s.extErrorRatePackets, periodNs: s.extErrorRatePeriodNs)
        }
        if s.intErrorRatePackets != old.intErrorRatePackets || s.intErrorRatePeriodNs != old.intErrorRatePeriodNs {
            icmp6Bucket = TokenBucket(burst: s.intErrorRatePackets, periodNs: s.intErrorRatePeriodNs)
        }
        if s.extMaxFragmentsPerPacket != old.extMaxFragmentsPerPacket || s.extMaxFragmentedPackets != old.extMaxFragmentedPackets {
            reassembler4 = Reassembler(family: .ipv4, maxFragmentsPerPacket: s.extMaxFragmentsPerPacket,
                                       maxPackets: s.extMaxFragmentedPackets, pool: pool, counters: counters)
        }
        if s.intMaxFragmentsPerPacket != old.intMaxFragmentsPerPacket || s.intMaxFragmentedPackets != old.intMaxFragmentedPackets {
            reassembler6 = Reassembler(family: .ipv6, maxFragmentsPerPacket: s.intMaxFragmentsPerPacket,
                                       maxPackets: s.intMaxFragmentedPackets, pool: pool, counters: counters)
        }
        (extIngressFilter, extEgressFilter, intIngressFilter, intEgressFilter) = filters
        filterRefs = FilterRefs(extIngressFilter, extEgressFilter, intIngressFilter, intEgressFilter)
        settings = s
        if needsResolution { solicited = false }
    }
}
