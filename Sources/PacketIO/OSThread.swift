#if canImport(Glibc)
internal import Glibc
#endif

/// A started OS thread that runs one closure. Packet workers (of `lwaftr run` and of the pcap
/// replay benchmark) are real threads, not tasks: they spin on their queues and must never share
/// a cooperative pool.
public final class OSThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: () -> Void

    private init(body: @escaping () -> Void) { self.body = body }

    /// Starts `body` on a new thread.
    public static func start(_ body: @escaping () -> Void) -> OSThread {
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
    public func join() { pthread_join(handle, nil) }
}
