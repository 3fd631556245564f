@testable import BindingTable
import LwAFTRCore
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Readers on every core against one writer that inserts, replaces, removes, grows, purges and
/// bulk-reloads. Every value encodes its own key, so a reader detects a torn or wrong entry.
/// Runs `LWAFTR_STRESS_SECONDS` seconds (default 10, CI's budget).
struct StressTests {
    static let stableIPs = 512          // always present (values rewritten)
    static let hotIPs = 3               // stable addresses rewritten all the time (33 softwires)
    static let churnIPs = 24_000        // inserted and removed (up to 384 k softwires)
    static let baseIP: UInt32 = 0x0A00_0000

    /// Port set of an address: (offset, psid length) fixed per address.
    static func portSet(_ n: Int) -> (a: UInt32, k: UInt32) { [(0, 4), (6, 4), (0, 0)][n % 3] }

    /// The value written for (address n, psid) at generation `gen`; checkable from itself.
    static func value(_ n: Int, _ psid: UInt16, gen: UInt64) -> (b4: IPv6Address, br: IPv6Address) {
        let hi = UInt64(baseIP + UInt32(n)) << 32 | UInt64(psid) << 16 | (gen & 0xFFFF)
        return (IPv6Address(hi: hi, lo: check(hi)), IPv6Address(hi: 0x2001_0DB8_FFFF_0000, lo: hi & 3))
    }

    static func check(_ hi: UInt64) -> UInt64 { (hi &* 0xD6E8_FEB8_6659_FD93) ^ (hi >> 17) ^ 0x5A5A }

    static func softwire(_ n: Int, _ psid: UInt16, gen: UInt64) -> Softwire {
        let (a, k) = portSet(n), v = value(n, psid, gen: gen)
        return Softwire(ipv4: IPv4Address(baseIP + UInt32(n)), psid: psid, b4: v.b4, br: v.br,
                        portSet: PortSet(offset: UInt8(a), psidLength: UInt8(k))!)
    }

    final class Tally: Sendable {
        let stop = Atomic<Bool>(false)
        let reads = Atomic<Int>(0)
        let hits = Atomic<Int>(0)
        let bad = Atomic<Int>(0)
        let missingStable = Atomic<Int>(0)
    }

    final class Box: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        var t = pthread_t()
        let arg = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&t, nil, { p in
            Unmanaged<Box>.fromOpaque(p!).takeRetainedValue().body()
            return nil
        }, arg)
        precondition(rc == 0)
        return t
    }

    /// One reader thread: batches of 64 (half single lookups, half `lookupBatch`), a quiescent
    /// point per batch, offline/online now and then.
    static func read(_ reader: BindingTable.Reader, seed: UInt64, tally: Tally) {
        var rng = SplitMix(state: seed)
        var reads = 0, hits = 0, bad = 0, missing = 0, batches = 0
        var ips = [UInt32](repeating: 0, count: 64), ports = [UInt16](repeating: 0, count: 64)
        var ns = [Int](repeating: 0, count: 64)
        var out = [SoftwireValue](repeating: .notFound, count: 64)
        while !tally.stop.load(ordering: .relaxed) {
            for i in 0..<64 {
                let r = rng.next()
                switch r & 3 {
                case 0: ns[i] = stableIPs + Int((r >> 8) % UInt64(churnIPs))
                case 1: ns[i] = Int((r >> 8) % UInt64(hotIPs))  // the slots the writer rewrites most
                default: ns[i] = Int((r >> 8) % UInt64(stableIPs))
                }
                ips[i] = baseIP + UInt32(ns[i])
                ports[i] = UInt16(truncatingIfNeeded: r >> 40)
            }
            let batched = batches & 1 == 1
            if batched {
                _ = reader.lookupBatch(ipv4: ips, ports: ports, results: &out, count: 64)
            } else {
                for i in 0..<64 { out[i] = reader.lookup(ipv4: ips[i], port: ports[i]) ?? .notFound }
            }
            for i in 0..<64 {
                let (a, k) = portSet(ns[i]), p = UInt32(ports[i])
                let reserved = a != 0 && p >> (16 - a) == 0
                let psid = UInt64((p >> (16 - a - k)) & ((1 << k) - 1))
                let v = out[i]
                if v.isNotFound {
                    if ns[i] < stableIPs && !reserved { missing += 1 }
                    continue
                }
                hits += 1
                let br = reader.brAddress(v.brIndex)
                if reserved || v.b4Hi >> 32 != UInt64(ips[i]) || (v.b4Hi >> 16) & 0xFFFF != psid
                    || v.b4Lo != check(v.b4Hi) || br.lo != v.b4Hi & 3 || br.hi != 0x2001_0DB8_FFFF_0000 {
                    bad += 1
                }
            }
            reads += 64
            batches += 1
            reader.quiescent()
            if batches % 2048 == 0 {
                reader.offline()
                sched_yield()
                reader.online()
            }
        }
        tally.reads.add(reads, ordering: .relaxed)
        tally.hits.add(hits, ordering: .relaxed)
        tally.bad.add(bad, ordering: .relaxed)
        tally.missingStable.add(missing, ordering: .relaxed)
    }

    @Test func readersNeverSeeTornOrWrongEntries() throws { try Self.run() }

    static func run() throws {
        let seconds = getenv("LWAFTR_STRESS_SECONDS").flatMap { Double(String(cString: $0)) } ?? 10
        let cores = max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let table = BindingTable(capacity: 16, maxReaders: cores + 2)
        var rng = SplitMix(state: 0x5EED)
        var gen: UInt64 = 1
        // The writer's model of the churn set: present[n * 16 + psid].
        var present = [Bool](repeating: false, count: churnIPs * 16)
        func psids(_ n: Int) -> Int { 1 << Int(portSet(n).k) }
        for n in 0..<stableIPs { for p in 0..<psids(n) { try table.insert(softwire(n, UInt16(p), gen: gen)) } }

        let tally = Tally()
        var threads: [pthread_t] = []
        for r in 0..<cores {
            let reader = try table.makeReader()
            threads.append(Self.spawn { Self.read(reader, seed: UInt64(r) &* 0x1234_5678_9ABC + 1, tally: tally) })
        }

        var start = timespec(), now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        func elapsed() -> Double {
            clock_gettime(CLOCK_MONOTONIC, &now)
            return Double(now.tv_sec - start.tv_sec) + Double(now.tv_nsec - start.tv_nsec) / 1e9
        }
        var ops = 0, bulkReloads = 0, lastBulk = 0.0, phase = 0
        while elapsed() < seconds {
            for _ in 0..<4096 {
                gen &+= 1
                let r = rng.next()
                if r & 7 < 4 {  // rewrite a stable softwire in place, mostly a hot one
                    let n = Int((r >> 8) % UInt64(r & 7 == 0 ? stableIPs : hotIPs))
                    try table.insert(softwire(n, UInt16((r >> 40) % UInt64(psids(n))), gen: gen))
                } else {  // flip a churn softwire; phases bias toward growth or shrinkage
                    let n = Int((r >> 8) % UInt64(churnIPs)), p = Int((r >> 40) % UInt64(psids(stableIPs + n)))
                    let idx = n * 16 + p, biasInsert = (r >> 60) < (phase % 2 == 0 ? 12 : 4)
                    if present[idx] && !biasInsert {
                        #expect(table.remove(ipv4: IPv4Address(baseIP + UInt32(stableIPs + n)), psid: UInt16(p)))
                        present[idx] = false
                    } else if !present[idx] && biasInsert {
                        try table.insert(softwire(stableIPs + n, UInt16(p), gen: gen))
                        present[idx] = true
                    }
                }
                ops += 1
            }
            if ops % (4096 * 64) == 0 { phase += 1 }
            let t = elapsed()
            if t - lastBulk > 2 {  // bulk reload: stable set plus the current churn set, new values
                lastBulk = t
                var all: [Softwire] = []
                for n in 0..<stableIPs { for p in 0..<psids(n) { all.append(softwire(n, UInt16(p), gen: gen)) } }
                for idx in 0..<present.count where present[idx] {
                    all.append(softwire(stableIPs + idx / 16, UInt16(idx % 16), gen: gen))
                }
                try table.replaceAll(with: all)
                bulkReloads += 1
            }
        }
        tally.stop.store(true, ordering: .relaxed)
        for t in threads { pthread_join(t, nil) }

        let stableCount = (0..<stableIPs).reduce(0) { $0 + psids($1) }
        let st = table.stats
        #expect(st.count == stableCount + present.filter { $0 }.count)
        #expect(table.reclaim(wait: true))  // readers are gone (deinit unregistered them)
        let reads = tally.reads.load(ordering: .relaxed)
        print("stress: \(cores) readers, \(seconds) s: \(reads) reads "
              + "(\(Int(Double(reads) / seconds)) /s), \(tally.hits.load(ordering: .relaxed)) hits, "
              + "\(ops) writes, \(st.publications) publications (\(bulkReloads) bulk), capacity \(st.capacity), "
              + "torn/wrong \(tally.bad.load(ordering: .relaxed)), stable misses \(tally.missingStable.load(ordering: .relaxed))")
        #expect(tally.bad.load(ordering: .relaxed) == 0)
        #expect(tally.missingStable.load(ordering: .relaxed) == 0)
        #expect(reads > 0 && st.publications > 3)
    }
}
