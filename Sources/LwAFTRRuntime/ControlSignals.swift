internal import CShim
internal import Glibc
import Synchronization
internal import PacketIO

/// SIGHUP (reload) and SIGTERM/SIGINT (graceful stop) for `lwaftr run`, process-wide.
///
/// A C handler (installed by a constructor before `main` for `lwaftr run`, or by `install()`)
/// writes each signal to a pipe; a reader thread hands them to the running runtime. So no thread
/// — main, NIO, pool or worker — is ever killed by these signals' default action, and a signal
/// that arrives before the runtime listens (snapshot load, TUN/netns setup) is kept: a SIGHUP
/// then reloads once the service group runs, a SIGTERM/SIGINT stops it gracefully (snapshot
/// written) as soon as it started.
public final class ControlSignals: Sendable {
    /// What a subscriber receives.
    public struct Subscription: Sendable {
        public let hangups: AsyncStream<Void>
        public let stops: AsyncStream<Void>
        let id: UInt64
    }

    private struct Subscriber {
        let hangup: AsyncStream<Void>.Continuation
        let stop: AsyncStream<Void>.Continuation
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var next: UInt64 = 0
        var pendingHangup = false
        var pendingStop = false
    }

    private let state = Mutex(State())
    private static let installed = Mutex<ControlSignals?>(nil)

    private init(readFD: Int32) {
        _ = OSThread.start { [self] in
            blockAllSignalsInThisThread()  // the handler runs on other threads; this one only reads
            var b: UInt8 = 0
            while true {
                let n = read(readFD, &b, 1)
                if n == 1 { deliver(Int32(b)) } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }

    /// Installs the handlers (idempotent) and returns the process's instance. `lwaftr run` calls
    /// it first thing.
    @discardableResult
    public static func install() -> ControlSignals {
        installed.withLock { s in
            if let s { return s }
            let fd = cshim_control_signals_install()
            precondition(fd >= 0, "cannot install the signal handlers")
            let made = ControlSignals(readFD: fd)
            s = made
            return made
        }
    }

    /// The instance when `install()` ran (in-process runtimes without it take no signals).
    public static var current: ControlSignals? { installed.withLock { $0 } }

    private func deliver(_ sig: Int32) {
        state.withLock { s in
            let hangup = sig == SIGHUP
            if s.subscribers.isEmpty {
                if hangup { s.pendingHangup = true } else { s.pendingStop = true }
                return
            }
            for sub in s.subscribers.values { (hangup ? sub.hangup : sub.stop).yield() }
        }
    }

    /// Starts receiving; signals that came while nobody listened are delivered at once.
    public func subscribe() -> Subscription {
        let (h, hc) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(4))
        let (t, tc) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(4))
        let id = state.withLock { s -> UInt64 in
            let id = s.next
            s.next += 1
            s.subscribers[id] = Subscriber(hangup: hc, stop: tc)
            if s.pendingHangup { hc.yield(); s.pendingHangup = false }
            if s.pendingStop { tc.yield(); s.pendingStop = false }
            return id
        }
        return Subscription(hangups: h, stops: t, id: id)
    }

    /// Stops delivering to `sub` (its streams finish).
    public func unsubscribe(_ sub: Subscription) {
        let gone = state.withLock { $0.subscribers.removeValue(forKey: sub.id) }
        gone?.hangup.finish()
        gone?.stop.finish()
    }
}
