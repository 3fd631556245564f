import Foundation
import Testing
@testable import LwAFTRCore

/// `baseJSON` with a leasequery section starting on line 15.
func withLeasequery(_ section: String) -> String {
    let end = baseJSON.range(of: "\n  ]\n}", options: .backwards)!
    return baseJSON.replacingCharacters(in: end, with: "\n  ],\n  \"leasequery\": " + section + "\n}")
}

let fullLeasequery = """
{
    "servers": [
      {"address": "2001:db8:0:c::2", "port": 547,
       "tls": {"ca": "ca.pem", "certificate": "c.pem", "private_key": "k.pem", "verify_hostname": true, "server_name": "x"}},
      {"address": "lq.example.net", "port": 5470}
    ],
    "br_address": "2001:db8::1",
    "requestor_duid": "00:03:00:01:02:00:00:00:00:01",
    "snapshot": "/var/lib/lwaftr/bindings.snap",
    "snapshot_interval": 60,
    "catch_up_on_start": false,
    "timers": {"connect": 10, "active_receive": 120, "bulk_data": 300, "reconnect_min": 0.5, "reconnect_max": 600}
  }
"""

@Suite struct LeasequeryConfigTests {
    @Test func parsesEveryKey() throws {
        let c = try JSONConfig.parse(withLeasequery(fullLeasequery), file: "lq.json")
        let lq = try #require(c.leasequery)
        #expect(lq.servers.count == 2)
        #expect(lq.servers[0] == LeasequeryServerConfig(
            address: "2001:db8:0:c::2", port: 547,
            tls: LeasequeryTLSConfig(ca: "ca.pem", certificate: "c.pem", privateKey: "k.pem", verifyHostname: true,
                                     serverName: "x")))
        #expect(lq.servers[1] == LeasequeryServerConfig(address: "lq.example.net", port: 5470))
        #expect(lq.servers[0].description == "[2001:db8:0:c::2]:547")
        #expect(lq.brAddress == IPv6Address("2001:db8::1"))
        #expect(lq.requestorDUID == [0, 3, 0, 1, 2, 0, 0, 0, 0, 1])
        #expect(lq.snapshot == "/var/lib/lwaftr/bindings.snap")
        #expect(lq.snapshotInterval == 60 && !lq.catchUpOnStart)
        #expect(lq.timers.connect == 10 && lq.timers.activeReceive == 120 && lq.timers.bulkData == 300)
        #expect(lq.timers.reconnectMin == 0.5 && lq.timers.reconnectMax == 600)
        #expect(c.leasequeryBRAddress == IPv6Address("2001:db8::1"))
    }

    @Test func defaults() throws {
        let c = try JSONConfig.parse(withLeasequery("{\"servers\": [{\"address\": \"192.0.2.7\"}]}"), file: "lq.json")
        let lq = try #require(c.leasequery)
        #expect(lq.servers == [LeasequeryServerConfig(address: "192.0.2.7", port: 547)])
        #expect(lq.brAddress == nil && lq.requestorDUID == nil && lq.snapshot == nil)
        #expect(lq.snapshotInterval == 60 && !lq.catchUpOnStart && lq.timers == LeasequeryTimersConfig())
        // br defaults to the first instance's internal ip.
        #expect(c.leasequeryBRAddress == IPv6Address("8:9:a:b:c:d:e:f"))
        #expect(try JSONConfig.parse(baseJSON, file: "x.json").leasequery == nil)
    }

    @Test func roundTrips() throws {
        for section in [fullLeasequery, "{\"servers\": [{\"address\": \"::1\", \"port\": 1}], \"snapshot_interval\": 0.25}"] {
            let c = try JSONConfig.parse(withLeasequery(section), file: "lq.json")
            let text = JSONConfig.toJSON(c)
            #expect(try JSONConfig.parse(text, file: "again.json") == c, "\(text)")
            #expect(text.contains("\"leasequery\": {"))
        }
    }

    @Test func errorsNameLineAndField() {
        // The section starts on line 15.
        expectJSONError(withLeasequery("{\"servers\": []}"), line: 15, field: "leasequery.servers",
                        "at least one server")
        expectJSONError(withLeasequery("{}"), line: 15, field: "leasequery.servers", "missing required key 'servers'")
        expectJSONError(withLeasequery("{\"servers\": [{\"address\": \"::1\"}],\n \"colour\": 1}"), line: 16,
                        field: "leasequery.colour", "unknown key")
        expectJSONError(withLeasequery("{\"servers\": [\n{\"address\": \"1::2::3\"}]}"), line: 16,
                        field: "leasequery.servers[0].address", "invalid IPv6 address")
        expectJSONError(withLeasequery("{\"servers\": [\n{\"address\": \"::1\", \"port\": 70000}]}"), line: 16,
                        field: "leasequery.servers[0].port", "out of range")
        expectJSONError(withLeasequery("{\"servers\": [{\"address\": \"::1\"},\n{\"address\": \"::1\"}]}"), line: 16,
                        field: "leasequery.servers[1]", "duplicate server")
        expectJSONError(withLeasequery("{\"servers\": [{\"address\": \"::1\", \"tls\": {\"certificate\": \"c\", \"ca\": \"a\"}}]}"),
                        line: 15, field: "leasequery.servers[0].tls.private_key", "go together")
        expectJSONError(withLeasequery("{\"servers\": [{\"address\": \"::1\"}],\n\"requestor_duid\": \"0g\"}"), line: 16,
                        field: "leasequery.requestor_duid", "not hexadecimal")
        expectJSONError(withLeasequery("{\"servers\": [{\"address\": \"::1\"}],\n\"timers\": {\"connect\": -1}}"), line: 16,
                        field: "leasequery.timers.connect", "out of range")
        expectJSONError(withLeasequery("{\"servers\": [{\"address\": \"::1\"}],\n\"timers\": {\"reconnect_min\": 9, \"reconnect_max\": 3}}"),
                        line: 16, field: "leasequery.timers.reconnect_max", "below reconnect_min")
        expectJSONError(withLeasequery("{\"servers\": [{\"address\": \"::1\"}],\n\"br_address\": \"x\"}"), line: 16,
                        field: "leasequery.br_address", "invalid IPv6 address")
    }

    @Test func brAddressNeededWithoutDefault() {
        let text = "{\"leasequery\": {\"servers\": [{\"address\": \"::1\"}]}}"
        guard let e = jsonError(text) else { Issue.record("expected an error"); return }
        #expect(e.line == 1 && e.field == "leasequery.br_address", "\(e)")
    }
}
