internal import CShim
internal import Glibc

/// Running code inside a network namespace without moving the whole process: a network namespace is
/// a per-thread attribute, so a dedicated thread joins it (setns(2)), runs the body and ends.
/// Sockets, TUN queues and netlink sockets opened there stay bound to that namespace when used
/// later from any thread.
public enum NetworkNamespace {
    /// Runs `body` on a new thread inside the namespace at `path` (a file such as /run/netns/NAME or
    /// /proc/PID/ns/net), waits for it and returns its result.
    public static func run<T: Sendable>(path: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        try runThread(path: path) { box.result = Result { try body() } }
        return try box.result!.get()
    }

    /// Runs `body` inside the namespace `name` made by `ip netns add` (/run/netns/NAME).
    public static func run<T: Sendable>(named name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        try run(path: "/run/netns/\(name)", body)
    }

    static func runThread(path: String, _ work: @escaping @Sendable () -> Void) throws(PacketIOError) {
        let start = ThreadStart(path: path, work: work)
        let ctx = Unmanaged.passRetained(start).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, threadEntry, ctx)
        if rc != 0 {
            Unmanaged<ThreadStart>.fromOpaque(ctx).release()
            throw PacketIOError("pthread_create", code: rc)
        }
        pthread_join(tid, nil)
        if start.enterError != 0 {
            throw PacketIOError("enter network namespace \(path)", code: start.enterError)
        }
    }
}

private func threadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
    let r = cshim_enter_netns(start.path)
    if r != 0 {
        start.enterError = -r
    } else {
        start.work()
    }
    return nil
}

/// Touched by one thread at a time: the new thread writes, the creating thread reads after
/// pthread_join.
private final class ThreadStart: @unchecked Sendable {
    let path: String
    let work: @Sendable () -> Void
    var enterError: Int32 = 0

    init(path: String, work: @escaping @Sendable () -> Void) {
        self.path = path
        self.work = work
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
