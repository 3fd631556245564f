public import LwAFTRCore

/// Why a softwire could not be added to the table.
public enum BindingTableError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Another softwire of the same IPv4 address uses different (offset, PSID length).
    case conflictingPortSet(ipv4: IPv4Address, existing: PortSet, offered: PortSet)
    /// The PSID does not fit in the PSID length.
    case psidOutOfRange(ipv4: IPv4Address, psid: UInt16, portSet: PortSet)

    public var description: String {
        switch self {
        case let .conflictingPortSet(ip, existing, offered):
            return "softwire for \(ip) has port set \(offered) but the address already uses \(existing)"
        case let .psidOutOfRange(ip, psid, ps):
            return "softwire for \(ip) has PSID \(psid) that does not fit \(ps)"
        }
    }
}

/// Packs an (IPv4, PSID) pair into the 64-bit table key.
@inlinable @inline(__always)
public func softwireKey(_ ipv4: UInt32, _ psid: UInt16) -> UInt64 { UInt64(ipv4) << 32 | UInt64(psid) }

/// The softwire binding table: (IPv4, PSID) → (B4 IPv6, br-address), plus per-IPv4 port-set
/// parameters. Readers call `lookup`; one writer calls `insert`/`remove`.
///
/// This is the step-1 single-writer/single-thread implementation; the public API is the one the
/// lock-free table keeps.
public final class BindingTable: @unchecked Sendable {
    @usableFromInline var map: OpenMap<SoftwireValue>
    /// IPv4 → (offset << 8 | psidLength) << 32 | number of softwires on that address.
    @usableFromInline var params: OpenMap<UInt64>
    /// br-addresses referenced by `SoftwireValue.brIndex` (hi, lo pairs).
    @usableFromInline var brHi: [UInt64] = []
    @usableFromInline var brLo: [UInt64] = []

    /// Creates a table, optionally sized for `capacity` softwires.
    public init(capacity: Int = 1024, seed: UInt64 = UInt64.random(in: 0...UInt64.max)) {
        map = OpenMap(capacity: capacity, seed: seed, filler: SoftwireValue(b4Hi: 0, b4Lo: 0, brIndex: 0))
        params = OpenMap(capacity: 64, seed: seed &* 31, filler: 0)
    }

    /// Creates a table holding `softwires`.
    public convenience init(softwires: [Softwire]) throws(BindingTableError) {
        self.init(capacity: softwires.count)
        for s in softwires { try insert(s) }
    }

    deinit {
        map.deallocate()
        params.deallocate()
    }

    /// Number of softwires.
    public var count: Int { map.count }

    /// Index of a br-address, adding it when new.
    func brIndex(for br: IPv6Address) -> UInt32 {
        for i in 0..<brHi.count where brHi[i] == br.hi && brLo[i] == br.lo { return UInt32(i) }
        brHi.append(br.hi)
        brLo.append(br.lo)
        return UInt32(brHi.count - 1)
    }

    /// The br-address with this index.
    @inlinable public func brAddress(_ index: UInt32) -> IPv6Address {
        IPv6Address(hi: brHi[Int(index)], lo: brLo[Int(index)])
    }

    /// Adds or replaces a softwire. Rejects a port set that disagrees with the address's others.
    public func insert(_ s: Softwire) throws(BindingTableError) {
        guard s.portSet.contains(psid: s.psid) else {
            throw .psidOutOfRange(ipv4: s.ipv4, psid: s.psid, portSet: s.portSet)
        }
        let ipKey = UInt64(s.ipv4.value)
        let encoded = UInt64(s.portSet.offset) << 8 | UInt64(s.portSet.psidLength)
        var users: UInt64 = 0
        if let i = params.find(ipKey) {
            let cur = params.values[i]
            if cur >> 32 != encoded {
                throw .conflictingPortSet(ipv4: s.ipv4, existing: Self.decode(cur >> 32), offered: s.portSet)
            }
            users = cur & 0xFFFF_FFFF
        }
        let value = SoftwireValue(b4Hi: s.b4.hi, b4Lo: s.b4.lo, brIndex: brIndex(for: s.br))
        if map.upsert(softwireKey(s.ipv4.value, s.psid), value) { users += 1 }
        params.upsert(ipKey, encoded << 32 | users)
    }

    /// Removes the softwire for (ipv4, psid). Returns whether it existed.
    @discardableResult
    public func remove(ipv4: IPv4Address, psid: UInt16) -> Bool {
        guard map.remove(softwireKey(ipv4.value, psid)) else { return false }
        let ipKey = UInt64(ipv4.value)
        if let i = params.find(ipKey) {
            let cur = params.values[i]
            if cur & 0xFFFF_FFFF <= 1 { params.remove(ipKey) } else { params.values[i] = cur - 1 }
        }
        return true
    }

    static func decode(_ e: UInt64) -> PortSet {
        PortSet(offset: UInt8(truncatingIfNeeded: e >> 8), psidLength: UInt8(truncatingIfNeeded: e))!
    }

    /// Port-set parameters of an address the table manages.
    @inlinable public func portSet(ipv4: UInt32) -> PortSet? {
        guard let i = params.find(UInt64(ipv4)) else { return nil }
        let e = params.values[i] >> 32
        return PortSet(offset: UInt8(truncatingIfNeeded: e >> 8), psidLength: UInt8(truncatingIfNeeded: e))
    }

    /// Whether any softwire uses this IPv4 address.
    @inlinable public func isManaged(ipv4: UInt32) -> Bool { params.find(UInt64(ipv4)) != nil }

    /// The softwire owning (ipv4, port): PSID from the address's port set; nil when the address is
    /// unknown, the port is reserved by the offset, or no softwire has that PSID.
    @inlinable public func lookup(ipv4: UInt32, port: UInt16) -> SoftwireValue? {
        guard let pi = params.find(UInt64(ipv4)) else { return nil }
        let e = params.values[pi] >> 32
        let offset = UInt16(truncatingIfNeeded: e >> 8), k = UInt16(truncatingIfNeeded: e & 0xFF)
        if offset != 0 && (port >> (16 &- offset)) == 0 { return nil }
        let shift = 16 &- offset &- k
        let psid = k == 0 ? 0 : (port >> shift) & UInt16(truncatingIfNeeded: (1 << UInt32(k)) &- 1)
        guard let i = map.find(softwireKey(ipv4, psid)) else { return nil }
        return map.values[i]
    }

    /// The softwire stored for exactly (ipv4, psid).
    public func softwire(ipv4: IPv4Address, psid: UInt16) -> Softwire? {
        guard let i = map.find(softwireKey(ipv4.value, psid)), let ps = portSet(ipv4: ipv4.value) else { return nil }
        let v = map.values[i]
        return Softwire(ipv4: ipv4, psid: psid, b4: IPv6Address(hi: v.b4Hi, lo: v.b4Lo), br: brAddress(v.brIndex),
                        portSet: ps)
    }

    /// Every softwire, ordered by (IPv4, PSID).
    public func allSoftwires() -> [Softwire] {
        var out: [Softwire] = []
        out.reserveCapacity(map.count)
        for i in 0..<map.capacity where map.keys[i] != ~0 {
            let key = map.keys[i]
            let ip = UInt32(truncatingIfNeeded: key >> 32), psid = UInt16(truncatingIfNeeded: key)
            if let s = softwire(ipv4: IPv4Address(ip), psid: psid) { out.append(s) }
        }
        return out.sorted { ($0.ipv4, $0.psid) < ($1.ipv4, $1.psid) }
    }
}
