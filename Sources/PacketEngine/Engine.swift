public import BindingTable
public import LwAFTRCore

/// The lwAFTR packet engine for one worker: Ethernet frames in from the internet (IPv4) side and
/// the B4 (IPv6) side, frames out on each side. Owns its packet pool and counters; never locks,
/// never allocates per packet.
///
/// One `process` call runs the pipeline over whole batches, stage by stage:
/// ingress (VLAN untag, reassembly, ARP/NDP, echo to the lwAFTR itself, ingress filter) →
/// core (decapsulate B4 traffic, encapsulate internet traffic, hairpin, ICMP errors) →
/// egress (egress filter, next-hop MAC, fragmentation, VLAN tag).
public final class LwAFTREngine {
    public let pool: PacketPool
    public let counters: Counters
    public let table: BindingTable
    /// This engine's lock-free registration with the table (QSBR: quiescent after every batch).
    public let reader: BindingTable.Reader
    public internal(set) var settings: EngineSettings

    // Stage queues (reused every call).
    @usableFromInline var core4: PacketBatch
    @usableFromInline var core6: PacketBatch
    @usableFromInline var hairpin: PacketBatch
    @usableFromInline var egress4: PacketBatch
    @usableFromInline var egress6: PacketBatch
    /// Frames the engine answers itself (ARP/NDP replies, echo replies): MACs already final.
    @usableFromInline var local4: PacketBatch
    @usableFromInline var local6: PacketBatch
    /// Core frames waiting for the next hop's MAC address (ARP/ND still unanswered).
    @usableFromInline var held4: PacketBatch
    @usableFromInline var held6: PacketBatch

    /// ICMP error rate limits: `error-rate-limiting { packets; period; }` per side.
    @usableFromInline var icmp4Bucket: TokenBucket
    @usableFromInline var icmp6Bucket: TokenBucket

    // Fragment identification generators.
    @usableFromInline var nextIPv4FragmentID: UInt16
    @usableFromInline var nextIPv6FragmentID: UInt32

    /// Replaced by `update(settings:)` when a reload changes the reassembly limits.
    @usableFromInline var reassembler4: Reassembler
    @usableFromInline var reassembler6: Reassembler
    @usableFromInline var extIngressFilter: PacketFilter?
    @usableFromInline var extEgressFilter: PacketFilter?
    @usableFromInline var intIngressFilter: PacketFilter?
    @usableFromInline var intEgressFilter: PacketFilter?
    /// The same filters unretained, for the per-packet path (see `FilterRefs`).
    @usableFromInline var filterRefs = FilterRefs()

    /// Scratch for batched lookups: (table key, home slot address) pairs of one input batch.
    @usableFromInline let scratchCapacity: Int
    @usableFromInline let scratch: UnsafeMutablePointer<UInt64>

    /// Whether the one-time next-hop solicitations were sent.
    @usableFromInline var solicited = false
    @usableFromInline var lastSolicitation: UInt64 = 0

    /// - Parameters:
    ///   - batchCapacity: most packets one `process` call takes per side.
    public init(settings: EngineSettings, table: BindingTable, pool: PacketPool = PacketPool(),
                counters: Counters = Counters(), batchCapacity: Int = 256) throws {
        self.settings = settings
        self.table = table
        reader = try table.makeReader()
        self.pool = pool
        self.counters = counters
        icmp4Bucket = TokenBucket(burst: settings.extErrorRatePackets, periodNs: settings.extErrorRatePeriodNs)
        icmp6Bucket = TokenBucket(burst: settings.intErrorRatePackets, periodNs: settings.intErrorRatePeriodNs)
        nextIPv4FragmentID = settings.firstIPv4FragmentID
        nextIPv6FragmentID = settings.firstIPv6FragmentID
        let stageCap = batchCapacity * 4
        core4 = PacketBatch(capacity: stageCap)
        core6 = PacketBatch(capacity: stageCap)
        hairpin = PacketBatch(capacity: stageCap)
        egress4 = PacketBatch(capacity: stageCap * 2)
        egress6 = PacketBatch(capacity: stageCap * 2)
        local4 = PacketBatch(capacity: stageCap)
        local6 = PacketBatch(capacity: stageCap)
        scratchCapacity = max(batchCapacity, 64)
        scratch = .allocate(capacity: 2 * scratchCapacity)
        held4 = PacketBatch(capacity: 1024)
        held6 = PacketBatch(capacity: 1024)
        reassembler4 = Reassembler(family: .ipv4, maxFragmentsPerPacket: settings.extMaxFragmentsPerPacket,
                                   maxPackets: settings.extMaxFragmentedPackets, pool: pool, counters: counters)
        reassembler6 = Reassembler(family: .ipv6, maxFragmentsPerPacket: settings.intMaxFragmentsPerPacket,
                                   maxPackets: settings.intMaxFragmentedPackets, pool: pool, counters: counters)
        let f = try Self.compileFilters(settings)
        (extIngressFilter, extEgressFilter, intIngressFilter, intEgressFilter) = (f[0], f[1], f[2], f[3])
        filterRefs = FilterRefs(extIngressFilter, extEgressFilter, intIngressFilter, intEgressFilter)
    }

    deinit {
        scratch.deallocate()
    }

    /// Convenience: engine for a configuration with a table built from its softwires.
    public convenience init(config: LwAFTRConfig, instance: Int = 0, poolCapacity: Int = 4096,
                            batchCapacity: Int = 256) throws {
        let table = try BindingTable(softwires: config.softwires)
        try self.init(settings: EngineSettings(config: config, instance: instance), table: table,
                      pool: PacketPool(capacity: poolCapacity), batchCapacity: batchCapacity)
    }

    /// Runs the whole pipeline once. Every packet in `in4`/`in6` is consumed (forwarded, answered or
    /// freed); frames to send are appended to `out4`/`out6`. `now` is a monotonic time in ns.
    /// The frames must be the engine pool's buffers with their data where `PacketPool.allocate`
    /// put it or later (at least `pool.headroom` bytes into the buffer), as every `PacketSource`
    /// delivers them: the fast path writes the IPv6 header into that headroom unchecked.
    public func process(in4: inout PacketBatch, in6: inout PacketBatch,
                        out4: inout PacketBatch, out6: inout PacketBatch, now: UInt64) {
        if !solicited || (needsResolution && now &- lastSolicitation >= 3_000_000_000) {
            solicitNextHops(now: now)
        }
        // Ingress: IPv6 side first, then IPv4 (the order the reference processes its links).
        ingressBatch6(&in6, out4: &out4, now: now)
        ingressBatch4(&in4, out6: &out6, now: now)

        // Core.
        for i in 0..<core6.count { fromB4(core6[i], now: now) }
        core6.removeAll()
        for i in 0..<core4.count { fromInternet(core4[i], hairpinned: false, now: now) }
        core4.removeAll()
        var i = 0
        while i < hairpin.count {  // ICMP errors for B4s may be queued while draining
            fromInternet(hairpin[i], hairpinned: true, now: now)
            i += 1
        }
        hairpin.removeAll()

        // Egress.
        drainEgress4(into: &out4)
        drainEgress6(into: &out6)
        reader.quiescent()  // nothing from the table is held past this point
    }

    /// Whether a next hop still waits for ARP/NDP resolution.
    var needsResolution: Bool {
        (settings.extNextHopMAC == 0 && settings.extNextHopIPv4 != 0)
            || (settings.intNextHopMAC == 0 && (settings.intNextHopIPv6Hi | settings.intNextHopIPv6Lo) != 0)
    }

    // MARK: - queue helpers

    @inline(__always)
    func enqueue(_ p: Packet, _ q: inout PacketBatch) {
        if !q.append(p) {
            counters.add(.dropOutputFullPackets)
            pool.free(p)
        }
    }

    @inline(__always)
    func drop(_ p: Packet) { pool.free(p) }
}
