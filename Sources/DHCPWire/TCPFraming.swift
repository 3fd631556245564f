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
