// libFuzzer entry: IPv4 and IPv6 reassembly on arbitrary fragment sequences. Each record is
// `family(1) | len(2) | header fields …`: the harness builds a syntactically plausible fragment
// (so the fuzzer reaches the overlap/size logic) from the fuzz bytes, then checks that buffers are
// never leaked: after releasing the table, the pool is full again.
import PacketEngine

nonisolated(unsafe) var pool = PacketPool(capacity: 256)
nonisolated(unsafe) var counters = Counters()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let r4 = Reassembler(family: .ipv4, maxFragmentsPerPacket: 6, maxPackets: 4, pool: pool, counters: counters)
    let r6 = Reassembler(family: .ipv6, maxFragmentsPerPacket: 6, maxPackets: 4, pool: pool, counters: counters)
    var at = 0
    var now: UInt64 = 0
    while at + 8 <= size {
        let v6 = data[at] & 1 == 1
        let payload = min(Int(data[at + 1]) << 3 | Int(data[at + 2] & 7), 1400)
        let offset = Int(data[at + 3]) << 3
        let more = data[at + 4] & 1 == 1
        let id = data[at + 5] & 3
        now &+= UInt64(data[at + 6]) << 26
        let raw = data[at + 7] & 0x80 != 0  // sometimes hand the raw bytes over unmodified
        at += 8
        guard var p = pool.allocate() else { break }
        let header = v6 ? 14 + 40 + 8 : 14 + 20
        let len = min(header + payload, pool.maxPacketLength)
        let avail = min(size - at, len)
        if avail > 0 { p.data.copyMemory(from: data + at, byteCount: avail) }
        at += avail
        p.length = raw ? max(avail, 0) : len
        if !raw {
            let d = p.data
            if v6 {
                d.storeBytes(of: UInt16(0x86DD).bigEndian, toByteOffset: 12, as: UInt16.self)
                d.storeBytes(of: UInt8(0x60), toByteOffset: 14, as: UInt8.self)
                d.storeBytes(of: UInt16(len - 54).bigEndian, toByteOffset: 18, as: UInt16.self)
                d.storeBytes(of: UInt8(44), toByteOffset: 20, as: UInt8.self)
                d.storeBytes(of: UInt16(UInt16(truncatingIfNeeded: offset) & 0xFFF8 | (more ? 1 : 0)).bigEndian, toByteOffset: 56, as: UInt16.self)
                d.storeBytes(of: UInt32(id).bigEndian, toByteOffset: 58, as: UInt32.self)
            } else {
                d.storeBytes(of: UInt16(0x0800).bigEndian, toByteOffset: 12, as: UInt16.self)
                d.storeBytes(of: UInt8(0x45), toByteOffset: 14, as: UInt8.self)
                d.storeBytes(of: UInt16(len - 14).bigEndian, toByteOffset: 16, as: UInt16.self)
                d.storeBytes(of: UInt16(id).bigEndian, toByteOffset: 18, as: UInt16.self)
                let fo = UInt16(truncatingIfNeeded: offset >> 3) & 0x1FFF | (more ? 0x2000 : 0)
                d.storeBytes(of: fo.bigEndian, toByteOffset: 20, as: UInt16.self)
            }
        }
        switch (v6 ? r6 : r4).add(p, now: now) {
        case .complete(let whole):
            precondition(whole.length <= pool.maxPacketLength)
            pool.free(whole)
        case .incomplete, .invalid:
            break
        }
        precondition(r4.pending <= 4 && r6.pending <= 4)
    }
    r4.releaseAll()
    r6.releaseAll()
    precondition(pool.available == pool.capacity, "fragment buffers leaked")
    return 0
}

// SwiftPM links an executable's entry point as `FuzzReassembler_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzReassembler_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzTest(data, size) }
}
