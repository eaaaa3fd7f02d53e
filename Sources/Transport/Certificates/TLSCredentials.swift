import Crypto
import Foundation
import NIOSSL
import RaftCore
import SwiftASN1
import X509

extension Transport {
    /// What a node needs to take part in peer TLS: the cluster CAs it trusts (a bundle of one or
    /// more), and its own certificate and key.
    ///
    /// Loading checks the set as a whole — the key matches the certificate, the certificate names
    /// the expected node id and is issued by one of the CAs — so a half-replaced set of files is
    /// refused before it is used. ``PeerTransport/reloadCredentials(_:)`` swaps in a new set
    /// without a restart.
    public struct TLSCredentials: Sendable {
        /// The cluster CA certificates a peer's certificate may chain to, in file order. More than
        /// one while a CA is being rotated (old and new both trusted).
        public let authorities: [Certificate]
        /// This node's certificate.
        public let certificate: Certificate
        /// The node id this node's certificate names.
        public let nodeID: Raft.NodeID
        let nioAuthorities: [NIOSSLCertificate]
        let nioCertificate: NIOSSLCertificate
        let nioPrivateKey: NIOSSLPrivateKey

        /// Loads the files named by the config's `[tls]` section (`ca`, `cert`, `key`), and checks
        /// that the key matches the certificate and the certificate names `expectedID`.
        public init(
            authorityFile: String, certificateFile: String, privateKeyFile: String, expectedID: Raft.NodeID
        ) throws {
            try self.init(
                authorityPEM: PEMFiles.read(authorityFile), certificatePEM: PEMFiles.read(certificateFile),
                privateKeyPEM: PEMFiles.read(privateKeyFile), expectedID: expectedID,
                sources: (authorityFile, certificateFile, privateKeyFile))
        }

        /// Credentials for the node `issued` names, trusting `authority`.
        public init(authority: DevCertificateAuthority, issued: IssuedCertificate) throws {
            try self.init(
                authorityPEM: authority.certificatePEM(), certificatePEM: issued.certificatePEM(),
                privateKeyPEM: try issued.privateKeyPEM(), expectedID: issued.id,
                sources: ("ca certificate", "\(issued.id) certificate", "\(issued.id) key"))
        }

        /// Credentials for the node `issued` names, trusting every CA of `authorities` (a bundle,
        /// in that order).
        public init(authorities: [DevCertificateAuthority], issued: IssuedCertificate) throws {
            try self.init(
                authorityPEM: authorities.map { try $0.certificatePEM() }.joined(),
                certificatePEM: issued.certificatePEM(), privateKeyPEM: try issued.privateKeyPEM(), expectedID: issued.id,
                sources: ("ca bundle", "\(issued.id) certificate", "\(issued.id) key"))
        }

        /// Credentials from PEM text.
        public init(
            authorityPEM: String, certificatePEM: String, privateKeyPEM: String, expectedID: Raft.NodeID
        ) throws {
            try self.init(
                authorityPEM: authorityPEM, certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM,
                expectedID: expectedID, sources: ("ca certificate", "node certificate", "node key"))
        }

        private init(
            authorityPEM: String, certificatePEM: String, privateKeyPEM: String, expectedID: Raft.NodeID,
            sources: (authority: String, certificate: String, key: String)
        ) throws {
            func parse<T>(_ what: String, _ body: () throws -> T) throws -> T {
                do { return try body() } catch {
                    throw CertificateError(.malformedFile, "\(what) is not valid PEM: \(error)")
                }
            }
            let authorities = try CertificateBundle.parse(authorityPEM, source: sources.authority)
            let certificate = try parse(sources.certificate) { try Certificate(pemEncoded: certificatePEM) }
            let key = try parse(sources.key) { try Certificate.PrivateKey(pemEncoded: privateKeyPEM) }
            guard key.publicKey == certificate.publicKey else {
                throw CertificateError(
                    .keyMismatch, "\(sources.key) is not the key of \(sources.certificate): use the matching pair")
            }
            let names = try certificate.extensions.subjectAlternativeNames.map(Array.init) ?? []
            let ids = names.compactMap { name -> Raft.NodeID? in
                if case .uniformResourceIdentifier(let uri) = name { return NodeIdentity.nodeID(fromURI: uri) }
                return nil
            }
            guard ids == [expectedID] else {
                throw CertificateError(
                    .identityMismatch,
                    "\(sources.certificate) names \(ids.map(\.rawValue)) but this node is \(expectedID): "
                        + "issue one with `quorum certs issue --id \(expectedID)`")
            }
            guard CertificateBundle.issuer(of: certificate, among: authorities) != nil else {
                throw CertificateError(
                    .untrustedIssuer,
                    "\(sources.certificate) (issued by \(certificate.issuer)) is not signed by any of the "
                        + "\(authorities.count) CA certificate(s) in \(sources.authority): during a CA rotation add the "
                        + "new CA to the bundle first, then replace the node certificate")
            }
            self.authorities = authorities
            self.certificate = certificate
            self.nodeID = expectedID
            // From the parsed certificates, not the text: BoringSSL's PEM reader misses a block that
            // starts on the line where the previous one ended (a bundle made without newlines).
            self.nioAuthorities = try authorities.enumerated().map { offset, authority in
                do {
                    var serializer = DER.Serializer()
                    try serializer.serialize(authority)
                    return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
                } catch {
                    throw CertificateError(
                        .malformedFile,
                        "certificate \(offset + 1) of \(authorities.count) in \(sources.authority) is refused by BoringSSL: \(error)")
                }
            }
            self.nioCertificate = try parse(sources.certificate) {
                try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
            }
            self.nioPrivateKey = try parse(sources.key) {
                try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
            }
        }

        /// The TLS settings for both sides of a peer connection: TLS 1.3 only, this node's
        /// certificate, and the peer's certificate required and checked (by the custom
        /// verification callback installed per connection, against ``PeerCertificatePolicy``).
        func tlsConfiguration(asServer: Bool) -> TLSConfiguration {
            var configuration =
                asServer
                ? TLSConfiguration.makeServerConfiguration(
                    certificateChain: [.certificate(nioCertificate)], privateKey: .privateKey(nioPrivateKey))
                : TLSConfiguration.makeClientConfiguration()
            configuration.certificateChain = [.certificate(nioCertificate)]
            configuration.privateKey = .privateKey(nioPrivateKey)
            configuration.minimumTLSVersion = .tlsv13
            configuration.maximumTLSVersion = .tlsv13
            // Requires a peer certificate on both sides (SSL_VERIFY_FAIL_IF_NO_PEER_CERT); hostnames
            // are not checked because identity is the node id, checked by PeerCertificatePolicy.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(nioAuthorities)
            configuration.renegotiationSupport = .none
            return configuration
        }
    }
}
