/// Why a cron expression was rejected.
///
/// `description` reads `field: message`, for example `minute: 61 is out of range 0-59`. The
/// message always quotes the offending value and says what would be accepted instead.
public struct CronParseError: Error, CustomStringConvertible, Hashable, Sendable {
    /// The part that is wrong: `minute`, `hour`, `day-of-month`, `month`, `day-of-week`, or
    /// `expression` for the shape of the whole text (field count, unknown macro, empty text).
    public let field: String
    /// The offending text (the list element, the macro, or the whole expression), shortened to
    /// at most 40 characters.
    public let value: String
    /// What is wrong and what to write instead; it names the value.
    public let message: String

    /// Creates an error; `value` is shortened to keep messages readable for huge inputs.
    public init(field: String, value: String, message: String) {
        self.field = field
        self.value = CronParseError.shortened(value)
        self.message = message
    }

    /// `field: message`.
    public var description: String { "\(field): \(message)" }

    /// The text cut to 40 characters with an ellipsis, so a megabyte of garbage does not end
    /// up in a log line.
    static func shortened(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(40)) + "…"
    }
}
