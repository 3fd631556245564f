import ServiceLifecycle

/// Owns the packet worker threads: starts them, and on graceful shutdown stops and joins them.
struct PacketPlaneService: Service {
    let runtime: LwAFTRRuntime
    func run() async throws { await runtime.runPacketPlane() }
}

/// Owns the leasequery requestor (started by `prepare`): on graceful shutdown closes its
/// sessions and writes the snapshot and T_last.
struct ControlLaneService: Service {
    let runtime: LwAFTRRuntime
    func run() async throws {
        try? await gracefulShutdown()
        await runtime.stopControlLane()
    }
}

/// Owns the metrics/status HTTP listener.
struct MetricsService: Service {
    let runtime: LwAFTRRuntime
    func run() async throws {
        try? await gracefulShutdown()
        await runtime.closeMetrics()
    }
}

/// Turns SIGHUP (from `ControlSignals`) into `LwAFTRRuntime.reload()` (one at a time, in arrival
/// order). A SIGHUP that came during startup is in the stream already: it reloads right away.
struct ReloadService: Service {
    let runtime: LwAFTRRuntime
    let hangups: AsyncStream<Void>
    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            runtime.logger.info("SIGHUP: reloading the configuration")
            await runtime.reload()
        }
    }
}

/// Ends the run after `seconds` (`--duration`): returning shuts the group down gracefully.
struct DurationService: Service {
    let seconds: Double
    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: .nanoseconds(Int64(seconds * 1e9)))
        }
    }
}
