extension CronExpression: Codable {
    /// Decodes an expression from its text (a single string), parsing it; invalid text is a
    /// `DecodingError.dataCorrupted` whose description is the `CronParseError`'s.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try CronExpression(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the expression as its text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
