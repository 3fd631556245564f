/// Live settings change (configuration reload): called by the worker that owns the engine,
/// between two `process` calls, never on the per-packet path.
extension LwAFTREngine {
    /// The four filters of `s` (external ingress, external egress, internal ingress, internal
    /// egress). With `reusing`, a filter whose expression is the one the old settings had is
    /// the old compiled filter: a reload that leaves the filters alone compiles nothing.
    static func compileFilters(_ s: EngineSettings, reusing old: (EngineSettings, [PacketFilter?])? = nil)
        throws(FilterError) -> [PacketFilter?] {
        let wanted = [s.extIngressFilter, s.extEgressFilter, s.intIngressFilter, s.intEgressFilter]
        let had = old.map { [$0.0.extIngressFilter, $0.0.extEgressFilter, $0.0.intIngressFilter, $0.0.intEgressFilter] }
        var out: [PacketFilter?] = []
        for (i, expression) in wanted.enumerated() {
            if let old, had?[i] == expression { out.append(old.1[i]); continue }
            out.append(try expression.map { (e) throws(FilterError) in try PacketFilter(e) })
        }
        return out
    }

    /// Adopts new policies (ICMP, hairpinning, MTU, flow label, filters, rate limits, addresses,
    /// next hops, reassembly limits). Resolved neighbours and counters are kept; so are the
    /// datagrams being reassembled, unless that side's reassembly limits change: then its
    /// reassembler is rebuilt with them and their fragments are dropped (buffers back to the
    /// pool). Filters are compiled first, so on error nothing changes.
    public func update(settings new: EngineSettings) throws(FilterError) {
        let f = try Self.compileFilters(new, reusing: (settings, [extIngressFilter, extEgressFilter, intIngressFilter, intEgressFilter]))
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
        (extIngressFilter, extEgressFilter, intIngressFilter, intEgressFilter) = (f[0], f[1], f[2], f[3])
        filterRefs = FilterRefs(extIngressFilter, extEgressFilter, intIngressFilter, intEgressFilter)
        settings = s
        if needsResolution { solicited = false }
    }
}
