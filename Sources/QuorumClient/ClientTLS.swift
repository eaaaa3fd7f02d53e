import NIOSSL

/// The CLI's TLS settings for `https://` servers: a CA to trust (`--cacert`, for a cluster's own
/// CA from `quorum certs`) and, for nodes that require client certificates (`[api] client_ca`),
/// a certificate and key (`--cert`, `--key`).
public struct ClientTLS: Sendable, Hashable {
    /// PEM file of the CA(s) to trust instead of the system's roots.
    public var caFile: String?
    /// PEM client certificate (with ``keyFile``).
    public var certificateFile: String?
    /// PEM private key of ``certificateFile``.
    public var keyFile: String?

    /// Settings; all optional (an `https://` server with a public certificate needs none).
    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// The client configuration: TLS 1.2 or newer, hostnames verified.
    public func configuration() throws(QuorumClientError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile { configuration.trustRoots = .file(caFile) }
        switch (certificateFile, keyFile) {
        case (nil, nil): break
        case (let certificate?, let key?):
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw .invalidTLS("--cert \(certificate) / --key \(key) cannot be read as PEM (\(error))")
            }
        default:
            throw .invalidTLS("give --cert and --key together (a client certificate and its key)")
        }
        return configuration
    }
}
