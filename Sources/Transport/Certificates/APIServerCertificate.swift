import Crypto
import Foundation
import SwiftASN1
import X509

extension Transport.DevCertificateAuthority {
    /// Issues a certificate for a node's **HTTP API** (`[api] tls_cert`): server authentication
    /// only and the API's host names — deliberately no `quorum://node/` identity and no
    /// client-auth usage, so a stolen API key cannot be used to join the cluster as a peer.
    ///
    /// - Parameters:
    ///   - hosts: the names and addresses clients use (`localhost`, `127.0.0.1`, the node's DNS
    ///     name); IP literals become IP SANs, the rest DNS SANs. At least one.
    ///   - validity: the window.
    public func issueAPICertificate(hosts: [String], validity: Transport.CertificateValidity) throws -> Transport.APIServerCertificate {
        let hosts = hosts.filter { !$0.isEmpty }
        guard let first = hosts.first else {
            throw Transport.CertificateError(.missingHost, "an API certificate needs at least one host name or address (--host)")
        }
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let publicKey = key.publicKey
        let names: [GeneralName] = hosts.map { host in
            if let bytes = Transport.PEMFiles.ipAddressBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
            return .dnsName(host)
        }
        let caKeyIdentifier = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(names)
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier)
        }
        let subject = try DistinguishedName {
            OrganizationName("Quorum API")
            CommonName(first)
        }
        let issued = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: validity.notBefore, notValidAfter: validity.notAfter,
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: privateKey)
        return Transport.APIServerCertificate(certificate: issued, privateKey: key)
    }
}

extension Transport {
    /// An HTTP API server certificate and its key (``DevCertificateAuthority/issueAPICertificate(hosts:validity:)``).
    public struct APIServerCertificate: Sendable {
        /// The certificate.
        public let certificate: Certificate
        let privateKey: Certificate.PrivateKey

        /// The certificate in PEM.
        public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }

        /// The private key in PEM (PKCS#8).
        public func privateKeyPEM() throws -> String { try privateKey.serializeAsPEM().pemString }

        /// Writes `<name>.pem` (0644) and `<name>.key` (0600) into `directory`; refuses to overwrite.
        public func write(to directory: String, name: String) throws {
            try PEMFiles.ensureDirectory(directory)
            try PEMFiles.createNew(PEMFiles.path(directory, "\(name).key"), containing: try privateKeyPEM(), mode: PEMFiles.privateKeyMode)
            try PEMFiles.createNew(PEMFiles.path(directory, "\(name).pem"), containing: try certificatePEM(), mode: PEMFiles.certificateMode)
        }
    }
}
