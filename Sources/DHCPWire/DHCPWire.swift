// DHCPWire — DHCPv6 / DHCPv4 codecs and the project's DHCP4o6 leasequery profile.
//
// Public API (stable; the leasequery requestor of step 5 and the reference server build on it):
//
//   Requestor (lwAFTR side), per PROTOCOLS.md §7:
//     let q = LeasequeryRequest(kind: .bulk, transactionID: 1, requestorDUID: DUIDOption.linkLayer(mac))
//     send(try q.framed())                              // 2-byte length + DHCPv6 LEASEQUERY{CLIENTID, ORO{100}, 87}
//     var deframer = FrameReader(); deframer.append(received)
//     while let f = deframer.nextMessage() {
//         let r = try LeasequeryResponse.decode(f)       // throws DHCPWireError on any malformed byte
//         switch r.payload {                             // r.kind: .reply / .data / .done
//         case .record(let rec): rec.kind (.active / .unassigned / .unknown), rec.key (SoftwireKey:
//                                ipv4 + PSID), rec.portParams (nil = full address), rec.b4 (109),
//                                rec.baseTime (152, Unix), rec.leaseTime (51, relative), rec.softwire(br:)
//         case .status(let s):   keep-alive / CatchUpComplete / DataMissing / errors (s.code, s.baseTime)
//         case .done(let s):     end of a bulk stream, or QueryTerminated
//         case .none:            empty REPLY / RFC 7653 keep-alive DATA / bare DONE
//         }
//         r.isKeepAlive, r.isCatchUpComplete, r.isDataMissing, r.isError (either status layer),
//         r.baseTime (outer 100 as UnixTime), r.status (outer 13)
//     }
//     Active: LeasequeryRequest(kind: .active, ..., queryStartTime: UnixTime(seconds: tLast))
//     Gap fill: LeasequeryRequest(kind: .bulk, ..., queryStartTime: s, queryEndTime: e)
//
//   Server side: LeasequeryRequest(message:) validates a received query and throws
//   LeasequeryRequestError carrying the DHCPv6 status to answer with; LeasequeryResponse(...)
//   .framed() builds REPLY / DATA / DONE; LeaseRecord(...).message(xid:) the inner record.
//
//   Codecs: DHCPv6Message (client/server + relay headers, [DHCPv6Option]), typed option values
//   conforming to DHCPv6OptionValue (DHCPv6StatusCode, OptionRequest, RelayMessage, LQQuery,
//   ClientData, LQRelayData, LQClientLink, DHCP4oDHCP6Servers, S46Rule, S46BR, S46DMR,
//   S46V4V6Bind, S46PortParams, S46BindIPv6Prefix, DHCPv4MessageOption) plus S46Container,
//   DUIDOption and DHCPv6Message.seconds(_:) for 46/100–102; DHCPv4Message (header, cookie,
//   RFC 3396 concatenation, option-52 overload) with typed accessors for 53, 55, 91, 92, 109,
//   151–157, 159; PortParams (159/93), IPv6Prefix, UnixTime (the one clock; DHCPv6 2000-epoch
//   conversion), TCPFraming / FrameReader.
//
// Guarantees: decoders never trap on any input (libFuzzer target Scripts/fuzz-dhcp.sh), and for
// every successfully decoded message `decode(encode(m)) == m`. Encoders throw only when a value
// cannot fit its length field.
