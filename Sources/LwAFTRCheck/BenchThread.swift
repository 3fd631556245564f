#if canImport(Glibc)
internal import Glibc
#endif

/// An OS thread running one closure: benchmark workers are real threads (a cooperative pool
/// would share them with the watcher and skew the figures).
final class BenchThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: () -> Void

    private init(body: @escaping () -> Void) { self.body = body }

    /// Starts `body` on a new thread.
    static func start(_ body: @escaping () -> Void) -> BenchThread {
        let t = BenchThread(body: body)
        let box = Unmanaged.passRetained(t)
        let rc = pthread_create(&t.handle, nil, { raw in
            let me = Unmanaged<BenchThread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return t
    }

    /// Waits for the thread to finish.
    func join() { pthread_join(handle, nil) }
}
