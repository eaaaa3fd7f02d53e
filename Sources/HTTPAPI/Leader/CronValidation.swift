import SchedulerCore
import SchedulerPlanning

/// ``SchedulerPlanning/CronPlanner``'s schedule checks with the API's field names and errors.
enum CronValidation {
    /// Parses `expression` in `timezone`; a bad one is 422 naming `<prefix>schedule` or `<prefix>timezone`.
    static func schedule(expression: String, timezone: String, fieldPrefix: String = "") throws(APIError) -> CronPlanner.Schedule {
        do {
            return try CronPlanner.schedule(expression: expression, timezone: timezone)
        } catch {
            throw .invalid(field: FieldPath.join(fieldPrefix, error.field.rawValue), error.message)
        }
    }
}
