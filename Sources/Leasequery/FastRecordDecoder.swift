import LwAFTRCore
import DHCPWire

/// Allocation-free decoder for the one message shape that carries nearly all traffic: a
/// LEASEQUERY-DATA with one OPTION_DHCPV4_MSG holding a well-formed DHCPLEASEACTIVE /
/// UNASSIGNED / UNKNOWN record. It accepts a message only when `ServerMessage.decodeFull` would
/// produce the same `.record` (every length, range and presence rule of `LeaseRecord`);
/// anything else — other message kinds, outer status or base-time options, repeated or
/// overloaded DHCPv4 options, any malformed byte — returns nil and the caller uses the full
/// decoder, which then accepts, rejects the record, or fails the message with the canonical reason.
enum FastRecordDecoder {
    static func decode(_ p: UnsafeRawBufferPointer) -> ServerMessage? {
        let n = p.count
        guard n >= 4, p[0] == 17 else { return nil }
        let xid = UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
        var i = 4, inner = -1, innerLen = 0, hasServerID = false
        while i < n {
            guard i + 4 <= n else { return nil }
            let code = Int(p[i]) << 8 | Int(p[i + 1]), len = Int(p[i + 2]) << 8 | Int(p[i + 3])
            guard i + 4 + len <= n else { return nil }
            switch code {
            case 87:
                guard inner < 0 else { return nil }
                inner = i + 4; innerLen = len
            case 1, 13, 100: return nil        // CLIENTID / status / base-time: full path
            case 2: hasServerID = true
            default: break
            }
            i += 4 + len
        }
        guard inner >= 0, innerLen >= 240 else { return nil }
        guard let rec = record(p, inner, inner + innerLen) else { return nil }
        return ServerMessage(kind: .data, transactionID: xid, hasServerID: hasServerID, innerOp: p[inner],
                             innerTransactionID: u32(p, inner + 4), payload: .record(rec))
    }

    /// The record of a plain DATA message of query `xid` (outer and inner xid equal to it, inner
    /// op 2): exactly what `decode` + the session's id checks accept as a bulk record; nil for
    /// anything else (the caller then takes the general path, which accepts or fails it).
    static func dataRecord(_ p: UnsafeRawBufferPointer, xid: UInt32) -> BindingRecord? {
        guard let m = decode(p), m.transactionID == xid, m.innerOp == 2, m.innerTransactionID == xid,
              case .record(let r) = m.payload else { return nil }
        return r
    }

    @inline(__always) static func u32(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(p[i]) << 24 | UInt32(p[i + 1]) << 16 | UInt32(p[i + 2]) << 8 | UInt32(p[i + 3])
    }

    @inline(__always) static func u64(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(p[i + k]) }
        return v
    }

    /// The record in the DHCPv4 message at `start..<end`, or nil for anything unusual.
    private static func record(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> BindingRecord? {
        guard u32(p, start + 236) == DHCPv4Message.magicCookie else { return nil }
        // Offsets of the options this decoder reads; -1 = absent. Lengths are checked below.
        var seen: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var o53 = -1, o152 = -1, o159 = -1, o109 = -1, o51 = -1, o91 = -1, o153 = -1, o156 = -1, o157 = -1
        var j = start + 240, sawEnd = false
        while j < end {
            let code = Int(p[j])
            if code == 0 { j += 1; continue }
            if code == 255 { sawEnd = true; break }
            guard j + 1 < end else { return nil }
            let len = Int(p[j + 1])
            guard j + 2 + len <= end else { return nil }
            let bit = UInt64(1) << UInt64(code & 63)
            switch code >> 6 {
            case 0: if seen.0 & bit != 0 { return nil }; seen.0 |= bit
            case 1: if seen.1 & bit != 0 { return nil }; seen.1 |= bit
            case 2: if seen.2 & bit != 0 { return nil }; seen.2 |= bit
            default: if seen.3 & bit != 0 { return nil }; seen.3 |= bit
            }
            switch code {
            case 52: return nil                // option overload: full path
            case 53: guard len == 1 else { return nil }; o53 = j + 2
            case 152: guard len == 4 else { return nil }; o152 = j + 2
            case 159: guard len == 4 else { return nil }; o159 = j + 2
            case 109: guard len == 16 else { return nil }; o109 = j + 2
            case 51: guard len == 4 else { return nil }; o51 = j + 2
            case 91: guard len == 4 else { return nil }; o91 = j + 2
            case 153: guard len == 4 else { return nil }; o153 = j + 2
            case 156: guard len == 1 else { return nil }; o156 = j + 2
            case 157: guard len == 1 else { return nil }; o157 = j + 2
            default: break
            }
            j += 2 + len
        }
        guard sawEnd, o53 >= 0, o152 >= 0 else { return nil }
        _ = (o91, o153, o157)   // validated for length only, not kept
        guard let kind = LeaseRecord.Kind(rawValue: p[o53]) else { return nil }
        var params: PortParams? = nil
        if o159 >= 0 {
            let a = p[o159], k = p[o159 + 1], field = UInt16(p[o159 + 2]) << 8 | UInt16(p[o159 + 3])
            guard a <= 15, k <= 16, Int(a) + Int(k) <= 16 else { return nil }
            if k > 0 {
                let shift = 16 - UInt16(k)
                let pad: UInt16 = k == 16 ? 0 : field & ((1 << shift) - 1)
                guard pad == 0, let pp = PortParams(offset: a, psidLength: k, psid: field >> shift) else { return nil }
                params = pp
            } else {
                guard field == 0 else { return nil }
            }
        }
        var b4: IPv6Address? = nil
        if o109 >= 0 { b4 = IPv6Address(hi: u64(p, o109), lo: u64(p, o109 + 8)) }
        if kind == .active && b4 == nil { return nil }
        return BindingRecord(kind: kind, ipv4: IPv4Address(u32(p, start + 12)), portParams: params, b4: b4,
                             baseTime: UnixTime(seconds: u32(p, o152)), leaseTime: o51 >= 0 ? u32(p, o51) : nil,
                             state: o156 >= 0 ? DHCPLeaseState(p[o156]) : nil)
    }
}
