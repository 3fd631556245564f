import LwAFTRCore

/// Encodes a `LeaseRecord` as a framed LEASEQUERY-DATA message (PROTOCOLS.md §7.4, test vector B)
/// straight into caller memory: no intermediate messages, options or arrays. The bytes are
/// identical to `LeasequeryResponse(kind: .data, transactionID: xid, payload: .record(r)).framed()`
/// (DHCPWireTests prove it); records that need more than this encoder handles (a client-id longer
/// than 255 bytes, split by the generic encoder) report no size and go through the generic path.
public enum LeaseRecordWriter {
    /// Offset of the inner DHCPv4 options: length prefix 2 + DHCPv6 header 4 + option 87 header 4
    /// + DHCPv4 header 236 + magic cookie 4.
    static let optionsOffset = 250

    /// The framed size of `r`'s DATA message, or nil when the generic encoder must be used.
    @inline(__always)
    public static func framedSize(_ r: LeaseRecord) -> Int? { framedSize(r, clientIDCount: r.clientID?.count) }

    /// The framed size of `r` carrying a client-id of `clientIDCount` bytes (nil = none) instead
    /// of `r.clientID`; nil when the generic encoder must be used.
    @inline(__always)
    public static func framedSize(_ r: LeaseRecord, clientIDCount: Int?) -> Int? {
        var n = optionsOffset + 3 + 6 + 1                  // 53, 152, END
        if let c = clientIDCount {
            guard c <= 255 else { return nil }
            n += 2 + c
        }
        if r.leaseTime != nil { n += 6 }
        if r.clientLastTransaction != nil { n += 6 }
        if r.startTimeOfState != nil { n += 6 }
        if r.state != nil { n += 3 }
        if r.dataSource != nil { n += 3 }
        if r.portParams != nil { n += 6 }
        if r.b4 != nil { n += 18 }
        return n
    }

    /// Writes `r` as a framed DATA message for transaction `xid` at `p`, which must hold
    /// `framedSize(r)` bytes (callers check that it is not nil). Returns the bytes written.
    @inline(__always)
    public static func writeData(_ r: LeaseRecord, xid: UInt32, to p: UnsafeMutableRawPointer, size: Int) -> Int {
        guard let c = r.clientID else { return writeData(r, clientID: nil, xid: xid, to: p, size: size) }
        return c.withUnsafeBytes { writeData(r, clientID: $0, xid: xid, to: p, size: size) }
    }

    /// `writeData` with the client-id bytes given apart (`r.clientID` is ignored): lets a caller
    /// keep client-ids inline instead of in arrays. `size` = `framedSize(r, clientIDCount:)`.
    @inline(__always)
    public static func writeData(_ r: LeaseRecord, clientID: UnsafeRawBufferPointer?, xid: UInt32,
                                 to p: UnsafeMutableRawPointer, size: Int) -> Int {
        let x = xid & 0xFF_FFFF
        let msg = size - 2, inner = size - 10
        p.initializeMemory(as: UInt8.self, repeating: 0, count: optionsOffset)
        @inline(__always) func put8(_ i: Int, _ v: UInt8) { p.storeBytes(of: v, toByteOffset: i, as: UInt8.self) }
        @inline(__always) func put16(_ i: Int, _ v: UInt16) { p.storeBytes(of: v.bigEndian, toByteOffset: i, as: UInt16.self) }
        @inline(__always) func put32(_ i: Int, _ v: UInt32) { p.storeBytes(of: v.bigEndian, toByteOffset: i, as: UInt32.self) }
        put16(0, UInt16(msg))
        put32(2, 17 << 24 | x)                                   // LEASEQUERY-DATA, xid
        put16(6, 87); put16(8, UInt16(inner))                    // OPTION_DHCPV4_MSG
        put8(10, 2)                                              // op BOOTREPLY
        put32(14, x)                                             // inner xid
        put32(22, r.ipv4.value)                                  // ciaddr
        put32(246, DHCPv4Message.magicCookie)
        var o = optionsOffset
        @inline(__always) func opt32(_ code: UInt8, _ v: UInt32) {
            put8(o, code); put8(o + 1, 4); put32(o + 2, v); o += 6
        }
        put8(o, 53); put8(o + 1, 1); put8(o + 2, r.kind.rawValue); o += 3
        if let c = clientID {
            put8(o, 61); put8(o + 1, UInt8(c.count)); o += 2
            if let b = c.baseAddress { (p + o).copyMemory(from: b, byteCount: c.count) }
            o += c.count
        }
        if let l = r.leaseTime { opt32(51, l) }
        opt32(152, r.baseTime.seconds)
        if let c = r.clientLastTransaction { opt32(91, c) }
        if let s = r.startTimeOfState { opt32(153, s) }
        if let s = r.state { put8(o, 156); put8(o + 1, 1); put8(o + 2, s.rawValue); o += 3 }
        if let d = r.dataSource { put8(o, 157); put8(o + 1, 1); put8(o + 2, d); o += 3 }
        if let pp = r.portParams {
            put8(o, 159); put8(o + 1, 4); put8(o + 2, pp.offset); put8(o + 3, pp.psidLength); put16(o + 4, pp.psidField); o += 6
        }
        if let b = r.b4 {
            put8(o, 109); put8(o + 1, 16)
            p.storeBytes(of: b.hi.bigEndian, toByteOffset: o + 2, as: UInt64.self)
            p.storeBytes(of: b.lo.bigEndian, toByteOffset: o + 10, as: UInt64.self)
            o += 18
        }
        put8(o, 255)
        return o + 1
    }

    /// `writeData` into a new array (tests, and callers without a buffer of their own).
    public static func data(_ r: LeaseRecord, xid: UInt32) -> [UInt8]? {
        guard let n = framedSize(r) else { return nil }
        return [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            count = writeData(r, xid: xid, to: UnsafeMutableRawPointer(buf.baseAddress!), size: n)
        }
    }
}
