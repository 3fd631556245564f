import BindingTable
public import DHCPWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the T_last file beside a snapshot could not be written.
public struct PersistenceError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// T_last persistence (PROTOCOLS.md §7.5): per server, the server-clock Unix time an active
/// query may resume from, stored beside the binding-table snapshot as `<snapshot>.tlast`:
/// ```
/// lwaftr-tlast v1
/// [2001:db8::547]:547 1767225660
/// ```
/// Written after the snapshot (temporary file, fsync, rename), so a crash never leaves a T_last
/// newer than the table it belongs to.
public enum TLastFile {
    /// The T_last path for a snapshot path.
    public static func path(forSnapshot snapshot: String) -> String { snapshot + ".tlast" }

    /// Reads the file; missing, unreadable or malformed → empty (a full resync follows).
    public static func read(path: String) -> [String: UnixTime] {
        guard let fp = fopen(path, "r") else { return [:] }
        defer { fclose(fp) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, fp)
            if n <= 0 { break }
            text.append(contentsOf: chunk[0..<n])
            if text.count > 1 << 20 { return [:] }
        }
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
        guard lines.first == "lwaftr-tlast v1" else { return [:] }
        var out: [String: UnixTime] = [:]
        for line in lines.dropFirst() {
            let f = line.split(separator: " ")
            guard f.count == 2, let t = UInt32(f[1]) else { return [:] }
            out[String(f[0])] = UnixTime(seconds: t)
        }
        return out
    }

    /// Writes the file atomically.
    public static func write(_ values: [String: UnixTime], path: String) throws(PersistenceError) {
        var text = "lwaftr-tlast v1\n"
        for (k, v) in values.sorted(by: { $0.key < $1.key }) where !k.contains(" ") && !k.contains("\n") {
            text += "\(k) \(v.seconds)\n"
        }
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PersistenceError("cannot create \(tmp): errno \(errno)") }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard n == bytes.count, synced else { unlink(tmp); throw PersistenceError("cannot write \(tmp)") }
        guard rename(tmp, path) == 0 else { unlink(tmp); throw PersistenceError("cannot rename \(tmp): errno \(errno)") }
    }
}

extension BindingSync {
    /// Loads a snapshot into the table (validated in full first; on error nothing changes) and
    /// adopts its softwires as orphans. Returns the softwire count and the persisted T_last values.
    public func loadSnapshot(path: String) throws -> (count: Int, tLast: [String: UnixTime]) {
        let n = try table.loadSnapshot(path: path)
        adoptTableContent(owner: Self.orphanOwner)
        return (n, TLastFile.read(path: TLastFile.path(forSnapshot: path)))
    }

    /// Writes the snapshot, then T_last beside it (only the servers with a valid resume point).
    /// Call on the control lane between records, so both describe the same table state.
    public func saveSnapshot(path: String, tLast: [String: UnixTime]) throws {
        try table.saveSnapshot(to: path)
        let tl = TLastFile.path(forSnapshot: path)
        if tLast.isEmpty { unlink(tl) } else { try TLastFile.write(tLast, path: tl) }
        counters.snapshotsWritten += 1
    }
}
