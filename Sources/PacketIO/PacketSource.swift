internal import CShim
internal import Glibc
public import PacketEngine

/// Something frames come from: a TUN queue, an AF_PACKET ring. Workers are generic over it
/// (specialised, no existentials). Implementations are owned by one worker thread at a time.
public protocol PacketSource {
    /// Moves up to `max` received frames (never more than the batch has room for) into fresh buffers
    /// from `pool` and appends them to `batch`. Never blocks; returns how many were appended.
    func receive(into batch: inout PacketBatch, pool: PacketPool, max: Int) -> Int
    /// Waits until `receive` has something (or `timeoutMs` passes; -1 waits forever). True when ready.
    func waitReadable(timeoutMs: Int32) -> Bool
    /// The descriptor that becomes readable when frames arrive (for a `Poller` over several sources).
    var fileDescriptor: Int32 { get }
    /// The device's counters so far (kept by the owning worker).
    var stats: IOStats { get }
    /// Folds what the kernel counts for the device (AF_PACKET ring drops) into `stats`; the owning
    /// worker calls it now and then (a system call: not per batch).
    func collectKernelStatistics()
}

/// Something frames go to.
public protocol PacketSink {
    /// Transmits every frame of `batch` in order, then frees all of them to `pool` (what could not be
    /// sent is counted and dropped) and empties the batch. Never blocks; returns how many were sent.
    @discardableResult
    func send(_ batch: inout PacketBatch, pool: PacketPool) -> Int
}

extension PacketSource {
    /// No counters of its own.
    public var stats: IOStats { IOStats() }
    /// Nothing kept by the kernel.
    public func collectKernelStatistics() {}

    /// Fills whatever room `batch` has.
    @inlinable
    public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
        receive(into: &batch, pool: pool, max: batch.capacity - batch.count)
    }
}

/// Per-device counters, kept by the worker that owns the device (plain fields, no atomics).
public struct IOStats: Sendable, Equatable {
    /// Frames handed to the caller, and their bytes (as delivered, with Ethernet header).
    public var rxPackets: UInt64 = 0
    public var rxBytes: UInt64 = 0
    /// Frames read and thrown away: not IPv4/IPv6 (TUN), truncated, larger than a buffer.
    public var rxDropped: UInt64 = 0
    /// Times `receive` stopped early because the pool had no free buffer (frames stay queued).
    public var rxPoolEmpty: UInt64 = 0
    /// Frames the kernel dropped because the receive ring was full (PACKET_STATISTICS tp_drops,
    /// folded in by `collectKernelStatistics`).
    public var rxRingFull: UInt64 = 0
    /// Frames whose L4 checksum the sender left to offload (TP_STATUS_CSUMNOTREADY); passed on as is.
    public var rxChecksumPartial: UInt64 = 0
    /// Frames the kernel accepted, and their bytes.
    public var txPackets: UInt64 = 0
    public var txBytes: UInt64 = 0
    /// Frames the kernel refused (queue full, too big, other errors).
    public var txDropped: UInt64 = 0
    /// Frames a TUN device cannot carry: ARP and anything else that is not IPv4/IPv6.
    public var txNotIP: UInt64 = 0
    /// IPv6 neighbor discovery (router/neighbor solicitations and advertisements, redirects) a TUN
    /// device has no use for.
    public var txNeighborDiscovery: UInt64 = 0

    public init() {}

    /// Names of the fields in `self[field:]` order (snake case, for metrics and reports).
    public static let fieldNames = ["rx_packets", "rx_bytes", "rx_dropped", "rx_pool_empty", "rx_ring_full_drops",
                                    "rx_checksum_partial", "tx_packets", "tx_bytes", "tx_dropped", "tx_not_ip",
                                    "tx_neighbor_discovery"]
    /// How many fields `self[field:]` has (a literal, not `fieldNames.count`: workers use it when
    /// publishing, and `fieldNames` is a lazily made global; a test keeps the two in step).
    public static var fieldCount: Int { 11 }

    /// Field `i` (0 ..< `fieldCount`), so boards and exporters can loop over them.
    public subscript(field i: Int) -> UInt64 {
        get {
            switch i {
            case 0: rxPackets
            case 1: rxBytes
            case 2: rxDropped
            case 3: rxPoolEmpty
            case 4: rxRingFull
            case 5: rxChecksumPartial
            case 6: txPackets
            case 7: txBytes
            case 8: txDropped
            case 9: txNotIP
            default: txNeighborDiscovery
            }
        }
        set {
            switch i {
            case 0: rxPackets = newValue
            case 1: rxBytes = newValue
            case 2: rxDropped = newValue
            case 3: rxPoolEmpty = newValue
            case 4: rxRingFull = newValue
            case 5: rxChecksumPartial = newValue
            case 6: txPackets = newValue
            case 7: txBytes = newValue
            case 8: txDropped = newValue
            case 9: txNotIP = newValue
            default: txNeighborDiscovery = newValue
            }
        }
    }
}

/// A failed system call, with the errno text.
public struct PacketIOError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var code: Int32

    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(errnoText(code))" }
}

/// "No such device (ENODEV, 19)"-style text for an errno value.
func errnoText(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    return "\(text) (errno \(code))"
}

/// Waits for `fd` to become readable. True when it is (or has an error to report), false on timeout.
public func waitReadable(fileDescriptor fd: Int32, timeoutMs: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
        let r = poll(&p, 1, timeoutMs)
        if r > 0 { return true }
        if r == 0 { return false }
        if errno != EINTR { return true }  // let the caller's receive see the error
    }
}

/// epoll over several descriptors (e.g. a worker's IPv4-side and IPv6-side sources). Allocates its
/// token array once.
public final class Poller {
    let epfd: Int32
    /// Most tokens one `wait` reports (at most 64).
    public let capacity: Int
    /// Tokens of the descriptors the last `wait` found ready (valid up to its return value).
    public let ready: UnsafeMutableBufferPointer<UInt64>

    public init(capacity: Int = 16) throws(PacketIOError) {
        let fd = cshim_epoll_create()
        guard fd >= 0 else { throw PacketIOError("epoll_create1", code: -fd) }
        epfd = fd
        self.capacity = Swift.min(Swift.max(capacity, 1), 64)
        ready = .allocate(capacity: self.capacity)
        ready.initialize(repeating: 0)
    }

    deinit {
        close(epfd)
        ready.deallocate()
    }

    /// Watches `fd` for input; `wait` reports it as `token`.
    public func add(_ fd: Int32, token: UInt64) throws(PacketIOError) {
        let r = cshim_epoll_add(epfd, fd, token)
        guard r == 0 else { throw PacketIOError("epoll_ctl add \(fd)", code: -r) }
    }

    public func remove(_ fd: Int32) {
        _ = cshim_epoll_remove(epfd, fd)
    }

    /// Waits up to `timeoutMs` (-1: forever). Returns how many tokens are in `ready` (0 on timeout
    /// or interruption).
    public func wait(timeoutMs: Int32) -> Int {
        let n = cshim_epoll_wait(epfd, ready.baseAddress, Int32(capacity), timeoutMs)
        return n > 0 ? Int(n) : 0
    }
}

/// CPU placement for worker threads.
public enum CPUAffinity {
    /// Pins the calling thread to `cpu`.
    public static func pinCurrentThread(to cpu: Int) throws(PacketIOError) {
        let r = cshim_pin_thread(Int32(cpu))
        guard r == 0 else { throw PacketIOError("pin thread to CPU \(cpu)", code: -r) }
    }

    /// The CPUs the calling thread may run on.
    public static func allowedCPUs() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 1024)
        let n = cshim_allowed_cpus(&cpus, Int32(cpus.count))
        return n > 0 ? cpus.prefix(Int(n)).map(Int.init) : []
    }
}
