import Foundation
import Logging
import NIOCore
import NIOSSL
import NodeMetrics
import ServiceLifecycle
import Synchronization

/// The HTTP API's TLS (`[api] tls_cert`, `tls_key`, optional `client_ca`): TLS 1.2 or newer,
/// and with `client_ca`, clients must present a certificate from that CA (mutual TLS).
///
/// **Reload without restart.** The server's TLS configuration asks, per handshake, which
/// certificate and key to use (NIOSSL's `sslContextCallback`); ``APITLSWatcher`` re-reads
/// `tls_cert` and `tls_key` when their size, modification time or inode changes (checked every
/// second) and swaps them, so a renewed certificate is served from the next connection on. A pair
/// that does not load (a half-copied key, a key that does not match) is logged and not applied;
/// the previous pair stays. `client_ca` is read at start only.
final class APITLS: Sendable {
    let certificatePath: String
    let keyPath: String
    let clientCAPath: String?
    private let pair: Mutex<NIOSSLContextConfigurationOverride>
    /// The metadata of ``watchedFiles`` just before they were loaded at start.
    let loadedStamps: [[String]]

    /// Loads the files; a node whose API TLS files do not load does not start.
    init(certificate: String, key: String, clientCA: String?) throws(CLIError) {
        certificatePath = certificate
        keyPath = key
        clientCAPath = clientCA
        loadedStamps = [certificate, key].map(FileChangePoller.stamp(of:))
        pair = Mutex(try Self.loadPair(certificate: certificate, key: key, clientCA: clientCA))
    }

    /// The configuration the server starts with; every connection then takes ``current``.
    func serverConfiguration() throws(CLIError) -> TLSConfiguration {
        var configuration = try Self.configuration(certificate: certificatePath, key: keyPath, clientCA: clientCAPath)
        configuration.sslContextCallback = { [self] _, promise in promise.succeed(current) }
        return configuration
    }

    /// The certificate chain and key new handshakes use.
    var current: NIOSSLContextConfigurationOverride { pair.withLock { $0 } }

    /// Re-reads the certificate and key and swaps them in; throws (keeping the old pair) if
    /// they do not load together.
    func reload() throws(CLIError) {
        let fresh = try Self.loadPair(certificate: certificatePath, key: keyPath, clientCA: clientCAPath)
        pair.withLock { $0 = fresh }
    }

    /// The files whose changes trigger a reload.
    var watchedFiles: [String] { [certificatePath, keyPath] }

    /// The pair as an override, checked by building a whole context from it first (a key that
    /// does not match its certificate fails here, not in a client's handshake).
    static func loadPair(certificate: String, key: String, clientCA: String?) throws(CLIError) -> NIOSSLContextConfigurationOverride {
        let configuration = try configuration(certificate: certificate, key: key, clientCA: clientCA)
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

    static func configuration(certificate: String, key: String, clientCA: String?) throws(CLIError) -> TLSConfiguration {
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
        if let clientCA {
            guard FileManager.default.fileExists(atPath: clientCA) else {
                throw .invalidInput("[api] client_ca \(clientCA) does not exist")
            }
            configuration.trustRoots = .file(clientCA)
            configuration.certificateVerification = .noHostnameVerification
        }
        return configuration
    }
}

/// Re-reads the API's TLS files when they change (see ``APITLS``).
struct APITLSWatcher: Service {
    let tls: APITLS
    /// Counts each reload in `quorum_tls_reloads_total{target="api"}`.
    let metrics: QuorumMetrics
    let logger: Logger

    func run() async throws {
        await FileChangePoller.run(paths: tls.watchedFiles, initial: tls.loadedStamps) { reload(trigger: "file change") }
    }

    /// Re-reads the pair now and serves it if it loads; `trigger` (`file change`, `SIGHUP`)
    /// goes into the log line.
    func reload(trigger: String) {
        do {
            try tls.reload()
            metrics.tlsReloaded(.api, succeeded: true)
            logger.notice("reloaded the API's TLS certificate", metadata: ["cert": "\(tls.certificatePath)", "trigger": "\(trigger)"])
        } catch {
            metrics.tlsReloaded(.api, succeeded: false)
            logger.error("the API's TLS files do not load; still serving the previous certificate",
                         metadata: ["error": "\(error)", "trigger": "\(trigger)"])
        }
    }
}
