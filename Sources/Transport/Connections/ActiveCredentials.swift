import NIOSSL

extension Transport {
    /// A set of credentials ready for connections: the TLS contexts of both sides and the
    /// certificate policy, all built from the same ``TLSCredentials``. A connection takes one
    /// snapshot when it starts, so a reload in the middle of a handshake cannot mix the old and
    /// the new files.
    struct ActiveCredentials: Sendable {
        let credentials: TLSCredentials
        let serverContext: NIOSSLContext
        let clientContext: NIOSSLContext
        let policy: PeerCertificatePolicy

        /// Builds both contexts; throws if BoringSSL refuses the certificate, key or CAs.
        init(_ credentials: TLSCredentials) throws {
            self.credentials = credentials
            self.serverContext = try NIOSSLContext(configuration: credentials.tlsConfiguration(asServer: true))
            self.clientContext = try NIOSSLContext(configuration: credentials.tlsConfiguration(asServer: false))
            self.policy = PeerCertificatePolicy(authorities: credentials.authorities)
        }
    }
}
