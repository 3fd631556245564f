internal import LwAFTRCore
internal import BindingTable
internal import PacketIO

#if canImport(Glibc)
internal import Glibc
#endif

/// Writes a `BenchWorkload` to disk as the benchmark cache lays it out:
///
/// ```
/// DIR/lwaftr.conf            instance settings, no softwires (the table comes from the snapshot)
/// DIR/bindings.snap          every softwire (binding-table snapshot)
/// DIR/full.conf              every softwire in the .conf (only on request: for other implementations)
/// DIR/fF/ipv4-SIZE.pcap      F flows from the internet, one packet per flow
/// DIR/fF/ipv6-SIZE.pcap      the same F flows 4in6 from their B4s
/// ```
/// Existing files are kept (the cache is reused); every file is written to a temporary name and
/// renamed, so an interrupted run never leaves a truncated file under the final name.
public enum BenchTraceWriter {
    /// Writes the configuration and snapshot for `bindings` softwires (and `full.conf` when asked).
    /// Returns the paths written (not those already present).
    @discardableResult
    public static func writeTable(bindings: Int, dir: String, fullConf: Bool) throws -> [String] {
        let w = BenchWorkload(bindings: bindings, flows: 1)
        var written: [String] = []
        try makeDirectory(dir)
        let conf = dir + "/lwaftr.conf"
        if !exists(conf) {
            try writeText(SnabbConfWriter.write(w.config(includeSoftwires: false)), to: conf)
            written.append(conf)
        }
        let snap = dir + "/bindings.snap"
        if !exists(snap) {
            try w.makeTable().saveSnapshot(to: snap)
            written.append(snap)
        }
        let full = dir + "/full.conf"
        if fullConf && !exists(full) {
            try writeText(SnabbConfWriter.write(w.config(includeSoftwires: true)), to: full)
            written.append(full)
        }
        return written
    }

    /// Writes the IPv4 and IPv6 traces of `flows` flows at `size` under `dir/fFLOWS/`.
    @discardableResult
    public static func writeTraces(bindings: Int, flows: Int, size: BenchFrameSize, dir: String) throws -> [String] {
        let w = BenchWorkload(bindings: bindings, flows: flows)
        let sub = dir + "/f\(flows)"
        try makeDirectory(sub)
        var written: [String] = []
        let count = size.packetCount(flows: flows)
        let buf = UnsafeMutableRawPointer.allocate(byteCount: 10_000, alignment: 8)
        defer { buf.deallocate() }
        for v6 in [false, true] {
            let path = sub + (v6 ? "/ipv6-" : "/ipv4-") + "\(size).pcap"
            if exists(path) { continue }
            let tmp = path + ".tmp.\(getpid())"
            let out = try PcapWriter(path: tmp)
            for j in 0..<count {
                let len = v6 ? size.lengths(j).ipv6 : size.lengths(j).ipv4
                memset(buf, 0, len)
                if v6 { w.ipv6Frame(j, length: len, into: buf) } else { w.ipv4Frame(j, length: len, into: buf) }
                out.write(UnsafeRawBufferPointer(start: buf, count: len))
            }
            out.close()
            guard rename(tmp, path) == 0 else { throw BenchFileError(path: path, message: "rename failed") }
            written.append(path)
        }
        return written
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func makeDirectory(_ path: String) throws {
        var prefix = ""
        for (i, part) in path.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            prefix += (i == 0 ? "" : "/") + part
            if part.isEmpty { continue }
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw BenchFileError(path: prefix, message: "mkdir failed")
            }
        }
    }

    static func writeText(_ text: String, to path: String) throws {
        let tmp = path + ".tmp.\(getpid())"
        guard let f = fopen(tmp, "w") else { throw BenchFileError(path: tmp, message: "cannot write") }
        fputs(text, f)
        fclose(f)
        guard rename(tmp, path) == 0 else { throw BenchFileError(path: path, message: "rename failed") }
    }
}

/// A benchmark cache file could not be written.
public struct BenchFileError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}
