import Foundation

/// Minimal pcap writer for tshark checks: our message bytes inside a synthetic
/// Ethernet / IP / UDP-or-TCP frame (checksums zero; tshark does not verify them by default).
enum PcapFrames {
    enum L4 { case udp(src: UInt16, dst: UInt16), tcp(src: UInt16, dst: UInt16) }

    static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func be32(_ v: Int) -> [UInt8] { be16(v >> 16) + be16(v & 0xFFFF) }

    static func frame(ipv6: Bool, _ l4: L4, payload: [UInt8]) -> [UInt8] {
        let l4hdr: [UInt8]
        let proto: UInt8
        switch l4 {
        case .udp(let s, let d):
            proto = 17
            l4hdr = be16(Int(s)) + be16(Int(d)) + be16(8 + payload.count) + [0, 0]
        case .tcp(let s, let d):
            proto = 6
            l4hdr = be16(Int(s)) + be16(Int(d)) + be32(1) + be32(1) + [0x50, 0x18] + be16(65535) + [0, 0, 0, 0]
        }
        let l4len = l4hdr.count + payload.count
        let ip: [UInt8]
        if ipv6 {
            let src: [UInt8] = [UInt8](repeating: 0, count: 15) + [1], dst = src
            ip = [0x60, 0, 0, 0] + be16(l4len) + [proto, 64] + src + dst
        } else {
            ip = [0x45, 0] + be16(20 + l4len) + [0, 0, 0, 0, 64, proto, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
        }
        let eth: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] + (ipv6 ? [0x86, 0xDD] : [0x08, 0x00])
        return eth + ip + l4hdr + payload
    }

    /// Writes a pcap (LINKTYPE_ETHERNET) with one packet per frame.
    static func write(_ frames: [[UInt8]], to url: URL) throws {
        var d: [UInt8] = [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0] + [UInt8](repeating: 0, count: 8) + [0xFF, 0xFF, 0, 0, 1, 0, 0, 0]
        for f in frames {
            let le = { (v: Int) -> [UInt8] in [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
            d += le(1_700_000_000) + le(0) + le(f.count) + le(f.count) + f
        }
        try Data(d).write(to: url)
    }

    static let tsharkPath = "/usr/bin/tshark"
    static var tsharkAvailable: Bool { FileManager.default.isExecutableFile(atPath: tsharkPath) }

    /// Runs tshark over `frames`; returns one line per packet with the `fields` joined by `|`
    /// (several occurrences of a field joined by `,`).
    static func tshark(_ frames: [[UInt8]], fields: [String], decodeAs: [String] = []) throws -> [String] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dhcpwire-\(UUID().uuidString).pcap")
        defer { try? FileManager.default.removeItem(at: url) }
        try write(frames, to: url)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tsharkPath)
        var args = ["-r", url.path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
        for d in decodeAs { args += ["-d", d] }
        for f in fields { args += ["-e", f] }
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
