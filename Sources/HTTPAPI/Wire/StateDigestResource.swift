/// `GET /api/cluster/digest`: a fingerprint of one node's scheduler state at one applied index.
///
/// Two replicas at the same `applied_index` must report the same `digest` (the state machine is
/// deterministic and the snapshot encoding is a function of the state); different digests at an
/// equal index mean the replicas diverged. Replicas at different indexes are not comparable.
public struct StateDigestResource: Codable, Hashable, Sendable {
    /// The log index this node had applied when the state was encoded.
    public var appliedIndex: UInt64
    /// The 64-bit FNV-1a digest of the deterministic snapshot encoding, as 16 lowercase hex digits
    /// (a string: JSON numbers lose precision above 2^53).
    public var digest: String

    /// A digest of a state at `appliedIndex`.
    public init(appliedIndex: UInt64, digest: UInt64) {
        self.appliedIndex = appliedIndex
        let hex = String(digest, radix: 16)
        self.digest = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case appliedIndex = "applied_index"
        case digest
    }
}
