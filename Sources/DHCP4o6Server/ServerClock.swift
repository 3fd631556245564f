import Foundation
import Synchronization

/// The server's wall clock in Unix seconds (the control lane's one time type is `UnixTime`).
public protocol ServerClock: Sendable {
    func now() -> UInt32
}

/// The system clock.
public struct SystemClock: ServerClock {
    public init() {}
    public func now() -> UInt32 { UInt32(clamping: Int(Date().timeIntervalSince1970)) }
}

/// A clock tests set and advance by hand.
public final class ManualClock: ServerClock {
    private let t: Mutex<UInt32>
    public init(_ start: UInt32) { t = Mutex(start) }
    public func now() -> UInt32 { t.withLock { $0 } }
    public func advance(_ s: UInt32) { t.withLock { $0 &+= s } }
    public func set(_ s: UInt32) { t.withLock { $0 = s } }
}
