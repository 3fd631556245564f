internal import CShim
internal import Glibc
public import PacketEngine

/// An AF_PACKET socket bound to one interface: a TPACKET_V3 receive ring (mmap, frames copied into
/// pool buffers) and batched transmit with sendmmsg. With `fanout`, N workers each open their own
/// ring on the same interface and the kernel spreads flows across them (hash of the flow by default).
///
/// VLAN: the kernel strips an 802.1Q/802.1ad tag into the ring's metadata (tp_vlan_tci) on receive;
/// with `.reinsert` (default) the tag is put back into the frame so the engine sees it as sent.
/// Transmitted frames go out exactly as given (tagged or not).
///
/// Turn GRO/LRO off on the interface (`ethtool -K IF gro off lro off`): coalesced super-frames are
/// larger than a pool buffer and are dropped. Frames whose L4 checksum a local sender left to
/// offload are passed on as they are and counted in `stats.rxChecksumPartial`.
///
/// Non-blocking; no allocation per packet. Owned by one thread at a time.
public final class PacketRing: PacketSource, PacketSink {
    public enum VLANHandling: Sendable {
        /// Put the kernel-stripped tag back into the frame (the engine handles tags itself).
        case reinsert
        /// Deliver frames without their tag (the tag's value is lost).
        case strip
    }

    public struct Fanout: Sendable {
        public enum Mode: UInt16, Sendable {
            case hash = 0  // PACKET_FANOUT_HASH: a flow always reaches the same member
            case loadBalance = 1  // PACKET_FANOUT_LB: round robin
            case cpu = 2  // PACKET_FANOUT_CPU: by the CPU that received it
            case queueMapping = 5  // PACKET_FANOUT_QM: by the NIC's receive queue
        }

        /// Group id, shared by the members on one interface; unique per interface in a namespace.
        public var group: UInt16
        public var mode: Mode
        /// PACKET_FANOUT_FLAG_DEFRAG: reassemble IP fragments before hashing (keeps a fragmented
        /// packet on one member).
        public var defragment: Bool
        /// PACKET_FANOUT_FLAG_ROLLOVER: spill to another member when this one's ring is full.
        public var rollover: Bool

        public init(group: UInt16, mode: Mode = .hash, defragment: Bool = false, rollover: Bool = false) {
            self.group = group
            self.mode = mode
            self.defragment = defragment
            self.rollover = rollover
        }

        /// A group id for `interfaceIndex` that is the same for every worker of this process.
        public static func defaultGroup(interfaceIndex: Int32) -> UInt16 {
            UInt16(truncatingIfNeeded: Int(getpid()) &* 131 &+ Int(interfaceIndex))
        }
    }

    public struct Options: Sendable {
        /// Ring block size (a power-of-two multiple of the page size) and count.
        public var blockSize: Int = 1 << 18
        public var blockCount: Int = 32
        /// tp_frame_size. TPACKET_V3 packs frames of any length into a block, so this only sets the
        /// nominal frame count; a frame longer than a block (or than a pool buffer) is dropped.
        public var frameSize: Int = 1 << 11
        /// A block that is not full is handed to user space after this many milliseconds.
        public var blockTimeoutMs: Int = 1
        public var fanout: Fanout? = nil
        public var promiscuous: Bool = false
        public var vlan: VLANHandling = .reinsert
        /// PACKET_QDISC_BYPASS: transmit straight to the driver (no qdisc).
        public var qdiscBypass: Bool = true
        /// PACKET_IGNORE_OUTGOING: do not receive frames the host itself transmits on the interface.
        public var ignoreOutgoing: Bool = true
        /// Most frames one sendmmsg call carries.
        public var sendBatch: Int = 256

        public init() {}
    }

    public let interface: String
    public let interfaceIndex: Int32
    public let options: Options
    public private(set) var fileDescriptor: Int32
    public private(set) var stats = IOStats()

    let ring: UnsafeMutableRawPointer
    let ringLength: Int
    let blockSize: Int
    let blockCount: Int
    /// Receive position: the block being read, the next frame in it and how many remain.
    var blockIndex = 0
    var nextFrame: UnsafeMutablePointer<UInt8>? = nil
    var remaining = 0
    // sendmmsg arrays, allocated once.
    let txBuffers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let txLengths: UnsafeMutablePointer<UInt32>
    let txScratch: UnsafeMutableRawPointer

    /// Opens a ring on interface `interface` (in the calling thread's network namespace).
    public init(interface: String, options: Options = Options()) throws(PacketIOError) {
        let index = Int32(bitPattern: if_nametoindex(interface))
        guard index > 0 else { throw PacketIOError("interface \(interface)", code: errno == 0 ? ENODEV : errno) }
        let fd = cshim_packet_socket()
        guard fd >= 0 else { throw PacketIOError("socket(AF_PACKET)", code: -fd) }
        func fail(_ what: String, _ r: Int32) -> PacketIOError {
            _ = Glibc.close(fd)
            return PacketIOError("\(what) on \(interface)", code: -r)
        }
        var ringPtr: UnsafeMutableRawPointer? = nil
        var length = 0
        var r = cshim_packet_rx_ring(fd, UInt32(options.blockSize), UInt32(options.blockCount),
                                     UInt32(options.frameSize), UInt32(options.blockTimeoutMs), &ringPtr, &length)
        guard r == 0, let ringPtr else { throw fail("TPACKET_V3 receive ring", r) }
        func failMapped(_ what: String, _ r: Int32) -> PacketIOError {
            munmap(ringPtr, length)
            return fail(what, r)
        }
        if options.qdiscBypass {
            r = cshim_packet_set_int(fd, PACKET_QDISC_BYPASS, 1)
            guard r == 0 else { throw failMapped("PACKET_QDISC_BYPASS", r) }
        }
        if options.ignoreOutgoing {
            r = cshim_packet_set_int(fd, PACKET_IGNORE_OUTGOING, 1)
            guard r == 0 else { throw failMapped("PACKET_IGNORE_OUTGOING", r) }
        }
        r = cshim_packet_bind(fd, index)
        guard r == 0 else { throw failMapped("bind", r) }
        if let f = options.fanout {
            let flags = UInt16(f.defragment ? PACKET_FANOUT_FLAG_DEFRAG : 0) | UInt16(f.rollover ? PACKET_FANOUT_FLAG_ROLLOVER : 0)
            r = cshim_packet_fanout(fd, f.group, f.mode.rawValue, flags)
            guard r == 0 else { throw failMapped("PACKET_FANOUT group \(f.group)", r) }
        }
        if options.promiscuous {
            r = cshim_packet_promiscuous(fd, index, 1)
            guard r == 0 else { throw failMapped("promiscuous mode", r) }
        }
        self.interface = interface
        interfaceIndex = index
        self.options = options
        fileDescriptor = fd
        ring = ringPtr
        ringLength = length
        blockSize = options.blockSize
        blockCount = options.blockCount
        let sb = Swift.max(1, options.sendBatch)
        txBuffers = .allocate(capacity: sb)
        txLengths = .allocate(capacity: sb)
        txScratch = .allocate(byteCount: cshim_mmsg_scratch_size(UInt32(sb)), alignment: 16)
    }

    deinit {
        close()
        txBuffers.deallocate()
        txLengths.deallocate()
        txScratch.deallocate()
    }

    /// Unmaps the ring and closes the socket (promiscuous mode and fanout membership end with it).
    public func close() {
        guard fileDescriptor >= 0 else { return }
        munmap(ring, ringLength)
        _ = Glibc.close(fileDescriptor)
        fileDescriptor = -1
        remaining = 0
        nextFrame = nil
    }

    /// Adds the ring-full drops the kernel counted since the last call to `stats.rxRingFull`.
    public func collectKernelStatistics() {
        guard fileDescriptor >= 0 else { return }
        stats.rxRingFull &+= UInt64(kernelStatistics().drops)
    }

    /// The kernel's counters since the previous call: frames it queued to the ring, frames it
    /// dropped because the ring was full, and times the ring was frozen.
    public func kernelStatistics() -> (packets: UInt32, drops: UInt32, freezes: UInt32) {
        var p: UInt32 = 0, d: UInt32 = 0, f: UInt32 = 0
        _ = cshim_packet_statistics(fileDescriptor, &p, &d, &f)
        return (p, d, f)
    }

    @inline(__always)
    func block(_ i: Int) -> UnsafeMutableRawPointer { ring + i &* blockSize }

    /// Whether a received frame is waiting (a block handed over by the kernel, or one being read).
    public var hasPending: Bool {
        remaining > 0 || (fileDescriptor >= 0 && cshim_v3_block_status(block(blockIndex)) & UInt32(TP_STATUS_USER) != 0)
    }

    public func waitReadable(timeoutMs: Int32) -> Bool {
        if hasPending { return true }
        return PacketIO.waitReadable(fileDescriptor: fileDescriptor, timeoutMs: timeoutMs)
    }

    public func receive(into batch: inout PacketBatch, pool: PacketPool, max: Int) -> Int {
        guard fileDescriptor >= 0 else { return 0 }
        let limit = Swift.min(max, batch.capacity - batch.count)
        let reinsert = options.vlan == .reinsert
        var n = 0, bytes = 0, dropped = 0, poolEmpty = 0, partial = 0
        while n < limit {
            if remaining == 0 {
                let blk = block(blockIndex)
                if nextFrame != nil {  // finished this block: hand it back, move on
                    cshim_v3_block_release(blk)
                    nextFrame = nil
                    blockIndex = blockIndex &+ 1 == blockCount ? 0 : blockIndex &+ 1
                    continue
                }
                guard cshim_v3_block_status(blk) & UInt32(TP_STATUS_USER) != 0 else { break }
                remaining = Int(cshim_v3_block_packets(blk))
                nextFrame = cshim_v3_block_first(blk)
                continue
            }
            let hdr = nextFrame!
            let snap = Int(cshim_v3_snaplen(hdr))
            let status = cshim_v3_status(hdr)
            let tagged = reinsert && status & UInt32(TP_STATUS_VLAN_VALID) != 0
            let need = snap + (tagged ? 4 : 0)
            guard var p = pool.allocate() else {
                poolEmpty = 1
                break  // the frame stays in the ring for the next call
            }
            if snap != Int(cshim_v3_len(hdr)) || snap < 14 || need > pool.tailroom(p) {
                pool.free(p)
                dropped &+= 1
            } else {
                let frame = UnsafeRawPointer(cshim_v3_frame(hdr)!)
                if tagged {
                    let tpid = status & UInt32(TP_STATUS_VLAN_TPID_VALID) != 0 ? cshim_v3_vlan_tpid(hdr) : 0x8100
                    let tci = cshim_v3_vlan_tci(hdr)
                    p.data.copyMemory(from: frame, byteCount: 12)
                    p.data.storeBytes(of: tpid.bigEndian, toByteOffset: 12, as: UInt16.self)
                    p.data.storeBytes(of: tci.bigEndian, toByteOffset: 14, as: UInt16.self)
                    (p.data + 16).copyMemory(from: frame + 12, byteCount: snap - 12)
                } else {
                    p.data.copyMemory(from: frame, byteCount: snap)
                }
                if status & UInt32(TP_STATUS_CSUMNOTREADY) != 0 { partial &+= 1 }
                p.length = need
                bytes &+= need
                batch.append(p)
                n &+= 1
            }
            remaining &-= 1
            nextFrame = remaining > 0 ? cshim_v3_next(hdr) : hdr
        }
        // A block read to its end goes back to the kernel now rather than on the next call.
        if remaining == 0, nextFrame != nil {
            cshim_v3_block_release(block(blockIndex))
            nextFrame = nil
            blockIndex = blockIndex &+ 1 == blockCount ? 0 : blockIndex &+ 1
        }
        stats.rxPackets &+= UInt64(n)
        stats.rxBytes &+= UInt64(bytes)
        stats.rxDropped &+= UInt64(dropped)
        stats.rxPoolEmpty &+= UInt64(poolEmpty)
        stats.rxChecksumPartial &+= UInt64(partial)
        return n
    }

    @discardableResult
    public func send(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
        let total = batch.count
        var sent = 0, bytes = 0, dropped = 0
        var start = 0
        let chunk = Swift.max(1, options.sendBatch)
        while start < total {
            let n = Swift.min(chunk, total - start)
            for i in 0..<n {
                let p = batch[start + i]
                txBuffers[i] = p.data
                txLengths[i] = UInt32(truncatingIfNeeded: p.length)
            }
            var done = 0
            while done < n {
                let r = cshim_sendmmsg(fileDescriptor, txBuffers + done, txLengths + done, UInt32(n - done), txScratch)
                if r > 0 {
                    for i in done..<(done + Int(r)) { bytes &+= Int(txLengths[i]) }
                    sent &+= Int(r)
                    done &+= Int(r)
                } else if r == -EINTR {
                    continue
                } else if r == -EAGAIN || r == -ENOBUFS || fileDescriptor < 0 {
                    dropped &+= n - done  // queue full: drop the rest of this chunk
                    done = n
                } else {
                    dropped &+= 1  // this frame was refused (too big, ...): skip it
                    done &+= 1
                }
            }
            start &+= n
        }
        batch.freeAll(to: pool)
        stats.txPackets &+= UInt64(sent)
        stats.txBytes &+= UInt64(bytes)
        stats.txDropped &+= UInt64(dropped)
        return sent
    }
}
