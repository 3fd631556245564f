/// RFC 5460 §5.2 TCP framing: every DHCPv6 (or RFC 6926 DHCPv4) message is preceded by its
/// length as a 2-byte big-endian `message-size`.
public enum TCPFraming {
    /// Largest message that fits the length field.
    public static let maxMessageSize = 65535

    /// `message` with its length prefix; throws when it is longer than 65535 bytes.
    public static func frame(_ message: [UInt8]) throws(DHCPWireError) -> [UInt8] {
        guard message.count <= maxMessageSize else { throw .tooLong("TCP frame of \(message.count) bytes") }
        return [UInt8(message.count >> 8), UInt8(truncatingIfNeeded: message.count)] + message
    }
}

/// Incremental TCP de-framer: feed arbitrary chunks, take whole messages out in order.
public struct TCPFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message (without its prefix), or nil until more bytes arrive.
    public mutating func next() -> [UInt8]? {
        guard buffer.count - start >= 2 else { return nil }
        let len = Int(buffer[start]) << 8 | Int(buffer[start + 1])
        guard buffer.count - start - 2 >= len else { return nil }
        let frame = Array(buffer[(start + 2)..<(start + 2 + len)])
        start += 2 + len
        if start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        return frame
    }
}
