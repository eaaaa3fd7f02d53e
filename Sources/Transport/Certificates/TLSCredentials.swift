import Crypto
import Foundation
import NIOSSL
import RaftCore
import X509

extension Transport {
    /// What a node needs to take part in peer TLS: the cluster CA it trusts, and its own
    /// certificate and key. Loaded once at start; rotating means restarting with new files.
    public struct TLSCredentials: Sendable {
        /// The cluster CA certificate every peer must chain to.
        public let authority: Certificate
        /// This node's certificate.
        public let certificate: Certificate
        /// The node id this node's certificate names.
        public let nodeID: Raft.NodeID
        let nioAuthority: NIOSSLCertificate
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
            let authority = try parse(sources.authority) { try Certificate(pemEncoded: authorityPEM) }
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
            self.authority = authority
            self.certificate = certificate
            self.nodeID = expectedID
            self.nioAuthority = try parse(sources.authority) {
                try NIOSSLCertificate(bytes: Array(authorityPEM.utf8), format: .pem)
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
            configuration.trustRoots = .certificates([nioAuthority])
            configuration.renegotiationSupport = .none
            return configuration
        }
    }
}
