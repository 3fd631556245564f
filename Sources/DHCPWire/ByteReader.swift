import LwAFTRCore

/// Bounds-checked big-endian reader over a byte array range; every read throws instead of trapping.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var index: Int
    let end: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        index = 0
        end = bytes.count
    }

    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        index = range.lowerBound
        end = range.upperBound
    }

    var remaining: Int { end - index }
    var isAtEnd: Bool { index >= end }

    mutating func u8(_ field: @autoclosure () -> String) throws(DHCPWireError) -> UInt8 {
        guard index < end else { throw .truncated(field()) }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func u16(_ field: @autoclosure () -> String) throws(DHCPWireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated(field()) }
        defer { index += 2 }
        return UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
    }

    mutating func u24(_ field: @autoclosure () -> String) throws(DHCPWireError) -> UInt32 {
        guard remaining >= 3 else { throw .truncated(field()) }
        defer { index += 3 }
        return UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
    }

    mutating func u32(_ field: @autoclosure () -> String) throws(DHCPWireError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(field()) }
        defer { index += 4 }
        return UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16
            | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
    }

    /// The next `count` bytes as their index range (no copy).
    mutating func range(_ count: Int, _ field: @autoclosure () -> String) throws(DHCPWireError) -> Range<Int> {
        guard count >= 0, remaining >= count else { throw .truncated(field()) }
        defer { index += count }
        return index..<(index + count)
    }

    mutating func read(_ count: Int, _ field: @autoclosure () -> String) throws(DHCPWireError) -> [UInt8] {
        Array(bytes[try range(count, field())])
    }

    mutating func rest() -> [UInt8] {
        defer { index = end }
        return Array(bytes[index..<end])
    }

    mutating func ipv4(_ field: @autoclosure () -> String) throws(DHCPWireError) -> IPv4Address {
        IPv4Address(try u32(field()))
    }

    mutating func ipv6(_ field: @autoclosure () -> String) throws(DHCPWireError) -> IPv6Address {
        let hi = UInt64(try u32(field())) << 32 | UInt64(try u32(field()))
        let lo = UInt64(try u32(field())) << 32 | UInt64(try u32(field()))
        return IPv6Address(hi: hi, lo: lo)
    }

    /// Fails unless every byte was consumed.
    func expectEnd(_ field: @autoclosure () -> String) throws(DHCPWireError) {
        guard index == end else { throw .invalid("\(field()): \(end - index) trailing bytes") }
    }
}

/// Big-endian byte appender with length-prefixed sections.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u24(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }
    mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }
    mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func append(_ b: ArraySlice<UInt8>) { bytes.append(contentsOf: b) }
    mutating func ipv4(_ a: IPv4Address) { u32(a.value) }
    mutating func ipv6(_ a: IPv6Address) {
        u32(UInt32(truncatingIfNeeded: a.hi >> 32)); u32(UInt32(truncatingIfNeeded: a.hi))
        u32(UInt32(truncatingIfNeeded: a.lo >> 32)); u32(UInt32(truncatingIfNeeded: a.lo))
    }
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }

    /// A DHCPv6 option: code, 16-bit length, data.
    mutating func option6(_ code: UInt16, _ data: [UInt8]) throws(DHCPWireError) {
        guard data.count <= 0xFFFF else { throw .tooLong("DHCPv6 option \(code): \(data.count) bytes") }
        u16(code); u16(UInt16(data.count)); append(data)
    }
}
