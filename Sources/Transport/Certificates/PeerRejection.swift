import Foundation
import RaftCore

extension Transport {
    /// Why a connection from or to a peer was refused before any frame was read. Every rejected
    /// connection is closed and logged with one of these.
    public enum PeerRejection: Error, Hashable, Sendable, CustomStringConvertible {
        /// The first bytes were not a TLS handshake (a plaintext client, or another protocol).
        case notTLS(firstByte: UInt8)
        /// The peer presented no certificate.
        case noCertificate
        /// The peer's certificate is not signed by the cluster CA.
        case untrustedIssuer(issuer: String)
        /// The peer's certificate expired.
        case expired(notAfter: Date)
        /// The peer's certificate is not valid yet.
        case notYetValid(notBefore: Date)
        /// The cluster CA certificate itself is outside its validity window.
        case authorityExpired(notAfter: Date)
        /// The certificate may not be used for this side of a connection (missing EKU, or it is a CA).
        case wrongCertificateUsage(String)
        /// The certificate carries a critical extension this node does not understand.
        case unhandledCriticalExtension(String)
        /// The certificate names no member id (no `quorum://node/<id>` URI SAN).
        case missingNodeID
        /// The certificate names more than one member id.
        case ambiguousNodeID([Raft.NodeID])
        /// The certificate names an id that is not a member of this cluster.
        case unknownMember(Raft.NodeID)
        /// The certificate names an id this cluster removed: the handshake completed only so the
        /// peer could be sent its removal notice (``PeerTransport/setRemovalNotices(_:)``), and
        /// the connection was closed after it; nothing the peer sent was read.
        case removedMember(Raft.NodeID)
        /// This node dialed `expected` but the certificate names `presented`.
        case unexpectedPeer(expected: Raft.NodeID, presented: Raft.NodeID)
        /// The certificate could not be parsed.
        case malformedCertificate(String)
        /// The TLS handshake failed for another reason (version, cipher, the peer's own refusal).
        case handshakeFailed(String)
        /// The handshake did not finish in time.
        case handshakeTimedOut(seconds: Double)
        /// The peer closed the connection during the handshake.
        case closedDuringHandshake
        /// More accepted connections than the limit were still in their TLS handshake.
        case tooManyPendingHandshakes(limit: Int)

        /// A short stable name for logs and metrics (`reason=` label).
        public var code: String {
            switch self {
            case .notTLS: "not_tls"
            case .noCertificate: "no_certificate"
            case .untrustedIssuer: "untrusted_issuer"
            case .expired: "expired"
            case .notYetValid: "not_yet_valid"
            case .authorityExpired: "authority_expired"
            case .wrongCertificateUsage: "wrong_usage"
            case .unhandledCriticalExtension: "unhandled_critical_extension"
            case .missingNodeID: "missing_node_id"
            case .ambiguousNodeID: "ambiguous_node_id"
            case .unknownMember: "unknown_member"
            case .removedMember: "removed_member"
            case .unexpectedPeer: "unexpected_peer"
            case .malformedCertificate: "malformed_certificate"
            case .handshakeFailed: "handshake_failed"
            case .handshakeTimedOut: "handshake_timeout"
            case .closedDuringHandshake: "closed_during_handshake"
            case .tooManyPendingHandshakes: "too_many_handshakes"
            }
        }

        /// What happened and what to do.
        public var description: String {
            switch self {
            case .notTLS(let byte):
                "peer did not start a TLS handshake (first byte 0x\(String(byte, radix: 16))): "
                    + "peers must speak TLS 1.3 with a cluster certificate"
            case .noCertificate:
                "peer presented no certificate: configure [tls] cert and key on that node"
            case .untrustedIssuer(let issuer):
                "peer certificate is not signed by any CA of this node's [tls] ca bundle (issuer \(issuer)): "
                    + "issue it with `quorum certs issue --ca DIR` from this cluster's CA, or (rotating the CA) "
                    + "add its CA to every node's bundle first"
            case .expired(let notAfter):
                "peer certificate expired at \(notAfter): issue a new one and rename it into place on that node "
                    + "(it is reloaded without a restart)"
            case .notYetValid(let notBefore):
                "peer certificate is not valid before \(notBefore): check both nodes' clocks"
            case .authorityExpired(let notAfter):
                "cluster CA certificate is not valid now (expires \(notAfter)): create a new CA and reissue"
            case .wrongCertificateUsage(let detail):
                "peer certificate is not a node certificate: \(detail)"
            case .unhandledCriticalExtension(let oid):
                "peer certificate has an unsupported critical extension \(oid)"
            case .missingNodeID:
                "peer certificate names no node id (expected a URI SAN \(NodeIdentity.uriPrefix)<id>)"
            case .ambiguousNodeID(let ids):
                "peer certificate names several node ids \(ids.map(\.rawValue)): issue one certificate per node"
            case .unknownMember(let id):
                "peer certificate names \(id), which is not a member of this cluster"
            case .removedMember(let id):
                "peer certificate names \(id), which was removed from this cluster: it was sent a removal notice "
                    + "and disconnected (stop that node; a replacement machine joins under a new id)"
            case .unexpectedPeer(let expected, let presented):
                "dialed \(expected) but the peer's certificate names \(presented): "
                    + "check the raft address of \(expected) in the config"
            case .malformedCertificate(let detail):
                "peer certificate could not be parsed: \(detail)"
            case .handshakeFailed(let detail):
                "TLS handshake failed: \(detail)"
            case .handshakeTimedOut(let seconds):
                "TLS handshake did not complete within \(seconds) s"
            case .closedDuringHandshake:
                "peer closed the connection during the TLS handshake"
            case .tooManyPendingHandshakes(let limit):
                "\(limit) connections are already in their TLS handshake; this one was closed at once "
                    + "(a connection flood; raise Transport.Configuration.maximumPendingHandshakes only for a legitimate burst)"
            }
        }
    }
}
