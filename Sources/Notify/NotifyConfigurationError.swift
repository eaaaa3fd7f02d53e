/// A notification setting that cannot be used: which field, why, and what to write instead.
public struct NotifyConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The setting as the config file names it, e.g. `[notify.smtp] port`.
    public let field: String
    /// What is wrong and what to do, phrased to follow the field.
    public let reason: String

    /// An error about `field`.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// `[notify.smtp] port 0 is out of range; …`.
    public var description: String { "\(field) \(reason)" }
}
