import Cron
import Foundation
import Hummingbird
import SchedulerPlanning

/// `GET /api/cron/next?expr=&tz=&count=&from=`: what `quorum cron next` prints, for the
/// dashboard's cron preview (docs/api.md, "Cron preview"). The same parser, zone rules and
/// search as a submitted schedule (``CronPlanner``), so the preview is what the leader will fire.
enum CronPreview {
    /// The most fire times one request may ask for.
    static let maxCount = 100

    /// The preview `request` asks for, starting strictly after `now` unless `from` is given.
    ///
    /// - Throws: 422 naming `expr` (missing, unparsable, never fires), `tz` (unknown zone),
    ///   `count` (not an integer in 1…100) or `from` (not ISO 8601).
    static func preview(_ request: Request, now: Date) throws(APIError) -> CronPreviewResource {
        let query = request.uri.queryParameters
        // A form-encoded space ("+") is a space: cron syntax has no "+" (a zone name may, so `tz` is left as sent).
        guard let expr = query.get("expr")?.replacingOccurrences(of: "+", with: " "), !expr.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalid(field: "expr", "required: a 5-field cron expression or a macro such as @daily (URL-encoded)")
        }
        let tz = query.get("tz").flatMap { $0.isEmpty ? nil : $0 } ?? "UTC"
        var count = 5
        if let text = query.get("count") {
            guard let value = Int(text), (1...maxCount).contains(value) else {
                throw .invalid(field: "count", "'\(FieldProblem.shortened(text))' is not a whole number from 1 to \(maxCount)")
            }
            count = value
        }
        var start = now
        if let text = query.get("from"), !text.isEmpty {
            do {
                start = try CronTimeFormat.parse(text)
            } catch {
                throw .invalid(field: "from", "\(error)")
            }
        }
        let schedule: CronPlanner.Schedule
        do {
            schedule = try CronPlanner.schedule(expression: expr, timezone: tz)
        } catch {
            throw .invalid(field: error.field == .schedule ? "expr" : "tz", error.message)
        }
        let times = schedule.expression.nextFireTimes(count: count, after: start, in: schedule.zone)
        return CronPreviewResource(expr: expr, tz: tz, times: times.map { CronTimeFormat.format($0, in: schedule.zone) },
                                   after: CronTimeFormat.format(start, in: schedule.zone))
    }
}
