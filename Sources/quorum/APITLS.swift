import Foundation
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import NodeMetrics
import ServiceLifecycle
import Synchronization

/// The HTTP API's TLS (`[api] tls_cert`, `tls_key`, optional `client_ca`): TLS 1.2 or newer,
/// and with `client_ca`, clients must present a certificate from one of its CAs (mutual TLS).
///
/// **Reload without restart.** The server's TLS configuration asks, per handshake, which
/// certificate and key to use (NIOSSL's `sslContextCallback`) and, with `client_ca`, checks the
/// client's chain itself against the CAs loaded last (``APIClientCertificateVerifier``, NIOSSL's
/// custom verification callback: BoringSSL's trust roots cannot be swapped in a running context).
/// ``APITLSWatcher`` re-reads `tls_cert`, `tls_key` and `client_ca` when their size,
/// modification time or inode changes (checked every second), so a renewed certificate or CA
/// bundle applies from the next connection on. Files that do not load (a half-copied key, a key
/// that does not match, a CA file that is not PEM certificates) are logged and not applied; what
/// was loaded before stays. The pair and the CA file are applied independently.
final class APITLS: Sendable {
    let certificatePath: String
    let keyPath: String
    /// The client CAs, with `client_ca`.
    let clientCAs: APIClientCertificateVerifier?
    private let pair: Mutex<NIOSSLContextConfigurationOverride>
    /// The metadata of ``watchedFiles`` just before they were loaded at start.
    let loadedStamps: [[String]]

    /// Loads the files; a node whose API TLS files do not load does not start.
    init(certificate: String, key: String, clientCA: String?) throws(CLIError) {
        certificatePath = certificate
        keyPath = key
        loadedStamps = ([certificate, key] + (clientCA.map { [$0] } ?? [])).map(FileChangePoller.stamp(of:))
        pair = Mutex(try Self.loadPair(certificate: certificate, key: key))
        if let clientCA {
            guard FileManager.default.fileExists(atPath: clientCA) else {
                throw .invalidInput("[api] client_ca \(clientCA) does not exist")
            }
            clientCAs = try APIClientCertificateVerifier(path: clientCA)
        } else {
            clientCAs = nil
        }
    }

    /// The configuration the server starts with; every connection then takes ``current`` and,
    /// with `client_ca`, has its client certificate checked against the current CAs.
    func serverConfiguration() throws(CLIError) -> TLSChannelConfiguration {
        var configuration = try Self.configuration(certificate: certificatePath, key: keyPath)
        configuration.sslContextCallback = { [self] _, promise in promise.succeed(current) }
        guard let clientCAs else { return TLSChannelConfiguration(tlsConfiguration: configuration) }
        // Still asks for, and requires, a client certificate; the custom callback replaces
        // BoringSSL's chain check, so no trust roots are loaded into the context.
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([])
        return TLSChannelConfiguration(tlsConfiguration: configuration) { chain in await clientCAs.verify(chain) }
    }

    /// The certificate chain and key new handshakes use.
    var current: NIOSSLContextConfigurationOverride { pair.withLock { $0 } }

    /// Re-reads the certificate and key, and the client CAs, and swaps in each that loads;
    /// throws naming what did not load (which keeps its previous version).
    func reload() throws(CLIError) {
        var failures: [String] = []
        do {
            let fresh = try Self.loadPair(certificate: certificatePath, key: keyPath)
            pair.withLock { $0 = fresh }
        } catch {
            failures.append(error.message)
        }
        do {
            try clientCAs?.reload()
        } catch {
            failures.append(error.message)
        }
        guard failures.isEmpty else { throw .invalidInput(failures.joined(separator: "; ")) }
    }

    /// The files whose changes trigger a reload.
    var watchedFiles: [String] { [certificatePath, keyPath] + (clientCAs.map { [$0.path] } ?? []) }

    /// The pair as an override, checked by building a whole context from it first (a key that
    /// does not match its certificate fails here, not in a client's handshake).
    static func loadPair(certificate: String, key: String) throws(CLIError) -> NIOSSLContextConfigurationOverride {
        let configuration = try configuration(certificate: certificate, key: key)
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidInput("[api] tls_cert \(certificate) / tls_key \(key): not a usable certificate and key (\(error)); "
                + "issue one with `quorum certs api --ca DIR --host HOST`")
        }
        var pair = NIOSSLContextConfigurationOverride()
        pair.certificateChain = configuration.certificateChain
        pair.privateKey = configuration.privateKey
        return pair
    }

    /// A server configuration serving the pair, without client certificates.
    static func configuration(certificate: String, key: String) throws(CLIError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw .invalidInput("[api] tls_cert \(certificate) cannot be read as PEM certificates (\(error))")
        }
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw .invalidInput("[api] tls_key \(key) cannot be read as a PEM private key (\(error))")
        }
        guard !chain.isEmpty else { throw .invalidInput("[api] tls_cert \(certificate) holds no certificate") }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}

/// Re-reads the API's TLS files when they change (see ``APITLS``).
struct APITLSWatcher: Service {
    let tls: APITLS
    /// Counts each reload in `quorum_tls_reloads_total{target="api"}` (`error` when the pair or
    /// `client_ca` did not load).
    let metrics: QuorumMetrics
    let logger: Logger

    func run() async throws {
        await FileChangePoller.run(paths: tls.watchedFiles, initial: tls.loadedStamps) { reload(trigger: "file change") }
    }

    /// Re-reads the pair and `client_ca` now and applies each that loads; `trigger` (`file change`, `SIGHUP`)
    /// goes into the log line.
    func reload(trigger: String) {
        do {
            try tls.reload()
            metrics.tlsReloaded(.api, succeeded: true)
            logger.notice("\(tls.clientCAs == nil ? "reloaded the API's TLS certificate" : "reloaded the API's TLS certificate and client CAs")",
                          metadata: ["cert": "\(tls.certificatePath)", "client_ca": "\(tls.clientCAs?.path ?? "-")",
                                     "client_cas": "\(tls.clientCAs?.authorityCount ?? 0)", "trigger": "\(trigger)"])
        } catch {
            metrics.tlsReloaded(.api, succeeded: false)
            logger.error("the API's TLS files do not load; what did not load keeps its previous version (certificate or client CAs)",
                         metadata: ["error": "\(error)", "trigger": "\(trigger)"])
        }
    }
}
