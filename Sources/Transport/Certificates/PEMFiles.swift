import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Transport {
    /// Reading and writing the PEM files of the certificate layout.
    enum PEMFiles {
        /// The mode of a private key file: owner read/write only.
        static let privateKeyMode: mode_t = 0o600
        /// The mode of a certificate file: public.
        static let certificateMode: mode_t = 0o644

        /// Writes `text` to a new file at `path` with `mode`, refusing to replace an existing file
        /// (overwriting a CA key would orphan every certificate it signed). The file is created
        /// with its final mode, so a key is never readable by others, not even briefly.
        static func createNew(_ path: String, containing text: String, mode: mode_t) throws(CertificateError) {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            guard fd >= 0 else {
                let code = errno
                if code == EEXIST {
                    throw CertificateError(
                        .fileExists,
                        "\(path) exists already: remove it or write to another directory "
                            + "(existing keys are never overwritten)")
                }
                throw CertificateError(.fileAccess, "cannot create \(path): \(String(cString: strerror(code)))")
            }
            defer { close(fd) }
            // The umask may have cleared bits; set exactly the mode asked for.
            guard fchmod(fd, mode) == 0 else {
                let code = errno
                throw CertificateError(.fileAccess, "cannot set mode of \(path): \(String(cString: strerror(code)))")
            }
            var bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeMutableBytes { raw in
                    write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
                }
                if result < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw CertificateError(.fileAccess, "cannot write \(path): \(String(cString: strerror(code)))")
                }
                written += result
            }
            bytes.removeAll()
        }

        /// The contents of the text file at `path`.
        static func read(_ path: String) throws(CertificateError) -> String {
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw CertificateError(.fileAccess, "cannot read \(path): \(error.localizedDescription)")
            }
        }

        /// `directory/name`.
        static func path(_ directory: String, _ name: String) -> String {
            directory.hasSuffix("/") ? directory + name : directory + "/" + name
        }

        /// Creates `directory` (and parents) if it does not exist.
        static func ensureDirectory(_ directory: String) throws(CertificateError) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CertificateError(.fileAccess, "cannot create directory \(directory): \(error.localizedDescription)")
            }
        }

        /// The network-order bytes of `host` if it is an IPv4 or IPv6 literal, else `nil`.
        static func ipAddressBytes(_ host: String) -> [UInt8]? {
            var v4 = in_addr()
            if inet_pton(AF_INET, host, &v4) == 1 {
                return withUnsafeBytes(of: &v4) { Array($0) }
            }
            var v6 = in6_addr()
            if inet_pton(AF_INET6, host, &v6) == 1 {
                return withUnsafeBytes(of: &v6) { Array($0) }
            }
            return nil
        }
    }
}
