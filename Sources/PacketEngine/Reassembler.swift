/// Bounded reassembly of IPv4 (RFC 791) or IPv6 (RFC 8200 §4.5) fragments.
///
/// Fragments stay in their own pool buffers, chained through `nextFragment` (indexed by buffer)
/// in offset order; a packet being reassembled is one slot of a fixed slot array found through a
/// chained hash. Memory is bounded by `maxPackets` slots × `maxFragmentsPerPacket` buffers, both
/// from configuration, and by the pool. Overlapping, duplicate, oversized or inconsistent fragments
/// invalidate the whole packet (RFC 5722). Slots older than `timeoutNs` are reclaimed; when every
/// slot is busy the oldest is evicted.
public final class Reassembler {
    public enum Family: Sendable { case ipv4, ipv6 }
    public enum Result { case incomplete, invalid, complete(Packet) }

    @usableFromInline let family: Family
    @usableFromInline let maxFragments: Int
    @usableFromInline let maxPackets: Int
    @usableFromInline let timeoutNs: UInt64
    @usableFromInline let pool: PacketPool
    @usableFromInline let counters: Counters

    // Slot fields (struct-of-arrays).
    @usableFromInline let keyA: UnsafeMutablePointer<UInt64>   // src (v4: src<<32|dst; v6: src hi)
    @usableFromInline let keyB: UnsafeMutablePointer<UInt64>   // v6: src lo
    @usableFromInline let keyC: UnsafeMutablePointer<UInt64>   // v6: dst hi
    @usableFromInline let keyD: UnsafeMutablePointer<UInt64>   // v6: dst lo
    @usableFromInline let keyID: UnsafeMutablePointer<UInt64>  // id (v4: id<<8|proto)
    @usableFromInline let firstFrag: UnsafeMutablePointer<Int32>
    /// Buffer of the first fragment received: its headers head the reassembled packet.
    @usableFromInline let headerFrag: UnsafeMutablePointer<Int32>
    @usableFromInline let fragCount: UnsafeMutablePointer<Int32>
    @usableFromInline let totalLength: UnsafeMutablePointer<Int32>  // payload length once the last fragment came, else -1
    @usableFromInline let started: UnsafeMutablePointer<UInt64>
    @usableFromInline let chainNext: UnsafeMutablePointer<Int32>
    @usableFromInline let buckets: UnsafeMutablePointer<Int32>
    @usableFromInline let bucketMask: Int
    @usableFromInline var freeSlots: [Int32]
    @usableFromInline var inUse = 0
    /// Per pool buffer: next fragment buffer in the same packet (-1 ends), and its payload offset/length.
    @usableFromInline let nextFragment: UnsafeMutablePointer<Int32>
    @usableFromInline let fragOffset: UnsafeMutablePointer<Int32>
    @usableFromInline let fragLength: UnsafeMutablePointer<Int32>
    @usableFromInline let fragPacket: UnsafeMutablePointer<Packet>

    public init(family: Family, maxFragmentsPerPacket: Int, maxPackets: Int, pool: PacketPool, counters: Counters,
                timeoutNs: UInt64 = 2_000_000_000) {
        self.family = family
        maxFragments = max(1, maxFragmentsPerPacket)
        self.maxPackets = max(1, maxPackets)
        self.timeoutNs = timeoutNs
        self.pool = pool
        self.counters = counters
        let n = self.maxPackets
        keyA = .allocate(capacity: n); keyB = .allocate(capacity: n); keyC = .allocate(capacity: n)
        keyD = .allocate(capacity: n); keyID = .allocate(capacity: n)
        firstFrag = .allocate(capacity: n); fragCount = .allocate(capacity: n)
        headerFrag = .allocate(capacity: n)
        fragCount.initialize(repeating: -1, count: n)
        totalLength = .allocate(capacity: n); started = .allocate(capacity: n)
        chainNext = .allocate(capacity: n)
        var b = 16
        while b < n { b <<= 1 }
        buckets = .allocate(capacity: b)
        buckets.initialize(repeating: -1, count: b)
        bucketMask = b - 1
        freeSlots = (0..<Int32(n)).reversed()
        let bufs = pool.capacity
        nextFragment = .allocate(capacity: bufs)
        fragOffset = .allocate(capacity: bufs)
        fragLength = .allocate(capacity: bufs)
        fragPacket = .allocate(capacity: bufs)
    }

    deinit {
        releaseAll()
        for s in [keyA, keyB, keyC, keyD, keyID, started] { s.deallocate() }
        for s in [firstFrag, headerFrag, fragCount, totalLength, chainNext, buckets, nextFragment, fragOffset, fragLength] {
            s.deallocate()
        }
        fragPacket.deallocate()
    }

    /// Packets currently being reassembled.
    public var pending: Int { inUse }

    /// Drops every packet being reassembled (shutdown, or a test checking for leaks).
    public func releaseAll() {
        for i in 0..<maxPackets where fragCount[i] >= 0 { release(i) }
    }

    /// Bytes held in fragment buffers right now (bounded by maxPackets × maxFragmentsPerPacket buffers).
    public var heldBuffers: Int {
        var n = 0
        for i in 0..<maxPackets where fragCount[i] > 0 { n += Int(fragCount[i]) }
        return n
    }

    /// Takes ownership of fragment `p` (an untagged Ethernet frame).
    public func add(_ p: Packet, now: UInt64) -> Result {
        // Parse the fragment: key, payload position, offset, more-fragments.
        let ip = p.data + L.eth
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, dd: UInt64 = 0, id: UInt64 = 0
        var payloadStart = 0, payloadLen = 0, offset = 0, more = false, headerLen = 0
        switch family {
        case .ipv4:
            let ihl = Int(ip.u8(0) & 0x0F) << 2
            let total = Int(ip.be16(L.v4TotalLength))
            guard ihl >= 20, total >= ihl, total <= p.length - L.eth else { return reject(p) }
            a = UInt64(ip.be32(L.v4Src)) << 32 | UInt64(ip.be32(L.v4Dst))
            id = UInt64(ip.be16(L.v4ID)) << 8 | UInt64(ip.u8(L.v4Proto))
            let flags = ip.be16(L.v4Flags)
            offset = Int(flags & 0x1FFF) << 3
            more = flags & 0x2000 != 0
            headerLen = ihl
            payloadStart = L.eth + ihl
            payloadLen = total - ihl
        case .ipv6:
            guard p.length >= L.eth + L.v6Header + 8 else { return reject(p) }
            let plen = Int(ip.be16(L.v6PayloadLength))
            guard plen >= 8, plen <= p.length - L.eth - L.v6Header else { return reject(p) }
            a = ip.be64(L.v6Src); b = ip.be64(L.v6Src + 8); c = ip.be64(L.v6Dst); dd = ip.be64(L.v6Dst + 8)
            let fh = ip + L.v6Header
            id = UInt64(fh.be32(4))
            let fo = fh.be16(2)
            offset = Int(fo & 0xFFF8)
            more = fo & 1 != 0
            headerLen = L.v6Header
            payloadStart = L.eth + L.v6Header + 8
            payloadLen = plen - 8
        }
        // Non-final fragments carry a multiple of 8 bytes; nothing may pass 65535.
        if (more && (payloadLen & 7) != 0) || payloadLen == 0 || offset + payloadLen > 65535 - headerLen {
            if let s = find(a, b, c, dd, id) { release(s) }
            return reject(p)
        }
        let slot: Int
        if let s = find(a, b, c, dd, id) {
            if now &- started[s] > timeoutNs {
                release(s)
                slot = open(a, b, c, dd, id, now: now)
            } else {
                slot = s
            }
        } else {
            slot = open(a, b, c, dd, id, now: now)
        }
        if Int(fragCount[slot]) >= maxFragments {
            release(slot)
            return reject(p)
        }
        // Insert in offset order; reject overlaps (which include duplicates).
        let bi = Int(p.index)
        fragOffset[bi] = Int32(offset)
        fragLength[bi] = Int32(payloadLen)
        var fp = p
        fp.tag = Int32(payloadStart)
        fragPacket[bi] = fp
        var prev: Int32 = -1
        var cur = firstFrag[slot]
        while cur >= 0 && Int(fragOffset[Int(cur)]) < offset {
            prev = cur
            cur = nextFragment[Int(cur)]
        }
        if prev >= 0 && Int(fragOffset[Int(prev)] + fragLength[Int(prev)]) > offset { return invalidate(slot, p) }
        if cur >= 0 && offset + payloadLen > Int(fragOffset[Int(cur)]) { return invalidate(slot, p) }
        if !more {
            if totalLength[slot] >= 0 || cur >= 0 { return invalidate(slot, p) }  // second end, or data past it
            totalLength[slot] = Int32(offset + payloadLen)
        } else if totalLength[slot] >= 0 && offset + payloadLen >= Int(totalLength[slot]) {
            return invalidate(slot, p)
        }
        nextFragment[bi] = cur
        if fragCount[slot] == 0 { headerFrag[slot] = Int32(bi) }
        if prev >= 0 { nextFragment[Int(prev)] = Int32(bi) } else { firstFrag[slot] = Int32(bi) }
        fragCount[slot] += 1
        return tryComplete(slot)
    }

    @usableFromInline func reject(_ p: Packet) -> Result {
        pool.free(p)
        return .invalid
    }

    @usableFromInline func invalidate(_ slot: Int, _ p: Packet) -> Result {
        release(slot)
        pool.free(p)
        return .invalid
    }

    @usableFromInline func hash(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64, _ id: UInt64) -> Int {
        var h = a &* 0x9E37_79B9_7F4A_7C15 ^ b
        h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9 ^ c
        h = (h ^ (h >> 29)) &* 0x94D0_49BB_1331_11EB ^ d
        h = (h ^ (h >> 32)) &* 0x9E37_79B9_7F4A_7C15 ^ id
        h ^= h >> 33
        return Int(truncatingIfNeeded: h) & bucketMask
    }

    @usableFromInline func find(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64, _ id: UInt64) -> Int? {
        var s = buckets[hash(a, b, c, d, id)]
        while s >= 0 {
            let i = Int(s)
            if keyA[i] == a && keyB[i] == b && keyC[i] == c && keyD[i] == d && keyID[i] == id { return i }
            s = chainNext[i]
        }
        return nil
    }

    @usableFromInline func open(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64, _ id: UInt64, now: UInt64) -> Int {
        if freeSlots.isEmpty { evictOldest() }
        let i = Int(freeSlots.removeLast())
        inUse += 1
        keyA[i] = a; keyB[i] = b; keyC[i] = c; keyD[i] = d; keyID[i] = id
        firstFrag[i] = -1
        fragCount[i] = 0
        totalLength[i] = -1
        started[i] = now
        let h = hash(a, b, c, d, id)
        chainNext[i] = buckets[h]
        buckets[h] = Int32(i)
        return i
    }

    @usableFromInline func evictOldest() {
        var oldest = -1
        var t = UInt64.max
        for i in 0..<maxPackets where fragCount[i] >= 0 && started[i] < t {
            oldest = i; t = started[i]
        }
        if oldest >= 0 {
            counters.add(family == .ipv4 ? .dropIPv4FragRandomEvicted : .dropIPv6FragRandomEvicted)
            release(oldest)
        }
    }

    /// Frees a slot's fragments and unlinks it.
    @usableFromInline func release(_ slot: Int) {
        var f = firstFrag[slot]
        while f >= 0 {
            let next = nextFragment[Int(f)]
            pool.free(fragPacket[Int(f)])
            f = next
        }
        let h = hash(keyA[slot], keyB[slot], keyC[slot], keyD[slot], keyID[slot])
        if buckets[h] == Int32(slot) {
            buckets[h] = chainNext[slot]
        } else {
            var s = buckets[h]
            while s >= 0 {
                if chainNext[Int(s)] == Int32(slot) { chainNext[Int(s)] = chainNext[slot]; break }
                s = chainNext[Int(s)]
            }
        }
        firstFrag[slot] = -1
        fragCount[slot] = -1
        freeSlots.append(Int32(slot))
        inUse -= 1
    }

    /// Builds the whole packet when the fragments cover 0 ..< totalLength without gaps.
    @usableFromInline func tryComplete(_ slot: Int) -> Result {
        let total = Int(totalLength[slot])
        guard total >= 0 else { return .incomplete }
        var expect = 0
        var f = firstFrag[slot]
        while f >= 0 {
            if Int(fragOffset[Int(f)]) != expect { return .incomplete }
            expect += Int(fragLength[Int(f)])
            f = nextFragment[Int(f)]
        }
        guard expect == total else { return .incomplete }
        let first = fragPacket[Int(headerFrag[slot])]
        let headerEnd = family == .ipv4 ? Int(first.tag) : L.eth + L.v6Header
        guard headerEnd + total <= pool.maxPacketLength, var whole = pool.allocate() else {
            release(slot)
            return .invalid
        }
        whole.data.copyMemory(from: first.data, byteCount: headerEnd)
        var at = headerEnd
        f = firstFrag[slot]
        while f >= 0 {
            let fp = fragPacket[Int(f)]
            let n = Int(fragLength[Int(f)])
            (whole.data + at).copyMemory(from: fp.data + Int(fp.tag), byteCount: n)
            at += n
            f = nextFragment[Int(f)]
        }
        whole.length = at
        let ip = whole.data + L.eth
        switch family {
        case .ipv4:
            let ihl = headerEnd - L.eth
            ip.set16(L.v4TotalLength, UInt16(ihl + total))
            ip.set16(L.v4ID, 0)
            ip.set16(L.v4Flags, 0)
            ip.set16(L.v4Checksum, 0)
            ip.set16(L.v4Checksum, Checksum.compute(ip, ihl))
        case .ipv6:
            ip.set8(L.v6NextHeader, first.data.u8(L.eth + L.v6Header))
            ip.set16(L.v6PayloadLength, UInt16(total))
        }
        release(slot)
        return .complete(whole)
    }
}
