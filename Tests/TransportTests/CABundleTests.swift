import Crypto
import Foundation
import RaftCore
import Testing
import X509

@testable import Transport

private func bundleDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "quorum-bundle-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("CA bundles: several trusted CAs in one [tls] ca file")
struct CABundleTests {
    let now = Date()
    let members: Set<Raft.NodeID> = ["n1", "n2", "n3"]

    @Test("credentials load a two-CA bundle, in file order, with a certificate from either CA")
    func credentialsFromEitherCA() throws {
        let old = try Transport.DevCertificateAuthority.create(validity: .current())
        let new = try Transport.DevCertificateAuthority.create(validity: .current())
        for issuer in [old, new] {
            let issued = try issuer.issueNodeCertificate(id: "n1", hosts: [], validity: .current())
            let credentials = try Transport.TLSCredentials(authorities: [old, new], issued: issued)
            #expect(credentials.authorities == [old.certificate, new.certificate])
            #expect(credentials.nioAuthorities.count == 2)
        }
    }

    @Test("the policy accepts a leaf from any CA of the bundle and refuses a third CA's")
    func policyAcceptsAnyListedCA() throws {
        let first = try Transport.DevCertificateAuthority.create(validity: .current())
        let second = try Transport.DevCertificateAuthority.create(validity: .current())
        let third = try Transport.DevCertificateAuthority.create(validity: .current())
        let policy = Transport.PeerCertificatePolicy(authorities: [first.certificate, second.certificate])
        for issuer in [first, second] {
            let leaf = try issuer.issueNodeCertificate(id: "n2", hosts: [], validity: .current()).certificate
            #expect(policy.verify(chain: [leaf], role: .dialer, members: members, now: now) == .success("n2"))
        }
        let stranger = try third.issueNodeCertificate(id: "n2", hosts: [], validity: .current()).certificate
        let result = policy.verify(chain: [stranger], role: .dialer, members: members, now: now)
        guard case .failure(.untrustedIssuer) = result else {
            Issue.record("a third CA's leaf was not refused as untrusted: \(result)")
            return
        }
    }

    @Test("an expired CA in the bundle does not stop the other CA's leaves")
    func expiredOldAuthority() throws {
        let expired = try Transport.DevCertificateAuthority.create(
            validity: .init(notBefore: now.addingTimeInterval(-7200), notAfter: now.addingTimeInterval(-3600)))
        let current = try Transport.DevCertificateAuthority.create(validity: .current())
        let policy = Transport.PeerCertificatePolicy(authorities: [expired.certificate, current.certificate])
        let leaf = try current.issueNodeCertificate(id: "n3", hosts: [], validity: .current()).certificate
        #expect(policy.verify(chain: [leaf], role: .dialer, members: members, now: now) == .success("n3"))
    }

    @Test("an empty bundle is refused, naming the file")
    func emptyBundle() throws {
        let ca = try Transport.DevCertificateAuthority.create(validity: .current())
        let issued = try ca.issueNodeCertificate(id: "n1", hosts: [], validity: .current())
        for text in ["", "# nothing here\n"] {
            let error = #expect(throws: Transport.CertificateError.self) {
                try Transport.TLSCredentials(
                    authorityPEM: text, certificatePEM: issued.certificatePEM(), privateKeyPEM: issued.privateKeyPEM(),
                    expectedID: "n1")
            }
            #expect(error?.code == .malformedFile)
            #expect(error?.message.contains("ca certificate holds no certificate") == true, "\(String(describing: error))")
        }
    }

    @Test("a bundle whose second block is not a certificate is refused, naming its position")
    func malformedSecondBlock() throws {
        let ca = try Transport.DevCertificateAuthority.create(validity: .current())
        let issued = try ca.issueNodeCertificate(id: "n1", hosts: [], validity: .current())
        let keyBlock = try issued.privateKeyPEM()
        let notACertificate = "-----BEGIN CERTIFICATE-----\nAAECAwQ=\n-----END CERTIFICATE-----\n"
        for (second, expected) in [(keyBlock, "PRIVATE KEY block, not a CERTIFICATE"),
                                   (notACertificate, "is not a valid certificate")] {
            let error = #expect(throws: Transport.CertificateError.self) {
                try Transport.TLSCredentials(
                    authorityPEM: try ca.certificatePEM() + second, certificatePEM: issued.certificatePEM(),
                    privateKeyPEM: issued.privateKeyPEM(), expectedID: "n1")
            }
            #expect(error?.code == .malformedFile)
            #expect(error?.message.contains("certificate 2 of 2 in ca certificate") == true, "\(String(describing: error))")
            #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
        }
    }

    @Test("a bundle whose second block is not base64 is refused, naming the block")
    func corruptSecondBlock() throws {
        let ca = try Transport.DevCertificateAuthority.create(validity: .current())
        let issued = try ca.issueNodeCertificate(id: "n1", hosts: [], validity: .current())
        let corrupt = "-----BEGIN CERTIFICATE-----\n@@not base64@@\n-----END CERTIFICATE-----\n"
        let error = #expect(throws: Transport.CertificateError.self) {
            try Transport.TLSCredentials(
                authorityPEM: try ca.certificatePEM() + "\n" + corrupt, certificatePEM: issued.certificatePEM(),
                privateKeyPEM: issued.privateKeyPEM(), expectedID: "n1")
        }
        #expect(error?.code == .malformedFile)
        #expect(error?.message.hasPrefix("block 2 of 2 in ca certificate is not valid PEM") == true, "\(String(describing: error))")
    }

    @Test("a node certificate from a CA not in the bundle is refused at load")
    func certificateFromAnotherCA() throws {
        let listed = try Transport.DevCertificateAuthority.create(validity: .current())
        let unlisted = try Transport.DevCertificateAuthority.create(validity: .current())
        let issued = try unlisted.issueNodeCertificate(id: "n1", hosts: [], validity: .current())
        let error = #expect(throws: Transport.CertificateError.self) {
            try Transport.TLSCredentials(authorities: [listed], issued: issued)
        }
        #expect(error?.code == .untrustedIssuer)
        #expect(error?.message.contains("not signed by any of the 1 CA certificate(s) in ca bundle") == true)
    }

    @Test("`quorum certs` reads a bundled ca.pem: the CA is the certificate matching ca.key")
    func authorityFromBundle() throws {
        let directory = try bundleDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = try Transport.DevCertificateAuthority.create(validity: .current())
        let new = try Transport.DevCertificateAuthority.create(validity: .current())
        try new.write(to: directory)
        try (try old.certificatePEM() + new.certificatePEM()).write(
            toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        #expect(try Transport.DevCertificateAuthority(loadingFrom: directory).certificate == new.certificate)

        try old.certificatePEM().write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        let error = #expect(throws: Transport.CertificateError.self) {
            try Transport.DevCertificateAuthority(loadingFrom: directory)
        }
        #expect(error?.code == .keyMismatch)
    }

    @Test("a transport refuses to reload credentials naming another node, and keeps its own")
    func reloadRefusesAnotherNode() throws {
        let ca = try Transport.DevCertificateAuthority.create(validity: .current())
        let mine = try Transport.TLSCredentials(
            authority: ca, issued: ca.issueNodeCertificate(id: "n1", hosts: [], validity: .current()))
        let theirs = try Transport.TLSCredentials(
            authority: ca, issued: ca.issueNodeCertificate(id: "n2", hosts: [], validity: .current()))
        let transport = try Transport.PeerTransport(
            configuration: .init(credentials: mine, listen: .init(host: "127.0.0.1", port: 0)),
            logger: CapturedLogs().logger("reload"))
        let error = #expect(throws: Transport.CertificateError.self) { try transport.reloadCredentials(theirs) }
        #expect(error?.code == .identityMismatch)
        #expect(transport.currentCredentials().certificate == mine.certificate)
    }
}
