/// The engine's four packet filters as unretained references, for the per-packet path: reading
/// a strong `var` class property there costs a retain/release pair per packet (the property
/// could change during `matches`), these cost nothing. The strong properties keep the filters
/// alive; `init` and `update(settings:)` (between batches, on the worker's thread) refresh both.
@usableFromInline struct FilterRefs {
    @usableFromInline var extIngress: Unmanaged<PacketFilter>?
    @usableFromInline var extEgress: Unmanaged<PacketFilter>?
    @usableFromInline var intIngress: Unmanaged<PacketFilter>?
    @usableFromInline var intEgress: Unmanaged<PacketFilter>?

    @usableFromInline init() {}

    @usableFromInline init(_ extIngress: PacketFilter?, _ extEgress: PacketFilter?, _ intIngress: PacketFilter?,
                           _ intEgress: PacketFilter?) {
        self.extIngress = extIngress.map { Unmanaged.passUnretained($0) }
        self.extEgress = extEgress.map { Unmanaged.passUnretained($0) }
        self.intIngress = intIngress.map { Unmanaged.passUnretained($0) }
        self.intEgress = intEgress.map { Unmanaged.passUnretained($0) }
    }
}

extension Optional where Wrapped == Unmanaged<PacketFilter> {
    /// True when there is no filter or the filter accepts `p`.
    @inlinable @inline(__always)
    func allows(_ p: Packet) -> Bool {
        guard let f = self else { return true }
        return f._withUnsafeGuaranteedRef { $0.matches(p) }
    }
}
