import Foundation
import RaftCore
import Transport
import X509

/// Checks one node's TLS files as the node itself would load them, then how long they last.
///
/// Pure (the PEM texts and the time are inputs). The consistency checks are the node's own
/// (`Transport.TLSCredentials`: the key matches the certificate, the certificate names this node,
/// one of the CAs signed it), so doctor fails exactly where `quorum node` would refuse to start.
enum CertificateCheck {
    /// A certificate that ends within this many days is a warning.
    static let warningDays = 30

    /// Findings for node `id`'s files; `paths` name them in messages.
    static func findings(id: String, caPEM: String, certificatePEM: String, keyPEM: String,
                         paths: (ca: String, certificate: String, key: String), now: Date) -> [DoctorFinding] {
        let area = "tls \(id)"
        let credentials: Transport.TLSCredentials
        do {
            credentials = try Transport.TLSCredentials(authorityPEM: caPEM, certificatePEM: certificatePEM,
                                                       privateKeyPEM: keyPEM, expectedID: Raft.NodeID(id))
        } catch {
            return [.failure(area, "\(paths.certificate), \(paths.key), \(paths.ca): \(error)",
                             advice: "the node refuses to start with these files; issue a pair with `quorum certs issue --id \(id)` "
                                + "(docs/security.md, \"Certificates\")")]
        }
        var findings = [validity(of: credentials.certificate, named: paths.certificate, area: area, now: now,
                                 renew: "issue a new one with `quorum certs issue --id \(id)` and replace the file (the node reloads it on SIGHUP)")]
        for (index, authority) in credentials.authorities.enumerated() {
            let name = credentials.authorities.count == 1 ? paths.ca : "\(paths.ca) [CA \(index + 1) of \(credentials.authorities.count)]"
            findings.append(validity(of: authority, named: name, area: area, now: now,
                                     renew: "rotate the CA: add a new CA to the bundle, reissue every node's certificate, then drop the old CA "
                                        + "(docs/security.md, \"Rotating the cluster CA\")"))
        }
        return findings
    }

    /// Expired or not yet valid: failure; ending within ``warningDays``: warning; else ok.
    static func validity(of certificate: Certificate, named name: String, area: String, now: Date, renew: String) -> DoctorFinding {
        let notAfter = certificate.notValidAfter
        let day = Self.day(notAfter)
        if now < certificate.notValidBefore {
            return .failure(area, "\(name) is not valid until \(Self.day(certificate.notValidBefore))",
                            advice: "check this machine's clock, or issue the certificate again")
        }
        guard now <= notAfter else {
            return .failure(area, "\(name) expired on \(day)", advice: renew)
        }
        let days = Int(notAfter.timeIntervalSince(now) / 86_400)
        if days < warningDays {
            return .warning(area, "\(name) expires in \(days) days (\(day))", advice: renew)
        }
        return .ok(area, "\(name) valid until \(day) (\(days) days)")
    }

    private static func day(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}
