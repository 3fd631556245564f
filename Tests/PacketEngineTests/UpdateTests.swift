import LwAFTRCore
@testable import PacketEngine
import Testing

/// Live settings changes (`update(settings:)`): filters are compiled only when their expression
/// changes.
struct UpdateTests {
    @Test func unchangedFiltersAreKeptAndChangedOnesRecompiled() throws {
        let h = try EngineHarness(softwires: EngineTests.softwires) { c in
            c.external.ingressFilter = "udp"
            c.internal.egressFilter = "ip6"
        }
        let e = h.engine
        let (ingress, egress) = (try #require(e.extIngressFilter), try #require(e.intEgressFilter))
        var s = e.settings
        s.flowLabel = 9
        try e.update(settings: s)
        #expect(e.extIngressFilter === ingress && e.intEgressFilter === egress && e.settings.flowLabel == 9)
        s.extIngressFilter = "tcp"
        s.intEgressFilter = nil
        try e.update(settings: s)
        #expect(e.extIngressFilter != nil && e.extIngressFilter !== ingress && e.intEgressFilter == nil)
        #expect(e.filterRefs.extIngress?.takeUnretainedValue() === e.extIngressFilter && e.filterRefs.intEgress == nil)
    }
}
