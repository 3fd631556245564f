import Foundation
import BindingTable
import Glibc
@testable import LwAFTRRuntime
import LwAFTRCore
import PacketEngine
import PacketIO
import Synchronization
import Telemetry
import Testing

/// A device that never has frames (its descriptor is a pipe nobody writes) and drops what it is given.
struct IdleDevice: PacketSource, PacketSink {
    let fileDescriptor: Int32
    func receive(into batch: inout PacketBatch, pool: PacketPool, max: Int) -> Int { 0 }
    func waitReadable(timeoutMs: Int32) -> Bool { false }
    @discardableResult
    func send(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
        let n = batch.count
        batch.freeAll(to: pool)
        return n
    }
}

final class StopFlag: Sendable { let value = Atomic<Bool>(false) }

struct WorkerAndMirrorTests {
    /// A reload published after the engine was built but before its worker thread started is
    /// adopted: the worker starts from the engine's generation, not the cell's current one.
    @Test func workerAdoptsSettingsPublishedBeforeItStarted() throws {
        let config = try JSONConfig.parse(Lab.configJSON(), file: "t.json")
        let table = try BindingTable(softwires: config.softwires)
        let cell = SettingsCell(EngineSettings(config: config))
        let (built, generation) = cell.read()
        let engine = try LwAFTREngine(settings: built, table: table, pool: PacketPool(capacity: 1024), batchCapacity: 32)
        #expect(engine.settings.hairpinning == true)
        var changed = EngineSettings(config: config)
        changed.hairpinning = false
        cell.publish(changed)  // the reload lands in the gap

        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let dev = IdleDevice(fileDescriptor: fds[0])
        let worker = Worker(index: 0, engine: engine, external: dev, internal: dev, board: CounterBoard(workers: 1),
                            batch: 32, busyPoll: false, settings: cell, generation: generation)
        let stop = StopFlag()
        Thread.detachNewThread {
            usleep(100_000)
            stop.value.store(true, ordering: .relaxed)
        }
        _ = worker.run(stop: stop.value)
        #expect(engine.settings.hairpinning == false)
    }

    /// Worker threads block the asynchronous signals but not the fault signals, so a crash in a
    /// worker still reaches the runtime's backtrace handler.
    @Test func workerSignalMaskLeavesFaultSignalsDeliverable() {
        let mask = Mutex<sigset_t?>(nil)
        let t = OSThread.start {
            blockAllSignalsInThisThread()
            var m = sigset_t()
            pthread_sigmask(SIG_BLOCK, nil, &m)
            mask.withLock { $0 = m }
        }
        t.join()
        guard var m = mask.withLock({ $0 }) else { Issue.record("no mask"); return }
        for s in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGPIPE] { #expect(sigismember(&m, s) == 1, "signal \(s) not blocked") }
        for s in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT, SIGSYS] { #expect(sigismember(&m, s) == 0, "fault signal \(s) blocked") }
    }

    /// Shutdown's worker join is bounded: a worker that does not stop is given up on after the
    /// timeout (the 15 s graceful bound then holds); finished workers are joined at once.
    @Test func workerJoinIsBounded() async throws {
        var o = RunOptions()
        o.io = .none
        let rt = try LwAFTRRuntime(config: JSONConfig.parse(Lab.configJSON(), file: "t.json"), options: o)
        let quick = OSThread.start { usleep(10_000) }
        #expect(await rt.joinWorkers([quick], timeout: 5))
        let release = StopFlag()
        let stuck = OSThread.start { while !release.value.load(ordering: .relaxed) { usleep(1_000) } }
        let start = Date()
        #expect(await rt.joinWorkers([stuck], timeout: 0.2) == false)
        #expect(Date().timeIntervalSince(start) < 2)
        release.value.store(true, ordering: .relaxed)  // the helper thread still joins it
    }

    /// A mirrored value that goes back down (requestor restarted, server re-added) counts again
    /// from zero instead of freezing the `_total` series.
    @Test func counterMirrorFollowsAValueThatRestartedFromZero() {
        let exporter = MetricsExporter(board: CounterBoard(workers: 1))
        let mirror = CounterMirror(exporter: exporter)
        let value = { metric(exporter.scrape(), "lwaftr_test_mirror_total") }
        mirror.set("lwaftr_test_mirror_total", to: 5)
        #expect(value() == 5)
        mirror.set("lwaftr_test_mirror_total", to: 2)   // restarted: 2 new
        #expect(value() == 7)
        mirror.set("lwaftr_test_mirror_total", to: 4)   // +2
        #expect(value() == 9)
        mirror.set("lwaftr_test_mirror_total", to: 4)
        #expect(value() == 9)
    }
}
