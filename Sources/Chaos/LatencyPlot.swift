/// The picture of a run: per second, acknowledged writes (throughput, bars) and the mean latency
/// of acknowledged operations (line), with the fault windows shaded — where writes were refused
/// shows as a gap in the bars. Plain SVG, no dependencies.
public enum LatencyPlot {
    /// An SVG of `operations` with `faults` (start, end seconds) shaded.
    public static func svg(_ operations: [Operation], faults: [(Double, Double)]) -> String {
        let completed = operations.compactMap { op -> (Double, Double, Bool)? in
            guard op.completion == .ok, let done = op.completedAt else { return nil }
            return (done, done - op.invokedAt, op.kind == .submitJob || op.kind == .submitDAG || op.kind == .cancel)
        }
        let seconds = max(1, Int((completed.map(\.0).max() ?? 1).rounded(.up)))
        var writes = Array(repeating: 0, count: seconds + 1)
        var latencySum = Array(repeating: 0.0, count: seconds + 1)
        var latencyCount = Array(repeating: 0, count: seconds + 1)
        for (time, latency, isWrite) in completed {
            let bucket = min(seconds, max(0, Int(time)))
            if isWrite { writes[bucket] += 1 }
            latencySum[bucket] += latency
            latencyCount[bucket] += 1
        }
        let width = 900.0, height = 300.0, left = 50.0, bottom = 30.0
        let xScale = (width - left - 10) / Double(seconds + 1)
        let maxWrites = Double(max(1, writes.max() ?? 1))
        let means = (0...seconds).map { latencyCount[$0] == 0 ? 0 : latencySum[$0] / Double(latencyCount[$0]) }
        let maxLatency = max(0.001, means.max() ?? 0.001)
        let plotHeight = height - bottom - 20
        var svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" font-family="sans-serif" font-size="11">"#
        svg += "\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        for (start, end) in faults {
            svg += "<rect x=\"\(left + start * xScale)\" y=\"20\" width=\"\(max(1, (end - start) * xScale))\" height=\"\(plotHeight)\" fill=\"#f4b4b4\" opacity=\"0.6\"/>\n"
        }
        for (second, count) in writes.enumerated() where count > 0 {
            let barHeight = Double(count) / maxWrites * plotHeight
            svg += "<rect x=\"\(left + Double(second) * xScale)\" y=\"\(20 + plotHeight - barHeight)\" width=\"\(max(1, xScale - 1))\" height=\"\(barHeight)\" fill=\"#6a8caf\"/>\n"
        }
        let points = means.enumerated().map { second, mean in
            "\(left + (Double(second) + 0.5) * xScale),\(20 + plotHeight - mean / maxLatency * plotHeight)"
        }.joined(separator: " ")
        svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"#d2691e\" stroke-width=\"1.5\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(20 + plotHeight)\" x2=\"\(width - 10)\" y2=\"\(20 + plotHeight)\" stroke=\"black\"/>\n"
        svg += "<text x=\"\(left)\" y=\"14\">bars: acknowledged writes per second (max \(Int(maxWrites))); line: mean latency of acknowledged operations (max \(Int(maxLatency * 1000)) ms); shaded: faults</text>\n"
        svg += "<text x=\"\(left)\" y=\"\(height - 8)\">0 s</text><text x=\"\(width - 50)\" y=\"\(height - 8)\">\(seconds) s</text>\n"
        svg += "</svg>\n"
        return svg
    }
}
