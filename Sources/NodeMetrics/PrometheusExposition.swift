/// Text-format helpers.
enum PrometheusExposition {
    /// `text` with its metric families (a family: its `# HELP`/`# TYPE` lines and samples, which
    /// the registry emits together) in name order, so a scrape reads the same on every run.
    /// Each of `declared` that has no series yet (a labelled counter before its first increment)
    /// is added as its `# HELP` and `# TYPE` lines, so every contract name is always discoverable.
    static func sortedByFamily(_ text: String, declared: [(name: String, type: String, help: String)] = []) -> String {
        var families: [(name: Substring, lines: [Substring])] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let name = familyName(of: line)
            if let last = families.last, last.name == name || !line.hasPrefix("#") {
                families[families.count - 1].lines.append(line)
            } else {
                families.append((name, [line]))
            }
        }
        let present = Set(families.map(\.name))
        for family in declared where !present.contains(Substring(family.name)) {
            families.append((Substring(family.name), ["# HELP \(family.name) \(family.help)", "# TYPE \(family.name) \(family.type)"]))
        }
        // Ties (none expected) keep their emitted order.
        let sorted = families.enumerated().sorted { ($0.element.name, $0.offset) < ($1.element.name, $1.offset) }
        var out = ""
        out.reserveCapacity(text.utf8.count + 1)
        for (_, family) in sorted {
            for line in family.lines {
                out += line
                out += "\n"
            }
        }
        return out
    }

    /// The family a line belongs to: the name after `# HELP `/`# TYPE `, or (samples) the name
    /// before `{` or a space.
    private static func familyName(of line: Substring) -> Substring {
        if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
            let rest = line.dropFirst(7)
            return rest.prefix { $0 != " " }
        }
        return line.prefix { $0 != "{" && $0 != " " }
    }
}
