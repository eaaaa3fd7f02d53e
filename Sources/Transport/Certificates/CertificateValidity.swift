import Foundation

extension Transport {
    /// The window in which a certificate is valid. Time is a parameter, never read here, so a
    /// test can make a certificate that expired yesterday.
    public struct CertificateValidity: Hashable, Sendable {
        /// The first instant the certificate is valid.
        public var notBefore: Date
        /// The last instant the certificate is valid.
        public var notAfter: Date

        /// A window from `notBefore` to `notAfter`; throws if it ends before it starts.
        public init(notBefore: Date, notAfter: Date) throws(CertificateError) {
            guard notBefore < notAfter else {
                throw CertificateError(
                    .invalidValidity,
                    "certificate validity ends (\(notAfter)) before it starts (\(notBefore)): pick a later end")
            }
            self.notBefore = notBefore
            self.notAfter = notAfter
        }

        /// A window starting an hour before `now` (to tolerate clock skew between nodes) and
        /// lasting `days` days from `now`.
        public static func days(_ days: Int, from now: Date) throws(CertificateError) -> CertificateValidity {
            try CertificateValidity(
                notBefore: now.addingTimeInterval(-3600),
                notAfter: now.addingTimeInterval(TimeInterval(days) * 86_400))
        }
    }
}
