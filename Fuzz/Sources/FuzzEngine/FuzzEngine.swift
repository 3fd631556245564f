// libFuzzer entry: the whole packet pipeline (parse, reassembly, ARP/NDP, echo, encap/decap,
// hairpin, ICMP, fragmentation) on arbitrary frames. The first byte picks which side(s) the
// following frames arrive on and a configuration variant; frames are 2-byte length prefixed.
import LwAFTRCore
import PacketEngine

nonisolated(unsafe) var engines: [LwAFTREngine] = []

func makeEngines() -> [LwAFTREngine] {
    let br = IPv6Address("8:9:a:b:c:d:e:f")!
    var softwires: [Softwire] = []
    for (i, k) in [(1, 0), (2, 6), (3, 16)] {
        for psid in 0..<4 {
            softwires.append(Softwire(ipv4: IPv4Address(178, 79, 150, UInt8(i)), psid: UInt16(psid),
                                      b4: IPv6Address(hi: 0x0127_0000_0000_0000, lo: UInt64(i << 8 | psid)),
                                      br: br, portSet: PortSet(offset: 0, psidLength: UInt8(k))!))
            if k == 0 { break }
        }
    }
    softwires.append(Softwire(ipv4: IPv4Address(192, 0, 2, 1), psid: 0x34, b4: IPv6Address("2001:db8::1")!,
                              br: br, portSet: PortSet(offset: 6, psidLength: 8)!))
    func config(mtu4: Int, mtu6: Int, icmp: Bool, vlan: Bool, resolve: Bool) -> LwAFTRConfig {
        var c = LwAFTRConfig(softwires: softwires)
        c.external.mtu = mtu4
        c.internal.mtu = mtu6
        c.external.generateICMPErrors = icmp
        c.internal.generateICMPErrors = icmp
        c.external.maxFragmentsPerPacket = 8
        c.external.maxFragmentedPackets = 16
        c.internal.maxFragmentsPerPacket = 8
        c.internal.maxFragmentedPackets = 16
        c.instances = [InstanceConfig(
            device: "fuzz", queueID: 0,
            external: InterfaceAddressing(ipv4: IPv4Address(10, 10, 10, 10), mac: MACAddress(0x1212_1212_1212),
                                          nextHop: resolve ? .ipv4(IPv4Address(4, 5, 6, 7)) : .mac(MACAddress(0x6868_6868_6868)),
                                          vlanTag: vlan ? 1092 : nil),
            internal: InterfaceAddressing(ipv6: br, mac: MACAddress(0x2222_2222_2222),
                                          nextHop: resolve ? .ipv6(IPv6Address("8:9:a:b:4:3:2:1")!) : .mac(MACAddress(0x4444_4444_4444)),
                                          vlanTag: vlan ? 1638 : nil))]
        return c
    }
    return [
        try! LwAFTREngine(config: config(mtu4: 1460, mtu6: 1500, icmp: true, vlan: false, resolve: false), poolCapacity: 512, batchCapacity: 32),
        try! LwAFTREngine(config: config(mtu4: 576, mtu6: 1280, icmp: true, vlan: false, resolve: true), poolCapacity: 512, batchCapacity: 32),
        try! LwAFTREngine(config: config(mtu4: 1500, mtu6: 1280, icmp: false, vlan: true, resolve: false), poolCapacity: 512, batchCapacity: 32),
    ]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if engines.isEmpty { engines = makeEngines() }
    guard size >= 1 else { return 0 }
    let selector = data[0]
    let engine = engines[Int(selector >> 4) % engines.count]
    var in4 = PacketBatch(capacity: 32), in6 = PacketBatch(capacity: 32)
    var out4 = PacketBatch(capacity: 1024), out6 = PacketBatch(capacity: 1024)
    var at = 1
    var n = 0
    while at + 2 <= size && n < 32 {
        let len = min(Int(data[at]) << 8 | Int(data[at + 1]), size - at - 2)
        at += 2
        guard let p = engine.pool.make(UnsafeRawBufferPointer(start: data + at, count: len)) else { break }
        let toV6 = (selector >> UInt8(n % 4)) & 1 == 1
        if toV6 { in6.append(p) } else { in4.append(p) }
        at += len
        n += 1
    }
    engine.process(in4: &in4, in6: &in6, out4: &out4, out6: &out6, now: UInt64(selector) << 28)
    // Everything emitted must be a sane frame inside its buffer.
    for i in 0..<out4.count { precondition(out4[i].length >= 14 && out4[i].length <= engine.pool.bufferSize) }
    for i in 0..<out6.count { precondition(out6[i].length >= 14 && out6[i].length <= engine.pool.bufferSize) }
    out4.freeAll(to: engine.pool)
    out6.freeAll(to: engine.pool)
    return 0
}

// SwiftPM links an executable's entry point as `FuzzEngine_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzEngine_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzTest(data, size) }
}
