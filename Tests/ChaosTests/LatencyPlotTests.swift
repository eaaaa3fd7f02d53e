import Foundation
import Chaos
import Testing

/// The run's picture: one bar per second with acknowledged writes, a latency line, fault windows shaded.
@Suite("Latency plot")
struct LatencyPlotTests {
    @Test("fault windows are shaded and seconds without acknowledged writes have no bar")
    func shadesFaults() {
        let operations = [
            Operation(op: 1, kind: .submitJob, invokedAt: 0.1, completedAt: 0.2, completion: .ok, key: "k", id: "j1"),
            Operation(op: 2, kind: .submitJob, invokedAt: 0.3, completedAt: 0.5, completion: .ok, key: "k2", id: "j2"),
            Operation(op: 3, kind: .submitJob, invokedAt: 1.0, completedAt: 4.5, completion: .ok, key: "k3", id: "j3"),
            Operation(op: 4, kind: .read, invokedAt: 2.0, completedAt: 2.1, completion: .fail, id: "j1"),
        ]
        let svg = LatencyPlot.svg(operations, faults: [(1.5, 3.5)])
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "fill=\"#f4b4b4\"").count == 2)
        #expect(svg.components(separatedBy: "fill=\"#6a8caf\"").count == 3)
        #expect(svg.contains("max 2"))
    }
}
