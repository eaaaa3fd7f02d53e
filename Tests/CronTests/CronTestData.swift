import Foundation

/// The shared cron test data (`cron_cases_public.tsv`, `cron_invalid.tsv`).
///
/// Read from the copy in `Tests/CronTests/Fixtures/`, so the suite needs nothing outside the
/// repository; if that copy is missing, from `<repo>/../shared/testdata/` (CI's layout, and
/// the worktree layout is `../../shared`), then `/work/shared/testdata/`.
enum CronTestData {
    /// One row of `cron_cases_public.tsv`.
    struct PublicCase: Sendable, CustomStringConvertible {
        var line: Int
        var expression: String
        var from: String
        var zone: String
        var count: Int
        /// Column 7, the cronie model: what Quorum must answer.
        var cronie: [String]
        var flag: String
        var description: String { "line \(line): \(expression) after \(from) in \(zone) [\(flag)]" }
    }

    /// One row of `cron_invalid.tsv`.
    struct InvalidCase: Sendable, CustomStringConvertible {
        var line: Int
        var expression: String
        var reason: String
        var description: String { "line \(line): \"\(expression)\" (\(reason))" }
    }

    static let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func candidates(for name: String) -> [URL] {
        let repoRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return [
            fixturesDirectory.appendingPathComponent(name),
            repoRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata/\(name)"),
            repoRoot.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/testdata/\(name)"),
            URL(fileURLWithPath: "/work/shared/testdata/\(name)"),
        ]
    }

    /// The data rows (not comments or the header) with their 1-based line numbers, or an error text.
    static func rows(of name: String) -> Result<[(line: Int, fields: [String])], LoadError> {
        for url in candidates(for: name) {
            guard let data = FileManager.default.contents(atPath: url.path) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            var rows: [(line: Int, fields: [String])] = []
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.isEmpty || line.hasPrefix("#") { continue }
                rows.append((index + 1, line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)))
            }
            return .success(rows)
        }
        return .failure(LoadError(message: "\(name) not found in \(candidates(for: name).map(\.path))"))
    }

    struct LoadError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static let publicCasesResult: Result<[PublicCase], LoadError> = rows(of: "cron_cases_public.tsv").flatMap { rows in
        var cases: [PublicCase] = []
        for row in rows {
            guard row.fields.count >= 7, let count = Int(row.fields[3]) else {
                return .failure(LoadError(message: "cron_cases_public.tsv line \(row.line) has \(row.fields.count) columns"))
            }
            cases.append(PublicCase(
                line: row.line, expression: row.fields[0], from: row.fields[1], zone: row.fields[2], count: count,
                cronie: row.fields[6].split(separator: " ").map(String.init), flag: row.fields[5]))
        }
        return .success(cases)
    }

    static let invalidCasesResult: Result<[InvalidCase], LoadError> = rows(of: "cron_invalid.tsv").map { rows in
        rows.map { InvalidCase(line: $0.line, expression: $0.fields[0], reason: $0.fields.count > 1 ? $0.fields[1] : "") }
    }

    static var publicCases: [PublicCase] { (try? publicCasesResult.get()) ?? [] }
    static var invalidCases: [InvalidCase] { (try? invalidCasesResult.get()) ?? [] }
}
