import Glibc
import PacketIO
import Testing

/// Whether namespace tests can run here (root, iproute2, /dev/net/tun); they are skipped otherwise.
public enum Privileges {
    public static let canUseNamespaces: Bool = getuid() == 0 && Shell.run("ip netns list").status == 0
        && access("/dev/net/tun", R_OK | W_OK) == 0
    public static let message: Comment = "needs root, iproute2 and /dev/net/tun (network namespaces); CI runs as root"
}

/// A shell command that exited non-zero.
public struct ShellError: Error, CustomStringConvertible {
    public var command: String
    public var status: Int32
    public var output: String
    public var description: String { "`\(command)` exited \(status): \(output)" }
}

/// Test setup through /bin/sh (`ip`, `nft`): the product itself never shells out.
public enum Shell {
    /// Runs `command`; returns its exit status and combined output.
    @discardableResult
    public static func run(_ command: String) -> (status: Int32, output: String) {
        guard let f = popen("\(command) 2>&1", "r") else { return (-1, "popen failed") }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        let st = pclose(f)
        let status: Int32 = (st & 0x7F) == 0 ? (st >> 8) & 0xFF : -1
        return (status, String(decoding: out, as: UTF8.self))
    }

    /// Runs `command`; throws `ShellError` when it fails, else returns its output.
    @discardableResult
    public static func check(_ command: String) throws -> String {
        let r = run(command)
        guard r.status == 0 else { throw ShellError(command: command, status: r.status, output: r.output) }
        return r.output
    }
}

/// A network namespace for one test, named `<prefix>-<tag>-<pid>-<random>`; `remove()` deletes it
/// (with its veths and TUNs): call it in a `defer`.
public final class TestNamespace: Sendable {
    public let name: String

    public init(_ tag: String, prefix: String) throws {
        name = "\(prefix)-\(tag)-\(getpid() % 100_000)-\(UInt16.random(in: 0...0xFFFF))"
        try Shell.check("ip netns add \(name)")
        try Shell.check("ip -n \(name) link set lo up")
    }

    /// Runs a shell command inside the namespace.
    @discardableResult
    public func sh(_ command: String) throws -> String { try Shell.check("ip netns exec \(name) \(command)") }

    /// `ip -n NAME ARGS`.
    @discardableResult
    public func ip(_ args: String) throws -> String { try Shell.check("ip -n \(name) \(args)") }

    /// Runs `body` on a thread inside the namespace (sockets made there stay there).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        try NetworkNamespace.run(named: name, body)
    }

    public func remove() { Shell.run("ip netns del \(name)") }
}
