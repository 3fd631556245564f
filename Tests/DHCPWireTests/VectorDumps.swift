// The four leasequery-profile test vectors exactly as printed in PROTOCOLS.md §8 (hexdump -C style,
// `*` = previous line repeated), with a parser that expands them.

/// PROTOCOLS.md §8 output, verbatim.
let protocolsVectorDump = """
## A  framed DHCPv6 ACTIVELEASEQUERY (285 bytes)
0000  01 1b 16 12 34 56 00 01 00 0a 00 03 00 01 02 00
0010  00 00 00 01 00 57 01 05 01 00 00 00 00 12 34 56
0020  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
*
0100  00 00 00 00 63 82 53 63 35 01 10 37 09 33 3d 5b
0110  6d 97 98 99 9c 9f 9a 04 69 55 b9 00 ff

## B  framed DHCPv6 LEASEQUERY-DATA / DHCPLEASEACTIVE (316 bytes)
0000  01 3a 11 12 34 56 00 57 01 32 02 00 00 00 00 12
0010  34 56 00 00 00 00 c0 00 02 01 00 00 00 00 00 00
0020  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
*
00f0  00 00 00 00 00 00 63 82 53 63 35 01 0d 3d 0f ff
0100  00 00 00 01 00 03 00 01 02 00 00 00 00 b4 33 04
0110  00 00 0e 10 98 04 69 55 b9 3c 5b 04 00 00 00 3c
0120  9c 01 02 9f 04 06 08 34 00 6d 10 20 01 0d b8 00
0130  00 00 00 00 00 00 00 00 00 00 01 ff

## C  framed DHCPv6 LEASEQUERY-DATA / DHCPLEASEQUERYSTATUS CatchUpComplete (280 bytes)
0000  01 16 11 12 34 56 00 57 01 0e 02 00 00 00 00 12
0010  34 56 00 00 00 00 00 00 00 00 00 00 00 00 00 00
0020  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
*
00f0  00 00 00 00 00 00 63 82 53 63 35 01 11 97 12 07
0100  63 61 74 63 68 2d 75 70 20 63 6f 6d 70 6c 65 74
0110  65 98 04 69 55 b9 41 ff

## D  framed DHCPv6 LEASEQUERY / DHCPBULKLEASEQUERY (284 bytes)
0000  01 1a 0e 00 00 01 00 01 00 0a 00 03 00 01 02 00
0010  00 00 00 01 00 06 00 02 00 64 00 57 00 fe 01 00
0020  00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00
0030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
*
0100  00 00 00 00 00 00 00 00 00 00 63 82 53 63 35 01
0110  0e 37 08 33 3d 5b 6d 97 98 9c 9f ff
"""

/// Expands one titled dump ("A", "B", "C", "D") to bytes.
func protocolsVector(_ name: String) -> [UInt8] {
    var out: [UInt8] = []
    var inBlock = false
    var prev: [UInt8] = []
    var total = 0
    var starPending = false
    for line in protocolsVectorDump.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("## ") {
            inBlock = line.hasPrefix("## \(name) ")
            if inBlock, let open = line.lastIndex(of: "("), let sp = line[open...].firstIndex(of: " ") {
                total = Int(line[line.index(after: open)..<sp])!
            }
            continue
        }
        guard inBlock, !line.isEmpty else { continue }
        if line == "*" { starPending = true; continue }
        let parts = line.split(separator: " ")
        let offset = Int(parts[0], radix: 16)!
        if starPending {
            while out.count < offset { out += prev }
            starPending = false
        }
        prev = parts.dropFirst().map { UInt8($0, radix: 16)! }
        out += prev
    }
    precondition(out.count == total, "vector \(name): \(out.count) != \(total)")
    return out
}
