public import PacketEngine
internal import Synchronization

/// The engine settings every worker should run with, published by reload: a generation number
/// workers check once per loop iteration (one relaxed load) and the settings behind a lock they
/// take only when the generation changed.
public final class SettingsCell: Sendable {
    private let current: Mutex<EngineSettings>
    private let gen = Atomic<UInt64>(0)

    public init(_ settings: EngineSettings) { current = Mutex(settings) }

    /// Bumped by every `publish`.
    @inline(__always) public var generation: UInt64 { gen.load(ordering: .acquiring) }

    /// The settings and the generation they belong to.
    public func read() -> (EngineSettings, UInt64) {
        current.withLock { ($0, gen.load(ordering: .relaxed)) }
    }

    /// Makes `settings` current; workers adopt them before their next batch.
    public func publish(_ settings: EngineSettings) {
        current.withLock {
            $0 = settings
            gen.add(1, ordering: .releasing)
        }
    }
}
