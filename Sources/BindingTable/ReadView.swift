public import LwAFTRCore
public import Synchronization

extension BindingTable {
    /// A reader's view of the table for one batch, for callers that interleave the lookup stages
    /// with their own per-packet work: compute every key and prefetch its slot, then probe.
    /// Taken from `Reader.view`; valid until that reader's next `quiescent()` (it holds the
    /// published root, which QSBR keeps alive until then). Lock-free, allocation-free, inlined.
    @frozen public struct View {
        @usableFromInline let root: UnsafePointer<Root>
        @usableFromInline let brs: UnsafeMutablePointer<Atomic<UInt64>>
        // Copies of the root words a key-and-prefetch loop needs, so they stay in registers
        // across the loop's stores instead of being re-read through `root`.
        @usableFromInline let slots: UnsafeMutablePointer<Slot>
        @usableFromInline let hash: SlotHash
        @usableFromInline let params: UnsafeMutablePointer<Atomic<UInt64>>
        @usableFromInline let paramsMask: Int
        @usableFromInline let paramsHash: SlotHash
        /// The root's uniform port-set template, or 0.
        public let uniform: UInt64
        @usableFromInline let low: UInt32
        @usableFromInline let span: UInt32

        @inlinable init(root: UnsafePointer<Root>, brs: UnsafeMutablePointer<Atomic<UInt64>>) {
            self.root = root
            self.brs = brs
            slots = root.pointee.slots
            hash = root.pointee.hash
            params = root.pointee.params
            paramsMask = root.pointee.paramsMask
            paramsHash = root.pointee.paramsHash
            uniform = root.pointee.uniform
            low = root.pointee.low
            span = root.pointee.span
        }

        /// Home slot of `ipv4`'s port-set entry.
        @inlinable @inline(__always)
        public func paramsSlot(ipv4: UInt32) -> Int { Probe.paramsHome(root, ipv4) }

        /// The stored key of the softwire owning (ipv4, port), probing `ipv4`'s port-set entry from
        /// `paramsSlot`; 0 when no softwire can own it (address unknown, or port reserved).
        @inlinable @inline(__always)
        public func key(ipv4: UInt32, port: UInt16, paramsSlot: Int) -> UInt64 {
            ParamsWord.key(Probe.params(root, ipv4, from: paramsSlot), port: port)
        }

        /// The stored key of the softwire owning (ipv4, port); 0 when no softwire can own it
        /// (a non-zero key may still be absent). Skips the port-set probe when every address
        /// shares one port set.
        @inlinable @inline(__always)
        public func key(ipv4: UInt32, port: UInt16) -> UInt64 { Probe.key(root, ipv4: ipv4, port: port) }

        /// `key(ipv4:port:)` when `uniform` is not 0 (no probe).
        @inlinable @inline(__always)
        public func uniformKey(ipv4: UInt32, port: UInt16) -> UInt64 {
            ParamsWord.key(present: UInt64(ipv4) << 32 | uniform, port: port)
        }

        /// `key(ipv4:port:)` through the port-set probe (always correct).
        @inlinable @inline(__always)
        public func probedKey(ipv4: UInt32, port: UInt16) -> UInt64 {
            let w = paramsWord(ipv4: ipv4)
            return w == 0 ? 0 : ParamsWord.key(present: w, port: port)
        }

        /// The port-set word of `ipv4`, or 0 when the address is unknown.
        @inlinable @inline(__always)
        func paramsWord(ipv4: UInt32) -> UInt64 {
            let want = UInt64(ipv4) << 32 | SlotMark.present
            var i = paramsHash(UInt64(ipv4))
            while true {
                let w = params[i].load(ordering: .relaxed)
                if w & 0xFFFF_FFFF_0001_0000 == want { return w }
                if w == SlotMark.empty { return 0 }
                i = (i &+ 1) & paramsMask
            }
        }

        /// Home slot of a (non-zero) key.
        @inlinable @inline(__always)
        public func slot(key: UInt64) -> Int { hash(key) }

        /// Address of a softwire slot (to prefetch).
        @inlinable @inline(__always)
        public func slotAddress(_ slot: Int) -> UnsafeRawPointer { UnsafeRawPointer(slots + slot) }

        /// The softwire stored under a (non-zero) key, probing from `slot`; read under the slot's
        /// seqlock, never torn.
        @inlinable @inline(__always)
        public func find(key: UInt64, slot: Int) -> SoftwireValue? { Probe.find(root, key, from: slot) }

        /// `find(key:slot:)` from a slot given by its address (`slotAddress`), so a pipelined
        /// caller keeps one word per packet: the table's base and mask are only read on a collision.
        @inlinable @inline(__always)
        public func find(key: UInt64, at address: UnsafeRawPointer) -> SoftwireValue? {
            let s = UnsafeMutablePointer<Slot>(mutating: address.assumingMemoryBound(to: Slot.self))
            // The home slot is read whole under its seqlock straight away: one key compare for a
            // hit (the common case) instead of a compare before and another inside the read.
            let (k, v) = Probe.load(s)
            if k == key { return v }
            if k == SlotMark.empty { return nil }
            return Probe.find(root, key, from: (slots.distance(to: s) &+ 1) & root.pointee.mask)
        }

        /// Whether any softwire uses this IPv4 address. An address outside the range of the
        /// managed ones (the internet, for nearly every packet) costs no probe.
        @inlinable @inline(__always)
        public func isManaged(ipv4: UInt32) -> Bool { ipv4 &- low <= span && paramsWord(ipv4: ipv4) != 0 }

        /// The br-address with this index (an index a lookup returned).
        @inlinable @inline(__always)
        public func brAddress(_ index: UInt32) -> IPv6Address {
            IPv6Address(hi: brs[2 &* Int(index)].load(ordering: .relaxed),
                        lo: brs[2 &* Int(index) &+ 1].load(ordering: .relaxed))
        }
    }
}

extension BindingTable.Reader {
    /// This batch's view of the table (see `BindingTable.View`).
    @inlinable public var view: BindingTable.View { BindingTable.View(root: Probe.root(control), brs: brs) }
}
