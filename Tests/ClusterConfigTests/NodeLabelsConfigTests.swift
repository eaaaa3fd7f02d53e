import Testing

@testable import ClusterConfig

@Suite("[[nodes]] labels")
struct NodeLabelsConfigTests {
    func withLabels(_ inline: String) -> String {
        validConfig.replacingOccurrences(of: "api = \"127.0.0.1:8081\"", with: "api = \"127.0.0.1:8081\"\nlabels = \(inline)")
    }

    @Test("labels = {…} parse onto the node; a node without them has none")
    func parses() throws {
        let config = try ConfigLoader.parse(withLabels("{zone = \"a\", gpu = \"true\"}"), file: "c.toml")
        #expect(config.nodes[1].labels == ["zone": "a", "gpu": "true"])
        #expect(config.nodes[0].labels.isEmpty)
    }

    @Test("a bad label is a config error naming nodes[i].labels.KEY and the rule")
    func refuses() {
        let badChar = configError(withLabels("{\"g pu\" = \"true\"}"))
        #expect(badChar?.key == "nodes[1].labels.g pu")
        #expect(badChar?.reason.contains("only ASCII letters") == true)
        let notString = configError(withLabels("{gpu = true}"))
        #expect(notString?.key == "nodes[1].labels.gpu")
        let emptyValue = configError(withLabels("{gpu = \"\"}"))
        #expect(emptyValue?.reason.contains("must not be empty") == true)
        let many = (0..<17).map { "k\($0) = \"v\"" }.joined(separator: ", ")
        let tooMany = configError(withLabels("{\(many)}"))
        #expect(tooMany?.key == "nodes[1].labels")
        #expect(tooMany?.reason == "at most 16 labels, got 17")
        #expect(configError(withLabels("\"gpu\""))?.key == "nodes[1].labels")
    }
}
