public import PacketEngine
public import PacketIO
public import Synchronization

/// Where packet workers publish their counters for the control side to read.
///
/// Workers count in plain per-worker `Counters` (no atomics on the packet path) and call
/// `publish(worker:from:)` every so often (e.g. every 100 ms of batches): one relaxed atomic store per
/// counter. Readers (metrics, `counters on exit`) sum the published values from any thread.
/// Each worker's two devices publish their `IOStats` here the same way.
public final class CounterBoard: @unchecked Sendable {
    public let workers: Int
    let cells: UnsafeMutablePointer<Atomic<UInt64>>
    /// Per worker, per side, per `IOStats` field.
    let deviceCells: UnsafeMutablePointer<Atomic<UInt64>>
    static var deviceRow: Int { 2 * IOStats.fieldCount }

    public init(workers: Int) {
        self.workers = max(1, workers)
        let n = self.workers * Counter.count
        cells = .allocate(capacity: n)
        for i in 0..<n { (cells + i).initialize(to: Atomic(0)) }
        let d = self.workers * Self.deviceRow
        deviceCells = .allocate(capacity: d)
        for i in 0..<d { (deviceCells + i).initialize(to: Atomic(0)) }
    }

    deinit {
        cells.deinitialize(count: workers * Counter.count)
        cells.deallocate()
        deviceCells.deinitialize(count: workers * Self.deviceRow)
        deviceCells.deallocate()
    }

    /// Copies a worker's device counters into its row (call from that worker only).
    public func publish(worker: Int, side: DeviceSide, device: IOStats) {
        let row = deviceCells + worker * Self.deviceRow + side.rawValue * IOStats.fieldCount
        for i in 0..<IOStats.fieldCount { row[i].store(device[field: i], ordering: .relaxed) }
    }

    /// One worker's published device counters.
    public func device(worker: Int, side: DeviceSide) -> IOStats {
        let row = deviceCells + worker * Self.deviceRow + side.rawValue * IOStats.fieldCount
        var d = IOStats()
        for i in 0..<IOStats.fieldCount { d[field: i] = row[i].load(ordering: .relaxed) }
        return d
    }

    /// A side's device counters summed over all workers.
    public func deviceTotal(side: DeviceSide) -> IOStats {
        var t = IOStats()
        for w in 0..<workers {
            let d = device(worker: w, side: side)
            for i in 0..<IOStats.fieldCount { t[field: i] &+= d[field: i] }
        }
        return t
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
