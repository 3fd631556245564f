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

/// Blocks SIGINT/SIGTERM/SIGHUP (and SIGUSR1, used internally) in the calling thread (call before starting any thread so every
/// thread inherits the mask) and returns a function that waits for one of them.
func blockTerminationSignals() -> () -> Int32 {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGHUP)
    sigaddset(&set, SIGUSR1)  // internal wake-up of the signal watcher
    pthread_sigmask(SIG_BLOCK, &set, nil)
    return {
        var s = set
        var sig: Int32 = 0
        sigwait(&s, &sig)
        return sig
    }
}
