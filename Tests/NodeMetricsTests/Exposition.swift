/// A parsed scrape, for assertions: samples by series, and each family's `# TYPE`.
struct Exposition {
    /// `name{labels}` (labels as emitted) → value.
    var samples: [String: Double] = [:]
    /// Family name → type.
    var types: [String: String] = [:]
    /// Every line, in order.
    var lines: [String]

    init(_ text: String) {
        lines = text.split(separator: "\n").map(String.init)
        for line in lines {
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                if parts.count == 2 { types[String(parts[0])] = String(parts[1]) }
            } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " ") {
                samples[String(line[..<space])] = Double(line[line.index(after: space)...])
            }
        }
    }

    /// The value of `name` with `labels` written as in the exposition (`outcome="failed"`).
    func value(_ name: String, _ labels: String = "") -> Double? {
        samples[labels.isEmpty ? name : "\(name){\(labels)}"]
    }
}
