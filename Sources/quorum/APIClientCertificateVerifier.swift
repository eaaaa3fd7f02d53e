import Foundation
import NIOSSL
import SwiftASN1
import Synchronization
import Transport
import X509

/// Checks API clients' certificates against `[api] client_ca`, a set of CA certificates that can
/// be swapped while the node runs.
///
/// BoringSSL's own verification reads its trust roots once, when the TLS context is built, so a
/// new `client_ca` would need a restart. Instead the server still asks for and requires a
/// client certificate, but hands the chain to ``verify(_:)`` (NIOSSL's custom verification
/// callback), which checks it with swift-certificates' `Verifier` against the CAs loaded last.
/// The file may be a bundle (several CAs concatenated), e.g. the old and the new CA while
/// client certificates move from one to the other.
final class APIClientCertificateVerifier: Sendable {
    /// The `client_ca` file.
    let path: String
    private let authorities: Mutex<[Certificate]>

    /// Loads `path`; throws (naming the file and the broken block) if it holds no usable CA.
    init(path: String) throws(CLIError) {
        self.path = path
        authorities = Mutex(try Self.load(path: path))
    }

    /// Re-reads the file and trusts what it holds from the next handshake on; throws, keeping
    /// the CAs trusted so far, if it does not load.
    func reload() throws(CLIError) {
        let fresh = try Self.load(path: path)
        authorities.withLock { $0 = fresh }
    }

    /// How many CA certificates are trusted now.
    var authorityCount: Int { authorities.withLock { $0.count } }

    /// Whether `chain` (leaf first, as the client sent it) leads to one of the trusted CAs now:
    /// RFC 5280 path validation at the current time, with a leaf usable for client
    /// authentication. Anything after the leaf is only a candidate intermediate.
    func verify(_ chain: [NIOSSLCertificate]) async -> NIOSSLVerificationResult {
        let certificates: [Certificate]
        do {
            certificates = try chain.map { try Certificate(derEncoded: $0.toDERBytes()) }
        } catch {
            return .failed
        }
        guard let leaf = certificates.first else { return .failed }
        let roots = authorities.withLock { $0 }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy()
            ClientAuthenticationUsagePolicy()
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(certificates.dropFirst()))
        if case .validCertificate = result { return .certificateVerified }
        return .failed
    }

    /// The CA certificates in `path`.
    static func load(path: String) throws(CLIError) -> [Certificate] {
        let pem: String
        do {
            pem = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .invalidInput("[api] client_ca \(path) cannot be read (\(error)); it must be a PEM file of CA certificates")
        }
        do {
            return try Transport.CertificateBundle.parse(pem, source: "[api] client_ca \(path)")
        } catch {
            throw .invalidInput(error.message)
        }
    }
}

/// The leaf of a client's chain must allow client authentication: no extended key usage at all
/// (any use), or one that lists `clientAuth` — what BoringSSL checks for a client certificate,
/// so an API server certificate (serverAuth only, `quorum certs api`) cannot log in as a client.
struct ClientAuthenticationUsagePolicy: VerifierPolicy {
    /// A critical extended key usage is enforced here, so it does not fail the chain as unknown.
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.extendedKeyUsage]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        let usage: ExtendedKeyUsage?
        do {
            usage = try chain.leaf.extensions.extendedKeyUsage
        } catch {
            return .failsToMeetPolicy(reason: "the client certificate's extended key usage does not parse: \(error)")
        }
        guard let usage, !usage.contains(.clientAuth), !usage.contains(.any) else { return .meetsPolicy }
        return .failsToMeetPolicy(reason: "the client certificate's extended key usage does not allow clientAuth")
    }
}
