public import PacketEngine
public import Synchronization

/// Where packet workers publish their counters for the control side to read.
///
/// Workers count in plain per-worker `Counters` (no atomics on the packet path) and call
/// `publish(worker:from:)` every so often (e.g. every 100 ms of batches): one relaxed atomic store per
/// counter. Readers (metrics, `counters on exit`) sum the published values from any thread.
public final class CounterBoard: @unchecked Sendable {
    public let workers: Int
    let cells: UnsafeMutablePointer<Atomic<UInt64>>

    public init(workers: Int) {
        self.workers = max(1, workers)
        let n = self.workers * Counter.count
        cells = .allocate(capacity: n)
        for i in 0..<n { (cells + i).initialize(to: Atomic(0)) }
    }

    deinit {
        cells.deinitialize(count: workers * Counter.count)
        cells.deallocate()
    }

    /// Copies a worker's counters into its row (call from that worker only).
    public func publish(worker: Int, from counters: Counters) {
        let row = cells + worker * Counter.count
        for i in 0..<Counter.count {
            row[i].store(counters[Counter(index: i)], ordering: .relaxed)
        }
    }

    /// One worker's published value of a counter.
    public func value(_ c: Counter, worker: Int) -> UInt64 {
        cells[worker * Counter.count + c.index].load(ordering: .relaxed)
    }

    /// The sum over all workers.
    public func total(_ c: Counter) -> UInt64 {
        var s: UInt64 = 0
        for w in 0..<workers { s &+= value(c, worker: w) }
        return s
    }

    /// Name → total for every counter that is not zero.
    public func nonZeroTotals() -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for i in 0..<Counter.count {
            let v = total(Counter(index: i))
            if v != 0 { out[Counter.names[i]] = v }
        }
        return out
    }
}
