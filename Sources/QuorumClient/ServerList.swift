import Foundation

/// The API servers a client tries, in order: `--server URL[,URL…]`.
///
/// Each entry is an `http://` or `https://` base URL with a host and port (a bare
/// `host:port` gets `http://`); paths, queries and fragments are refused so a request path can
/// simply be appended.
public struct ServerList: Hashable, Sendable, CustomStringConvertible {
    /// The local three-node cluster of `cluster/local-3.toml`.
    public static let defaultText = "http://127.0.0.1:8080,http://127.0.0.1:8081,http://127.0.0.1:8082"

    /// Base URLs without a trailing slash, in the order they are tried.
    public let urls: [String]

    /// Parses a comma-separated list; empty entries (a trailing comma) are ignored.
    public init(parsing text: String) throws(QuorumClientError) {
        var urls: [String] = []
        for part in text.split(separator: ",") {
            let entry = part.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            urls.append(try Self.normalize(entry))
        }
        guard !urls.isEmpty else {
            throw .invalidServer(text, reason: "no server given; write e.g. --server http://127.0.0.1:8080")
        }
        self.urls = urls
    }

    /// The default list (``defaultText``).
    public static var localCluster: ServerList {
        // The constant is valid by construction; a failure here is a bug in it.
        do {
            return try ServerList(parsing: defaultText)
        } catch {
            preconditionFailure("ServerList.defaultText '\(defaultText)' does not parse: \(error)")
        }
    }

    /// The URLs joined by commas.
    public var description: String { urls.joined(separator: ",") }

    static func normalize(_ entry: String) throws(QuorumClientError) -> String {
        let withScheme = entry.contains("://") ? entry : "http://" + entry
        guard let components = URLComponents(string: withScheme) else {
            throw .invalidServer(entry, reason: "not a URL; write e.g. http://127.0.0.1:8080")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw .invalidServer(entry, reason: "the scheme must be http or https")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidServer(entry, reason: "no host; write e.g. http://127.0.0.1:8080")
        }
        if let port = components.port, !(1...65_535).contains(port) {
            throw .invalidServer(entry, reason: "port \(port) is out of range 1-65535")
        }
        guard components.query == nil, components.fragment == nil, components.path.isEmpty || components.path == "/" else {
            throw .invalidServer(entry, reason: "give only scheme, host and port (no path or query); the client adds /api/…")
        }
        var text = withScheme
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
