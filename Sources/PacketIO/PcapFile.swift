internal import CPcap
internal import LwAFTRCore

/// A pcap error naming the file.
public struct PcapError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// Reads Ethernet frames from a pcap file with libpcap.
public final class PcapReader {
    public let path: String
    let handle: OpaquePointer

    public init(path: String) throws(PcapError) {
        self.path = path
        var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_open_offline(path, &err) else {
            throw PcapError(path: path, message: String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                                                        as: UTF8.self))
        }
        let link = pcap_datalink(h)
        guard link == DLT_EN10MB else {
            pcap_close(h)
            throw PcapError(path: path, message: "link type \(link) is not Ethernet (1)")
        }
        handle = h
    }

    deinit { pcap_close(handle) }

    /// Calls `body` with each frame's bytes (valid only during the call). Returns the frame count.
    @discardableResult
    public func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        var n = 0
        var hdr: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while true {
            let rc = pcap_next_ex(handle, &hdr, &data)
            if rc == 1, let hdr, let data {
                try body(UnsafeRawBufferPointer(start: data, count: Int(hdr.pointee.caplen)))
                n += 1
            } else if rc == PCAP_ERROR_BREAK {
                return n
            } else if rc == PCAP_ERROR {
                throw PcapError(path: path, message: String(cString: pcap_geterr(handle)))
            }
        }
    }

    /// Every frame as a byte array.
    public static func readAll(path: String) throws -> [[UInt8]] {
        let r = try PcapReader(path: path)
        var out: [[UInt8]] = []
        try r.forEach { out.append(Array($0)) }
        return out
    }
}

/// Writes Ethernet frames to a pcap file (snaplen 65535, zero timestamps), byte-identical to the
/// files the Snabb conformance vectors expect.
public final class PcapWriter {
    public let path: String
    let dead: OpaquePointer
    let dumper: OpaquePointer

    public init(path: String) throws(PcapError) {
        self.path = path
        guard let d = pcap_open_dead(DLT_EN10MB, 65535) else {
            throw PcapError(path: path, message: "pcap_open_dead failed")
        }
        guard let dump = pcap_dump_open(d, path) else {
            let msg = String(cString: pcap_geterr(d))
            pcap_close(d)
            throw PcapError(path: path, message: msg)
        }
        dead = d
        dumper = dump
    }

    /// Appends one frame.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        var hdr = pcap_pkthdr()
        hdr.caplen = UInt32(bytes.count)
        hdr.len = UInt32(bytes.count)
        bytes.withMemoryRebound(to: UInt8.self) { b in
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &hdr, b.baseAddress)
        }
    }

    /// Flushes and closes the file.
    public func close() {
        pcap_dump_close(dumper)
        pcap_close(dead)
    }
}
