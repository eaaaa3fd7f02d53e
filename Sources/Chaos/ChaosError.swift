/// Why `quorum chaos` could not run (not a failed check: those are the verdict's counts).
public enum ChaosError: Error, CustomStringConvertible, Sendable {
    /// A bad option: the message names it and what is allowed (exit 2).
    case invalid(String)
    /// The cluster could not be set up or driven (certs, ports, a node that never started) (exit 1).
    case setup(String)

    /// The message for the user.
    public var description: String {
        switch self {
        case .invalid(let message), .setup(let message): message
        }
    }
}
