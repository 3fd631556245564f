import Foundation
import Testing
@testable import LwAFTRCore

/// The Snabb conformance data: `<repo>/../shared/conformance/snabb-lwaftr/data`, the repository root
/// being three levels above this file.
enum ConformanceData {
    static let dataDir: String? = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let dir = url.appendingPathComponent("../shared/conformance/snabb-lwaftr/data").standardizedFileURL.path
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue ? dir : nil
    }()

    static let present = dataDir != nil
    static let absentMessage: Comment = "conformance data (../shared/conformance/snabb-lwaftr/data) not found"

    /// Every `.conf` under `data/` and `data/vlan/`, relative to `data/` ("vlan/no_icmp.conf").
    static let confFiles: [String] = {
        guard let dir = dataDir else { return [] }
        var out: [String] = []
        for sub in ["", "vlan/"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + sub)) ?? []
            out += names.filter { $0.hasSuffix(".conf") }.sorted().map { sub + $0 }
        }
        return out
    }()

    static func load(_ name: String) throws -> LwAFTRConfig {
        try ConfigLoader.load(path: try #require(dataDir) + "/" + name)
    }
}

@Suite(.enabled(if: ConformanceData.present, ConformanceData.absentMessage))
struct SnabbConformanceConfTests {
    @Test func allConfsFound() {
        #expect(ConformanceData.confFiles.count == 36)
    }

    @Test(arguments: ConformanceData.confFiles)
    func parses(_ name: String) throws {
        let c = try ConformanceData.load(name)
        #expect(c.external.errorRatePackets == 600_000)
        #expect(c.internal.maxFragmentsPerPacket == (name.hasSuffix("maxfrags1.conf") ? 1 : 40))
        if name.hasSuffix("empty.conf") {
            #expect(c.softwires.isEmpty && c.instances.isEmpty)
        } else {
            #expect(!c.softwires.isEmpty && !c.instances.isEmpty)
        }
        if name.hasPrefix("vlan/") {
            #expect(c.instances.allSatisfy { $0.external.vlanTag == 1092 && $0.internal.vlanTag == 1638 })
        }
    }

    /// README: `data/vlan/X.conf` is `data/X.conf` plus the two VLAN tags.
    @Test(arguments: ConformanceData.confFiles.filter { $0.hasPrefix("vlan/") })
    func vlanCopyMatchesUntagged(_ name: String) throws {
        func untagged(_ c: LwAFTRConfig) -> LwAFTRConfig {
            var c = c
            for i in c.instances.indices {
                c.instances[i].external.vlanTag = nil
                c.instances[i].internal.vlanTag = nil
            }
            return c
        }
        // data/vlan.conf is itself tagged, so compare both sides without tags.
        let tagged = try ConformanceData.load(name)
        let plain = try ConformanceData.load(String(name.dropFirst(5)))
        #expect(untagged(tagged) == untagged(plain))
        #expect(plain.instances.allSatisfy { $0.external.vlanTag == nil } == (name != "vlan/vlan.conf"))
    }

    /// README: 32 of the 36 confs share one 12-entry binding table.
    @Test func sharedBindingTable() throws {
        let reference = try ConformanceData.load("icmp_on_fail.conf").softwires
        let sharing = try ConformanceData.confFiles.filter { try ConformanceData.load($0).softwires == reference }
        #expect(sharing.count == 32)
    }

    @Test func icmpOnFail() throws {
        let c = try ConformanceData.load("icmp_on_fail.conf")
        #expect(c.softwires.count == 12)
        let ip15 = try #require(IPv4Address("178.79.150.15"))
        let on15 = c.softwires.filter { $0.ipv4 == ip15 }
        #expect(on15.map(\.psid).sorted() == [0, 1])
        #expect(on15.allSatisfy { $0.portSet.psidLength == 4 && $0.portSet.offset == 0 })
        let first = c.softwires[0]
        #expect(first.description == "178.79.150.3 psid 4/6 offset 0 b4 127:14:25:36:47:58:69:128 br 1e:2:2:2:2:2:2:af")
        #expect(c.softwires.filter { $0.ipv4 == IPv4Address("178.79.150.233") }.count == 7)
        #expect(c.softwires.first { $0.ipv4 == IPv4Address("178.79.150.1") }?.portSet.psidLength == 0)
        #expect(c.softwires.first { $0.ipv4 == IPv4Address("178.79.150.2") }?.br == IPv6Address("1e:1:1:1:1:1:1:af"))

        #expect(c.external.allowIncomingICMP == false)
        #expect(c.external.generateICMPErrors == true)
        #expect(c.internal.allowIncomingICMP == false)
        #expect(c.external.mtu == 1460 && c.internal.mtu == 1500)
        #expect(c.external.maxFragmentsPerPacket == 40 && c.external.maxFragmentedPackets == 20_000)
        #expect(c.internal.hairpinning)

        #expect(c.instances.count == 1)
        let inst = try #require(c.instances.first)
        #expect(inst.device == "test" && inst.queueID == 0)
        #expect(inst.external.ipv4 == IPv4Address("10.10.10.10") && inst.external.ipv6 == nil)
        #expect(inst.external.mac == MACAddress("12:12:12:12:12:12"))
        #expect(inst.external.nextHop == .mac(try #require(MACAddress("68:68:68:68:68:68"))))
        #expect(inst.external.vlanTag == nil)
        #expect(inst.internal.ipv6 == IPv6Address("8:9:a:b:c:d:e:f") && inst.internal.ipv4 == nil)
        #expect(inst.internal.mac == MACAddress("22:22:22:22:22:22"))
        #expect(inst.internal.nextHop == .mac(try #require(MACAddress("44:44:44:44:44:44"))))
    }

    @Test func vlan() throws {
        let c = try ConformanceData.load("vlan.conf")
        #expect(c.instances[0].external.vlanTag == 1092)
        #expect(c.instances[0].internal.vlanTag == 1638)
        #expect(c.internal.errorRatePackets == 6000)
        #expect(c.external.errorRatePackets == 600_000)
    }

    @Test func nextHopByIP() throws {
        let v6 = try ConformanceData.load("tunnel_icmp_withoutmac.conf")
        #expect(v6.instances[0].internal.nextHop == .ipv6(try #require(IPv6Address("8:9:a:b:4:3:2:1"))))
        #expect(v6.instances[0].external.nextHop == .mac(try #require(MACAddress("68:68:68:68:68:68"))))
        let v4 = try ConformanceData.load("tunnel_icmp_without_mac4.conf")
        #expect(v4.instances[0].external.nextHop == .ipv4(try #require(IPv4Address("4.5.6.7"))))
    }

    @Test func mtus() throws {
        let small = try ConformanceData.load("small_ipv6_mtu_no_icmp.conf")
        #expect(small.internal.mtu == 1280 && small.external.mtu == 1500)
        #expect(!small.external.allowIncomingICMP && !small.external.generateICMPErrors)
        #expect(try ConformanceData.load("small_ipv4_mtu_icmp.conf").external.mtu == 576)
        let big = try ConformanceData.load("big_mtu_no_icmp.conf")
        #expect(big.external.mtu == 1960 && big.internal.mtu == 2000)
        #expect(try ConformanceData.load("lwaftr-vlan.conf").internal.mtu == 9500)
    }

    @Test func maxFrags1() throws {
        let c = try ConformanceData.load("no_icmp_maxfrags1.conf")
        #expect(c.external.maxFragmentsPerPacket == 1 && c.internal.maxFragmentsPerPacket == 1)
        #expect(c.internal.maxFragmentedPackets == 10)
        #expect(c.external.maxFragmentedPackets == 20_000)
        #expect(!c.external.generateICMPErrors && !c.internal.generateICMPErrors)
    }

    @Test func filters() throws {
        let accept = try ConformanceData.load("no_icmp_with_filters_accept.conf")
        #expect(accept.external.ingressFilter == "ip" && accept.external.egressFilter == "ip")
        #expect(accept.internal.ingressFilter == "ip6" && accept.internal.egressFilter == "ip6")
        let drop = try ConformanceData.load("no_icmp_with_filters_drop.conf")
        for p in [drop.external, drop.internal] {
            #expect(p.ingressFilter == "len < 0" && p.egressFilter == "len < 0")
        }
        #expect(try ConformanceData.load("no_icmp.conf").external.ingressFilter == nil)
    }

    @Test func otherConfs() throws {
        #expect(try ConformanceData.load("no_hairpin.conf").internal.hairpinning == false)
        let multi = try ConformanceData.load("icmp_on_fail_multiproc.conf")
        #expect(multi.instances.map(\.device) == ["test", "test1"])
        let endaddr = try ConformanceData.load("icmp_endaddr.conf")
        #expect(endaddr.softwires.map(\.ipv4).sorted().map(\.description)
                == ["178.79.150.233", "178.79.150.234", "178.79.150.235", "178.79.150.236"])
        #expect(endaddr.softwires.allSatisfy { $0.portSet.psidLength == 0 && $0.psid == 0 })
        #expect(endaddr.external.mtu == 2000 && endaddr.internal.mtu == 2000)
        let empty = try ConformanceData.load("empty.conf")
        #expect(empty.external.generateICMPErrors && !empty.external.allowIncomingICMP)

        let lv = try ConformanceData.load("lwaftr-vlan.conf")
        let sw = try #require(lv.softwires.first)
        #expect(lv.softwires.count == 1)
        #expect(sw.description == "193.5.17.1 psid 44/6 offset 0 b4 fc00:1:2:3:4:5:3:d84c br fc00::100")
        #expect(lv.instances[0].external.vlanTag == 164 && lv.instances[0].internal.vlanTag == 125)
        #expect(lv.instances[0].external.ipv4 == IPv4Address("10.0.1.1"))
        #expect(lv.instances[0].internal.ipv6 == IPv6Address("fe80::100"))
    }
}
