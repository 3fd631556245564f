/// Index of one counter in a `Counters` array. Names follow the Snabb lwAFTR's
/// `softwire-state` leaves so `check` can compare against the conformance vectors.
public struct Counter: Hashable, Sendable {
    public let index: Int
    @usableFromInline @inline(__always) init(_ index: Int) { self.index = index }
    /// The counter at `index` (0 ..< `Counter.count`), for code that walks every counter.
    @inlinable public init(index: Int) { precondition(index >= 0 && index < Counter.count); self.index = index }
    @inlinable public static var dropAllIPv4IfaceBytes: Counter { Counter(0) }
    @inlinable public static var dropAllIPv4IfacePackets: Counter { Counter(1) }
    @inlinable public static var dropAllIPv6IfaceBytes: Counter { Counter(2) }
    @inlinable public static var dropAllIPv6IfacePackets: Counter { Counter(3) }
    @inlinable public static var dropBadChecksumICMPv4Bytes: Counter { Counter(4) }
    @inlinable public static var dropBadChecksumICMPv4Packets: Counter { Counter(5) }
    @inlinable public static var dropInByPolicyICMPv4Bytes: Counter { Counter(6) }
    @inlinable public static var dropInByPolicyICMPv4Packets: Counter { Counter(7) }
    @inlinable public static var dropInByPolicyICMPv6Bytes: Counter { Counter(8) }
    @inlinable public static var dropInByPolicyICMPv6Packets: Counter { Counter(9) }
    @inlinable public static var dropInByRFC7596ICMPv4Bytes: Counter { Counter(10) }
    @inlinable public static var dropInByRFC7596ICMPv4Packets: Counter { Counter(11) }
    @inlinable public static var dropIPv4FragDisabled: Counter { Counter(12) }
    @inlinable public static var dropIPv6FragDisabled: Counter { Counter(13) }
    @inlinable public static var dropMisplacedNotIPv4Bytes: Counter { Counter(14) }
    @inlinable public static var dropMisplacedNotIPv4Packets: Counter { Counter(15) }
    @inlinable public static var dropMisplacedNotIPv6Bytes: Counter { Counter(16) }
    @inlinable public static var dropMisplacedNotIPv6Packets: Counter { Counter(17) }
    @inlinable public static var dropNoDestSoftwireIPv4Bytes: Counter { Counter(18) }
    @inlinable public static var dropNoDestSoftwireIPv4Packets: Counter { Counter(19) }
    @inlinable public static var dropNoSourceSoftwireIPv6Bytes: Counter { Counter(20) }
    @inlinable public static var dropNoSourceSoftwireIPv6Packets: Counter { Counter(21) }
    @inlinable public static var dropOutByPolicyICMPv4Packets: Counter { Counter(22) }
    @inlinable public static var dropOutByPolicyICMPv6Packets: Counter { Counter(23) }
    @inlinable public static var dropOverMTUButDontFragmentIPv4Bytes: Counter { Counter(24) }
    @inlinable public static var dropOverMTUButDontFragmentIPv4Packets: Counter { Counter(25) }
    @inlinable public static var dropOverRateLimitICMPv6Bytes: Counter { Counter(26) }
    @inlinable public static var dropOverRateLimitICMPv6Packets: Counter { Counter(27) }
    @inlinable public static var dropOverTimeButNotHopLimitICMPv6Bytes: Counter { Counter(28) }
    @inlinable public static var dropOverTimeButNotHopLimitICMPv6Packets: Counter { Counter(29) }
    @inlinable public static var dropTooBigTypeButNotCodeICMPv6Bytes: Counter { Counter(30) }
    @inlinable public static var dropTooBigTypeButNotCodeICMPv6Packets: Counter { Counter(31) }
    @inlinable public static var dropTTLZeroIPv4Bytes: Counter { Counter(32) }
    @inlinable public static var dropTTLZeroIPv4Packets: Counter { Counter(33) }
    @inlinable public static var dropUnknownProtocolICMPv6Bytes: Counter { Counter(34) }
    @inlinable public static var dropUnknownProtocolICMPv6Packets: Counter { Counter(35) }
    @inlinable public static var dropUnknownProtocolIPv6Bytes: Counter { Counter(36) }
    @inlinable public static var dropUnknownProtocolIPv6Packets: Counter { Counter(37) }
    @inlinable public static var hairpinIPv4Bytes: Counter { Counter(38) }
    @inlinable public static var hairpinIPv4Packets: Counter { Counter(39) }
    @inlinable public static var ingressPacketDrops: Counter { Counter(40) }
    @inlinable public static var inIPv4Bytes: Counter { Counter(41) }
    @inlinable public static var inIPv4Packets: Counter { Counter(42) }
    @inlinable public static var inIPv6Bytes: Counter { Counter(43) }
    @inlinable public static var inIPv6Packets: Counter { Counter(44) }
    @inlinable public static var outICMPv4ErrorBytes: Counter { Counter(45) }
    @inlinable public static var outICMPv4ErrorPackets: Counter { Counter(46) }
    @inlinable public static var outICMPv6ErrorBytes: Counter { Counter(47) }
    @inlinable public static var outICMPv6ErrorPackets: Counter { Counter(48) }
    @inlinable public static var outIPv4Bytes: Counter { Counter(49) }
    @inlinable public static var outIPv4Packets: Counter { Counter(50) }
    @inlinable public static var outIPv6Bytes: Counter { Counter(51) }
    @inlinable public static var outIPv6Packets: Counter { Counter(52) }
    @inlinable public static var dropOverRateLimitICMPv4Bytes: Counter { Counter(53) }
    @inlinable public static var dropOverRateLimitICMPv4Packets: Counter { Counter(54) }
    @inlinable public static var inIPv4FragNeedsReassembly: Counter { Counter(55) }
    @inlinable public static var inIPv4FragReassembled: Counter { Counter(56) }
    @inlinable public static var inIPv4FragReassemblyUnneeded: Counter { Counter(57) }
    @inlinable public static var dropIPv4FragInvalidReassembly: Counter { Counter(58) }
    @inlinable public static var dropIPv4FragRandomEvicted: Counter { Counter(59) }
    @inlinable public static var inIPv6FragNeedsReassembly: Counter { Counter(60) }
    @inlinable public static var inIPv6FragReassembled: Counter { Counter(61) }
    @inlinable public static var inIPv6FragReassemblyUnneeded: Counter { Counter(62) }
    @inlinable public static var dropIPv6FragInvalidReassembly: Counter { Counter(63) }
    @inlinable public static var dropIPv6FragRandomEvicted: Counter { Counter(64) }
    @inlinable public static var outIPv4Frag: Counter { Counter(65) }
    @inlinable public static var outIPv4FragNot: Counter { Counter(66) }
    @inlinable public static var outIPv6Frag: Counter { Counter(67) }
    @inlinable public static var outIPv6FragNot: Counter { Counter(68) }
    @inlinable public static var inARPRequestBytes: Counter { Counter(69) }
    @inlinable public static var inARPRequestPackets: Counter { Counter(70) }
    @inlinable public static var inARPReplyBytes: Counter { Counter(71) }
    @inlinable public static var inARPReplyPackets: Counter { Counter(72) }
    @inlinable public static var outARPRequestBytes: Counter { Counter(73) }
    @inlinable public static var outARPRequestPackets: Counter { Counter(74) }
    @inlinable public static var outARPReplyBytes: Counter { Counter(75) }
    @inlinable public static var outARPReplyPackets: Counter { Counter(76) }
    @inlinable public static var inNDPNSBytes: Counter { Counter(77) }
    @inlinable public static var inNDPNSPackets: Counter { Counter(78) }
    @inlinable public static var inNDPNABytes: Counter { Counter(79) }
    @inlinable public static var inNDPNAPackets: Counter { Counter(80) }
    @inlinable public static var outNDPNSBytes: Counter { Counter(81) }
    @inlinable public static var outNDPNSPackets: Counter { Counter(82) }
    @inlinable public static var outNDPNABytes: Counter { Counter(83) }
    @inlinable public static var outNDPNAPackets: Counter { Counter(84) }
    @inlinable public static var inICMPv4EchoBytes: Counter { Counter(85) }
    @inlinable public static var inICMPv4EchoPackets: Counter { Counter(86) }
    @inlinable public static var outICMPv4EchoBytes: Counter { Counter(87) }
    @inlinable public static var outICMPv4EchoPackets: Counter { Counter(88) }
    @inlinable public static var inICMPv6EchoBytes: Counter { Counter(89) }
    @inlinable public static var inICMPv6EchoPackets: Counter { Counter(90) }
    @inlinable public static var outICMPv6EchoBytes: Counter { Counter(91) }
    @inlinable public static var outICMPv6EchoPackets: Counter { Counter(92) }
    @inlinable public static var dropMalformedIPv4Packets: Counter { Counter(93) }
    @inlinable public static var dropMalformedIPv6Packets: Counter { Counter(94) }
    @inlinable public static var dropNoBufferPackets: Counter { Counter(95) }
    @inlinable public static var dropOutputFullPackets: Counter { Counter(96) }
    @inlinable public static var dropFilteredPackets: Counter { Counter(97) }
    @inlinable public static var dropEgressDFOverMTUPackets: Counter { Counter(98) }
    public static let count = 99
    /// Counter names, indexed by `Counter.index`.
    public static let names: [String] = [
        "drop-all-ipv4-iface-bytes",
        "drop-all-ipv4-iface-packets",
        "drop-all-ipv6-iface-bytes",
        "drop-all-ipv6-iface-packets",
        "drop-bad-checksum-icmpv4-bytes",
        "drop-bad-checksum-icmpv4-packets",
        "drop-in-by-policy-icmpv4-bytes",
        "drop-in-by-policy-icmpv4-packets",
        "drop-in-by-policy-icmpv6-bytes",
        "drop-in-by-policy-icmpv6-packets",
        "drop-in-by-rfc7596-icmpv4-bytes",
        "drop-in-by-rfc7596-icmpv4-packets",
        "drop-ipv4-frag-disabled",
        "drop-ipv6-frag-disabled",
        "drop-misplaced-not-ipv4-bytes",
        "drop-misplaced-not-ipv4-packets",
        "drop-misplaced-not-ipv6-bytes",
        "drop-misplaced-not-ipv6-packets",
        "drop-no-dest-softwire-ipv4-bytes",
        "drop-no-dest-softwire-ipv4-packets",
        "drop-no-source-softwire-ipv6-bytes",
        "drop-no-source-softwire-ipv6-packets",
        "drop-out-by-policy-icmpv4-packets",
        "drop-out-by-policy-icmpv6-packets",
        "drop-over-mtu-but-dont-fragment-ipv4-bytes",
        "drop-over-mtu-but-dont-fragment-ipv4-packets",
        "drop-over-rate-limit-icmpv6-bytes",
        "drop-over-rate-limit-icmpv6-packets",
        "drop-over-time-but-not-hop-limit-icmpv6-bytes",
        "drop-over-time-but-not-hop-limit-icmpv6-packets",
        "drop-too-big-type-but-not-code-icmpv6-bytes",
        "drop-too-big-type-but-not-code-icmpv6-packets",
        "drop-ttl-zero-ipv4-bytes",
        "drop-ttl-zero-ipv4-packets",
        "drop-unknown-protocol-icmpv6-bytes",
        "drop-unknown-protocol-icmpv6-packets",
        "drop-unknown-protocol-ipv6-bytes",
        "drop-unknown-protocol-ipv6-packets",
        "hairpin-ipv4-bytes",
        "hairpin-ipv4-packets",
        "ingress-packet-drops",
        "in-ipv4-bytes",
        "in-ipv4-packets",
        "in-ipv6-bytes",
        "in-ipv6-packets",
        "out-icmpv4-error-bytes",
        "out-icmpv4-error-packets",
        "out-icmpv6-error-bytes",
        "out-icmpv6-error-packets",
        "out-ipv4-bytes",
        "out-ipv4-packets",
        "out-ipv6-bytes",
        "out-ipv6-packets",
        "drop-over-rate-limit-icmpv4-bytes",
        "drop-over-rate-limit-icmpv4-packets",
        "in-ipv4-frag-needs-reassembly",
        "in-ipv4-frag-reassembled",
        "in-ipv4-frag-reassembly-unneeded",
        "drop-ipv4-frag-invalid-reassembly",
        "drop-ipv4-frag-random-evicted",
        "in-ipv6-frag-needs-reassembly",
        "in-ipv6-frag-reassembled",
        "in-ipv6-frag-reassembly-unneeded",
        "drop-ipv6-frag-invalid-reassembly",
        "drop-ipv6-frag-random-evicted",
        "out-ipv4-frag",
        "out-ipv4-frag-not",
        "out-ipv6-frag",
        "out-ipv6-frag-not",
        "in-arp-request-bytes",
        "in-arp-request-packets",
        "in-arp-reply-bytes",
        "in-arp-reply-packets",
        "out-arp-request-bytes",
        "out-arp-request-packets",
        "out-arp-reply-bytes",
        "out-arp-reply-packets",
        "in-ndp-ns-bytes",
        "in-ndp-ns-packets",
        "in-ndp-na-bytes",
        "in-ndp-na-packets",
        "out-ndp-ns-bytes",
        "out-ndp-ns-packets",
        "out-ndp-na-bytes",
        "out-ndp-na-packets",
        "in-icmpv4-echo-bytes",
        "in-icmpv4-echo-packets",
        "out-icmpv4-echo-bytes",
        "out-icmpv4-echo-packets",
        "in-icmpv6-echo-bytes",
        "in-icmpv6-echo-packets",
        "out-icmpv6-echo-bytes",
        "out-icmpv6-echo-packets",
        "drop-malformed-ipv4-packets",
        "drop-malformed-ipv6-packets",
        "drop-no-buffer-packets",
        "drop-output-full-packets",
        "drop-filtered-packets",
        "drop-egress-df-over-mtu-packets",
    ]
    public var name: String { Counter.names[index] }
}

/// A worker's counters: plain integers in one allocation, bumped without atomics.
/// Readers take `snapshot()` (a copy); workers are flushed/summed outside the packet loop.
public final class Counters {
    @usableFromInline let values: UnsafeMutablePointer<UInt64>

    public init() {
        values = .allocate(capacity: Counter.count)
        values.initialize(repeating: 0, count: Counter.count)
    }

    deinit { values.deallocate() }

    @inlinable @inline(__always) public func add(_ c: Counter, _ n: Int = 1) {
        values[c.index] &+= UInt64(truncatingIfNeeded: n)
    }

    /// Adds one packet of `bytes` to a `-packets`/`-bytes` pair.
    @inlinable @inline(__always) public func add(packets: Counter, bytes: Counter, _ length: Int) {
        values[packets.index] &+= 1
        values[bytes.index] &+= UInt64(truncatingIfNeeded: length)
    }

    @inlinable public subscript(c: Counter) -> UInt64 { values[c.index] }

    /// Name → value for every counter that is not zero.
    public func nonZero() -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for i in 0..<Counter.count where values[i] != 0 { out[Counter.names[i]] = values[i] }
        return out
    }

    public func reset() { values.update(repeating: 0, count: Counter.count) }
}
