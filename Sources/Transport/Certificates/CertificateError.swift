extension Transport {
    /// A failure creating, loading or writing cluster certificates. The message names the file
    /// or value and says what to do.
    public struct CertificateError: Error, Hashable, Sendable, CustomStringConvertible {
        /// What went wrong, for programs.
        public enum Code: String, Hashable, Sendable {
            /// A node id cannot be put in a certificate.
            case invalidNodeID
            /// A validity window ends before it starts.
            case invalidValidity
            /// A file to be written exists already.
            case fileExists
            /// A file could not be read or written.
            case fileAccess
            /// A file's contents are not the expected certificate or key.
            case malformedFile
            /// A key does not belong to the certificate next to it.
            case keyMismatch
            /// A certificate does not name the node id it is used for.
            case identityMismatch
            /// A node certificate is not signed by any CA of the bundle it is loaded with.
            case untrustedIssuer
            /// A certificate request names no host (API certificates need at least one).
            case missingHost
        }

        /// What went wrong, for programs.
        public var code: Code
        /// What went wrong and what to do, for people.
        public var message: String

        /// Creates an error.
        public init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        /// The message.
        public var description: String { message }
    }
}
