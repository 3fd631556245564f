internal import CShim
internal import Glibc
public import LwAFTRCore
public import PacketEngine

/// One queue of a TUN device (IFF_TUN | IFF_NO_PI, multi-queue by default): open one per worker
/// with the same name and the kernel spreads flows across them.
///
/// The engine works on Ethernet frames, a TUN device on bare IP packets. `receive` reads each packet
/// 14 bytes into a pool buffer and writes a synthetic Ethernet header in front (destination
/// `localMAC`, source `peerMAC`, EtherType from the IP version nibble). `send` skips the Ethernet
/// header (and an 802.1Q tag) and writes the IP packet; frames that are not IP (ARP) or are IPv6
/// neighbor discovery are dropped and counted: a TUN link has no neighbours.
///
/// Non-blocking; no allocation per packet. Owned by one thread at a time.
public final class TunDevice: PacketSource, PacketSink {
    public struct Options: Sendable {
        /// IFF_MULTI_QUEUE: several descriptors (queues) on one device.
        public var multiQueue: Bool = true
        /// Destination MAC of received frames: the engine's own MAC address.
        public var localMAC: MACAddress = MACAddress(0x02_00_00_00_00_01)
        /// Source MAC of received frames: stands for the next hop on the other end of the TUN link.
        public var peerMAC: MACAddress = MACAddress(0x02_00_00_00_00_02)
        /// Keep the device when the last queue closes (TUNSETPERSIST).
        public var persist: Bool = false

        public init(multiQueue: Bool = true, localMAC: MACAddress = MACAddress(0x02_00_00_00_00_01),
                    peerMAC: MACAddress = MACAddress(0x02_00_00_00_00_02), persist: Bool = false) {
            self.multiQueue = multiQueue
            self.localMAC = localMAC
            self.peerMAC = peerMAC
            self.persist = persist
        }
    }

    public static let ethernetHeaderLength = 14

    /// The device name (the kernel's choice when created with an empty or `%d` name).
    public let name: String
    public let options: Options
    public private(set) var fileDescriptor: Int32
    public private(set) var stats = IOStats()

    /// 14-byte Ethernet headers for IPv4 and IPv6, copied in front of every received packet.
    let header4: UnsafeMutableRawPointer
    let header6: UnsafeMutableRawPointer

    /// Opens a queue of TUN device `name`, creating the device if it does not exist (in the calling
    /// thread's network namespace). Bring it up and address it with `Netlink`.
    public init(name: String, options: Options = Options()) throws(PacketIOError) {
        var out = [CChar](repeating: 0, count: 16)
        let fd = cshim_tun_open(name, options.multiQueue ? 1 : 0, &out)
        guard fd >= 0 else { throw PacketIOError("open TUN \(name)", code: -fd) }
        if options.persist {
            let r = cshim_tun_set_persist(fd, 1)
            if r != 0 {
                _ = Glibc.close(fd)
                throw PacketIOError("TUNSETPERSIST \(name)", code: -r)
            }
        }
        fileDescriptor = fd
        self.name = String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.options = options
        header4 = .allocate(byteCount: 16, alignment: 8)
        header6 = .allocate(byteCount: 16, alignment: 8)
        for (h, type) in [(header4, UInt16(0x0800)), (header6, UInt16(0x86DD))] {
            let dst = options.localMAC.bytes, src = options.peerMAC.bytes
            for i in 0..<6 {
                h.storeBytes(of: dst[i], toByteOffset: i, as: UInt8.self)
                h.storeBytes(of: src[i], toByteOffset: 6 + i, as: UInt8.self)
            }
            h.storeBytes(of: UInt8(type >> 8), toByteOffset: 12, as: UInt8.self)
            h.storeBytes(of: UInt8(type & 0xFF), toByteOffset: 13, as: UInt8.self)
        }
    }

    deinit {
        close()
        header4.deallocate()
        header6.deallocate()
    }

    /// Closes the queue (the device goes away with its last queue unless persistent).
    public func close() {
        if fileDescriptor >= 0 {
            _ = Glibc.close(fileDescriptor)
            fileDescriptor = -1
        }
    }

    /// Opens one more queue of the same device (multi-queue devices only).
    public func openQueue() throws(PacketIOError) -> TunDevice {
        try TunDevice(name: name, options: Options(multiQueue: true, localMAC: options.localMAC,
                                                   peerMAC: options.peerMAC, persist: false))
    }

    /// Enables or disables this queue (TUNSETQUEUE); a disabled queue gets no packets.
    public func setQueueEnabled(_ enabled: Bool) throws(PacketIOError) {
        let r = cshim_tun_set_queue(fileDescriptor, enabled ? 1 : 0)
        guard r == 0 else { throw PacketIOError("TUNSETQUEUE \(name)", code: -r) }
    }

    /// Makes the device persistent (it outlives its queues) or not; a persistent device is removed
    /// by clearing this on a queue and closing every queue.
    public func setPersistent(_ persistent: Bool) throws(PacketIOError) {
        let r = cshim_tun_set_persist(fileDescriptor, persistent ? 1 : 0)
        guard r == 0 else { throw PacketIOError("TUNSETPERSIST \(name)", code: -r) }
    }

    public func waitReadable(timeoutMs: Int32) -> Bool {
        PacketIO.waitReadable(fileDescriptor: fileDescriptor, timeoutMs: timeoutMs)
    }

    public func receive(into batch: inout PacketBatch, pool: PacketPool, max: Int) -> Int {
        let eth = Self.ethernetHeaderLength
        let limit = Swift.min(max, batch.capacity - batch.count)
        var n = 0, bytes = 0, dropped = 0, poolEmpty = 0
        while n < limit {
            guard var p = pool.allocate() else {
                poolEmpty = 1
                break
            }
            let room = pool.tailroom(p) - eth
            let r = read(fileDescriptor, p.data + eth, room)
            if r <= 0 {
                pool.free(p)
                break  // EAGAIN (nothing queued) or an error: try again after the next wait
            }
            let version = p.data.load(fromByteOffset: eth, as: UInt8.self) >> 4
            if r >= room || (version != 4 && version != 6) {
                pool.free(p)  // truncated, or not IP
                dropped &+= 1
                continue
            }
            p.data.copyMemory(from: version == 4 ? header4 : header6, byteCount: eth)
            p.length = r + eth
            bytes &+= p.length
            batch.append(p)
            n &+= 1
        }
        stats.rxPackets &+= UInt64(n)
        stats.rxBytes &+= UInt64(bytes)
        stats.rxDropped &+= UInt64(dropped)
        stats.rxPoolEmpty &+= UInt64(poolEmpty)
        return n
    }

    @discardableResult
    public func send(_ batch: inout PacketBatch, pool: PacketPool) -> Int {
        var sent = 0, bytes = 0, dropped = 0, notIP = 0, nd = 0
        for i in 0..<batch.count {
            let p = batch[i]
            var off = Self.ethernetHeaderLength
            guard p.length >= off else {
                notIP &+= 1
                continue
            }
            var type = be16(p.data, 12)
            if type == 0x8100 || type == 0x88A8 {  // 802.1Q / 802.1ad tag: a TUN link has no VLANs
                off += 4
                guard p.length >= off else {
                    notIP &+= 1
                    continue
                }
                type = be16(p.data, off - 2)
            }
            let ipLength = p.length - off
            if type == 0x86DD {
                guard ipLength >= 40 else {
                    notIP &+= 1
                    continue
                }
                if isNeighborDiscovery(p.data + off, ipLength) {
                    nd &+= 1
                    continue
                }
            } else if type != 0x0800 || ipLength < 20 {
                notIP &+= 1
                continue
            }
            let w = write(fileDescriptor, p.data + off, ipLength)
            if w == ipLength {
                sent &+= 1
                bytes &+= ipLength
            } else {
                dropped &+= 1
            }
        }
        batch.freeAll(to: pool)
        stats.txPackets &+= UInt64(sent)
        stats.txBytes &+= UInt64(bytes)
        stats.txDropped &+= UInt64(dropped)
        stats.txNotIP &+= UInt64(notIP)
        stats.txNeighborDiscovery &+= UInt64(nd)
        return sent
    }
}

@inline(__always)
func be16(_ p: UnsafeMutableRawPointer, _ offset: Int) -> UInt16 {
    UInt16(p.load(fromByteOffset: offset, as: UInt8.self)) << 8 | UInt16(p.load(fromByteOffset: offset + 1, as: UInt8.self))
}

/// ICMPv6 router/neighbor solicitation/advertisement or redirect (types 133–137) directly after
/// the IPv6 header, as NDP always is.
@inline(__always)
func isNeighborDiscovery(_ ip6: UnsafeMutableRawPointer, _ length: Int) -> Bool {
    guard length > 40, ip6.load(fromByteOffset: 6, as: UInt8.self) == 58 else { return false }
    let type = ip6.load(fromByteOffset: 40, as: UInt8.self)
    return type >= 133 && type <= 137
}
