public import PacketEngine
import PacketIO
public import Prometheus
import Synchronization

/// Exposes the lwAFTR's state as Prometheus metrics.
///
/// Packet counters come from a `CounterBoard`: each `-packets`/`-bytes` counter becomes
/// `lwaftr_<name>_total{worker="N"}` (Snabb names with `-` → `_`), its sum over all workers
/// `lwaftr_all_<name>_total`, and every `drop-…-packets` counter also feeds
/// `lwaftr_dropped_packets_total{reason="…"}` (reason = the name between `drop-` and `-packets`). Control-lane values (table size,
/// sync state per server, last update age, records applied/rejected, reconnects) are gauges and
/// counters set through `gauge(_:labels:)` / `counter(_:labels:)`. `refresh()` folds the board into
/// the registry; the HTTP handler calls it before every scrape. Each worker's devices become
/// `lwaftr_device_<rx_packets|…|tx_neighbor_discovery>_total{worker="N",side="external|internal"}`.
public final class MetricsExporter: Sendable {
    public let registry: PrometheusCollectorRegistry
    let board: CounterBoard?
    let workerCounters: [[Prometheus.Counter]]
    let totalCounters: [Prometheus.Counter]
    /// Per counter index: the drop-reason counter it feeds, if it is a `drop-…-packets` counter.
    let dropCounters: [Prometheus.Counter?]
    let lastSeen: Mutex<[UInt64]>
    /// Per worker, per side: the counter of each `IOStats` field, and the last values added.
    let deviceCounters: [[[Prometheus.Counter]]]
    let deviceSeen: Mutex<[[IOStats]]>
    /// Extra work to run before a scrape (e.g. sampling table size).
    let beforeScrape: Mutex<[@Sendable () -> Void]>

    public init(board: CounterBoard?, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.board = board
        var rows: [[Prometheus.Counter]] = []
        if let board {
            for w in 0..<board.workers {
                rows.append((0..<PacketEngine.Counter.count).map { i in
                    registry.makeCounter(name: Self.metricName(PacketEngine.Counter.names[i]),
                                         labels: [("worker", String(w))])
                })
            }
        }
        workerCounters = rows
        let names = PacketEngine.Counter.names
        totalCounters = board == nil ? [] : names.map { registry.makeCounter(name: Self.totalMetricName($0)) }
        dropCounters = board == nil ? [] : names.map { n in
            guard let reason = Self.dropReason(n) else { return nil }
            return registry.makeCounter(name: "lwaftr_dropped_packets_total", labels: [("reason", reason)])
        }
        lastSeen = Mutex([UInt64](repeating: 0, count: rows.count * PacketEngine.Counter.count))
        deviceCounters = (0..<(board?.workers ?? 0)).map { w in
            DeviceSide.allCases.map { side in
                IOStats.fieldNames.map { name in
                    registry.makeCounter(name: IOStats.metricName(name), labels: [("worker", String(w)), ("side", side.label)])
                }
            }
        }
        deviceSeen = Mutex([[IOStats]](repeating: [IOStats](repeating: IOStats(), count: DeviceSide.allCases.count),
                                            count: board?.workers ?? 0))
        beforeScrape = Mutex([])
    }

    /// `in-ipv4-packets` → `lwaftr_in_ipv4_packets_total`.
    public static func metricName(_ snabbName: String) -> String {
        "lwaftr_" + String(snabbName.map { $0 == "-" ? "_" : $0 }) + "_total"
    }

    /// `in-ipv4-packets` → `lwaftr_all_in_ipv4_packets_total` (sum over workers).
    public static func totalMetricName(_ snabbName: String) -> String {
        metricName("all-" + snabbName)
    }

    /// `drop-no-dest-softwire-ipv4-packets` → `no-dest-softwire-ipv4`; nil for other counters.
    public static func dropReason(_ snabbName: String) -> String? {
        guard snabbName.hasPrefix("drop-"), snabbName.hasSuffix("-packets") else { return nil }
        return String(snabbName.dropFirst(5).dropLast(8))
    }

    /// Registers work to run before each scrape.
    public func onScrape(_ body: @escaping @Sendable () -> Void) {
        beforeScrape.withLock { $0.append(body) }
    }

    /// A gauge (created on first use).
    public func gauge(_ name: String, labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(name: name, labels: labels)
    }

    /// A counter (created on first use).
    public func counter(_ name: String, labels: [(String, String)] = []) -> Prometheus.Counter {
        registry.makeCounter(name: name, labels: labels)
    }

    /// Adds what the workers published since the last refresh.
    public func refresh() {
        for hook in beforeScrape.withLock({ $0 }) { hook() }
        guard let board else { return }
        lastSeen.withLock { seen in
            for w in 0..<board.workers {
                for i in 0..<PacketEngine.Counter.count {
                    let v = board.value(PacketEngine.Counter(index: i), worker: w)
                    let k = w * PacketEngine.Counter.count + i
                    if v > seen[k] {
                        let delta = Int64(v - seen[k])
                        workerCounters[w][i].increment(by: delta)
                        totalCounters[i].increment(by: delta)
                        dropCounters[i]?.increment(by: delta)
                        seen[k] = v
                    }
                }
            }
        }
        deviceSeen.withLock { seen in
            for w in 0..<board.workers {
                for side in DeviceSide.allCases {
                    let now = board.device(worker: w, side: side)
                    let before = seen[w][side.rawValue]
                    for i in 0..<IOStats.fieldCount where now[field: i] > before[field: i] {
                        deviceCounters[w][side.rawValue][i].increment(by: Int64(now[field: i] - before[field: i]))
                    }
                    seen[w][side.rawValue] = now
                }
            }
        }
    }

    /// The exposition text after a refresh.
    public func scrape() -> String {
        refresh()
        return registry.emitToString()
    }
}
