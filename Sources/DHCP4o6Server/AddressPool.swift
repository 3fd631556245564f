import Foundation
import LwAFTRCore
import DHCPWire

/// A configuration error naming the offending field.
public struct ServerConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ s: String) { description = s }
}

/// One validated pool: an IPv4 prefix and the PSIDs of it that may be handed out.
struct AddressPool: Sendable {
    let index: Int
    let network: UInt32
    let addressCount: Int
    let portSet: PortSet
    /// Allocatable PSIDs in allocation order ([0] for a full-address pool).
    let psids: [UInt16]
    let excluded: Set<UInt32>

    var isShared: Bool { portSet.psidLength > 0 }
    var capacity: Int { addressCount * psids.count }

    init(index: Int, _ p: ServerConfig.Pool) throws {
        self.index = index
        let parts = p.prefix.split(separator: "/")
        guard parts.count == 2, let addr = IPv4Address(parts[0]), let len = Int(parts[1]), (0...32).contains(len) else {
            throw ServerConfigError("pools[\(index)].prefix '\(p.prefix)' is not a.b.c.d/len")
        }
        let mask: UInt32 = len == 0 ? 0 : ~UInt32(0) << (32 - UInt32(len))
        guard addr.value & ~mask == 0 else { throw ServerConfigError("pools[\(index)].prefix '\(p.prefix)' has host bits set") }
        network = addr.value
        addressCount = 1 << (32 - len)
        guard let set = PortSet(offset: p.offset, psidLength: p.psidLength) else {
            throw ServerConfigError("pools[\(index)]: offset \(p.offset) + psidLength \(p.psidLength) > 16")
        }
        portSet = set
        var reserved: [ClosedRange<Int>] = []
        for r in p.reservedPorts {
            let b = r.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(b.count), let lo = b[0], let hi = b.last ?? nil, 0 <= lo, lo <= hi, hi <= 65535 else {
                throw ServerConfigError("pools[\(index)].reservedPorts '\(r)' is not 'lo-hi'")
            }
            reserved.append(lo...hi)
        }
        if set.psidLength == 0 {
            psids = [0]
        } else {
            psids = (0..<(1 << Int(set.psidLength))).map { UInt16($0) }.filter { psid in
                !set.ranges(of: psid).contains { r in reserved.contains { $0.overlaps(Int(r.lowerBound)...Int(r.upperBound)) } }
            }
            guard !psids.isEmpty else { throw ServerConfigError("pools[\(index)]: every PSID touches a reserved port range") }
        }
        var ex = Set<UInt32>()
        for e in p.excluded {
            guard let a = IPv4Address(e), a.value & mask == network else {
                throw ServerConfigError("pools[\(index)].excluded '\(e)' is not an address of \(p.prefix)")
            }
            ex.insert(a.value)
        }
        excluded = ex
    }

    /// The key at a linear allocation index (addresses vary fastest, so clients spread over addresses).
    func key(at i: Int) -> SoftwireKey {
        SoftwireKey(ipv4: IPv4Address(network &+ UInt32(i % addressCount)), psid: psids[i / addressCount])
    }

    func contains(address: IPv4Address) -> Bool {
        address.value &- network < UInt32(truncatingIfNeeded: addressCount) || addressCount == 1 << 32
    }

    /// Whether the key may be allocated from this pool.
    func allows(_ key: SoftwireKey) -> Bool {
        contains(address: key.ipv4) && !excluded.contains(key.ipv4.value)
            && (isShared ? psidAllowed(key.psid) : key.psid == 0)
    }

    private func psidAllowed(_ psid: UInt16) -> Bool {
        // psids is sorted ascending.
        var lo = 0, hi = psids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if psids[mid] < psid { lo = mid + 1 } else { hi = mid }
        }
        return lo < psids.count && psids[lo] == psid
    }

    /// Port parameters for a key of this pool; nil for a full address.
    func portParams(psid: UInt16) -> PortParams? {
        isShared ? PortParams(offset: portSet.offset, psidLength: portSet.psidLength, psid: psid) : nil
    }
}

/// Hands out free (IPv4, PSID) keys from the pools: never-used keys first, then freed ones in
/// the order they were freed. `isFree` is asked for every candidate, so a stale entry is skipped.
final class PoolAllocator {
    let pools: [AddressPool]
    private var cursor: [Int]
    private var recycled: [[SoftwireKey]]
    private var recycledHead: [Int]

    init(pools: [AddressPool]) {
        self.pools = pools
        cursor = pools.map { _ in 0 }
        recycled = pools.map { _ in [] }
        recycledHead = pools.map { _ in 0 }
    }

    /// The pool that allows `key`, if any.
    func pool(for key: SoftwireKey) -> AddressPool? { pools.first { $0.allows(key) } }

    /// The pool that contains `address`, if any.
    func pool(containing address: IPv4Address) -> AddressPool? { pools.first { $0.contains(address: address) } }

    /// A free key from the first of `poolIndices` that has one.
    func allocate(from poolIndices: [Int], isFree: (SoftwireKey) -> Bool) -> SoftwireKey? {
        for pi in poolIndices {
            let p = pools[pi]
            while cursor[pi] < p.capacity {
                let k = p.key(at: cursor[pi])
                cursor[pi] += 1
                if !p.excluded.contains(k.ipv4.value) && isFree(k) { return k }
            }
            while recycledHead[pi] < recycled[pi].count {
                let k = recycled[pi][recycledHead[pi]]
                recycledHead[pi] += 1
                if recycledHead[pi] > 1024 && recycledHead[pi] * 2 > recycled[pi].count {
                    recycled[pi].removeFirst(recycledHead[pi]); recycledHead[pi] = 0
                }
                if isFree(k) { return k }
            }
        }
        return nil
    }

    /// Makes a key that became free available again (released, expired, offer lapsed).
    func recycle(_ key: SoftwireKey) {
        guard let p = pool(for: key) else { return }
        recycled[p.index].append(key)
    }
}
