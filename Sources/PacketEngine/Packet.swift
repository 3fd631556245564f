/// A packet: a view of `length` bytes at `data`, inside buffer `index` of a `PacketPool`.
/// A plain value (no reference counting); its owner frees it back to the pool.
@frozen
public struct Packet {
    public var data: UnsafeMutableRawPointer
    public var length: Int
    public var index: Int32
    /// Free for the stage that holds the packet (e.g. which side it came from).
    public var tag: Int32

    @inlinable public init(data: UnsafeMutableRawPointer, length: Int, index: Int32, tag: Int32 = 0) {
        self.data = data
        self.length = length
        self.index = index
        self.tag = tag
    }

    @inlinable public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: data, count: length) }
}

/// Fixed-size packet buffers carved out of one allocation, with headroom in front of each so that
/// encapsulation prepends in place. Owned by one worker; not thread-safe.
public final class PacketPool {
    public let bufferSize: Int
    public let headroom: Int
    public let capacity: Int
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let freeList: UnsafeMutablePointer<Int32>
    @usableFromInline var freeCount: Int

    /// - Parameters:
    ///   - capacity: number of buffers.
    ///   - bufferSize: bytes per buffer including headroom.
    ///   - headroom: bytes kept free in front of a fresh packet.
    public init(capacity: Int = 2048, bufferSize: Int = 10_240 + 128, headroom: Int = 128) {
        precondition(capacity > 0 && bufferSize > headroom)
        self.capacity = capacity
        self.bufferSize = bufferSize
        self.headroom = headroom
        base = .allocate(byteCount: capacity * bufferSize, alignment: 64)
        freeList = .allocate(capacity: capacity)
        for i in 0..<capacity { freeList[i] = Int32(capacity - 1 - i) }
        freeCount = capacity
    }

    deinit {
        base.deallocate()
        freeList.deallocate()
    }

    /// Buffers currently free.
    @inlinable public var available: Int { freeCount }

    /// The largest packet a fresh buffer holds.
    @inlinable public var maxPacketLength: Int { bufferSize - headroom }

    /// Takes a buffer; nil when the pool is exhausted.
    @inlinable @inline(__always)
    public func allocate() -> Packet? {
        guard freeCount > 0 else { return nil }
        freeCount &-= 1
        let idx = freeList[freeCount]
        return Packet(data: base + (Int(idx) &* bufferSize &+ headroom), length: 0, index: idx)
    }

    /// Returns a packet's buffer to the pool.
    @inlinable @inline(__always)
    public func free(_ p: Packet) {
        freeList[freeCount] = p.index
        freeCount &+= 1
    }

    /// First byte of the packet's buffer (for headroom checks).
    @inlinable public func bufferStart(_ p: Packet) -> UnsafeMutableRawPointer { base + Int(p.index) * bufferSize }

    /// Bytes between the packet's data and the end of its buffer.
    @inlinable public func tailroom(_ p: Packet) -> Int { p.data.distance(to: bufferStart(p) + bufferSize) }

    /// Bytes free in front of the packet's data.
    @inlinable public func frontroom(_ p: Packet) -> Int { bufferStart(p).distance(to: p.data) }

    /// Copies `bytes` into a fresh packet.
    public func make(_ bytes: UnsafeRawBufferPointer) -> Packet? {
        guard bytes.count <= maxPacketLength, var p = allocate() else { return nil }
        if let src = bytes.baseAddress { p.data.copyMemory(from: src, byteCount: bytes.count) }
        p.length = bytes.count
        return p
    }
}

/// A fixed-capacity list of packets. Noncopyable so that two owners never share its storage.
public struct PacketBatch: ~Copyable {
    public let capacity: Int
    @usableFromInline let storage: UnsafeMutablePointer<Packet>
    public var count: Int = 0

    public init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    @inlinable public var isFull: Bool { count == capacity }
    @inlinable public var isEmpty: Bool { count == 0 }

    /// Appends; returns false (and leaves the batch unchanged) when full.
    @inlinable @inline(__always) @discardableResult
    public mutating func append(_ p: Packet) -> Bool {
        guard count < capacity else { return false }
        (storage + count).initialize(to: p)
        count &+= 1
        return true
    }

    @inlinable public subscript(i: Int) -> Packet {
        get { storage[i] }
        nonmutating set { storage[i] = newValue }
    }

    @inlinable public mutating func removeAll() { count = 0 }

    /// Frees every packet back to `pool` and empties the batch.
    @inlinable public mutating func freeAll(to pool: PacketPool) {
        for i in 0..<count { pool.free(storage[i]) }
        count = 0
    }
}
