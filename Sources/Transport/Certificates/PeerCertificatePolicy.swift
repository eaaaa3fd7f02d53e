import Foundation
import RaftCore
import SwiftASN1
import X509

extension Transport {
    /// Decides whether a peer's certificate chain identifies a member of the cluster.
    ///
    /// Pure: the time, the member set and the expected id are inputs. Quorum's trust model is a
    /// cluster CA that signs node certificates directly, so the chain is exactly
    /// `[leaf]` (anything after the leaf is ignored; intermediates are not trusted). The CA file
    /// may be a bundle of several CAs (to rotate the CA without downtime); a leaf is trusted when
    /// one of them issued it:
    ///
    /// 1. a leaf certificate is present;
    /// 2. its issuer is a listed CA's subject and that CA's key verifies its signature;
    /// 3. that CA and the leaf are within their validity windows at `now`;
    /// 4. the leaf is not a CA, allows `digitalSignature`, and its extended key usage allows this
    ///    side of the connection (`clientAuth` for a peer that dialed us, `serverAuth` for a peer
    ///    we dialed); it has no critical extension we do not understand;
    /// 5. it names exactly one node id in a `quorum://node/<id>` URI SAN;
    /// 6. when dialing, that id is the one we meant to reach (Consul #5069, GHSA-q7fx-wm2p-qfj8:
    ///    checking the chain without checking *who* it names lets any node impersonate any other);
    /// 7. the id is a current member.
    ///
    /// Possession of the leaf's private key is proven by the TLS handshake itself
    /// (CertificateVerify), which BoringSSL checks independently of this policy.
    public struct PeerCertificatePolicy: Sendable {
        /// Which side of the connection the peer is on.
        public enum PeerRole: Sendable, Hashable {
            /// The peer dialed us; it authenticates as a TLS client.
            case dialer
            /// We dialed the peer expecting `expected`; it authenticates as a TLS server.
            case listener(expected: Raft.NodeID)
        }

        /// The cluster CA certificates; a leaf signed by any of them is trusted (several while a CA
        /// is rotated).
        public let authorities: [Certificate]

        /// Creates a policy trusting node certificates signed by `authority`.
        public init(authority: Certificate) {
            self.authorities = [authority]
        }

        /// Creates a policy trusting node certificates signed by any of `authorities` (a CA bundle).
        public init(authorities: [Certificate]) {
            self.authorities = authorities
        }

        private static let understoodCriticalExtensions: Set<ASN1ObjectIdentifier> = [
            .X509ExtensionID.basicConstraints, .X509ExtensionID.keyUsage,
            .X509ExtensionID.extendedKeyUsage, .X509ExtensionID.subjectAlternativeName,
        ]

        /// The member id `chain` authenticates, or why it does not.
        ///
        /// - Parameters:
        ///   - chain: the certificates the peer presented, leaf first.
        ///   - role: which side the peer is on (and, when we dialed, whom we meant to reach).
        ///   - members: the ids currently allowed to connect.
        ///   - now: the time to check validity at.
        public func verify(
            chain: [Certificate], role: PeerRole, members: Set<Raft.NodeID>, now: Date
        ) -> Result<Raft.NodeID, PeerRejection> {
            guard let leaf = chain.first else { return .failure(.noCertificate) }
            guard let authority = CertificateBundle.issuer(of: leaf, among: authorities) else {
                return .failure(.untrustedIssuer(issuer: leaf.issuer.description))
            }
            guard authority.notValidBefore <= now, now <= authority.notValidAfter else {
                return .failure(.authorityExpired(notAfter: authority.notValidAfter))
            }
            guard leaf.notValidBefore <= now else { return .failure(.notYetValid(notBefore: leaf.notValidBefore)) }
            guard now <= leaf.notValidAfter else { return .failure(.expired(notAfter: leaf.notValidAfter)) }

            let ids: [Raft.NodeID]
            do {
                if let unknown = leaf.extensions.first(where: {
                    $0.critical && !Self.understoodCriticalExtensions.contains($0.oid)
                }) {
                    return .failure(.unhandledCriticalExtension(unknown.oid.description))
                }
                if let constraints = try leaf.extensions.basicConstraints,
                    case .isCertificateAuthority = constraints
                {
                    return .failure(.wrongCertificateUsage("it is a CA certificate"))
                }
                if let usage = try leaf.extensions.keyUsage, !usage.digitalSignature {
                    return .failure(.wrongCertificateUsage("key usage does not allow digitalSignature"))
                }
                let neededUsage: ExtendedKeyUsage.Usage
                switch role {
                case .dialer: neededUsage = .clientAuth
                case .listener: neededUsage = .serverAuth
                }
                guard let extendedUsage = try leaf.extensions.extendedKeyUsage,
                    extendedUsage.contains(neededUsage)
                else {
                    return .failure(.wrongCertificateUsage("extended key usage does not allow \(neededUsage)"))
                }
                let names = try leaf.extensions.subjectAlternativeNames.map(Array.init) ?? []
                ids = names.compactMap { name in
                    if case .uniformResourceIdentifier(let uri) = name,
                        uri.hasPrefix(NodeIdentity.uriPrefix)
                    {
                        // An invalid id under our prefix is kept (as the raw text) so it is reported, not skipped.
                        return NodeIdentity.nodeID(fromURI: uri)
                            ?? Raft.NodeID(String(uri.dropFirst(NodeIdentity.uriPrefix.count)))
                    }
                    return nil
                }
            } catch {
                return .failure(.malformedCertificate("\(error)"))
            }
            guard let id = ids.first else { return .failure(.missingNodeID) }
            guard ids.count == 1 else { return .failure(.ambiguousNodeID(ids)) }
            if case .listener(let expected) = role, id != expected {
                return .failure(.unexpectedPeer(expected: expected, presented: id))
            }
            guard members.contains(id) else { return .failure(.unknownMember(id)) }
            return .success(id)
        }
    }
}
