import Foundation

/// A failure the CLI reports on one line before exiting with a documented code.
struct CLIError: Error, CustomStringConvertible {
    /// Exit code for invalid input: a bad flag, config, expression or time zone.
    static let invalidInputCode: Int32 = 2
    /// Exit code for an operation that failed for any other reason.
    static let failureCode: Int32 = 1

    var message: String
    var exitCode: Int32

    static func invalidInput(_ message: String) -> CLIError {
        CLIError(message: message, exitCode: invalidInputCode)
    }

    static func failure(_ message: String) -> CLIError {
        CLIError(message: message, exitCode: failureCode)
    }

    var description: String { message }
}

/// Writes whole lines to standard error.
enum StandardError {
    static func write(_ line: String) {
        FileHandle.standardError.write(Data((line.hasSuffix("\n") ? line : line + "\n").utf8))
    }
}
