/// Why a server's byte stream cannot be split into messages.
public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A length prefix announces more than the configured maximum.
    case oversized(length: Int, limit: Int)

    public var description: String {
        switch self {
        case let .oversized(length, limit): "frame of \(length) bytes exceeds the \(limit)-byte limit"
        }
    }
}

/// Splits a TCP byte stream into RFC 5460 §5.2 frames (2-byte big-endian length + message) without
/// copying each frame: `next` hands out the message bytes in place. A length prefix above
/// `maxMessageBytes` is refused as soon as its two bytes arrive, before any body is buffered.
public struct FrameReader: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    /// Largest message accepted (the prefix excluded).
    public let maxMessageBytes: Int

    public init(maxMessageBytes: Int = 65535) { self.maxMessageBytes = min(max(maxMessageBytes, 4), 65535) }

    /// Bytes received and not yet returned (a partial frame at the end of a stream).
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compactIfWorthIt() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }

    /// Calls `body` with the next complete message (valid only during the call) and returns its
    /// result; nil when no whole message is buffered yet. Throws on an oversized prefix.
    public mutating func next<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        let avail = buffer.count - start
        guard avail >= 2 else { return nil }
        let len = Int(buffer[start]) << 8 | Int(buffer[start + 1])
        guard len <= maxMessageBytes else { throw FrameError.oversized(length: len, limit: maxMessageBytes) }
        guard avail - 2 >= len else { return nil }
        let from = start + 2
        start = from + len
        return try buffer.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[from..<(from + len)])) }
    }

    /// The next whole message, copied out; nil until one is buffered. Only for a reader without a
    /// limit below the prefix's own range (the default), which never meets an oversized prefix;
    /// a limited reader reports those through `next(_:)`.
    public mutating func nextMessage() -> [UInt8]? {
        precondition(maxMessageBytes == 65535, "a limited FrameReader reports oversized prefixes through next(_:)")
        return try! next { Array($0) }
    }

    /// Hands whole buffered messages to `body` while it accepts them (returns true); a message it
    /// declines stays buffered for `next`, as does an oversized prefix (which `next` then reports).
    /// Returns how many messages were accepted. The bulk stream's fast path.
    public mutating func consume(while body: (UnsafeRawBufferPointer) -> Bool) -> Int {
        var n = 0
        buffer.withUnsafeBytes { raw in
            while true {
                let avail = raw.count - start
                guard avail >= 2 else { return }
                let len = Int(raw[start]) << 8 | Int(raw[start + 1])
                guard len <= maxMessageBytes, avail - 2 >= len else { return }
                let from = start + 2
                guard body(UnsafeRawBufferPointer(rebasing: raw[from..<(from + len)])) else { return }
                start = from + len
                n += 1
            }
        }
        return n
    }

    /// Forgets everything buffered (a new connection starts a new stream).
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: false)
        start = 0
    }
}
