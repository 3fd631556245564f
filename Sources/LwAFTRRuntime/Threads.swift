internal import Glibc


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

