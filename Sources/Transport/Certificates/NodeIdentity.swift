import RaftCore

extension Transport {
    /// How a member id is carried in a certificate: a URI subject alternative name
    /// `quorum://node/<id>`. This SAN, and nothing else (not the common name, not a DNS name),
    /// is what a peer's identity is read from.
    public enum NodeIdentity {
        /// The scheme and path before the id.
        public static let uriPrefix = "quorum://node/"

        /// The longest node id that can be put in a certificate.
        public static let maximumIDLength = 64

        /// The URI SAN naming `id`.
        public static func uri(for id: Raft.NodeID) -> String { uriPrefix + id.rawValue }

        /// The id a URI SAN names, or `nil` if it is not a Quorum node URI with a valid id.
        public static func nodeID(fromURI uri: String) -> Raft.NodeID? {
            guard uri.hasPrefix(uriPrefix) else { return nil }
            let id = Raft.NodeID(String(uri.dropFirst(uriPrefix.count)))
            return isValid(id) ? id : nil
        }

        /// Whether `id` is 1–64 characters of `A–Z a–z 0–9 . _ -`, so it reads the same in a URI,
        /// a file name (`<id>.pem`) and a log line.
        public static func isValid(_ id: Raft.NodeID) -> Bool {
            let scalars = id.rawValue.unicodeScalars
            guard !scalars.isEmpty, scalars.count <= maximumIDLength else { return false }
            return scalars.allSatisfy { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
                default: false
                }
            } && id.rawValue != "." && id.rawValue != ".."
        }

        /// Throws unless `id` ``isValid(_:)``.
        public static func validate(_ id: Raft.NodeID) throws(CertificateError) {
            guard isValid(id) else {
                throw CertificateError(
                    .invalidNodeID,
                    "node id \"\(id.rawValue)\" cannot be used in a certificate: use 1-\(maximumIDLength) "
                        + "characters of letters, digits, '.', '_' and '-'")
            }
        }
    }
}
