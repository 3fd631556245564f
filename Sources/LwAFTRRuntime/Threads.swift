internal import Glibc

/// A started OS thread that runs one closure (packet workers are real threads, not tasks: they
/// spin on their queues and must never be descheduled by a cooperative pool).
final class OSThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: () -> Void

    private init(body: @escaping () -> Void) { self.body = body }

    /// Starts `body` on a new thread.
    static func start(_ body: @escaping () -> Void) -> OSThread {
        let t = OSThread(body: body)
        let box = Unmanaged.passRetained(t)
        let rc = pthread_create(&t.handle, nil, { raw in
            let me = Unmanaged<OSThread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return t
    }

    /// Waits for the thread to finish.
    func join() { pthread_join(handle, nil) }
}

/// Blocks every asynchronous signal in the calling thread: packet workers never run a handler
/// and never take a signal meant for the process. Synchronous fault signals (a crash in this
/// thread) stay unblocked so the runtime's backtrace handler still reports them.
func blockAllSignalsInThisThread() {
    var set = sigset_t()
    sigfillset(&set)
    for fault in faultSignals { sigdelset(&set, fault) }
    pthread_sigmask(SIG_SETMASK, &set, nil)  // also unblocks faults the creating thread had blocked
}

/// Signals raised by the faulting instruction itself (or by abort()).
let faultSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT, SIGSYS]

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every thread it starts later
/// (fewer EINTRs there). The process still takes them: `ControlSignals` handles them on a
/// thread that does not block them (the main thread at least).
public func blockControlSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGHUP)
    pthread_sigmask(SIG_BLOCK, &set, nil)
}
