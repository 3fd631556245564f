import ArgumentParser
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The `lwaftr` command line: subcommands for each job.
///
/// The entry point is synchronous: only `run` needs Swift concurrency (its ServiceGroup), and it is
/// bridged onto the cooperative pool while the main thread waits. The offline jobs (`check`,
/// `process`, `bench`, …) then run on a plain main thread — no dispatch main loop parks it in
/// `sigsuspend`, which valgrind (callgrind, used for the instruction counts) cannot run.
@main
struct LwAFTRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lwaftr",
        abstract: "Lightweight 4over6 AFTR (RFC 7596).",
        subcommands: [RunCommand.self, CheckCommand.self, ProcessCommand.self, BenchCommand.self, BindingsCommand.self, ConfigCommand.self])

    static func main() {
        do {
            var command = try parseAsRoot()
            if let async = command as? any AsyncParsableCommand {
                try runBlocking(async)
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// Runs an async command to completion on the cooperative pool; the calling thread waits.
    static func runBlocking(_ command: any AsyncParsableCommand) throws {
        final class Outcome: @unchecked Sendable {
            let error = Mutex<(any Error)?>(nil)
        }
        final class Box: @unchecked Sendable { var command: any AsyncParsableCommand; init(_ c: any AsyncParsableCommand) { command = c } }
        let outcome = Outcome(), box = Box(command)
        let semaphore = Semaphore()
        Task.detached {
            var error: (any Error)?
            do { try await box.command.run() } catch let e { error = e }
            outcome.error.withLock { $0 = error }
            semaphore.signal()
        }
        semaphore.wait()
        if let e = outcome.error.withLock({ $0 }) { throw e }
    }
}

/// A POSIX semaphore (sem_t in allocated memory, so its address never moves).
final class Semaphore: @unchecked Sendable {
    private let sem = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() { sem_init(sem, 0, 0) }
    deinit { sem_destroy(sem); sem.deallocate() }

    func signal() { sem_post(sem) }

    func wait() { while sem_wait(sem) != 0 && errno == EINTR {} }
}
