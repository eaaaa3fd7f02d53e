import Testing

@Suite("quorum cron next")
struct CronCommandTests {
    @Test("prints fire times with the zone's offset across a spring-forward change")
    func springForward() throws {
        let result = try QuorumBinary.run([
            "cron", "next", "0 9 * * *", "--tz", "America/New_York", "--from", "2025-03-08T10:00:00-05:00", "--count", "3",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput == "2025-03-09T09:00:00-04:00\n2025-03-10T09:00:00-04:00\n2025-03-11T09:00:00-04:00\n")
    }

    @Test("defaults: UTC and five times, +00:00 for UTC")
    func defaults() throws {
        let result = try QuorumBinary.run(["cron", "next", "@hourly", "--from", "2025-01-15T10:20:30Z"])
        #expect(result.exitCode == 0)
        #expect(result.standardOutput.split(separator: "\n").count == 5)
        #expect(result.standardOutput.hasPrefix("2025-01-15T11:00:00+00:00\n"))
    }

    @Test(
        "invalid input exits 2 with a message naming what is wrong",
        arguments: [
            (["61 * * * *"], "minute: 61 is out of range 0-59"),
            (["* * * *"], "expression"),
            (["@daily", "--tz", "Mars/Base"], "unknown time zone \"Mars/Base\""),
            (["@daily", "--from", "yesterday"], "--from:"),
            (["@daily", "--count", "0"], "--count: 0 is out of range"),
            (["0 0 30 2 *"], "can never fire"),
        ] as [([String], String)])
    func invalid(arguments: [String], message: String) throws {
        let result = try QuorumBinary.run(["cron", "next"] + arguments)
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }
}

@Suite("quorum cron next against the public cases")
struct CronPublicCasesCLITests {
    /// Rows of `cron_cases_public.tsv`: expression, from, zone, count, and column 7 (cronie).
    static let rows: [[String]] = {
        let path = "\(QuorumBinary.repoRoot)/Tests/CronTests/Fixtures/cron_cases_public.tsv"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }()

    @Test("the fixture is there")
    func fixturePresent() {
        #expect(Self.rows.count >= 20)
    }

    @Test("every row's output is the cronie column", arguments: rows)
    func row(fields: [String]) throws {
        try #require(fields.count >= 7)
        let result = try QuorumBinary.run([
            "cron", "next", fields[0], "--from", fields[1], "--tz", fields[2], "--count", fields[3],
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.split(separator: "\n").map(String.init) == fields[6].split(separator: " ").map(String.init))
    }
}
