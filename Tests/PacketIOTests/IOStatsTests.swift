import PacketIO
import Testing

/// `IOStats`' field table: `fieldCount`, `fieldNames` and `self[field:]` agree.
struct IOStatsTests {
    @Test func fieldIndexNamesAndPropertiesAgree() {
        #expect(IOStats.fieldNames.count == IOStats.fieldCount && Set(IOStats.fieldNames).count == IOStats.fieldCount)
        var s = IOStats()
        for i in 0..<IOStats.fieldCount { s[field: i] = UInt64(i + 1) }
        let byName: [String: UInt64] = [
            "rx_packets": s.rxPackets, "rx_bytes": s.rxBytes, "rx_dropped": s.rxDropped, "rx_pool_empty": s.rxPoolEmpty,
            "rx_ring_full_drops": s.rxRingFull, "rx_checksum_partial": s.rxChecksumPartial, "tx_packets": s.txPackets,
            "tx_bytes": s.txBytes, "tx_dropped": s.txDropped, "tx_not_ip": s.txNotIP,
            "tx_neighbor_discovery": s.txNeighborDiscovery,
        ]
        for (i, name) in IOStats.fieldNames.enumerated() { #expect(byName[name] == UInt64(i + 1), "\(name)") }
    }
}
