import Testing
@testable import LwAFTRCore

/// `lwaftr config convert`: Snabb .conf → JSON → .conf keeps every setting.
@Suite(.enabled(if: ConformanceData.present, ConformanceData.absentMessage))
struct SnabbConfWriterTests {
    @Test(arguments: ConformanceData.confFiles)
    func roundTripsThroughTheWriter(_ name: String) throws {
        let original = try ConformanceData.load(name)
        let text = SnabbConfWriter.write(original)
        #expect(try SnabbConfParser.parse(text, file: "written.conf") == original)
        let viaJSON = try JSONConfig.parse(JSONConfig.toJSON(original), file: "x.json")
        #expect(SnabbConfWriter.write(viaJSON) == text)
    }

    @Test func quotesFiltersWithSpaces() throws {
        var c = LwAFTRConfig()
        c.external.ingressFilter = "len < 0"
        let text = SnabbConfWriter.write(c)
        #expect(text.contains("ingress-filter \"len < 0\";"))
        #expect(try SnabbConfParser.parse(text, file: "f.conf").external.ingressFilter == "len < 0")
    }
}
