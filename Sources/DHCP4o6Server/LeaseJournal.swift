import Foundation
import LwAFTRCore
import DHCPWire
#if canImport(Glibc)
import Glibc
#endif

/// Persists the lease store as a snapshot plus an append-only journal of full lease states.
///
/// Files in `directory`: `leases.snapshot` (replaced atomically: temp file, fsync, rename,
/// fsync of the directory) and `leases.journal` (one line per change, appended before the change
/// is applied in memory or answered). Each line ends with an FNV-1a checksum; on load a torn or
/// corrupt journal tail is dropped (and truncated), so a crash never half-applies a change.
/// Replaying is idempotent: every line is a whole lease state.
final class LeaseJournal {
    struct Loaded { var leases: [Lease] = []; var historyStart: UInt32 = 0; var nextSeq: UInt64 = 1; var droppedLines = 0 }

    let directory: String
    let sync: Bool
    private var fd: Int32 = -1
    private(set) var journalLines = 0

    var snapshotPath: String { directory + "/leases.snapshot" }
    var journalPath: String { directory + "/leases.journal" }

    init(directory: String, sync: Bool) throws {
        self.directory = directory
        self.sync = sync
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { if fd >= 0 { close(fd) } }

    // MARK: load

    /// Reads the snapshot and replays the journal; then opens the journal for appending.
    func load() throws -> Loaded {
        var out = Loaded()
        var byKey: [SoftwireKey: Lease] = [:]
        if let data = FileManager.default.contents(atPath: snapshotPath) {
            let lines = data.split(separator: UInt8(ascii: "\n"))
            guard let first = lines.first, let h = Self.verify(first), h.first == "H", h.count == 4,
                  let hs = UInt32(h[2]), let seq = UInt64(h[3]) else {
                throw ServerConfigError("lease snapshot \(snapshotPath): bad header")
            }
            out.historyStart = hs; out.nextSeq = seq
            for line in lines.dropFirst() {
                guard let f = Self.verify(line), let l = Self.parseLease(f) else {
                    throw ServerConfigError("lease snapshot \(snapshotPath): corrupt line")
                }
                byKey[l.key] = l
            }
        }
        var validBytes = 0
        if let data = FileManager.default.contents(atPath: journalPath) {
            var start = data.startIndex
            while let nl = data[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = data[start..<nl]
                guard let f = Self.verify(line) else { break }
                if f.first == "L", let l = Self.parseLease(f) {
                    byKey[l.key] = l
                    out.nextSeq = max(out.nextSeq, l.changeSeq + 1)
                } else if f.first == "P", f.count == 4, let a = IPv4Address(f[1]), let p = UInt16(f[2]), let hs = UInt32(f[3]) {
                    byKey[SoftwireKey(ipv4: a, psid: p)] = nil
                    out.historyStart = max(out.historyStart, hs)
                } else {
                    break
                }
                journalLines += 1
                start = nl + 1
            }
            validBytes = start - data.startIndex
            if validBytes < data.count { out.droppedLines = data[start...].split(separator: UInt8(ascii: "\n")).count }
        }
        fd = open(journalPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ServerConfigError("cannot open \(journalPath): errno \(errno)") }
        if ftruncate(fd, off_t(validBytes)) != 0 { throw ServerConfigError("cannot truncate \(journalPath): errno \(errno)") }
        out.leases = Array(byKey.values)
        return out
    }

    // MARK: write

    /// Appends one lease state; throws (and nothing is applied) when the write fails.
    func append(_ l: Lease) throws { try write(Self.line(Self.fields(l))) }

    /// Records that a tombstone was purged and the history now starts at `historyStart`.
    func appendPurge(_ key: SoftwireKey, historyStart: UInt32) throws {
        try write(Self.line(["P", key.ipv4.description, "\(key.psid)", "\(historyStart)"]))
    }

    private func write(_ s: String) throws {
        var bytes = Array(s.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw ServerConfigError("journal write failed: errno \(errno)") }
        if sync { fsync(fd) }
        journalLines += 1
    }

    /// Writes a new snapshot atomically and empties the journal.
    func compact(_ leases: some Sequence<Lease>, historyStart: UInt32, nextSeq: UInt64) throws {
        var text = Self.line(["H", "v1", "\(historyStart)", "\(nextSeq)"]) + "\n"
        for l in leases { text += Self.line(Self.fields(l)); text += "\n" }
        let tmp = snapshotPath + ".tmp"
        let tfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard tfd >= 0 else { throw ServerConfigError("cannot create \(tmp): errno \(errno)") }
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(tfd, $0.baseAddress! + off, $0.count - off) }
            guard n > 0 else { close(tfd); throw ServerConfigError("snapshot write failed: errno \(errno)") }
            off += n
        }
        fsync(tfd); close(tfd)
        guard rename(tmp, snapshotPath) == 0 else { throw ServerConfigError("rename \(tmp): errno \(errno)") }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
        if ftruncate(fd, 0) != 0 { throw ServerConfigError("cannot truncate journal: errno \(errno)") }
        journalLines = 0
    }

    // MARK: line codec

    static func fields(_ l: Lease) -> [String] {
        let hex = { (b: [UInt8]) in b.isEmpty ? "." : b.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined() }
        return ["L", "\(l.changeSeq)", l.key.ipv4.description, "\(l.key.psid)",
                "\(l.portParams?.offset ?? 0)", "\(l.portParams?.psidLength ?? 0)", l.state.rawValue,
                "\(l.expiry)", "\(l.cltt)", "\(l.stateStart)", "\(l.b4Changed)", "\(l.lastChange)",
                l.b4?.description ?? "-", l.clientSource?.description ?? "-", hex(l.clientKey),
                l.clientID.map(hex) ?? "-"]
    }

    static func parseLease(_ f: [Substring]) -> Lease? {
        guard f.count == 16, f[0] == "L", let seq = UInt64(f[1]), let a = IPv4Address(f[2]), let psid = UInt16(f[3]),
              let off = UInt8(f[4]), let k = UInt8(f[5]), let st = LeaseState(rawValue: String(f[6])),
              let exp = UInt32(f[7]), let cltt = UInt32(f[8]), let ss = UInt32(f[9]), let bc = UInt32(f[10]),
              let lc = UInt32(f[11]), let ck = unhex(f[14]) else { return nil }
        var pp: PortParams? = nil
        if k > 0 { guard let p = PortParams(offset: off, psidLength: k, psid: psid) else { return nil }; pp = p }
        let b4 = f[12] == "-" ? nil : IPv6Address(f[12])
        let src = f[13] == "-" ? nil : IPv6Address(f[13])
        if f[12] != "-" && b4 == nil || f[13] != "-" && src == nil { return nil }
        var cid: [UInt8]? = nil
        if f[15] != "-" { guard let c = unhex(f[15]) else { return nil }; cid = c }
        return Lease(key: SoftwireKey(ipv4: a, psid: psid), portParams: pp, state: st, clientKey: ck, clientID: cid,
                     b4: b4, clientSource: src, expiry: exp, cltt: cltt, stateStart: ss, b4Changed: bc,
                     lastChange: lc, changeSeq: seq)
    }

    static func unhex(_ s: Substring) -> [UInt8]? {
        if s == "." { return [] }
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x57
            case 0x41...0x46: c - 0x37
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        for i in stride(from: 0, to: u.count, by: 2) {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    /// `fields joined by spaces` + ` #checksum`.
    static func line(_ fields: [String]) -> String {
        let body = fields.joined(separator: " ")
        return body + " #" + String(fnv1a(body.utf8), radix: 16)
    }

    /// The fields of a line whose checksum matches, else nil.
    static func verify(_ line: some Collection<UInt8>) -> [Substring]? {
        let s = String(decoding: line, as: UTF8.self)
        guard let hash = s.range(of: " #", options: .backwards) else { return nil }
        let body = s[..<hash.lowerBound]
        guard String(fnv1a(body.utf8), radix: 16) == s[hash.upperBound...] else { return nil }
        return body.split(separator: " ")
    }

    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for b in bytes { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        return h
    }
}
