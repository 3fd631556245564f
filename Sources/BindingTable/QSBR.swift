public import LwAFTRCore
public import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Quiescent-state-based reclamation (QSBR).
//
// The writer publishes a new root with a release store, then bumps the global epoch to e and
// retires the old memory tagged e. Each registered reader owns one epoch word on its own cache
// line and, between batches (holding no table pointer), stores the global epoch into it: a plain
// release store, no read-modify-write. Memory tagged e is freed once every online reader's word
// is ≥ e: such a reader loaded the epoch after the bump, so every later lookup loads the new
// root, and every earlier one happened before its store. Offline readers (word 1) are skipped;
// `online()` announces itself with a sequentially consistent store + fence that pairs with the
// writer's fence before it scans the words, so a reader coming online either is seen by the
// writer or sees the new root.

func yieldThread() { sched_yield() }

extension BindingTable {
    /// Registers a reader for one worker thread. It starts online; call `quiescent()` once per
    /// batch and `offline()` before idling.
    public func makeReader() throws(BindingTableError) -> Reader {
        for i in 0..<maxReaders {
            let slot = readerEpochs + i * ReaderSlots.stride
            if slot.pointee.compareExchange(expected: ReaderSlots.free, desired: ReaderSlots.offline,
                                            ordering: .acquiringAndReleasing).exchanged {
                let r = Reader(table: self, slot: slot, index: i)
                r.online()
                return r
            }
        }
        throw .tooManyReaders(limit: maxReaders)
    }

    /// A registered lock-free reader of a `BindingTable` (one per worker thread; use it from one
    /// thread at a time). Between two `quiescent()` calls the reader may hold values the table
    /// returned; it must not keep pointers into the table past a quiescent point (it cannot get
    /// any). Deinitialising it unregisters it.
    public final class Reader: @unchecked Sendable {
        /// The table this reader reads.
        public let table: BindingTable
        @usableFromInline let control: UnsafeMutablePointer<Control>
        @usableFromInline let brs: UnsafeMutablePointer<Atomic<UInt64>>
        @usableFromInline let slot: UnsafeMutablePointer<Atomic<UInt64>>
        /// This reader's slot number (0..<maxReaders).
        public let index: Int

        init(table: BindingTable, slot: UnsafeMutablePointer<Atomic<UInt64>>, index: Int) {
            self.table = table
            control = table.control
            brs = table.brs
            self.slot = slot
            self.index = index
        }

        deinit { slot.pointee.store(ReaderSlots.free, ordering: .releasing) }

        /// Announces a quiescent point: this thread holds nothing from the table. Call once per
        /// batch. A load and a plain store; no read-modify-write.
        @inlinable public func quiescent() {
            slot.pointee.store(control.pointee.epoch.load(ordering: .acquiring), ordering: .releasing)
        }

        /// Stops holding back reclamation (an idle worker). Do not read until `online()`.
        public func offline() { slot.pointee.store(ReaderSlots.offline, ordering: .releasing) }

        /// Resumes reading after `offline()`.
        public func online() {
            slot.pointee.store(control.pointee.epoch.load(ordering: .acquiring), ordering: .sequentiallyConsistent)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        }

        /// Whether the reader is online (holding back reclamation until its next quiescent point).
        public var isOnline: Bool { slot.pointee.load(ordering: .relaxed) >= ReaderSlots.firstEpoch }

        /// See `BindingTable.lookup(ipv4:port:)`.
        @inlinable public func lookup(ipv4: UInt32, port: UInt16) -> SoftwireValue? {
            Probe.lookup(Probe.root(control), ipv4: ipv4, port: port)
        }

        /// See `BindingTable.lookupBatch(ipv4:ports:results:count:)`.
        public func lookupBatch(ipv4: UnsafePointer<UInt32>, ports: UnsafePointer<UInt16>,
                                results: UnsafeMutablePointer<SoftwireValue>, count: Int) -> Int {
            Probe.lookupBatch(Probe.root(control), ipv4: ipv4, ports: ports, results: results, count: count)
        }

        /// Whether any softwire uses this IPv4 address.
        @inlinable public func isManaged(ipv4: UInt32) -> Bool {
            Probe.isManaged(Probe.root(control), ipv4: ipv4)
        }

        /// The br-address with this index (an index a lookup returned).
        @inlinable public func brAddress(_ index: UInt32) -> IPv6Address {
            IPv6Address(hi: brs[2 &* Int(index)].load(ordering: .relaxed),
                        lo: brs[2 &* Int(index) &+ 1].load(ordering: .relaxed))
        }
    }
}
