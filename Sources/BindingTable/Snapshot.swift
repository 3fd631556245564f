import LwAFTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Binary snapshot, little-endian:
//   0  magic "LWBTSNAP"        8 B
//   8  version (1)             u32
//  12  record size (32)        u32
//  16  softwire count          u64
//  24  br-address count        u32
//  28  reserved (0)            u32
//  32  checksum                u64   chained over bytes 64..<end, then 0..<32
//  40  reserved (0)            24 B
//  64  br-addresses            count × (hi u64, lo u64)
//  ..  softwires               count × (ipv4 u32, psid u16, offset u8, psid length u8,
//                                       b4 hi u64, b4 lo u64, br index u32, reserved u32)
// Written to `path.tmp.PID`, fsynced, renamed over `path` (atomic), then the folder is fsynced.

/// Why a snapshot could not be written or read.
public enum SnapshotError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A system call failed (`operation` names it).
    case io(path: String, operation: String, errno: Int32)
    /// The file does not start with the snapshot magic.
    case notASnapshot(path: String)
    /// Written by a newer (or unknown) format version.
    case unsupportedVersion(path: String, version: UInt32)
    /// The size does not match the header's counts.
    case truncated(path: String, expected: Int, actual: Int)
    /// The content does not match its checksum.
    case checksumMismatch(path: String)
    /// A record that cannot be a softwire (bad port set or br index).
    case invalidRecord(path: String, index: Int, reason: String)
    /// The records are valid one by one but not together (e.g. conflicting port sets).
    case rejected(path: String, BindingTableError)

    public var description: String {
        switch self {
        case let .io(p, op, e): return "\(p): \(op) failed: \(String(cString: strerror(e)))"
        case let .notASnapshot(p): return "\(p): not a binding-table snapshot"
        case let .unsupportedVersion(p, v): return "\(p): unsupported snapshot version \(v)"
        case let .truncated(p, e, a): return "\(p): snapshot should be \(e) bytes but is \(a)"
        case let .checksumMismatch(p): return "\(p): snapshot checksum mismatch"
        case let .invalidRecord(p, i, r): return "\(p): record \(i): \(r)"
        case let .rejected(p, e): return "\(p): \(e)"
        }
    }
}

/// Snapshot format constants and checksum.
enum SnapshotFormat {
    static let magic: UInt64 = 0x5041_4E53_5442_574C  // "LWBTSNAP" little-endian
    static let version: UInt32 = 1
    static let headerSize = 64
    static let recordSize = 32

    /// Word-wise multiply/xor-shift chain; every step is a bijection, so any changed word changes
    /// the result.
    struct Checksum {
        var h: UInt64 = 0x6A09_E667_F3BC_C908
        mutating func add(_ p: UnsafeRawPointer, _ n: Int) {
            var i = 0
            while i < n {
                h = (h ^ UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0x9E37_79B9_7F4A_7C15
                h ^= h >> 31
                i &+= 8
            }
        }
    }
}

extension UnsafeMutableRawPointer {
    fileprivate func put<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        storeBytes(of: v.littleEndian, toByteOffset: offset, as: T.self)
    }
}

extension UnsafeRawPointer {
    fileprivate func get<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension BindingTable {
    /// Writes every softwire to `path` atomically (temporary file, fsync, rename). Writes are
    /// held back while it runs; lookups are not.
    public func saveSnapshot(to path: String) throws(SnapshotError) {
        try writer.withLock { w throws(SnapshotError) in try w.saveSnapshot(to: path) }
    }

    /// Creates a table from a snapshot file.
    public convenience init(snapshot path: String, seed: UInt64 = UInt64.random(in: 0...UInt64.max),
                            maxReaders: Int = 64) throws(SnapshotError) {
        self.init(capacity: 16, seed: seed, maxReaders: maxReaders)
        try loadSnapshot(path: path)
    }

    /// Replaces the whole content with a snapshot's (validated in full first; on error nothing
    /// changes). Returns the number of softwires loaded.
    @discardableResult
    public func loadSnapshot(path: String) throws(SnapshotError) -> Int {
        let file = try SnapshotFile(path: path)
        defer { file.buffer.deallocate() }
        return try writer.withLock { w throws(SnapshotError) in try w.load(file, path: path) }
    }
}

extension WriterState {
    /// Replaces the maps with a checked snapshot's records.
    mutating func load(_ file: SnapshotFile, path: String) throws(SnapshotError) -> Int {
        let p = UnsafeRawPointer(file.buffer.baseAddress!)
        var brIndex: [UInt32] = []
        for i in 0..<file.brCount {
            let o = SnapshotFormat.headerSize + i * 16
            do throws(BindingTableError) {
                brIndex.append(try self.brIndex(for: IPv6Address(hi: p.get(UInt64.self, at: o), lo: p.get(UInt64.self, at: o + 8))))
            } catch {
                throw .rejected(path: path, error)
            }
        }
        let base = SnapshotFormat.headerSize + file.brCount * 16
        for i in 0..<file.count {  // record-level checks first: a bad file changes nothing
            let o = base + i * SnapshotFormat.recordSize
            guard PortSet(offset: p.get(UInt8.self, at: o + 6), psidLength: p.get(UInt8.self, at: o + 7)) != nil else {
                throw .invalidRecord(path: path, index: i, reason: "invalid offset/PSID length")
            }
            guard Int(p.get(UInt32.self, at: o + 24)) < brIndex.count else {
                throw .invalidRecord(path: path, index: i, reason: "br index out of range")
            }
        }
        do throws(BindingTableError) {
            try replaceAll(count: file.count) { b throws(BindingTableError) in
                for i in 0..<file.count {
                    let o = base + i * SnapshotFormat.recordSize
                    let ps = PortSet(offset: p.get(UInt8.self, at: o + 6), psidLength: p.get(UInt8.self, at: o + 7))!
                    try b.add(ipv4: p.get(UInt32.self, at: o), psid: p.get(UInt16.self, at: o + 4), portSet: ps,
                              b4Hi: p.get(UInt64.self, at: o + 8), b4Lo: p.get(UInt64.self, at: o + 16),
                              brIndex: brIndex[Int(p.get(UInt32.self, at: o + 24))])
                }
            }
        } catch {
            throw .rejected(path: path, error)
        }
        return sw.count
    }
}

/// A whole snapshot file read into memory, header checked, checksum verified.
struct SnapshotFile: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    let count: Int
    let brCount: Int

    init(path: String) throws(SnapshotError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, operation: "fstat", errno: errno) }
        let size = Int(st.st_size)
        guard size >= SnapshotFormat.headerSize else { throw .notASnapshot(path: path) }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        var done = 0
        while done < size {
            let n = read(fd, buf.baseAddress! + done, size - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                buf.deallocate()
                throw n == 0 ? .truncated(path: path, expected: size, actual: done) : .io(path: path, operation: "read", errno: e)
            }
            done += n
        }
        let p = UnsafeRawPointer(buf.baseAddress!)
        do {
            guard p.get(UInt64.self, at: 0) == SnapshotFormat.magic else { throw SnapshotError.notASnapshot(path: path) }
            let version = p.get(UInt32.self, at: 8)
            guard version == SnapshotFormat.version, p.get(UInt32.self, at: 12) == UInt32(SnapshotFormat.recordSize) else {
                throw SnapshotError.unsupportedVersion(path: path, version: version)
            }
            let count = p.get(UInt64.self, at: 16), brCount = Int(p.get(UInt32.self, at: 24))
            guard count <= UInt64(Int.max / 64) else { throw SnapshotError.truncated(path: path, expected: .max, actual: size) }
            let expected = SnapshotFormat.headerSize + brCount * 16 + Int(count) * SnapshotFormat.recordSize
            guard expected == size else { throw SnapshotError.truncated(path: path, expected: expected, actual: size) }
            var sum = SnapshotFormat.Checksum()
            sum.add(p + SnapshotFormat.headerSize, size - SnapshotFormat.headerSize)
            sum.add(p, 32)
            guard sum.h == p.get(UInt64.self, at: 32) else { throw SnapshotError.checksumMismatch(path: path) }
            self.count = Int(count)
            self.brCount = brCount
        } catch let e as SnapshotError {
            buf.deallocate()
            throw e
        } catch {
            fatalError("unreachable")
        }
        buffer = buf
    }
}

extension WriterState {
    func saveSnapshot(to path: String) throws(SnapshotError) {
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: tmp, operation: "open", errno: errno) }
        var ok = false
        defer {
            if !ok { close(fd); unlink(tmp) }
        }
        let chunk = 1 << 20
        let buf = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buf.deallocate() }
        var sum = SnapshotFormat.Checksum()
        var used = SnapshotFormat.headerSize, offset = 0
        func flush() throws(SnapshotError) {
            let start = offset == 0 ? SnapshotFormat.headerSize : 0
            sum.add(buf + start, used - start)
            var done = 0
            while done < used {
                let n = pwrite(fd, buf + done, used - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw .io(path: tmp, operation: "write", errno: errno) }
                done += n
            }
            offset += used
            used = 0
        }
        memset(buf, 0, SnapshotFormat.headerSize)
        for br in brList {
            if used + 16 > chunk { try flush() }
            buf.put(br.hi, at: used)
            buf.put(br.lo, at: used + 8)
            used += 16
        }
        for i in 0..<sw.capacity where sw.key(at: i) > SlotMark.tombstone {
            if used + SnapshotFormat.recordSize > chunk { try flush() }
            let k = sw.key(at: i), v = sw.value(at: i), ip = UInt32(truncatingIfNeeded: k >> 32)
            let ps = (k >> 17) & 0xFFF
            buf.put(ip, at: used)
            buf.put(UInt16(truncatingIfNeeded: k), at: used + 4)
            buf.put(UInt8(truncatingIfNeeded: ps >> 8), at: used + 6)
            buf.put(UInt8(truncatingIfNeeded: ps), at: used + 7)
            buf.put(v.b4Hi, at: used + 8)
            buf.put(v.b4Lo, at: used + 16)
            buf.put(v.brIndex, at: used + 24)
            buf.put(UInt32(0), at: used + 28)
            used += SnapshotFormat.recordSize
        }
        try flush()
        // Header last: the checksum chains the body, then header bytes 0..<32.
        buf.put(SnapshotFormat.magic, at: 0)
        buf.put(SnapshotFormat.version, at: 8)
        buf.put(UInt32(SnapshotFormat.recordSize), at: 12)
        buf.put(UInt64(sw.count), at: 16)
        buf.put(UInt32(brList.count), at: 24)
        buf.put(UInt32(0), at: 28)
        sum.add(buf, 32)
        buf.put(sum.h, at: 32)
        memset(buf + 40, 0, 24)
        guard pwrite(fd, buf, SnapshotFormat.headerSize, 0) == SnapshotFormat.headerSize else {
            throw .io(path: tmp, operation: "write", errno: errno)
        }
        guard fsync(fd) == 0 else { throw .io(path: tmp, operation: "fsync", errno: errno) }
        ok = true
        guard close(fd) == 0 else { unlink(tmp); throw .io(path: tmp, operation: "close", errno: errno) }
        guard rename(tmp, path) == 0 else { let e = errno; unlink(tmp); throw .io(path: path, operation: "rename", errno: e) }
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}
