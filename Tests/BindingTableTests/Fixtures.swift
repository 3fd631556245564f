@testable import BindingTable
import LwAFTRCore

/// Deterministic softwires whose values can be checked from their key.
enum Fx {
    static let br = IPv6Address("2001:db8::1")!
    static let br2 = IPv6Address("2001:db8::2")!

    /// 10.0.0.0 + n.
    static func ip(_ n: Int) -> IPv4Address { IPv4Address(0x0A00_0000 &+ UInt32(n)) }

    /// A B4 address that encodes (ipv4, psid).
    static func b4(_ ip: IPv4Address, _ psid: UInt16, gen: UInt64 = 0) -> IPv6Address {
        IPv6Address(hi: 0x2001_0DB8_0000_0000 | gen << 16 | UInt64(psid), lo: UInt64(ip.value) << 16 | 0xB4)
    }

    static func sw(_ ip: IPv4Address, psid: UInt16, k: UInt8 = 6, offset: UInt8 = 0, br: IPv6Address = br,
                   gen: UInt64 = 0) -> Softwire {
        Softwire(ipv4: ip, psid: psid, b4: b4(ip, psid, gen: gen), br: br, portSet: PortSet(offset: offset, psidLength: k)!)
    }

    /// `n` softwires over n/16 addresses, 16 PSIDs each (k = 4).
    static func many(_ n: Int, k: UInt8 = 4) -> [Softwire] {
        let per = 1 << Int(k)
        return (0..<n).map { i in sw(ip(i / per), psid: UInt16(i % per), k: k) }
    }

    /// A port inside `psid` for port set (offset, k).
    static func port(psid: UInt16, k: UInt8, offset: UInt8 = 0, low: UInt16 = 5) -> UInt16 {
        let m = 16 - UInt16(offset) - UInt16(k)
        let a: UInt16 = offset == 0 ? 0 : 1 << (16 - UInt16(offset))  // A = 1 (first valid range)
        return a | psid << m | (low & ((1 << m) - 1))
    }
}
