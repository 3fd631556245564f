@testable import BindingTable
import LwAFTRCore
import Testing

struct BindingTableTests {
    @Test func insertLookupRemove() throws {
        let t = BindingTable(capacity: 4, seed: 42)
        let a = Fx.ip(1)
        #expect(try t.insert(Fx.sw(a, psid: 3, k: 6)) == true)
        #expect(try t.insert(Fx.sw(a, psid: 9, k: 6, br: Fx.br2)) == true)
        #expect(t.count == 2)
        let v = try #require(t.lookup(ipv4: a.value, port: Fx.port(psid: 3, k: 6)))
        #expect(v.b4 == Fx.b4(a, 3))
        #expect(t.brAddress(v.brIndex) == Fx.br)
        let w = try #require(t.lookup(ipv4: a.value, port: Fx.port(psid: 9, k: 6, low: 1023)))
        #expect(w.b4 == Fx.b4(a, 9) && t.brAddress(w.brIndex) == Fx.br2)
        #expect(t.lookup(ipv4: a.value, port: Fx.port(psid: 4, k: 6)) == nil)  // no such PSID
        #expect(t.lookup(ipv4: Fx.ip(2).value, port: 80) == nil)            // unknown address
        #expect(t.isManaged(ipv4: a.value) && !t.isManaged(ipv4: Fx.ip(2).value))
        #expect(t.portSet(ipv4: a.value) == PortSet(offset: 0, psidLength: 6))

        // Replace keeps the count and changes the value.
        #expect(try t.insert(Fx.sw(a, psid: 3, k: 6, gen: 7)) == false)
        #expect(t.count == 2)
        #expect(t.lookup(ipv4: a.value, port: Fx.port(psid: 3, k: 6))?.b4 == Fx.b4(a, 3, gen: 7))
        #expect(t.softwire(ipv4: a, psid: 3) == Fx.sw(a, psid: 3, k: 6, gen: 7))

        #expect(t.remove(ipv4: a, psid: 3))
        #expect(!t.remove(ipv4: a, psid: 3))
        #expect(t.count == 1 && t.isManaged(ipv4: a.value))
        #expect(t.lookup(ipv4: a.value, port: Fx.port(psid: 3, k: 6)) == nil)
        #expect(t.remove(ipv4: a, psid: 9))
        #expect(t.count == 0 && !t.isManaged(ipv4: a.value) && t.portSet(ipv4: a.value) == nil)
    }

    @Test func offsetReservesLowPorts() throws {
        let t = BindingTable(seed: 1)
        let a = Fx.ip(5)
        try t.insert(Fx.sw(a, psid: 2, k: 4, offset: 6))
        #expect(t.lookup(ipv4: a.value, port: Fx.port(psid: 2, k: 4, offset: 6))?.b4 == Fx.b4(a, 2))
        // Ports below 2^(16-a) = 1024 belong to nobody, whatever their PSID bits say.
        #expect(t.lookup(ipv4: a.value, port: 2 << 6 | 5) == nil)
        #expect(t.lookup(ipv4: a.value, port: 1023) == nil)
    }

    @Test func wholeAddressSoftwire() throws {
        let t = BindingTable(seed: 3)
        try t.insert(Fx.sw(Fx.ip(9), psid: 0, k: 0))
        for port: UInt16 in [0, 1, 1024, 65535] {
            #expect(t.lookup(ipv4: Fx.ip(9).value, port: port)?.b4 == Fx.b4(Fx.ip(9), 0))
        }
    }

    @Test func rejectsConflictsAndBadPSIDs() throws {
        let t = BindingTable(seed: 9)
        let a = Fx.ip(1)
        try t.insert(Fx.sw(a, psid: 1, k: 6))
        #expect(throws: BindingTableError.conflictingPortSet(ipv4: a, existing: PortSet(psidLength: 6)!,
                                                              offered: PortSet(psidLength: 4)!)) {
            try t.insert(Fx.sw(a, psid: 2, k: 4))
        }
        var bad = Fx.sw(a, psid: 64, k: 6)
        bad.psid = 64
        #expect(throws: BindingTableError.psidOutOfRange(ipv4: a, psid: 64, portSet: PortSet(psidLength: 6)!)) {
            try t.insert(bad)
        }
        #expect(t.count == 1)
        // After the address's last softwire goes, another port set is accepted.
        t.remove(ipv4: a, psid: 1)
        try t.insert(Fx.sw(a, psid: 2, k: 4))
        #expect(t.portSet(ipv4: a.value) == PortSet(psidLength: 4))
        #expect(t.lookup(ipv4: a.value, port: Fx.port(psid: 2, k: 4))?.b4 == Fx.b4(a, 2))
        #expect(t.softwire(ipv4: a, psid: 2)?.portSet == PortSet(psidLength: 4))
    }

    /// A reader that read an address's port set just before the writer replaced it (last softwire
    /// removed, one with another port set added) must not match the new softwire with a PSID
    /// computed from the old port set.
    @Test func stalePortSetNeverMatches() throws {
        let t = BindingTable(seed: 11)
        let a = Fx.ip(3)
        try t.insert(Fx.sw(a, psid: 2, k: 6))
        let root = Probe.root(t.control)
        let oldParams = Probe.params(root, a.value, from: Probe.paramsHome(root, a.value))
        let port = Fx.port(psid: 2, k: 6)  // under k = 4 this port has PSID 0
        t.remove(ipv4: a, psid: 2)
        try t.insert(Fx.sw(a, psid: 2 >> 2, k: 4))
        try t.insert(Fx.sw(a, psid: 2, k: 4))
        let staleKey = try #require(Probe.key(params: oldParams, ipv4: a.value, port: port))
        #expect(Probe.find(Probe.root(t.control), staleKey, from: Probe.home(Probe.root(t.control), staleKey)) == nil)
        #expect(t.lookup(ipv4: a.value, port: port)?.b4 == Fx.b4(a, UInt16(port >> 12)))
    }

    @Test func growsAndShrinksWithChurn() throws {
        let t = BindingTable(capacity: 16, seed: 77)
        let all = Fx.many(100_000)
        for s in all { try t.insert(s) }
        #expect(t.count == 100_000)
        #expect(t.stats.capacity == 262_144)  // 100 k at load ≤ 0.6 after growth
        #expect(t.stats.addresses == 100_000 / 16)
        for s in all.prefix(1000) {
            #expect(t.lookup(ipv4: s.ipv4.value, port: Fx.port(psid: s.psid, k: 4))?.b4 == s.b4)
        }
        // Remove the odd PSIDs, then churn: tombstones must get purged, not pile up forever.
        for s in all where s.psid % 2 == 1 { t.remove(ipv4: s.ipv4, psid: s.psid) }
        #expect(t.count == 50_000)
        for round in 0..<6 {
            for s in all where s.psid % 2 == 1 { try t.insert(Fx.sw(s.ipv4, psid: s.psid, k: 4, gen: UInt64(round))) }
            for s in all where s.psid % 2 == 1 { t.remove(ipv4: s.ipv4, psid: s.psid) }
        }
        let st = t.stats
        #expect(st.count == 50_000 && st.tombstones + st.count <= st.capacity * 7 / 10)
        #expect(st.capacity <= 262_144)
        for s in all {
            let got = t.lookup(ipv4: s.ipv4.value, port: Fx.port(psid: s.psid, k: 4))
            #expect(got?.b4 == (s.psid % 2 == 0 ? s.b4 : nil))
        }
        #expect(t.allSoftwires() == all.filter { $0.psid % 2 == 0 })
    }

    @Test func replaceAllIsAllOrNothing() throws {
        let t = try BindingTable(softwires: Fx.many(1000))
        #expect(t.count == 1000)
        var next = Fx.many(500, k: 2)  // same addresses, different port sets: fine in a reload
        #expect(throws: BindingTableError.self) {
            try t.replaceAll(with: next + [Fx.sw(Fx.ip(0), psid: 1, k: 6)])  // conflicts inside the list
        }
        #expect(t.count == 1000 && t.portSet(ipv4: Fx.ip(0).value) == PortSet(psidLength: 4))
        try t.replaceAll(with: next)
        #expect(t.count == 500 && t.portSet(ipv4: Fx.ip(0).value) == PortSet(psidLength: 2))
        next.sort { ($0.ipv4, $0.psid) < ($1.ipv4, $1.psid) }
        #expect(t.allSoftwires() == next)
        #expect(t.lookup(ipv4: Fx.ip(0).value, port: Fx.port(psid: 3, k: 2))?.b4 == Fx.b4(Fx.ip(0), 3))
    }

    @Test func batchMatchesSingleLookups() throws {
        let t = try BindingTable(softwires: Fx.many(5000) + [Fx.sw(Fx.ip(9999), psid: 1, k: 4, offset: 4)])
        var ips: [UInt32] = [], ports: [UInt16] = []
        var rng = SystemRandomNumberGenerator()
        for i in 0..<333 {
            ips.append(Fx.ip(i % 7 == 0 ? 9999 : Int.random(in: 0..<400, using: &rng)).value)
            ports.append(UInt16.random(in: 0...UInt16.max, using: &rng))
        }
        var results = [SoftwireValue](repeating: SoftwireValue(b4Hi: 1, b4Lo: 1, brIndex: 1), count: ips.count)
        let found = results.withUnsafeMutableBufferPointer { r in
            t.lookupBatch(ipv4: ips, ports: ports, results: r.baseAddress!, count: ips.count)
        }
        var expected = 0
        for i in 0..<ips.count {
            let single = t.lookup(ipv4: ips[i], port: ports[i])
            if single != nil { expected += 1 }
            #expect(results[i] == (single ?? .notFound))
        }
        #expect(found == expected && found > 200)
    }

    @Test func readersHoldBackReclamationUntilQuiescent() throws {
        let t = BindingTable(capacity: 16, seed: 5, maxReaders: 2)
        let r1 = try t.makeReader(), r2 = try t.makeReader()
        #expect(throws: BindingTableError.tooManyReaders(limit: 2)) { _ = try t.makeReader() }
        #expect(t.stats.readers == 2)
        for s in Fx.many(100) { try t.insert(s) }  // grows twice: old maps retired
        let st = t.stats
        #expect(st.publications >= 2 && st.retired == st.publications)
        r1.quiescent()
        #expect(!t.reclaim())            // r2 still holds the old roots
        r2.offline()                     // an idle reader does not hold them
        #expect(t.reclaim())
        #expect(t.stats.retired == 0)
        r2.online()
        #expect(r2.lookup(ipv4: Fx.ip(1).value, port: Fx.port(psid: 2, k: 4))?.b4 == Fx.b4(Fx.ip(1), 2))
        try t.replaceAll(with: Fx.many(10))
        #expect(t.stats.retired == 1)
        r1.quiescent(); r2.quiescent()
        #expect(t.reclaim(wait: true) && t.stats.retired == 0)
        #expect(r1.lookup(ipv4: Fx.ip(1).value, port: 0) == nil && r1.isManaged(ipv4: Fx.ip(0).value))
        _ = consume r1
        #expect(t.stats.readers == 1)
        _ = try t.makeReader()  // the freed slot is reusable
    }

    @Test func keysDoNotCollideWithMarkers() throws {
        // 0.0.0.0 psid 0/1 and 255.255.255.255 psid 0xFFFF must be ordinary keys.
        let t = BindingTable(seed: 0)
        try t.insert(Fx.sw(IPv4Address(0), psid: 0, k: 16))
        try t.insert(Fx.sw(IPv4Address(0), psid: 1, k: 16))
        try t.insert(Fx.sw(IPv4Address(.max), psid: 0xFFFF, k: 16))
        #expect(t.count == 3)
        #expect(t.lookup(ipv4: 0, port: 1)?.b4 == Fx.b4(IPv4Address(0), 1))
        #expect(t.lookup(ipv4: .max, port: 0xFFFF)?.b4 == Fx.b4(IPv4Address(.max), 0xFFFF))
        #expect(t.lookup(ipv4: 0, port: 2) == nil)
    }
}
