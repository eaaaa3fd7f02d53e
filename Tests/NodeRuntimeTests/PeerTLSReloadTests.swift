import Foundation
import Logging
import NodeMetrics
@testable import NodeRuntime
import RaftCore
import Synchronization
import Testing
import Transport

/// A node's `[tls]` files in a temporary directory, rewritten the way an operator would.
private struct TLSFiles {
    let directory: String
    var ca: String { directory + "/ca.pem" }
    var cert: String { directory + "/node.pem" }
    var key: String { directory + "/node.key" }

    init() throws {
        directory = NSTemporaryDirectory() + "quorum-peer-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func write(bundle: [Transport.DevCertificateAuthority], issued: Transport.IssuedCertificate) throws {
        try bundle.map { try $0.certificatePEM() }.joined().write(toFile: ca, atomically: true, encoding: .utf8)
        try issued.certificatePEM().write(toFile: cert, atomically: true, encoding: .utf8)
        try issued.privateKeyPEM().write(toFile: key, atomically: true, encoding: .utf8)
    }
}

/// `quorum_tls_reloads_total{target="peer",outcome}` as scraped.
private func peerReloads(_ metrics: QuorumMetrics, _ outcome: String) -> String? {
    metrics.exposition().split(separator: "\n")
        .first { $0.hasPrefix("quorum_tls_reloads_total{") && $0.contains(#"target="peer""#) && $0.contains(#"outcome="\#(outcome)""#) }
        .map { String($0.split(separator: " ").last ?? "") }
}

@Suite("Peer TLS reload: the [tls] files swapped into a live transport")
struct PeerTLSReloadTests {
    @Test("a good set is swapped in and counted ok; a broken set is refused, logged with its file, counted, and the old set stays")
    func reloadKeepsOldOnError() throws {
        let files = try TLSFiles()
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        let old = try Transport.DevCertificateAuthority.create(validity: .days(30, from: Date()))
        let new = try Transport.DevCertificateAuthority.create(validity: .days(30, from: Date()))
        let first = try old.issueNodeCertificate(id: "n1", hosts: [], validity: .days(30, from: Date()))
        try files.write(bundle: [old], issued: first)
        let credentials = try Transport.TLSCredentials(authorityFile: files.ca, certificateFile: files.cert,
                                                       privateKeyFile: files.key, expectedID: "n1")
        let transport = try Transport.PeerTransport(
            configuration: .init(credentials: credentials, listen: .init(host: "127.0.0.1", port: 0)),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let metrics = QuorumMetrics()
        let errors = ErrorLog()
        let reload = PeerTLSReload(authorityFile: files.ca, certificateFile: files.cert, privateKeyFile: files.key,
                                   transport: transport, metrics: metrics, logger: errors.logger)
        #expect(reload.files == [files.ca, files.cert, files.key])
        #expect(peerReloads(metrics, "ok") == "0")

        // CA rotation, first step: the bundle gains the new CA, and a certificate from it.
        let second = try new.issueNodeCertificate(id: "n1", hosts: [], validity: .days(30, from: Date()))
        try files.write(bundle: [old, new], issued: second)
        guard case .success = reload.reload() else { Issue.record("a valid set was refused"); return }
        #expect(transport.currentCredentials().certificate == second.certificate)
        #expect(transport.currentCredentials().authorities.count == 2)
        #expect(peerReloads(metrics, "ok") == "1")

        // Caught half-way: the new certificate is in place, its key not yet.
        let third = try new.issueNodeCertificate(id: "n1", hosts: [], validity: .days(30, from: Date()))
        try third.certificatePEM().write(toFile: files.cert, atomically: true, encoding: .utf8)
        guard case .failure(let error) = reload.reload() else { Issue.record("a mismatched key was applied"); return }
        #expect((error as? Transport.CertificateError)?.code == .keyMismatch)
        #expect(transport.currentCredentials().certificate == second.certificate)
        #expect(peerReloads(metrics, "error") == "1")
        #expect(errors.messages.last?.contains(files.key) == true, "\(errors.messages)")

        // The old CA dropped before the certificate was re-issued from the new one: refused too.
        try files.write(bundle: [new], issued: first)
        guard case .failure(let untrusted) = reload.reload() else { Issue.record("an untrusted certificate was applied"); return }
        #expect((untrusted as? Transport.CertificateError)?.code == .untrustedIssuer)
        #expect(transport.currentCredentials().certificate == second.certificate)
        #expect(peerReloads(metrics, "error") == "2")

        // An empty bundle names the file.
        try "".write(toFile: files.ca, atomically: true, encoding: .utf8)
        guard case .failure(let empty) = reload.reload() else { Issue.record("an empty bundle was applied"); return }
        #expect("\(empty)".contains("\(files.ca) holds no certificate"))
        #expect(peerReloads(metrics, "error") == "3")
        #expect(peerReloads(metrics, "ok") == "1")
    }
}

/// Error-level log lines with their metadata, flattened to text.
private final class ErrorLog: Sendable {
    private let box = Mutex<[String]>([])
    var messages: [String] { box.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    private struct Handler: LogHandler {
        let log: ErrorLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .error
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let text = "\(event.message) \((event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))"
            log.box.withLock { $0.append(text) }
        }
    }
}
