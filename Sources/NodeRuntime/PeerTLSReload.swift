import Logging
import NodeMetrics
import RaftCore
import Transport

/// Re-reads the peer TLS files (`[tls] ca`, `cert`, `key`) and swaps them into the running
/// transport, without a restart.
///
/// The three files are loaded and checked as one set (``Transport/TLSCredentials``: the key
/// matches the certificate, the certificate names this node and is signed by one of the bundle's
/// CAs) before anything changes. A set that does not pass — typically caught half-way through
/// being replaced, or a certificate issued by a CA not yet in the bundle — is logged with the
/// file and the reason and counted as `quorum_tls_reloads_total{target="peer",outcome="error"}`;
/// the transport keeps the credentials it had. The watcher calls this again on the next change,
/// so finishing the copy is enough to recover.
public struct PeerTLSReload: Sendable {
    /// `[tls] ca`: one or more CA certificates (a bundle).
    public let authorityFile: String
    /// `[tls] cert`: this node's certificate.
    public let certificateFile: String
    /// `[tls] key`: this node's private key.
    public let privateKeyFile: String
    let transport: Transport.PeerTransport
    let metrics: QuorumMetrics
    let logger: Logger

    /// The files whose changes should trigger ``reload()``.
    public var files: [String] { [authorityFile, certificateFile, privateKeyFile] }

    /// Loads the files and replaces the transport's credentials; on failure keeps the old ones.
    /// Every call is logged and counted (`ok` or `error`).
    @discardableResult
    public func reload() -> Result<Transport.TLSCredentials, any Error> {
        let id = transport.configuration.nodeID
        do {
            let credentials = try Transport.TLSCredentials(
                authorityFile: authorityFile, certificateFile: certificateFile, privateKeyFile: privateKeyFile,
                expectedID: id)
            try transport.reloadCredentials(credentials)
            metrics.tlsReloaded(.peer, succeeded: true)
            logger.notice(
                "reloaded the peer TLS files; new peer connections use them",
                metadata: [
                    "ca": "\(authorityFile)", "cert": "\(certificateFile)", "key": "\(privateKeyFile)",
                    "authorities": "\(credentials.authorities.count)",
                ])
            return .success(credentials)
        } catch {
            metrics.tlsReloaded(.peer, succeeded: false)
            logger.error(
                "the peer TLS files changed but cannot be used; still using the previous certificate, key and CAs",
                metadata: [
                    "ca": "\(authorityFile)", "cert": "\(certificateFile)", "key": "\(privateKeyFile)",
                    "error": "\(error)",
                ])
            return .failure(error)
        }
    }
}
