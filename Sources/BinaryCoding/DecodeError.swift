/// Why bytes could not be decoded. Decoding never traps on bad input.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var message: String
    /// The byte offset where it was noticed.
    public var offset: Int
    /// An error.
    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
    /// `message (at byte offset)`.
    public var description: String { "\(message) (at byte \(offset))" }
}
