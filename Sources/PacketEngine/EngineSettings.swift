public import LwAFTRCore

/// Everything the packet path needs from the configuration, flattened into plain integers
/// (no optionals, no strings) so the hot path reads it without indirection.
public struct EngineSettings: Sendable {
    // External (IPv4) side.
    public var extIPv4: UInt32
    public var extMAC: UInt64
    /// Static next-hop MAC, or 0 when it must be resolved by ARP.
    public var extNextHopMAC: UInt64
    public var extNextHopIPv4: UInt32
    public var extVLAN: UInt16?
    public var extMTU: Int
    public var extAllowIncomingICMP: Bool
    public var extGenerateICMPErrors: Bool
    public var extErrorRatePackets: Int
    public var extErrorRatePeriodNs: UInt64
    public var extMaxFragmentsPerPacket: Int
    public var extMaxFragmentedPackets: Int

    // Internal (IPv6, B4-facing) side.
    public var intIPv6Hi: UInt64
    public var intIPv6Lo: UInt64
    public var intMAC: UInt64
    public var intNextHopMAC: UInt64
    public var intNextHopIPv6Hi: UInt64
    public var intNextHopIPv6Lo: UInt64
    public var intVLAN: UInt16?
    public var intMTU: Int
    public var intAllowIncomingICMP: Bool
    public var intGenerateICMPErrors: Bool
    public var intErrorRatePackets: Int
    public var intErrorRatePeriodNs: UInt64
    public var intMaxFragmentsPerPacket: Int
    public var intMaxFragmentedPackets: Int
    public var hairpinning: Bool
    public var flowLabel: UInt32

    public var extIngressFilter: String?
    public var extEgressFilter: String?
    public var intIngressFilter: String?
    public var intEgressFilter: String?

    /// First IPv4 fragment ID / IPv6 fragment identification used when this lwAFTR fragments.
    /// The conformance harness fixes them (0x4243 / 0x42424243); production starts at random.
    public var firstIPv4FragmentID: UInt16 = 0x4243
    public var firstIPv6FragmentID: UInt32 = 0x4242_4243

    /// Derives settings from a configuration and one of its instances (the first by default).
    public init(config: LwAFTRConfig, instance: Int = 0) {
        let inst: InstanceConfig? = config.instances.indices.contains(instance) ? config.instances[instance] : nil
        let e = config.external, i = config.internal
        extIPv4 = inst?.external.ipv4?.value ?? 0
        extMAC = inst?.external.mac.value ?? 0
        extNextHopMAC = 0
        extNextHopIPv4 = 0
        switch inst?.external.nextHop {
        case .mac(let m)?: extNextHopMAC = m.value
        case .ipv4(let a)?: extNextHopIPv4 = a.value
        default: break
        }
        extVLAN = inst?.external.vlanTag
        extMTU = e.mtu
        extAllowIncomingICMP = e.allowIncomingICMP
        extGenerateICMPErrors = e.generateICMPErrors
        extErrorRatePackets = e.errorRatePackets
        extErrorRatePeriodNs = UInt64(max(e.errorRatePeriod, 1)) * 1_000_000_000
        extMaxFragmentsPerPacket = e.maxFragmentsPerPacket
        extMaxFragmentedPackets = e.maxFragmentedPackets
        extIngressFilter = e.ingressFilter
        extEgressFilter = e.egressFilter

        let own6 = inst?.internal.ipv6 ?? IPv6Address(hi: 0, lo: 0)
        intIPv6Hi = own6.hi
        intIPv6Lo = own6.lo
        intMAC = inst?.internal.mac.value ?? 0
        intNextHopMAC = 0
        intNextHopIPv6Hi = 0
        intNextHopIPv6Lo = 0
        switch inst?.internal.nextHop {
        case .mac(let m)?: intNextHopMAC = m.value
        case .ipv6(let a)?: intNextHopIPv6Hi = a.hi; intNextHopIPv6Lo = a.lo
        default: break
        }
        intVLAN = inst?.internal.vlanTag
        intMTU = i.mtu
        intAllowIncomingICMP = i.allowIncomingICMP
        intGenerateICMPErrors = i.generateICMPErrors
        intErrorRatePackets = i.errorRatePackets
        intErrorRatePeriodNs = UInt64(max(i.errorRatePeriod, 1)) * 1_000_000_000
        intMaxFragmentsPerPacket = i.maxFragmentsPerPacket
        intMaxFragmentedPackets = i.maxFragmentedPackets
        hairpinning = i.hairpinning
        flowLabel = i.flowLabel
        intIngressFilter = i.ingressFilter
        intEgressFilter = i.egressFilter
    }
}
