import Foundation

/// Plain-text tables and key/value blocks for the client commands' human output.
///
/// Columns are left-aligned and separated by two spaces; a missing value prints as `-`;
/// line breaks and tabs inside a cell become spaces so every row stays one line.
struct TextTable {
    /// Column headers, upper case by convention (`ID`, `STATE`).
    var headers: [String]
    /// Rows; each as long as ``headers``.
    private(set) var rows: [[String]] = []

    init(_ headers: [String]) { self.headers = headers }

    /// Adds a row; `nil` cells print as `-`.
    mutating func append(_ cells: [String?]) {
        precondition(cells.count == headers.count, "a row of \(cells.count) cells for \(headers.count) columns: \(cells)")
        rows.append(cells.map { Self.clean($0) })
    }

    /// The table, one line per row after the header line; no trailing spaces.
    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (column, cell) in cells.enumerated() {
                let isLast = column == cells.count - 1
                text += isLast ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }

    /// `-` for nil or empty; whitespace control characters flattened.
    static func clean(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return "-" }
        return String(value.map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0 })
    }
}

/// `key   value` lines with the keys padded to one width.
struct KeyValueBlock {
    private(set) var pairs: [(String, String)] = []

    /// Adds a line; `nil` values are left out.
    mutating func append(_ key: String, _ value: String?) {
        guard let value else { return }
        pairs.append((key, TextTable.clean(value)))
    }

    func render() -> String {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
    }
}
