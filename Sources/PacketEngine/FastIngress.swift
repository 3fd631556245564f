internal import BindingTable
internal import CShim

/// Batch front ends of the two pipelines, with a fused fast path for the common case, in two
/// passes per DESIGN.md: parse every frame, compute its table key and prefetch its slot; then
/// probe and rewrite.
///
/// A plain frame — untagged IPv4 without options, not a fragment, not ICMP (or IPv6 carrying such
/// an IPv4 packet from a B4) — whose softwire is found and that needs no fragmentation, no filter,
/// no next-hop resolution and no hairpinning is encapsulated (decapsulated) and appended to the
/// output batch right here, with one counter update per batch. Everything else takes the full
/// per-frame stages. A batch switches to the full stages for good at its first frame that needs
/// them, so the order of frames is the one the staged pipeline produces.
/// How pass 1 derives a frame's table key; a type per way, so each gets its own loop.
protocol KeyDerivation {
    static func key(_ view: BindingTable.View, ipv4: UInt32, port: UInt16) -> UInt64
}

/// Every address shares the root's port set: the key comes from the address and port alone.
enum UniformKeys: KeyDerivation {
    @inline(__always)
    static func key(_ view: BindingTable.View, ipv4: UInt32, port: UInt16) -> UInt64 { view.uniformKey(ipv4: ipv4, port: port) }
}

/// Port sets differ by address: the key needs the address's port-set entry (a probe).
enum ProbedKeys: KeyDerivation {
    @inline(__always)
    static func key(_ view: BindingTable.View, ipv4: UInt32, port: UInt16) -> UInt64 { view.probedKey(ipv4: ipv4, port: port) }
}

/// Which frames a fast path takes and where their table key comes from.
protocol FastFrame {
    static func isPlain(_ p: Packet) -> Bool
    /// The (IPv4 address, port) the table is keyed by, from a plain frame.
    static func keyFields(_ d: UnsafeMutableRawPointer) -> (UInt32, UInt16)
}

/// Encapsulation: plain IPv4 frames, keyed by (destination, destination port).
enum Plain4: FastFrame {
    @inline(__always) static func isPlain(_ p: Packet) -> Bool { LwAFTREngine.isPlain4(p) }
    @inline(__always) static func keyFields(_ d: UnsafeMutableRawPointer) -> (UInt32, UInt16) {
        (d.be32(L.eth + L.v4Dst), d.be16(L.eth + 20 + 2))
    }
}

/// Decapsulation: 4in6 frames, keyed by the inner (source, source port).
enum Plain6: FastFrame {
    @inline(__always) static func isPlain(_ p: Packet) -> Bool { LwAFTREngine.isPlain6(p) }
    @inline(__always) static func keyFields(_ d: UnsafeMutableRawPointer) -> (UInt32, UInt16) {
        let ip4 = d + (L.eth + L.v6Header)
        return (ip4.be32(L.v4Src), ip4.be16(20))
    }
}

extension LwAFTREngine {

    /// Whether the frame is a plain IPv4 frame (see the type comment), at least 38 bytes.
    @inline(__always)
    static func isPlain4(_ p: Packet) -> Bool {
        let d = p.data
        return p.length >= 38 && d.loadUnaligned(fromByteOffset: L.ethType, as: UInt16.self) == 0x0008
            && d.u8(L.eth) == 0x45
            && d.loadUnaligned(fromByteOffset: L.eth + L.v4Flags, as: UInt16.self) & 0xFF3F == 0
            && d.u8(L.eth + L.v4Proto) != L.protoICMP
            && Int(d.be16(L.eth + L.v4TotalLength)) &+ L.eth <= p.length
    }

    /// Whether the frame is IPv6 carrying IPv4 (next header 4: never NDP, echo or a fragment),
    /// at least 58 bytes.
    @inline(__always)
    static func isPlain6(_ p: Packet) -> Bool {
        let d = p.data
        guard p.length >= 58 else { return false }
        return d.loadUnaligned(fromByteOffset: L.ethType, as: UInt16.self) == 0xDD86
            && d.u8(L.eth + L.v6NextHeader) == L.protoIPv4
            && Int(d.be16(L.eth + L.v6PayloadLength)) &+ (L.eth + L.v6Header) <= p.length
    }

    /// Eight bytes, most significant first, as the little-endian word that stores them.
    @inline(__always) static func wire(_ x: UInt64) -> UInt64 { x.bigEndian }

    func ingressBatch4(_ batch: inout PacketBatch, out6: inout PacketBatch, now: UInt64) {
        let n = batch.count, limit = min(n, scratchCapacity)
        var m = 0, i = 0
        if settings.extVLAN == nil && extIngressFilter == nil {
            // The fast path writes straight to the IPv6 output; it may only do so while nothing
            // staged is waiting to go out ahead of it.
            // The headroom check is per pool: frames arrive at the pool's headroom (see `process`).
            if settings.intVLAN == nil && intEgressFilter == nil && settings.intNextHopMAC != 0
                && held6.isEmpty && local6.isEmpty && core4.isEmpty && egress6.isEmpty && pool.headroom >= L.v6Header {
                let view = reader.view
                // Pass 1 (a loop per key derivation, so it does not test it per frame).
                m = view.uniform != 0 ? keys(batch.storage, limit, view, Plain4.self, UniformKeys.self)
                    : keys(batch.storage, limit, view, Plain4.self, ProbedKeys.self)
                // Pass 2: probe and rewrite, until the first frame that needs the full stages.
                if m != 0 { i = encapsulate(&batch, m, &out6, view) }
            } else {
                while m < limit && Self.isPlain4(batch[m]) { m &+= 1 }
            }
        }
        // The rest in order through the full stages: plain frames straight to the core queue.
        if m != 0 { counters.add(.inIPv4FragReassemblyUnneeded, m) }
        while i < n {
            if i < m && !core4.isFull { core4.append(batch[i]) } else { ingress4(batch[i], now: now) }
            i &+= 1
        }
        batch.removeAll()
    }

    /// Pass 1 of both paths: the leading run of plain frames (at most `limit`); for each, the
    /// table key of the frame's (IPv4 address, port) and the address of its home slot
    /// (prefetched) go to the scratch array. Returns the length of the run. One specialised loop
    /// per direction and key derivation.
    @inline(never)
    func keys<F: FastFrame, K: KeyDerivation>(_ frames: UnsafeMutablePointer<Packet>, _ limit: Int, _ view: BindingTable.View,
                                              _: F.Type, _: K.Type) -> Int {
        let scratch = scratch
        var m = 0
        while m < limit {
            let p = frames[m]
            guard F.isPlain(p) else { break }
            let (ipv4, port) = F.keyFields(p.data)
            let key = K.key(view, ipv4: ipv4, port: port)
            let slot = view.slotAddress(view.slot(key: key))
            cshim_prefetch(slot)
            scratch[2 &* m] = key
            scratch[2 &* m &+ 1] = UInt64(UInt(bitPattern: slot))
            m &+= 1
        }
        return m
    }

    /// Fast encapsulation of the first `m` frames (keys in the scratch arrays); returns how many
    /// were done.
    @inline(__always)
    func encapsulate(_ batch: inout PacketBatch, _ m: Int, _ out6: inout PacketBatch, _ view: BindingTable.View) -> Int {
        let s = settings
        let end = min(m, out6.capacity &- out6.count)
        let fl = UInt64(s.flowLabel & 0xFFFFF)
        // Ethernet + IPv6 header templates (little-endian words of the wire bytes 0…23).
        let e0 = Self.wire(s.intNextHopMAC << 16 | s.intMAC >> 32)
        let e1 = Self.wire((s.intMAC & 0xFFFF_FFFF) << 32 | 0x86DD << 16)
        // Bytes 14-15 (version, traffic class = TOS, flow label top) from the IPv4 header's first
        // two bytes `0x45, TOS` rotated left by 4 bits, then fixed up by one xor.
        let tosFix = UInt16(0x30) | (0x04 ^ UInt16(truncatingIfNeeded: fl >> 16)) << 8
        let e2 = Self.wire((fl & 0xFFFF) << 48 | UInt64(L.protoIPv4) << 24 | 0xFF << 16)
        let maxLength = s.intMTU &- (L.v6Header &- L.eth)  // frame length whose IPv6 packet fits the MTU
        var brIndex = UInt32.max, brHi: UInt64 = 0, brLo: UInt64 = 0
        let frames = batch.storage
        var fp = frames, sp = UnsafePointer(scratch), op = out6.storage + out6.count
        let fend = frames + end
        var inBytes = 0
        while fp != fend {
            let key = sp[0]
            guard key != 0, let v = view.find(key: key, at: UnsafeRawPointer(bitPattern: UInt(sp[1])).unsafelyUnwrapped)
            else { break }
            var p = fp.pointee
            let d = p.data
            let w = d.loadUnaligned(fromByteOffset: L.eth + L.v4TTL, as: UInt32.self)  // TTL, protocol, checksum
            guard w & 0xFF > 1, p.length <= maxLength else { break }
            // TTL - 1 with the RFC 1624 eqn. 3 checksum update HC' = ~(~HC + ~0x0100), done on the
            // byte-swapped word c (one's-complement sums commute with byte swapping), where it is
            // c + 1, except 0xFFFE → 0 and 0xFFFF → 1: t + (t >> 16) - 1 with t = c + 2. In one
            // 64-bit sum over the whole word (TTL ≥ 2, so TTL - 1 borrows nothing): y = w + (2 << 16),
            // t's carry lands in bit 32, and y + (carry << 16) - (1 << 16) - 1 is the new word.
            let y = UInt64(w) &+ 0x2_0000
            d.storeBytes(of: UInt32(truncatingIfNeeded: y &+ (y >> 32) << 16 &- 0x1_0001), toByteOffset: L.eth + L.v4TTL,
                         as: UInt32.self)
            let v0 = d.loadUnaligned(fromByteOffset: L.eth, as: UInt16.self)  // 0x45, TOS
            if v.brIndex != brIndex {
                brIndex = v.brIndex
                let br = view.brAddress(brIndex)
                brHi = Self.wire(br.hi)
                brLo = Self.wire(br.lo)
            }
            let o = d - L.v6Header
            o.storeBytes(of: e0, as: UInt64.self)
            o.storeBytes(of: e1 | UInt64((v0 &<< 4 | v0 &>> 12) ^ tosFix) << 48, toByteOffset: 8, as: UInt64.self)
            let payload = UInt16(truncatingIfNeeded: p.length &- L.eth)
            o.storeBytes(of: e2 | UInt64(payload.byteSwapped) << 16, toByteOffset: 16, as: UInt64.self)
            o.storeBytes(of: brHi, toByteOffset: L.eth + L.v6Src, as: UInt64.self)
            o.storeBytes(of: brLo, toByteOffset: L.eth + L.v6Src + 8, as: UInt64.self)
            o.storeBytes(of: Self.wire(v.b4Hi), toByteOffset: L.eth + L.v6Dst, as: UInt64.self)
            o.storeBytes(of: Self.wire(v.b4Lo), toByteOffset: L.eth + L.v6Dst + 8, as: UInt64.self)
            inBytes &+= p.length
            p.data = o
            p.length &+= L.v6Header
            op.initialize(to: p)
            op += 1
            fp += 1
            sp += 2
        }
        let i = frames.distance(to: fp)
        if i != 0 {
            out6.count &+= i
            counters.add(.inIPv4Packets, i)
            counters.add(.inIPv4Bytes, inBytes)
            counters.add(.outIPv6Packets, i)
            counters.add(.outIPv6Bytes, inBytes &+ i &* L.v6Header)
            counters.add(.outIPv6FragNot, i)
        }
        return i
    }

    func ingressBatch6(_ batch: inout PacketBatch, out4: inout PacketBatch, now: UInt64) {
        let n = batch.count, limit = min(n, scratchCapacity)
        var m = 0, i = 0
        if settings.intVLAN == nil && intIngressFilter == nil {
            if settings.extVLAN == nil && extEgressFilter == nil && settings.extNextHopMAC != 0
                && held4.isEmpty && local4.isEmpty && core6.isEmpty && egress4.isEmpty {
                let view = reader.view
                m = view.uniform != 0 ? keys(batch.storage, limit, view, Plain6.self, UniformKeys.self)
                    : keys(batch.storage, limit, view, Plain6.self, ProbedKeys.self)
                if m != 0 { i = decapsulate(&batch, m, &out4, view) }
            } else {
                while m < limit && Self.isPlain6(batch[m]) { m &+= 1 }
            }
        }
        if m != 0 { counters.add(.inIPv6FragReassemblyUnneeded, m) }
        while i < n {
            if i < m && !core6.isFull { core6.append(batch[i]) } else { ingress6(batch[i], now: now) }
            i &+= 1
        }
        batch.removeAll()
    }

    /// Fast decapsulation of the first `m` frames (keys in the scratch arrays); returns how many
    /// were done.
    @inline(__always)
    func decapsulate(_ batch: inout PacketBatch, _ m: Int, _ out4: inout PacketBatch, _ view: BindingTable.View) -> Int {
        let s = settings
        let end = min(m, out4.capacity &- out4.count)
        let h0 = Self.wire(s.extNextHopMAC << 16 | s.extMAC >> 32)
        let h1 = Self.wire(s.extMAC << 16 | UInt64(L.typeIPv4))
        let maxLength = s.extMTU &+ (L.eth + L.v6Header)
        let hairpinning = s.hairpinning
        var brIndex = UInt32.max, brHi: UInt64 = 0, brLo: UInt64 = 0
        let out = out4.storage + out4.count, frames = batch.storage, scratch = scratch
        var inBytes = 0, i = 0
        while i < end {
            let key = scratch[2 &* i]
            guard key != 0,
                  let v = view.find(key: key, at: UnsafeRawPointer(bitPattern: UInt(scratch[2 &* i &+ 1])).unsafelyUnwrapped)
            else { break }
            var p = frames[i]
            let ip6 = p.data + L.eth
            let ip4 = ip6 + L.v6Header
            if v.brIndex != brIndex {
                brIndex = v.brIndex
                let br = view.brAddress(brIndex)
                brHi = Self.wire(br.hi)
                brLo = Self.wire(br.lo)
            }
            // Options, ICMP (its ports live elsewhere), oversize, a wrong B4 or br-address, and
            // hairpinning all leave for the full stages.
            guard ip4.u8(0) == 0x45, ip4.u8(L.v4Proto) != L.protoICMP, p.length <= maxLength,
                  ip6.loadUnaligned(fromByteOffset: L.v6Src, as: UInt64.self) == Self.wire(v.b4Hi),
                  ip6.loadUnaligned(fromByteOffset: L.v6Src + 8, as: UInt64.self) == Self.wire(v.b4Lo),
                  ip6.loadUnaligned(fromByteOffset: L.v6Dst, as: UInt64.self) == brHi,
                  ip6.loadUnaligned(fromByteOffset: L.v6Dst + 8, as: UInt64.self) == brLo,
                  !(hairpinning && view.isManaged(ipv4: ip4.be32(L.v4Dst))) else { break }
            inBytes &+= p.length
            let d = ip4 - L.eth
            d.storeBytes(of: h0, as: UInt64.self)
            d.storeBytes(of: h1, toByteOffset: 6, as: UInt64.self)
            p.data = d
            p.length &-= L.v6Header
            (out + i).initialize(to: p)
            i &+= 1
        }
        if i != 0 {
            out4.count &+= i
            counters.add(.inIPv6Packets, i)
            counters.add(.inIPv6Bytes, inBytes)
            counters.add(.outIPv4Packets, i)
            counters.add(.outIPv4Bytes, inBytes &- i &* L.v6Header)
            counters.add(.outIPv4FragNot, i)
        }
        return i
    }
}
