import Crypto
import Foundation
import RaftCore
import SwiftASN1
import X509

extension Transport {
    /// The cluster's certificate authority: a self-signed ECDSA P-256 CA that signs one
    /// certificate per node. `quorum certs init` and `quorum certs issue` are built on it.
    ///
    /// Files (see `docs/security.md`): `ca.pem` (the CA certificate every node trusts),
    /// `ca.key` (mode 0600; only needed to issue certificates, keep it off the nodes),
    /// `<id>.pem` and `<id>.key` (mode 0600) per node.
    public struct DevCertificateAuthority: Sendable {
        /// The CA certificate (`ca.pem`).
        public let certificate: Certificate
        /// The CA's signing key (`ca.key`).
        let privateKey: Certificate.PrivateKey

        /// File name of the CA certificate in a certificate directory.
        public static let certificateFileName = "ca.pem"
        /// File name of the CA key in a certificate directory.
        public static let privateKeyFileName = "ca.key"

        /// Creates a new CA with a fresh P-256 key.
        public static func create(
            commonName: String = "Quorum cluster CA", validity: CertificateValidity
        ) throws -> DevCertificateAuthority {
            let signingKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
            let name = try DistinguishedName {
                OrganizationName("Quorum")
                CommonName(commonName)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: signingKey.publicKey)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: signingKey.publicKey,
                notValidBefore: validity.notBefore,
                notValidAfter: validity.notAfter,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: signingKey)
            return DevCertificateAuthority(certificate: certificate, privateKey: signingKey)
        }

        /// Loads `ca.pem` and `ca.key` from `directory`, checking that the key belongs to the certificate.
        ///
        /// `ca.pem` may be a bundle (several CA certificates, as during a CA rotation); the CA is
        /// the bundle's certificate whose public key is `ca.key`'s.
        public init(loadingFrom directory: String) throws {
            let certificatePath = PEMFiles.path(directory, Self.certificateFileName)
            let keyPath = PEMFiles.path(directory, Self.privateKeyFileName)
            let bundle = try CertificateBundle.parse(try PEMFiles.read(certificatePath), source: certificatePath)
            let key: Certificate.PrivateKey
            do {
                key = try Certificate.PrivateKey(pemEncoded: try PEMFiles.read(keyPath))
            } catch let error as CertificateError {
                throw error
            } catch {
                throw CertificateError(.malformedFile, "\(keyPath) is not a PEM ECDSA P-256 private key: \(error)")
            }
            guard let certificate = bundle.first(where: { $0.publicKey == key.publicKey }) else {
                throw CertificateError(
                    .keyMismatch,
                    "\(keyPath) is not the key of \(bundle.count == 1 ? "" : "any certificate in ")\(certificatePath): "
                        + "restore the matching pair")
            }
            self.init(certificate: certificate, privateKey: key)
        }

        init(certificate: Certificate, privateKey: Certificate.PrivateKey) {
            self.certificate = certificate
            self.privateKey = privateKey
        }

        /// The CA certificate in PEM.
        public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }

        /// Writes `ca.pem` (0644) and `ca.key` (0600) into `directory`, creating it if needed.
        /// Refuses to overwrite either file.
        public func write(to directory: String) throws {
            try PEMFiles.ensureDirectory(directory)
            try PEMFiles.createNew(
                PEMFiles.path(directory, Self.privateKeyFileName),
                containing: try privateKey.serializeAsPEM().pemString, mode: PEMFiles.privateKeyMode)
            try PEMFiles.createNew(
                PEMFiles.path(directory, Self.certificateFileName),
                containing: try certificatePEM(), mode: PEMFiles.certificateMode)
        }

        /// Issues a node certificate for `id`, usable both to accept and to dial peer connections.
        ///
        /// - Parameters:
        ///   - id: the member id; it goes into the URI SAN `quorum://node/<id>` (the identity
        ///     peers check) and the common name (for people).
        ///   - hosts: the node's addresses; IP literals become IP SANs, the rest DNS SANs. Peers do
        ///     not check them (identity is the node id), but tools such as `openssl s_client` can.
        ///   - validity: the window; use ``CertificateValidity/days(_:from:)``.
        public func issueNodeCertificate(
            id: Raft.NodeID, hosts: [String], validity: CertificateValidity
        ) throws -> IssuedCertificate {
            try NodeIdentity.validate(id)
            let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
            let publicKey = key.publicKey
            var names: [GeneralName] = [.uniformResourceIdentifier(NodeIdentity.uri(for: id))]
            for host in hosts where !host.isEmpty {
                if let bytes = PEMFiles.ipAddressBytes(host) {
                    names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
                } else {
                    names.append(.dnsName(host))
                }
            }
            let caKeyIdentifier = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier)
            }
            let subject = try DistinguishedName {
                OrganizationName("Quorum")
                CommonName(id.rawValue)
            }
            let issued = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: validity.notBefore,
                notValidAfter: validity.notAfter,
                issuer: certificate.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: privateKey)
            return IssuedCertificate(id: id, certificate: issued, privateKey: key)
        }
    }

    /// A node's certificate and private key, as issued by ``DevCertificateAuthority``.
    public struct IssuedCertificate: Sendable {
        /// The node the certificate names.
        public let id: Raft.NodeID
        /// The node certificate (`<id>.pem`).
        public let certificate: Certificate
        /// The node's private key (`<id>.key`).
        let privateKey: Certificate.PrivateKey

        /// The certificate in PEM.
        public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }

        /// The private key in PEM (PKCS#8).
        public func privateKeyPEM() throws -> String { try privateKey.serializeAsPEM().pemString }

        /// Writes `<id>.pem` (0644) and `<id>.key` (0600) into `directory`, creating it if needed.
        /// Refuses to overwrite either file.
        public func write(to directory: String) throws {
            try PEMFiles.ensureDirectory(directory)
            try PEMFiles.createNew(
                PEMFiles.path(directory, "\(id.rawValue).key"), containing: try privateKeyPEM(),
                mode: PEMFiles.privateKeyMode)
            try PEMFiles.createNew(
                PEMFiles.path(directory, "\(id.rawValue).pem"), containing: try certificatePEM(),
                mode: PEMFiles.certificateMode)
        }
    }
}
