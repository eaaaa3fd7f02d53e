import Crypto
import Foundation
import RaftCore
import SwiftASN1
import Testing
import X509

@testable import Transport

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "quorum-certs-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func mode(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return try #require(attributes[.posixPermissions] as? Int)
}

@Suite("Cluster certificates")
struct CertificateTests {
    @Test("a node certificate names its id in a URI SAN and its hosts as IP and DNS SANs")
    func nodeCertificateContents() throws {
        let authority = try Transport.DevCertificateAuthority.create(validity: .current())
        let issued = try authority.issueNodeCertificate(
            id: "n1", hosts: ["127.0.0.1", "::1", "node1.example"], validity: .current())
        let names = try #require(try issued.certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.uniformResourceIdentifier("quorum://node/n1")))
        #expect(names.contains(.dnsName("node1.example")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))))
        #expect(issued.certificate.issuer == authority.certificate.subject)
        #expect(authority.certificate.publicKey.isValidSignature(issued.certificate.signature, for: issued.certificate))
        #expect(try issued.certificate.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        #expect(try issued.certificate.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(try issued.certificate.extensions.basicConstraints == .notCertificateAuthority)
    }

    @Test("ids that cannot be written safely into a URI and a file name are refused", arguments: ["", "../n1", "n 1", "n1/x", ".."])
    func invalidIDs(id: String) throws {
        let authority = try Transport.DevCertificateAuthority.create(validity: .current())
        #expect(throws: Transport.CertificateError.self) {
            try authority.issueNodeCertificate(id: Raft.NodeID(id), hosts: [], validity: .current())
        }
    }

    @Test("files are written as ca.pem, ca.key, <id>.pem, <id>.key with keys 0600, and load back")
    func filesRoundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try Transport.DevCertificateAuthority.create(validity: .current())
        try authority.write(to: directory)
        let issued = try authority.issueNodeCertificate(id: "n2", hosts: ["127.0.0.1"], validity: .current())
        try issued.write(to: directory)

        #expect(try mode(of: directory + "/ca.key") == 0o600)
        #expect(try mode(of: directory + "/n2.key") == 0o600)
        #expect(try mode(of: directory + "/ca.pem") == 0o644)
        #expect(try mode(of: directory + "/n2.pem") == 0o644)

        let reloaded = try Transport.DevCertificateAuthority(loadingFrom: directory)
        #expect(reloaded.certificate == authority.certificate)
        let credentials = try Transport.TLSCredentials(
            authorityFile: directory + "/ca.pem", certificateFile: directory + "/n2.pem",
            privateKeyFile: directory + "/n2.key", expectedID: "n2")
        #expect(credentials.nodeID == "n2")
        #expect(credentials.certificate == issued.certificate)
    }

    @Test("existing key files are never overwritten")
    func noOverwrite() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Transport.DevCertificateAuthority.create(validity: .current()).write(to: directory)
        let error = #expect(throws: Transport.CertificateError.self) {
            try Transport.DevCertificateAuthority.create(validity: .current()).write(to: directory)
        }
        #expect(error?.code == .fileExists)
    }

    @Test("credentials whose certificate names another id are refused at load")
    func credentialsIdentityMismatch() throws {
        let authority = try Transport.DevCertificateAuthority.create(validity: .current())
        let issued = try authority.issueNodeCertificate(id: "n1", hosts: [], validity: .current())
        let error = #expect(throws: Transport.CertificateError.self) {
            try Transport.TLSCredentials(
                authorityPEM: authority.certificatePEM(), certificatePEM: issued.certificatePEM(),
                privateKeyPEM: try issued.privateKeyPEM(), expectedID: "n2")
        }
        #expect(error?.code == .identityMismatch)
    }

    @Test("a CA key that does not match ca.pem is refused")
    func caKeyMismatch() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try Transport.DevCertificateAuthority.create(validity: .current())
        try Transport.PEMFiles.createNew(directory + "/ca.pem", containing: authority.certificatePEM(), mode: 0o644)
        try Transport.PEMFiles.createNew(
            directory + "/ca.key", containing: P256.Signing.PrivateKey().pemRepresentation, mode: 0o600)
        let error = #expect(throws: Transport.CertificateError.self) {
            try Transport.DevCertificateAuthority(loadingFrom: directory)
        }
        #expect(error?.code == .keyMismatch)
    }
}

@Suite("Peer certificate policy")
struct PeerCertificatePolicyTests {
    let authority: Transport.DevCertificateAuthority
    let policy: Transport.PeerCertificatePolicy
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let members: Set<Raft.NodeID> = ["n1", "n2", "n3"]

    init() throws {
        authority = try .create(validity: .days(3650, from: Date(timeIntervalSince1970: 1_800_000_000)))
        policy = Transport.PeerCertificatePolicy(authority: authority.certificate)
    }

    private func leaf(_ id: Raft.NodeID, from ca: Transport.DevCertificateAuthority? = nil, validity: Transport.CertificateValidity? = nil) throws -> Certificate {
        try (ca ?? authority).issueNodeCertificate(
            id: id, hosts: ["127.0.0.1"], validity: validity ?? .days(30, from: now)
        ).certificate
    }

    @Test("a member's certificate from the cluster CA is accepted with its id")
    func accepted() throws {
        #expect(try policy.verify(chain: [leaf("n2")], role: .dialer, members: members, now: now) == .success("n2"))
        #expect(
            try policy.verify(chain: [leaf("n2")], role: .listener(expected: "n2"), members: members, now: now)
                == .success("n2"))
    }

    @Test("no certificate")
    func noCertificate() {
        #expect(policy.verify(chain: [], role: .dialer, members: members, now: now) == .failure(.noCertificate))
    }

    @Test("a certificate from another CA, even with a member's id, is refused")
    func otherAuthority() throws {
        let other = try Transport.DevCertificateAuthority.create(validity: .days(3650, from: now))
        let result = policy.verify(chain: [try leaf("n2", from: other)], role: .dialer, members: members, now: now)
        guard case .failure(.untrustedIssuer) = result else { Issue.record("got \(result)"); return }
    }

    @Test("another CA with the same name is refused by signature, not by name")
    func sameNameOtherKey() throws {
        let impostor = try Transport.DevCertificateAuthority.create(validity: .days(3650, from: now))
        #expect(impostor.certificate.subject == authority.certificate.subject)
        let result = policy.verify(chain: [try leaf("n1", from: impostor)], role: .dialer, members: members, now: now)
        guard case .failure(.untrustedIssuer) = result else { Issue.record("got \(result)"); return }
    }

    @Test("expired and not-yet-valid certificates are refused")
    func validityWindow() throws {
        let expired = try leaf(
            "n2", validity: .init(notBefore: now.addingTimeInterval(-7200), notAfter: now.addingTimeInterval(-60)))
        let early = try leaf(
            "n2", validity: .init(notBefore: now.addingTimeInterval(60), notAfter: now.addingTimeInterval(7200)))
        guard case .failure(.expired) = policy.verify(chain: [expired], role: .dialer, members: members, now: now),
            case .failure(.notYetValid) = policy.verify(chain: [early], role: .dialer, members: members, now: now)
        else {
            Issue.record("validity not enforced")
            return
        }
    }

    @Test("an id that is not a member is refused")
    func unknownMember() throws {
        #expect(
            try policy.verify(chain: [leaf("n9")], role: .dialer, members: members, now: now)
                == .failure(.unknownMember("n9")))
    }

    @Test("Consul #5069: dialing n2 and reaching a valid n3 is refused")
    func unexpectedPeer() throws {
        #expect(
            try policy.verify(chain: [leaf("n3")], role: .listener(expected: "n2"), members: members, now: now)
                == .failure(.unexpectedPeer(expected: "n2", presented: "n3")))
    }

    @Test("the CA certificate itself is not a node certificate")
    func caAsLeaf() throws {
        let result = policy.verify(chain: [authority.certificate], role: .dialer, members: members, now: now)
        // The CA is self-signed, so it passes the signature check and must fail on usage.
        guard case .failure(.wrongCertificateUsage) = result else { Issue.record("got \(result)"); return }
    }

    @Test("a certificate without a node id is refused")
    func missingID() throws {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600),
            issuer: authority.certificate.subject, subject: try DistinguishedName { CommonName("n2") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames([.dnsName("n2")])
            },
            issuerPrivateKey: authority.privateKey)
        #expect(policy.verify(chain: [certificate], role: .dialer, members: members, now: now) == .failure(.missingNodeID))
    }
}
