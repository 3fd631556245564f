@testable import BindingTable
import LwAFTRCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct SnapshotTests {
    static func tempPath(_ name: String) -> String {
        "/tmp/bt-snap-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    }

    static func bytes(_ path: String) -> [UInt8] {
        guard let f = fopen(path, "rb") else { return [] }
        defer { fclose(f) }
        var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    static func write(_ path: String, _ b: [UInt8]) {
        let f = fopen(path, "wb")!
        _ = b.withUnsafeBytes { fwrite($0.baseAddress, 1, b.count, f) }
        fclose(f)
    }

    @Test func roundTrip() throws {
        let path = Self.tempPath("rt")
        defer { unlink(path) }
        let list = Fx.many(3000) + [Fx.sw(Fx.ip(7777), psid: 5, k: 4, offset: 6, br: Fx.br2)]
        let t = try BindingTable(softwires: list)
        try t.saveSnapshot(to: path)
        #expect(Self.bytes(path).count == 64 + 2 * 16 + list.count * 32)
        #expect(access(path + ".tmp.\(getpid())", F_OK) != 0)  // temp file renamed away

        let u = try BindingTable(snapshot: path, seed: 99)
        #expect(u.count == list.count)
        #expect(u.allSoftwires() == t.allSoftwires())
        let v = try #require(u.lookup(ipv4: Fx.ip(7777).value, port: Fx.port(psid: 5, k: 4, offset: 6)))
        #expect(v.b4 == Fx.b4(Fx.ip(7777), 5) && u.brAddress(v.brIndex) == Fx.br2)
        // The managed-address range came with the load (hairpinning depends on it).
        #expect(u.isManaged(ipv4: Fx.ip(0).value) && u.isManaged(ipv4: Fx.ip(7777).value))
        #expect(!u.isManaged(ipv4: Fx.ip(7778).value) && !u.isManaged(ipv4: Fx.ip(3000).value))
        let r = try u.makeReader()
        #expect(r.view.isManaged(ipv4: Fx.ip(100).value) && !r.view.isManaged(ipv4: 0xC633_6401))
        r.quiescent()

        // Loading into a live table replaces its content.
        let w = try BindingTable(softwires: Fx.many(10, k: 2))
        #expect(try w.loadSnapshot(path: path) == list.count)
        #expect(w.allSoftwires() == t.allSoftwires())
    }

    @Test func emptyTableRoundTrip() throws {
        let path = Self.tempPath("empty")
        defer { unlink(path) }
        try BindingTable().saveSnapshot(to: path)
        #expect(try BindingTable(snapshot: path).count == 0)
    }

    @Test func detectsCorruption() throws {
        let path = Self.tempPath("bad")
        defer { unlink(path) }
        let t = try BindingTable(softwires: Fx.many(100))
        try t.saveSnapshot(to: path)
        let good = Self.bytes(path)

        var flipped = good
        flipped[64 + 16 + 32 * 50 + 9] ^= 0x01  // one bit of one B4 address
        Self.write(path, flipped)
        #expect(throws: SnapshotError.checksumMismatch(path: path)) { _ = try BindingTable(snapshot: path) }

        var header = good
        header[16] ^= 0x01  // count
        Self.write(path, header)
        #expect(throws: SnapshotError.self) { _ = try BindingTable(snapshot: path) }

        Self.write(path, Array(good.dropLast(32)))
        #expect(throws: SnapshotError.truncated(path: path, expected: good.count, actual: good.count - 32)) {
            _ = try BindingTable(snapshot: path)
        }

        var magic = good
        magic[0] = UInt8(ascii: "X")
        Self.write(path, magic)
        #expect(throws: SnapshotError.notASnapshot(path: path)) { _ = try BindingTable(snapshot: path) }

        var version = good
        version[8] = 9
        Self.write(path, version)
        #expect(throws: SnapshotError.unsupportedVersion(path: path, version: 9)) { _ = try BindingTable(snapshot: path) }

        // A failed load leaves a live table as it was.
        let live = try BindingTable(softwires: Fx.many(20))
        #expect(throws: SnapshotError.self) { try live.loadSnapshot(path: path) }
        #expect(live.count == 20)
        #expect(throws: SnapshotError.self) { try live.loadSnapshot(path: "/nonexistent/x") }
    }

    @Test func failedSaveLeavesOldFile() throws {
        let t = try BindingTable(softwires: Fx.many(10))
        #expect(throws: SnapshotError.self) { try t.saveSnapshot(to: "/nonexistent-dir/snap") }
    }
}
