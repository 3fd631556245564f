// libFuzzer entry for the DHCPWire codecs (DHCPv6, DHCPv4, leasequery profile, TCP framing).
// Built by Scripts/fuzz-dhcp.sh with `swiftc -sanitize=fuzzer,address -parse-as-library` together
// with the LwAFTRCore and DHCPWire sources. Every decoder must reject bad bytes with an error (never
// trap), and everything that decodes must re-encode to bytes that decode to the same value.
import DHCPWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDHCPWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkV6(bytes, depth: 0)
    checkV4(bytes)
    checkFraming(bytes)
    allValues(bytes)
    return 0
}

/// DHCPv6: decode, every typed option value, round trip, profile request/response views.
func checkV6(_ bytes: [UInt8], depth: Int) {
    guard depth < 4, let m = try? DHCPv6Message.decode(bytes) else { return }
    let again = try! DHCPv6Message.decode(try! m.encode())
    precondition(again == m, "DHCPv6 round trip")
    for o in m.options { typedValues(o, depth: depth) }
    if let r = try? LeasequeryResponse(message: m) {
        let back = try! LeasequeryResponse(message: try! r.message())
        precondition(back == r, "LeasequeryResponse round trip")
        _ = (r.isKeepAlive, r.isCatchUpComplete, r.isDataMissing, r.isError)
    }
    if let q = try? LeasequeryRequest(message: m) {
        let back = try! LeasequeryRequest(message: try! q.message())
        precondition(back == q, "LeasequeryRequest round trip")
    }
    _ = try? m.seconds(.lqBaseTime)
    _ = try? m.value(DHCP4oDHCP6Servers.self)
}

func roundTrip<V: DHCPv6OptionValue & Equatable>(_ type: V.Type, _ data: [UInt8]) {
    guard let v = try? V(optionData: data) else { return }
    guard let d = try? v.optionData() else { return }   // only a nested >64 KiB re-encoding may fail
    precondition((try? V(optionData: d)) == v, "\(V.self) round trip")
}

/// Decodes an option with the value type of its code (recursing into containers and nested
/// messages); unknown codes are skipped by length, as on the wire.
func typedValues(_ o: DHCPv6Option, depth: Int) {
    let d = o.data
    switch o.code.rawValue {
    case 6: roundTrip(OptionRequest.self, d)
    case 9: roundTrip(RelayMessage.self, d); checkV6(d, depth: depth + 1)
    case 13: roundTrip(DHCPv6StatusCode.self, d)
    case 44:
        roundTrip(LQQuery.self, d)
        if let q = try? LQQuery(optionData: d), depth < 3 { for s in q.options { typedValues(s, depth: depth + 1) } }
    case 45:
        roundTrip(ClientData.self, d)
        if let c = try? ClientData(optionData: d), depth < 3 { for s in c.options { typedValues(s, depth: depth + 1) } }
    case 47:
        roundTrip(LQRelayData.self, d)
        if let r = try? LQRelayData(optionData: d) { checkV6(r.relayMessage, depth: depth + 1) }
    case 48: roundTrip(LQClientLink.self, d)
    case 87: roundTrip(DHCPv4MessageOption.self, d); checkV4(d)
    case 88: roundTrip(DHCP4oDHCP6Servers.self, d)
    case 89:
        roundTrip(S46Rule.self, d)
        if let r = try? S46Rule(optionData: d), depth < 3 { for s in r.options { typedValues(s, depth: depth + 1) } }
    case 90: roundTrip(S46BR.self, d)
    case 91: roundTrip(S46DMR.self, d)
    case 92:
        roundTrip(S46V4V6Bind.self, d)
        if let b = try? S46V4V6Bind(optionData: d) {
            _ = try? b.portParams()
            if depth < 3 { for s in b.options { typedValues(s, depth: depth + 1) } }
        }
    case 93: roundTrip(S46PortParams.self, d)
    case 94, 95, 96:
        if let c = try? S46Container(optionData: d), depth < 3 {
            precondition((try? S46Container(optionData: try! c.optionData())) == c, "S46Container round trip")
            for s in c.options { typedValues(s, depth: depth + 1) }
        }
    case 137: roundTrip(S46BindIPv6Prefix.self, d)
    default: break
    }
}

/// Every typed value over the raw input once (reaches each decoder even without a valid envelope).
func allValues(_ d: [UInt8]) {
    roundTrip(DHCPv6StatusCode.self, d); roundTrip(OptionRequest.self, d); roundTrip(LQQuery.self, d)
    roundTrip(ClientData.self, d); roundTrip(LQRelayData.self, d); roundTrip(LQClientLink.self, d)
    roundTrip(DHCP4oDHCP6Servers.self, d); roundTrip(S46Rule.self, d); roundTrip(S46BR.self, d)
    roundTrip(S46DMR.self, d); roundTrip(S46V4V6Bind.self, d); roundTrip(S46PortParams.self, d)
    roundTrip(S46BindIPv6Prefix.self, d)
}

/// DHCPv4: decode, accessors, round trip, lease records.
func checkV4(_ bytes: [UInt8]) {
    guard let m = try? DHCPv4Message.decode(bytes) else { return }
    let again = try! DHCPv4Message.decode(try! m.encode())
    precondition(again == m, "DHCPv4 round trip")
    _ = m.messageType; _ = m.parameterRequestList
    _ = try? m.portParams(); _ = try? m.s46SourceAddress(); _ = try? m.leasequeryStatus()
    _ = try? m.associatedAddresses(); _ = try? m.address(.requestedAddress); _ = try? m.u8(.dhcpState)
    _ = try? m.u32(.baseTime)
    if let r = try? LeaseRecord(message: m) {
        let back = try! LeaseRecord(message: DHCPv4Message.decode(r.message(xid: m.xid).encode()))
        precondition(back == r, "LeaseRecord round trip")
        _ = r.softwire(br: r.b4 ?? .init(hi: 0, lo: 0)); _ = r.expiry; _ = r.key
    }
}

/// Framing: arbitrary chunking yields the same frames.
func checkFraming(_ bytes: [UInt8]) {
    var whole = FrameReader(), split = FrameReader()
    whole.append(bytes)
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    split.append(bytes[..<cut])
    var a: [[UInt8]] = [], b: [[UInt8]] = []
    while let f = whole.nextMessage() { a.append(f) }
    while let f = split.nextMessage() { b.append(f) }
    split.append(bytes[cut...])
    while let f = split.nextMessage() { b.append(f) }
    precondition(a == b, "framing")
    for f in a.prefix(4) { _ = try? LeasequeryResponse.decode(f) }
}
