import Testing
import TestSupport
import LwAFTRCore
import DHCPWire

/// The direct encoder used by the server's bulk and active streams must produce exactly the bytes
/// of the generic `LeasequeryResponse` path (PROTOCOLS.md §8 vector B included).
@Suite struct LeaseRecordWriterTests {
    @Test func vectorBIsByteIdentical() throws {
        let fast = try #require(LeaseRecordWriter.data(V.record, xid: 0x123456))
        #expect(fast == protocolsVector("B"))
    }

    @Test func randomRecordsMatchTheGenericEncoder() throws {
        var g = SplitMix(seed: 7)
        for i in 0..<20_000 {
            let k = UInt8(g.next() % 17), a = k == 16 ? 0 : UInt8(g.next() % UInt64(min(16 - Int(k), 15) + 1))
            let pp: PortParams? = g.next() % 5 == 0 ? nil
                : PortParams(offset: a, psidLength: k, psid: k == 0 ? 0 : UInt16(g.next() & ((1 << UInt64(k)) - 1)))
            let kind: LeaseRecord.Kind = [.active, .unassigned, .unknown][Int(g.next() % 3)]
            let cid: [UInt8]? = g.next() % 4 == 0 ? nil : (0..<Int(g.next() % 40)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            func maybe(_ v: UInt32) -> UInt32? { g.next() % 3 == 0 ? nil : v }
            let r = LeaseRecord(kind: kind, ipv4: IPv4Address(UInt32(truncatingIfNeeded: g.next())), portParams: pp,
                                b4: g.next() % 6 == 0 ? nil : IPv6Address(hi: g.next(), lo: g.next()),
                                baseTime: UnixTime(seconds: UInt32(truncatingIfNeeded: g.next())), clientID: cid,
                                leaseTime: maybe(UInt32(truncatingIfNeeded: g.next())),
                                clientLastTransaction: maybe(UInt32(truncatingIfNeeded: g.next())),
                                startTimeOfState: maybe(UInt32(truncatingIfNeeded: g.next())),
                                state: g.next() % 3 == 0 ? nil : DHCPLeaseState(UInt8(truncatingIfNeeded: g.next())),
                                dataSource: g.next() % 3 == 0 ? nil : UInt8(truncatingIfNeeded: g.next()))
            let xid = UInt32(truncatingIfNeeded: g.next())          // upper bits must be dropped
            let generic = try LeasequeryResponse(kind: .data, transactionID: xid, payload: .record(r)).framed()
            let fast = try #require(LeaseRecordWriter.data(r, xid: xid))
            #expect(fast == generic, "record \(i): \(r)")
            if fast != generic { break }
        }
    }

    @Test func longClientIDIsLeftToTheGenericEncoder() {
        var r = V.record
        r.clientID = [UInt8](repeating: 7, count: 256)
        #expect(LeaseRecordWriter.framedSize(r) == nil && LeaseRecordWriter.data(r, xid: 1) == nil)
        r.clientID = [UInt8](repeating: 7, count: 255)
        #expect(LeaseRecordWriter.data(r, xid: 1) == (try? LeasequeryResponse(kind: .data, transactionID: 1, payload: .record(r)).framed()))
    }
}

