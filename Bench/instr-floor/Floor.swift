// Instruction floor of the lwAFTR fast paths: the smallest encapsulation and decapsulation loops
// that still do every per-packet check and rewrite the engine's fast path does, with everything
// that costs extra left out — one pass (no key/prefetch pass), no collision probing, no seqlock
// retry (a plain re-read), no counters but bytes, one br-address, uniform port sets, no hairpin
// lookup. What callgrind counts per packet here is a lower bound for the real engine, which needs
// all of those. Built with `swiftc -O` and counted by Scripts/bench/instr-floor.sh.

/// The engine's packet descriptor layout (data, length, buffer index, tag).
struct Frame {
    var data: UnsafeMutableRawPointer
    var length: Int
    var index: Int32
    var tag: Int32
}

/// Open-addressing table of 32-byte slots: [sequence, key, B4 high, B4 low].
struct Slots {
    let words: UnsafeMutablePointer<UInt64>
    let mask: UInt64
    let seed: UInt64

    @inline(__always) func slot(_ key: UInt64) -> UnsafeMutablePointer<UInt64> {
        var h = (key ^ seed) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        return words + Int(truncatingIfNeeded: (h & mask) << 2)
    }
}

/// Uniform port set: the key of (IPv4, port) is ipv4 << 32 | port >> shift | present bit.
@inline(__always) func key(_ ipv4: UInt32, _ port: UInt16, _ shift: UInt64) -> UInt64 {
    UInt64(ipv4) &<< 32 | UInt64(port) &>> shift | 0x8000
}

/// IPv4 frames to 4in6 frames: Ethernet type, version/IHL, fragment bits, protocol (not ICMP),
/// TTL, total length and MTU checked; key, hash, slot read; TTL and checksum; Ethernet + IPv6
/// header written in the headroom.
@inline(never)
func encapsulate(_ frames: UnsafeMutablePointer<Frame>, _ n: Int, _ out: UnsafeMutablePointer<Frame>, _ t: Slots,
                 _ shift: UInt64, _ e0: UInt64, _ e1: UInt64, _ e2: UInt64, _ brHi: UInt64, _ brLo: UInt64,
                 _ tosFix: UInt16, _ maxLength: Int) -> (count: Int, bytes: Int) {
    var i = 0, bytes = 0
    while i < n {
        var p = frames[i]
        let d = p.data
        let q0 = d.loadUnaligned(fromByteOffset: 12, as: UInt64.self)  // type, 0x45, TOS, total length, id
        let w = d.loadUnaligned(fromByteOffset: 20, as: UInt64.self)  // fragment, TTL, protocol, checksum
        guard q0 & 0xFF_FFFF == 0x45_0008, w & 0xFF3F == 0, UInt8(truncatingIfNeeded: w >> 24) != 1,
              UInt8(truncatingIfNeeded: w >> 16) > 1, p.length <= maxLength,
              Int(UInt16(truncatingIfNeeded: q0 >> 32).byteSwapped) &+ 14 <= p.length else { break }
        let k = key(d.loadUnaligned(fromByteOffset: 30, as: UInt32.self).byteSwapped,
                    d.loadUnaligned(fromByteOffset: 36, as: UInt16.self).byteSwapped, shift)
        let s = t.slot(k)
        guard s[1] == k else { break }
        let seq = s[0], hi = s[2], lo = s[3]
        guard seq & 1 == 0, seq == s[0] else { break }
        let ttl = UInt32(truncatingIfNeeded: w >> 16)
        let c = (ttl >> 16) &+ 2
        d.storeBytes(of: (ttl & 0xFFFF) &- 1 | (c &+ (c >> 16) &- 1) << 16, toByteOffset: 22, as: UInt32.self)
        let v0 = UInt16(truncatingIfNeeded: q0 >> 16)
        let o = d - 40
        o.storeBytes(of: e0, as: UInt64.self)
        o.storeBytes(of: e1 | UInt64((v0 &<< 4 | v0 &>> 12) ^ tosFix) << 48, toByteOffset: 8, as: UInt64.self)
        o.storeBytes(of: e2 | UInt64(UInt16(truncatingIfNeeded: p.length &- 14).byteSwapped) << 16,
                     toByteOffset: 16, as: UInt64.self)
        o.storeBytes(of: brHi, toByteOffset: 22, as: UInt64.self)
        o.storeBytes(of: brLo, toByteOffset: 30, as: UInt64.self)
        o.storeBytes(of: hi.byteSwapped, toByteOffset: 38, as: UInt64.self)
        o.storeBytes(of: lo.byteSwapped, toByteOffset: 46, as: UInt64.self)
        bytes &+= p.length
        p.data = o
        p.length &+= 40
        out[i] = p
        i &+= 1
    }
    return (i, bytes)
}

/// 4in6 frames to IPv4 frames: Ethernet type, next header 4, payload length, inner version/IHL,
/// protocol (not ICMP) and MTU checked; key of (inner source, source port), slot read; outer
/// source must be the bound B4 and outer destination the br-address; Ethernet header written.
@inline(never)
func decapsulate(_ frames: UnsafeMutablePointer<Frame>, _ n: Int, _ out: UnsafeMutablePointer<Frame>, _ t: Slots,
                 _ shift: UInt64, _ h0: UInt64, _ h1: UInt64, _ brHi: UInt64, _ brLo: UInt64,
                 _ maxLength: Int) -> (count: Int, bytes: Int) {
    var i = 0, bytes = 0
    while i < n {
        var p = frames[i]
        let d = p.data
        let q0 = d.loadUnaligned(fromByteOffset: 12, as: UInt64.self)  // type, version, flow label, payload length
        let inner = d.loadUnaligned(fromByteOffset: 54, as: UInt32.self)  // 0x45, TOS, total length
        guard UInt16(truncatingIfNeeded: q0) == 0xDD86, d.load(fromByteOffset: 20, as: UInt8.self) == 4,
              Int(UInt16(truncatingIfNeeded: q0 >> 48).byteSwapped) &+ 54 <= p.length, p.length <= maxLength,
              UInt8(truncatingIfNeeded: inner) == 0x45, d.load(fromByteOffset: 63, as: UInt8.self) != 1 else { break }
        let k = key(d.loadUnaligned(fromByteOffset: 66, as: UInt32.self).byteSwapped,
                    d.loadUnaligned(fromByteOffset: 74, as: UInt16.self).byteSwapped, shift)
        let s = t.slot(k)
        guard s[1] == k else { break }
        let seq = s[0], hi = s[2], lo = s[3]
        guard seq & 1 == 0, seq == s[0],
              d.loadUnaligned(fromByteOffset: 22, as: UInt64.self) == hi.byteSwapped,
              d.loadUnaligned(fromByteOffset: 30, as: UInt64.self) == lo.byteSwapped,
              d.loadUnaligned(fromByteOffset: 38, as: UInt64.self) == brHi,
              d.loadUnaligned(fromByteOffset: 46, as: UInt64.self) == brLo else { break }
        let o = d + 40
        o.storeBytes(of: h0, as: UInt64.self)
        o.storeBytes(of: h1, toByteOffset: 6, as: UInt64.self)
        bytes &+= p.length
        p.data = o
        p.length &-= 40
        out[i] = p
        i &+= 1
    }
    return (i, bytes)
}

// Harness: 256 frames of 550 bytes over 256 softwires (64 addresses × 4 PSIDs), 4 000 rounds of
// each direction; the frames are rebuilt between rounds outside the counted functions.
let n = 256, rounds = 4000, shift: UInt64 = 14
let table = Slots(words: .allocate(capacity: 4 << 20), mask: (1 << 20) - 1, seed: 0x5EED)
table.words.initialize(repeating: 0, count: 4 << 20)
let buffers = UnsafeMutableRawPointer.allocate(byteCount: n * 2048, alignment: 64)
let frames = UnsafeMutablePointer<Frame>.allocate(capacity: n), out = UnsafeMutablePointer<Frame>.allocate(capacity: n)
let b4Hi: UInt64 = 0x2001_0DB8_0001_0000, brHi: UInt64 = 0x2001_0DB8_FFFF_0000, brLo: UInt64 = 1
func softwire(_ i: Int) -> (ipv4: UInt32, port: UInt16) {
    (0xC000_0200 | UInt32(i & 63), UInt16(truncatingIfNeeded: 1024 &+ (i >> 6) << 14))
}
for i in 0..<n {
    let (ipv4, port) = softwire(i), k = key(ipv4, port, shift), s = table.slot(k)
    precondition(s[1] == 0, "harness: slot collision")
    s[1] = k; s[2] = b4Hi; s[3] = UInt64(i)
}
func fill4(_ buffers: UnsafeMutableRawPointer, _ i: Int) -> UnsafeMutableRawPointer {
    let d = buffers + i * 2048 + 128, (ipv4, port) = softwire(i)
    d.storeBytes(of: UInt64(0x0000_1802_0045_0008), toByteOffset: 12, as: UInt64.self)  // 0x0800, 0x45, 0, len 536
    d.storeBytes(of: UInt64(0x0000_0000_1140_0000), toByteOffset: 20, as: UInt64.self)  // TTL 64, UDP
    d.storeBytes(of: ipv4.bigEndian, toByteOffset: 30, as: UInt32.self)
    d.storeBytes(of: port.bigEndian, toByteOffset: 36, as: UInt16.self)
    return d
}
var encapsulated = 0, decapsulated = 0
for _ in 0..<rounds {
    for i in 0..<n { frames[i] = Frame(data: fill4(buffers, i), length: 550, index: Int32(i), tag: 0) }
    let r = encapsulate(frames, n, out, table, shift, 1, 2, 3, brHi.byteSwapped, brLo.byteSwapped, 0x30, 1514)
    encapsulated &+= r.count
    for i in 0..<n {  // the encapsulated frames, made to look like they came from their B4s
        var p = out[i]
        p.data.storeBytes(of: UInt16(0xDD86), toByteOffset: 12, as: UInt16.self)
        p.data.storeBytes(of: UInt16(536).bigEndian, toByteOffset: 18, as: UInt16.self)
        p.data.storeBytes(of: UInt8(4), toByteOffset: 20, as: UInt8.self)
        p.data.storeBytes(of: b4Hi.byteSwapped, toByteOffset: 22, as: UInt64.self)
        p.data.storeBytes(of: UInt64(i).byteSwapped, toByteOffset: 30, as: UInt64.self)
        p.data.storeBytes(of: brHi.byteSwapped, toByteOffset: 38, as: UInt64.self)
        p.data.storeBytes(of: brLo.byteSwapped, toByteOffset: 46, as: UInt64.self)
        let (ipv4, port) = softwire(i)
        p.data.storeBytes(of: ipv4.bigEndian, toByteOffset: 66, as: UInt32.self)
        p.data.storeBytes(of: port.bigEndian, toByteOffset: 74, as: UInt16.self)
        p.length = 590
        frames[i] = p
    }
    decapsulated &+= decapsulate(frames, n, out, table, shift, 4, 5, brHi.byteSwapped, brLo.byteSwapped, 1554).count
}
print("encapsulated \(encapsulated) decapsulated \(decapsulated) of \(n * rounds) each")
