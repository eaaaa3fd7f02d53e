import Cron
import Testing

@Suite("cron_invalid.tsv is rejected with a message naming the field")
struct InvalidExpressionTests {
    /// The field each line of `cron_invalid.tsv` must be blamed on.
    static let expectedField: [String: String] = [
        "60 * * * *": "minute", "* 24 * * *": "hour", "* * 32 * *": "day-of-month",
        "* * 0 * *": "day-of-month", "* * * 13 *": "month", "* * * * 8": "day-of-week",
        "*/0 * * * *": "minute", "1-60 * * * *": "minute", "-1 * * * *": "minute",
        "* * * *": "expression", "0 0 *": "expression", "* * * * * *": "expression", "foo": "expression",
        "* * * JANX *": "month", "* * * * FUNDAY": "day-of-week", "1,,2 * * * *": "minute",
        "*/ * * * *": "minute", "1.5 * * * *": "minute", "@fortnightly": "expression",
    ]

    @Test("the file is found")
    func fileLoads() throws {
        #expect(try CronTestData.invalidCasesResult.get().count >= 19)
    }

    @Test("is rejected", arguments: CronTestData.invalidCases)
    func rejected(_ row: CronTestData.InvalidCase) {
        #expect(throws: CronParseError.self, "\(row)") { try CronExpression(parsing: row.expression) }
        do {
            _ = try CronExpression(parsing: row.expression)
        } catch {
            #expect(error.description.hasPrefix(error.field + ": "))
            if let field = Self.expectedField[row.expression] {
                #expect(error.field == field, "\(row): \(error)")
            } else {
                #expect(["minute", "hour", "day-of-month", "month", "day-of-week", "expression"].contains(error.field))
            }
            // The message quotes the offending value (or, for the shape, the expression).
            #expect(!error.value.isEmpty)
            let valueTokens = error.value.split(whereSeparator: { ",-/ ".contains($0) })
            #expect(valueTokens.contains { error.message.contains($0) } || error.message.contains(error.value), "\(error)")
        }
    }
}
