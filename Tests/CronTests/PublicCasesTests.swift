import Cron
import Foundation
import Testing

@Suite("cron_cases_public.tsv (cronie column)")
struct PublicCasesTests {
    @Test("the file is found and complete")
    func fileLoads() throws {
        let cases = try CronTestData.publicCasesResult.get()
        #expect(cases.count >= 42)
        #expect(cases.contains { $0.flag == "dst" })
        #expect(cases.contains { $0.flag == "vixie-domdow" })
    }

    @Test("matches the cronie model", arguments: CronTestData.publicCases)
    func matchesCronie(_ row: CronTestData.PublicCase) throws {
        let expression = try CronExpression(parsing: row.expression)
        let zone = try CronTimeZone.named(row.zone)
        let from = try CronTimeFormat.parse(row.from)
        let fires = expression.nextFireTimes(count: row.count, after: from, in: zone)
        let printed = fires.map { CronTimeFormat.format($0, in: zone) }
        #expect(printed == row.cronie, "\(row)")
    }
}
