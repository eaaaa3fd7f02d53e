import Crypto
import Hummingbird
import HummingbirdAuth
import Synchronization

/// Checks a request's bearer token against the tokens file's current entries. The node's shell
/// re-reads the file and calls ``replace(_:)``; this type does no I/O.
///
/// The presented token is hashed once (SHA-256, swift-crypto) and compared with every entry's
/// digest byte for byte without an early exit, always walking every entry, so the answer's
/// timing says neither how close a guess was nor which entry matched.
public final class TokenAuthorizer: Sendable {
    /// Who a request proved to be.
    public struct Caller: Sendable, Hashable {
        /// The token's name in the file.
        public var name: String
        /// Its role.
        public var role: APIRole
    }

    private let file: Mutex<TokenFile>

    /// An authorizer over `file`'s entries.
    public init(_ file: TokenFile) { self.file = Mutex(file) }

    /// Swaps in a re-read file: revocations take effect for the next request.
    public func replace(_ file: TokenFile) { self.file.withLock { $0 = file } }

    /// The current entries.
    public var entries: [TokenFile.Entry] { file.withLock { $0.entries } }

    /// The caller of `request` if its token allows `required`; 401 without a token or with an
    /// unknown one, 403 when the token's role is too low.
    public func authorize(_ request: Request, required: APIRole) throws(APIError) -> Caller {
        let caller = try authenticate(request)
        try Self.check(caller, allows: required)
        return caller
    }

    /// 403 unless `caller`'s role allows `required`.
    public static func check(_ caller: Caller, allows required: APIRole) throws(APIError) {
        guard caller.role.allows(required) else {
            throw APIError(.forbidden, "token '\(caller.name)' has role \(caller.role.rawValue); this route needs \(required.rawValue) or higher")
        }
    }

    /// The caller `request`'s bearer token proves, whatever its role; 401 without a token or
    /// with an unknown one.
    public func authenticate(_ request: Request) throws(APIError) -> Caller {
        guard let token = request.headers.bearer?.token, !token.isEmpty else {
            throw APIError(.unauthorized, "this route needs a bearer token (Authorization: Bearer TOKEN; the CLI reads QUORUM_TOKEN "
                           + "or --token); an operator creates one with `quorum tokens create`")
        }
        guard let caller = caller(presenting: token) else {
            throw APIError(.unauthorized, "the bearer token is not known to this node (revoked, mistyped, or for another cluster)")
        }
        return caller
    }

    /// The entry whose digest is the token's, compared with every entry (no early exit) by
    /// swift-crypto's constant-time digest comparison (`Digest ==`, `safeCompare`).
    func caller(presenting token: String) -> Caller? {
        let presented = SHA256.hash(data: Array(token.utf8))
        let entries = self.entries
        var found: Caller?
        for entry in entries {
            if presented == entry.digest, found == nil {
                found = Caller(name: entry.name, role: entry.role)
            }
        }
        return found
    }
}
