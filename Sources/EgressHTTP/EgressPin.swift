import AsyncHTTPClient
import EgressPolicy

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a request to a URL may connect: its host resolved, every address judged by an
/// ``AddressPolicy``, and the connection pinned to the one address judged.
///
/// Shared by http tasks (the executor) and webhooks (notifications) so both obey the same
/// `[executor] http_deny` / `http_allow` rules the same way: no packet goes to the host before
/// ``pin(_:policy:)`` succeeds, and a second DNS answer cannot move the connection, because
/// AsyncHTTPClient is handed the judged address through `dnsOverride` (TLS SNI, certificate
/// checks and `Host` keep the URL's name).
public enum EgressPin {
    /// Why a URL's host may not be connected to; ``text`` is the whole message.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        /// Why, as a caller deciding whether to try again needs it.
        public enum Kind: Sendable, Hashable {
            /// The URL has no host: fix the URL.
            case noHost
            /// The resolver gave no answer (it may later).
            case unresolved
            /// An address the host names is denied by the policy: change the URL or the policy.
            case denied
        }

        /// Why, in short.
        public let kind: Kind
        /// Which URL or address, why, and what to do.
        public let text: String
        /// ``text``.
        public var description: String { text }
    }

    /// The `dnsOverride` that sends `url`'s connection to the one address `policy` allows for
    /// its host (empty for an IP literal, which AsyncHTTPClient connects to as written), or the
    /// refusal. `what` names the URL's owner in messages (`http task`, `webhook`).
    public static func pin(_ url: String, policy: AddressPolicy, what: String = "http task") async
        -> Result<[String: String], Refusal>
    {
        guard let parsed = URL(string: url), let rawHost = parsed.host, !rawHost.isEmpty else {
            return .failure(Refusal(kind: .noHost, text: "\(what) url \"\(url)\" has no host"))
        }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        if let literal = IPAddress.parse(host) {
            // A strict literal is what AsyncHTTPClient connects to (it parses it with
            // `inet_pton`, which takes exactly these forms): nothing to resolve or pin.
            if let refusal = policy.refusal(host: host, address: literal) {
                return .failure(Refusal(kind: .denied, text: refusal.text))
            }
            return .success([:])
        }
        // A name, or a numeric form only the resolver reads (`2130706433`, `0x7f.1`).
        let address: IPAddress
        switch await HostResolver.resolve(host) {
        case .failure(let failure):
            return .failure(Refusal(kind: .unresolved, text: "cannot resolve the host of \(url): \(failure.reason)"))
        case .success(let addresses):
            switch policy.choose(host: host, from: addresses) {
            case .failure(let refusal):
                // No rule: the name resolved to no address at all, which may change.
                return .failure(Refusal(kind: refusal.rule == nil ? .unresolved : .denied, text: refusal.text))
            case .success(let chosen): address = chosen
            }
        }
        // AsyncHTTPClient looks the override up by the host as its connection target writes it:
        // a name as is, an IPv6 literal in brackets. Both keys, so either form is pinned.
        let pinned = address.description
        return .success([host: pinned, "[\(host)]": pinned])
    }

    /// `base` made safe for one pinned request: `dnsOverride` set to `pin`, redirects off (the
    /// caller judges and pins each target itself, or follows none), and no proxy (a proxy would
    /// resolve and connect on its own, past the pin).
    public static func configuration(_ base: HTTPClient.Configuration, pinnedTo pin: [String: String]) -> HTTPClient.Configuration {
        var settings = base
        settings.dnsOverride = pin
        settings.redirectConfiguration = .disallow
        settings.proxy = nil
        return settings
    }
}
