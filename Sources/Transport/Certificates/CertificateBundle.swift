import SwiftASN1
import X509

extension Transport {
    /// The certificates of a CA bundle: one or more PEM `CERTIFICATE` blocks concatenated (what
    /// `cat old-ca.pem new-ca.pem` writes). A bundle lets the cluster trust an old and a new CA at
    /// the same time, which is what rotating the CA without downtime needs.
    public enum CertificateBundle {
        /// Every certificate in `pem`, in file order.
        ///
        /// Throws ``CertificateError/Code/malformedFile`` naming `source` when the text holds no
        /// certificate at all, or naming the position (1-based) of the block that is not a valid
        /// certificate, so an operator knows which part of a concatenated file to fix.
        public static func parse(_ pem: String, source: String) throws(CertificateError) -> [Certificate] {
            let documents: [PEMDocument]
            do {
                documents = try PEMDocument.parseMultiple(pemString: pem)
            } catch {
                let blocks = Self.blocks(of: pem)
                let position = blocks.firstIndex { (try? PEMDocument(pemString: $0)) == nil }
                    .map { "block \($0 + 1) of \(blocks.count) in " } ?? ""
                throw CertificateError(
                    .malformedFile,
                    "\(position)\(source) is not valid PEM (\(error)): a CA bundle holds one or more "
                        + "-----BEGIN CERTIFICATE----- blocks, e.g. the ca.pem written by `quorum certs init`")
            }
            guard !documents.isEmpty else {
                throw CertificateError(
                    .malformedFile, "\(source) holds no certificate: put the cluster CA certificate(s) in it")
            }
            var certificates: [Certificate] = []
            for (offset, document) in documents.enumerated() {
                let position = "certificate \(offset + 1) of \(documents.count) in \(source)"
                guard document.discriminator == "CERTIFICATE" else {
                    throw CertificateError(
                        .malformedFile,
                        "\(position) is a \(document.discriminator) block, not a CERTIFICATE: "
                            + "a CA bundle holds certificates only (keep the CA key elsewhere)")
                }
                do {
                    certificates.append(try Certificate(pemDocument: document))
                } catch {
                    throw CertificateError(.malformedFile, "\(position) is not a valid certificate: \(error)")
                }
            }
            return certificates
        }

        /// The text of each PEM block (from its `-----BEGIN` line to the end of its `-----END` line),
        /// only to say which block of a file that does not parse is the broken one.
        static func blocks(of pem: String) -> [String] {
            var blocks: [String] = []
            var current: [Substring]?
            for line in pem.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("-----BEGIN ") { current = [] }
                current?.append(line)
                if line.hasPrefix("-----END "), let block = current {
                    blocks.append(block.joined(separator: "\n"))
                    current = nil
                }
            }
            if let unterminated = current { blocks.append(unterminated.joined(separator: "\n")) }
            return blocks
        }

        /// The first of `authorities` that issued `leaf` (its subject is the leaf's issuer and its key
        /// verifies the leaf's signature), or `nil`.
        static func issuer(of leaf: Certificate, among authorities: [Certificate]) -> Certificate? {
            authorities.first { authority in
                authority.subject == leaf.issuer && authority.publicKey.isValidSignature(leaf.signature, for: leaf)
            }
        }
    }
}
