@testable import BindingTable
import LwAFTRCore
import Testing

/// The uniform port-set template (keys derived without the params probe) and the staged
/// `View` API the packet engine pipelines.
struct UniformAndViewTests {
    static func root(_ t: BindingTable) -> UnsafePointer<Root> { Probe.root(t.control) }

    /// Every answer of `view` (staged: key, slot, find) equals the plain lookup.
    static func expectViewMatchesLookup(_ t: BindingTable, ips: [UInt32], ports: [UInt16]) throws {
        let r = try t.makeReader()
        let view = r.view
        for (ip, port) in zip(ips, ports) {
            let key = view.key(ipv4: ip, port: port)
            let staged = key == 0 ? nil : view.find(key: key, slot: view.slot(key: key))
            #expect(staged == t.lookup(ipv4: ip, port: port), "\(IPv4Address(ip)) port \(port)")
            // The params probe answers the same (the template may give a key for an unknown
            // address, which is then simply not found).
            let viaParams = view.key(ipv4: ip, port: port, paramsSlot: view.paramsSlot(ipv4: ip))
            #expect(viaParams == key || viaParams == 0)
            let staged2 = viaParams == 0 ? nil : view.find(key: viaParams, slot: view.slot(key: viaParams))
            #expect(staged2 == staged)
            // The pipelined forms: split key derivations and the probe from a slot address.
            let split = view.uniform != 0 ? view.uniformKey(ipv4: ip, port: port) : view.probedKey(ipv4: ip, port: port)
            #expect(split == key)
            let atAddress = key == 0 ? nil : view.find(key: key, at: view.slotAddress(view.slot(key: key)))
            #expect(atAddress == staged)
        }
        r.quiescent()
    }

    @Test func uniformTemplateFollowsThePortSets() throws {
        let t = BindingTable(seed: 3)
        #expect(Self.root(t).pointee.uniform == 0)  // empty: probe path
        for s in Fx.many(64, k: 4) { try t.insert(s) }
        let u = Self.root(t).pointee.uniform
        #expect(u != 0 && ParamsWord.encoding(u) == 4)  // offset 0, k 4
        #expect(t.lookup(ipv4: Fx.ip(1).value, port: Fx.port(psid: 3, k: 4))?.b4 == Fx.b4(Fx.ip(1), 3))
        #expect(t.lookup(ipv4: Fx.ip(99).value, port: Fx.port(psid: 3, k: 4)) == nil)  // unknown address
        // Another port set (with an offset): the template goes, both kinds are still found.
        let odd = Fx.sw(Fx.ip(500), psid: 9, k: 6, offset: 4)
        try t.insert(odd)
        #expect(Self.root(t).pointee.uniform == 0)
        #expect(t.lookup(ipv4: Fx.ip(500).value, port: Fx.port(psid: 9, k: 6, offset: 4))?.b4 == odd.b4)
        #expect(t.lookup(ipv4: Fx.ip(500).value, port: 5) == nil)  // reserved by the offset
        #expect(t.lookup(ipv4: Fx.ip(2).value, port: Fx.port(psid: 7, k: 4))?.b4 == Fx.b4(Fx.ip(2), 7))
        // A reload with one port set brings the template back, with that port set.
        try t.replaceAll(with: [Fx.sw(Fx.ip(7), psid: 1, k: 6, offset: 4), Fx.sw(Fx.ip(8), psid: 2, k: 6, offset: 4)])
        let u2 = Self.root(t).pointee.uniform
        #expect(u2 != 0 && ParamsWord.encoding(u2) == 4 << 8 | 6)
        #expect(t.lookup(ipv4: Fx.ip(8).value, port: Fx.port(psid: 2, k: 6, offset: 4))?.b4 == Fx.b4(Fx.ip(8), 2))
        #expect(t.lookup(ipv4: Fx.ip(8).value, port: 100) == nil)  // reserved
        // Emptied, then refilled with another port set: the template is replaced, never stale.
        t.remove(ipv4: Fx.ip(7), psid: 1)
        t.remove(ipv4: Fx.ip(8), psid: 2)
        try t.insert(Fx.sw(Fx.ip(8), psid: 2, k: 2))
        #expect(ParamsWord.encoding(Self.root(t).pointee.uniform) == 2)
        #expect(t.lookup(ipv4: Fx.ip(8).value, port: Fx.port(psid: 2, k: 2))?.b4 == Fx.b4(Fx.ip(8), 2))
        #expect(t.lookup(ipv4: Fx.ip(8).value, port: Fx.port(psid: 2, k: 6, offset: 4)) == nil)
    }

    /// A reader still holding a root with the old template computes keys with the old port set;
    /// they never match softwires stored under the new one.
    @Test func staleTemplateNeverMatches() throws {
        let t = BindingTable(seed: 9)
        let a = Fx.ip(3)
        try t.insert(Fx.sw(a, psid: 2, k: 6))
        let old = Self.root(t).pointee.uniform
        let port = Fx.port(psid: 2, k: 6)
        t.remove(ipv4: a, psid: 2)
        try t.insert(Fx.sw(a, psid: 2 >> 2, k: 4))
        try t.insert(Fx.sw(a, psid: 2, k: 4))
        let staleKey = ParamsWord.key(present: UInt64(a.value) << 32 | old, port: port)
        #expect(staleKey != 0)
        #expect(Probe.find(Self.root(t), staleKey, from: Probe.home(Self.root(t), staleKey)) == nil)
        #expect(t.lookup(ipv4: a.value, port: port)?.b4 == Fx.b4(a, UInt16(port >> 12)))
    }

    @Test func viewMatchesLookupUniformAndMixed() throws {
        var rng = SystemRandomNumberGenerator()
        var ips: [UInt32] = [], ports: [UInt16] = []
        for i in 0..<2000 {
            ips.append(Fx.ip(i % 11 == 0 ? 9999 : Int.random(in: 0..<400, using: &rng)).value)
            ports.append(UInt16.random(in: 0...UInt16.max, using: &rng))
        }
        let uniform = try BindingTable(softwires: Fx.many(5000))
        #expect(Self.root(uniform).pointee.uniform != 0)
        try Self.expectViewMatchesLookup(uniform, ips: ips, ports: ports)
        let mixed = try BindingTable(softwires: Fx.many(5000) + [Fx.sw(Fx.ip(9999), psid: 1, k: 4, offset: 4)])
        #expect(Self.root(mixed).pointee.uniform == 0)
        try Self.expectViewMatchesLookup(mixed, ips: ips, ports: ports)
    }

    /// Probing from a slot address follows collision chains across the wrap-around of a table
    /// filled to its load limit by single inserts.
    @Test func viewMatchesLookupAtFullLoad() throws {
        let t = BindingTable(capacity: 16, seed: 21)
        let all = Fx.many(11 * 1024)  // 11 k in 16 k slots: load 0.69, long chains
        for s in all { try t.insert(s) }
        #expect(t.stats.capacity == 16_384)
        var ips: [UInt32] = [], ports: [UInt16] = []
        for s in all { ips.append(s.ipv4.value); ports.append(Fx.port(psid: s.psid, k: 4)) }
        for i in 0..<500 { ips.append(Fx.ip(100_000 + i).value); ports.append(UInt16(i)) }  // absent
        try Self.expectViewMatchesLookup(t, ips: ips, ports: ports)
    }

    /// Probe chains stay short on sequential keys (1 M softwires at load 0.5; random hashing gives
    /// a mean of 1.5), whatever the seed.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func probeChainsStayShort(seed: UInt64) throws {
        let t = BindingTable(capacity: 1 << 20, seed: seed)
        try t.replaceAll(with: Fx.many(1 << 20))
        #expect(t.stats.capacity == 1 << 21)
        let r = Self.root(t)
        var total = 0, worst = 0
        for s in Fx.many(1 << 20) where s.psid == 5 {
            let key = WriterState.storedKey(s.ipv4.value, s.psid, 4)
            var i = Probe.home(r, key), n = 1
            while r.pointee.slots[i].key.load(ordering: .relaxed) != key { i = (i + 1) & r.pointee.mask; n += 1 }
            total += n
            worst = max(worst, n)
        }
        let mean = Double(total) / Double(1 << 16)
        #expect(mean < 1.8, "mean probe length \(mean), worst \(worst)")
    }

    /// The root's managed-address range: addresses outside it are unmanaged without a probe,
    /// inserts beyond it widen it before their softwire is visible, and emptying resets it.
    @Test func managedRangeFollowsInsertsAndRemovals() throws {
        let t = BindingTable(seed: 5)
        let r = try t.makeReader()
        func managed(_ ip: IPv4Address) -> Bool {
            let v = r.view.isManaged(ipv4: ip.value)
            #expect(v == t.isManaged(ipv4: ip.value) && v == r.isManaged(ipv4: ip.value))
            return v
        }
        #expect(!managed(Fx.ip(0)) && !managed(IPv4Address(0)) && !managed(IPv4Address(.max)))  // empty
        try t.replaceAll(with: [Fx.sw(Fx.ip(10), psid: 1), Fx.sw(Fx.ip(20), psid: 2)])
        r.quiescent()
        #expect(Self.root(t).pointee.low == Fx.ip(10).value & 0xFFFF_0000 && Self.root(t).pointee.span == 0xFFFF)  // 10.0/16
        #expect(managed(Fx.ip(10)) && managed(Fx.ip(20)))
        #expect(!managed(Fx.ip(15)) && !managed(Fx.ip(9)) && !managed(Fx.ip(21)) && !managed(IPv4Address(0xC633_6401)))
        // Inside the block and in another /16 below or above it: each insert is managed (and
        // found) at once; only leaving the range publishes a new root.
        let before = t.stats.publications
        try t.insert(Fx.sw(Fx.ip(3), psid: 4))
        try t.insert(Fx.sw(Fx.ip(40), psid: 5))
        #expect(t.stats.publications == before)
        let far = IPv4Address(0x0A05_0001), below = IPv4Address(0x09FF_FF00)
        try t.insert(Fx.sw(far, psid: 1))
        try t.insert(Fx.sw(below, psid: 1))
        #expect(t.stats.publications == before + 2)
        r.quiescent()
        #expect(managed(Fx.ip(3)) && managed(Fx.ip(40)) && !managed(Fx.ip(41)) && managed(far) && managed(below))
        #expect(!managed(IPv4Address(0x0A05_0002)) && Self.root(t).pointee.low == 0x09FF_0000)
        for s in [far, below] { #expect(t.remove(ipv4: s, psid: 1)) }
        #expect(r.view.find(key: r.view.key(ipv4: Fx.ip(40).value, port: Fx.port(psid: 5, k: 6)),
                            slot: r.view.slot(key: r.view.key(ipv4: Fx.ip(40).value, port: Fx.port(psid: 5, k: 6))))?.b4Lo
                == Fx.b4(Fx.ip(40), 5).lo)
        // Removals keep the range (conservative), the answers stay right.
        #expect(t.remove(ipv4: Fx.ip(40), psid: 5))
        r.quiescent()
        #expect(!managed(Fx.ip(40)) && managed(Fx.ip(20)) && Self.root(t).pointee.span == 0x0A05_FFFF - 0x09FF_0000)
        // Emptied: the range goes with the last address.
        for (ip, psid) in [(3, 4), (10, 1), (20, 2)] { #expect(t.remove(ipv4: Fx.ip(ip), psid: UInt16(psid))) }
        r.quiescent()
        #expect(t.count == 0 && !managed(Fx.ip(10)) && Self.root(t).pointee.low == .max)
    }
}
