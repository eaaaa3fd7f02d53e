import Cron
import Foundation
import Testing

@Suite("Parsing: syntax, names, macros, errors")
struct ParserTests {
    @Test("names are case-insensitive and equal their numbers", arguments: [
        ("0 0 1 JAN *", "0 0 1 1 *"), ("0 0 1 jan *", "0 0 1 1 *"), ("0 0 1 Dec *", "0 0 1 12 *"),
        ("0 0 * * mon", "0 0 * * 1"), ("0 0 * * SUN", "0 0 * * 0"), ("0 0 * * MON-FRI", "0 0 * * 1-5"),
        ("0 0 * JAN-MAR *", "0 0 * 1-3 *"), ("0 0 * * sat,Sun", "0 0 * * 6,0"),
    ])
    func names(_ pair: (String, String)) throws {
        let named = try CronExpression(parsing: pair.0)
        let numbered = try CronExpression(parsing: pair.1)
        let zone = try CronTimeZone.named("UTC")
        let start = try CronTimeFormat.parse("2025-01-01T00:00:00Z")
        #expect(named.nextFireTimes(count: 20, after: start, in: zone) == numbered.nextFireTimes(count: 20, after: start, in: zone))
    }

    @Test("0 and 7 are both Sunday")
    func sundays() throws {
        let first = try Cron.fires("0 0 * * 7", after: "2025-06-02T00:00:00Z", in: "UTC", count: 3)
        #expect(first == ["2025-06-08T00:00:00+00:00", "2025-06-15T00:00:00+00:00", "2025-06-22T00:00:00+00:00"])
        #expect(try Cron.fires("0 0 * * 0", after: "2025-06-02T00:00:00Z", in: "UTC", count: 3) == first)
        #expect(try Cron.fires("0 0 * * 5-7", after: "2025-06-02T00:00:00Z", in: "UTC", count: 3)
            == ["2025-06-06T00:00:00+00:00", "2025-06-07T00:00:00+00:00", "2025-06-08T00:00:00+00:00"])
    }

    @Test("macros equal their five-field forms", arguments: [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"), ("  @hourly\t", "0 * * * *"),
    ])
    func macros(_ pair: (String, String)) throws {
        let macro = try CronExpression(parsing: pair.0)
        let plain = try CronExpression(parsing: pair.1)
        #expect(macro.hasWildcardTime == plain.hasWildcardTime)
        let zone = try CronTimeZone.named("America/New_York")
        let start = try CronTimeFormat.parse("2025-03-01T00:00:00Z")
        #expect(macro.nextFireTimes(count: 30, after: start, in: zone) == plain.nextFireTimes(count: 30, after: start, in: zone))
    }

    @Test("steps: */n, a-b/n and cronie's a/n meaning a-max/n")
    func steps() throws {
        #expect(try Cron.fires("*/15 0 1 1 *", after: "2024-12-31T23:59:00Z", in: "UTC", count: 5)
            == ["2025-01-01T00:00:00+00:00", "2025-01-01T00:15:00+00:00", "2025-01-01T00:30:00+00:00",
                "2025-01-01T00:45:00+00:00", "2026-01-01T00:00:00+00:00"])
        #expect(try Cron.fires("5/20 0 1 1 *", after: "2024-12-31T23:59:00Z", in: "UTC", count: 4)
            == ["2025-01-01T00:05:00+00:00", "2025-01-01T00:25:00+00:00", "2025-01-01T00:45:00+00:00",
                "2026-01-01T00:05:00+00:00"])
        #expect(try Cron.fires("0 22/1 1 1 *", after: "2024-12-31T23:59:00Z", in: "UTC", count: 3)
            == ["2025-01-01T22:00:00+00:00", "2025-01-01T23:00:00+00:00", "2026-01-01T22:00:00+00:00"])
        #expect(try Cron.fires("0 0 * * 1-7/2", after: "2025-06-01T00:00:00Z", in: "UTC", count: 4)
            == ["2025-06-02T00:00:00+00:00", "2025-06-04T00:00:00+00:00", "2025-06-06T00:00:00+00:00",
                "2025-06-08T00:00:00+00:00"])
        #expect(try Cron.fires("*/60 0 1 1 *", after: "2024-12-31T23:59:00Z", in: "UTC", count: 1)
            == ["2025-01-01T00:00:00+00:00"])
    }

    @Test("lists mix values, ranges and steps")
    func lists() throws {
        #expect(try Cron.fires("1,10-12,50/5 0 1 1 *", after: "2024-12-31T23:59:00Z", in: "UTC", count: 7)
            .map { String($0.dropFirst(14).prefix(2)) } == ["01", "10", "11", "12", "50", "55", "01"])
    }

    @Test("text keeps the expression without surrounding blanks")
    func text() throws {
        #expect(try CronExpression(parsing: "  */5  *\t* * *  ").text == "*/5  *\t* * *")
        #expect(try CronExpression(parsing: "@daily").description == "@daily")
    }

    @Test("cronie's flags: a field beginning with * makes days AND and times wildcard")
    func flags() throws {
        #expect(try CronExpression(parsing: "0 0 1 * MON").daysMatchEither)
        #expect(try !CronExpression(parsing: "0 0 */2 * MON").daysMatchEither)
        #expect(try !CronExpression(parsing: "0 0 1 * *").daysMatchEither)
        #expect(try CronExpression(parsing: "*/5 1 * * *").hasWildcardTime)
        #expect(try CronExpression(parsing: "5 * * * *").hasWildcardTime)
        #expect(try !CronExpression(parsing: "0-59 0-23 * * *").hasWildcardTime)
        #expect(try CronExpression(parsing: "@hourly").hasWildcardTime)
        #expect(try !CronExpression(parsing: "@daily").hasWildcardTime)
    }

    @Test("errors name the field and the value", arguments: [
        ("61 * * * *", "minute", "minute: 61 is out of range 0-59"),
        ("* 24 * * *", "hour", "hour: 24 is out of range 0-23"),
        ("* * 0 * *", "day-of-month", "day-of-month: 0 is out of range 1-31"),
        ("* * * 13 *", "month", "month: 13 is out of range 1-12"),
        ("* * * * 8", "day-of-week", "day-of-week: 8 is out of range 0-7"),
        ("1-60 * * * *", "minute", "minute: 60 is out of range 0-59 in \"1-60\""),
        ("*/0 * * * *", "minute", "minute: step 0 in \"*/0\" must be at least 1"),
        ("*/61 * * * *", "minute", "minute: step 61 in \"*/61\" is larger than the field's range 0-59; use 1-60"),
        ("99999999999999999999 * * * *", "minute", "minute: 99999999999999999999 is out of range 0-59"),
        ("* * * JANX *", "month", "month: unknown month name \"JANX\"; use 1-12 or JAN-DEC"),
        ("* * * * FUNDAY", "day-of-week", "day-of-week: unknown day-of-week name \"FUNDAY\"; use 0-7 or SUN-SAT (0 and 7 are Sunday)"),
        ("MON * * * *", "minute", "minute: \"MON\" is not a number; use 0-59"),
        ("1,,2 * * * *", "minute", "minute: empty list element in \"1,,2\"; separate values with single commas, as in 1,15,30"),
        ("1.5 * * * *", "minute", "minute: \"1.5\" is not a whole number; use 0-59"),
        ("-1 * * * *", "minute", "minute: \"-1\" is negative; use 0-59"),
        ("5-1 * * * *", "minute", "minute: range \"5-1\" runs backwards (5 > 1); write the smaller value first (cron ranges do not wrap around)"),
        ("* * L * *", "day-of-month", "day-of-month: \"L\" is not a number; use 1-31"),
        ("* * * * 5#3", "day-of-week", "day-of-week: \"5#3\" is not a number, a name or *; use 0-7 or SUN-SAT (0 and 7 are Sunday), ranges (1-5), lists (1,2) and steps (*/15)"),
        ("* * * *", "expression", "expression: expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got 4 in \"* * * *\""),
        ("", "expression", "expression: the expression is empty; write 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily"),
        ("@fortnightly", "expression", "expression: unknown macro \"@fortnightly\"; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"),
        ("@daily 5", "expression", "expression: \"@daily 5\": @daily stands alone, without further fields"),
        ("@Daily * * * * *", "expression", "expression: \"@Daily * * * * *\": @daily stands alone, without further fields"),
        ("@foo bar", "expression", "expression: unknown macro \"@foo\"; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"),
        ("@reboot", "expression", "expression: @reboot is not supported: Quorum schedules by time; use a once job instead"),
    ])
    func errors(_ row: (String, String, String)) throws {
        let error = try #require(Cron.error(row.0))
        #expect(error.field == row.1)
        #expect(error.description == row.2)
    }

    @Test("odd but harmless inputs do not trap", arguments: [
        "\u{0}", "🙂 * * * *", "* * * * * \u{200B}", String(repeating: "1", count: 10_000) + " * * * *",
        String(repeating: "*/", count: 1000), String(repeating: ",", count: 1000), "0x10 * * * *", "+1 * * * *",
        "1--2 * * * *", "1-2-3 * * * *", "*/5/5 * * * *", "*-5 * * * *", "/ * * * *", "- * * * *", "@",
    ])
    func oddInputs(_ text: String) {
        #expect(Cron.error(text) != nil)
    }
}

@Suite("Codable")
struct CodableTests {
    @Test("an expression encodes as its text and decodes by parsing")
    func roundTrip() throws {
        let expression = try CronExpression(parsing: "30 2 * * MON-FRI")
        let data = try JSONEncoder().encode([expression])
        #expect(String(decoding: data, as: UTF8.self) == #"["30 2 * * MON-FRI"]"#)
        #expect(try JSONDecoder().decode([CronExpression].self, from: data) == [expression])
    }

    @Test("invalid text fails to decode with the parse error")
    func invalid() {
        do {
            _ = try JSONDecoder().decode([CronExpression].self, from: Data(#"["61 * * * *"]"#.utf8))
            Issue.record("decoded an invalid expression")
        } catch {
            #expect(String(describing: error).contains("minute: 61 is out of range 0-59"))
        }
    }
}
