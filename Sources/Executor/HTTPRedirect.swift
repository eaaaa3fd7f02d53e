import AsyncHTTPClient
import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The request an http task sends next when its server answers with a redirect.
///
/// The executor follows redirects itself (AsyncHTTPClient's own following is off) so that every
/// target is checked against the address policy and pinned before a packet goes to it.
enum HTTPRedirect {
    /// Most redirects one attempt follows; the next one fails the attempt.
    static let maximum = 5

    /// The statuses followed: 301, 302, 303, 307, 308 (with a `Location`).
    static func isFollowed(_ status: HTTPResponseStatus) -> Bool {
        [.movedPermanently, .found, .seeOther, .temporaryRedirect, .permanentRedirect].contains(status)
    }

    /// The request for `location` after `request` got `status`, or why it cannot be followed.
    ///
    /// As browsers and AsyncHTTPClient do: 307 and 308 repeat the method and body; 303 turns
    /// anything but HEAD into a body-less GET, and 301 and 302 turn POST into one. A redirect to
    /// another origin (scheme, host or port) drops `Authorization`, `Proxy-Authorization` and
    /// `Cookie`, so a task's credentials go only where its URL said (as curl does).
    static func next(after request: HTTPClientRequest, status: HTTPResponseStatus, location: String)
        -> Result<HTTPClientRequest, RedirectFailure>
    {
        guard let base = URL(string: request.url),
              let target = URL(string: location, relativeTo: base)?.absoluteURL,
              let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = target.host, !host.isEmpty
        else {
            return .failure(RedirectFailure(text: "\(request.url) redirected (\(status.code)) to \"\(location)\", "
                                                + "which is not an http:// or https:// URL with a host; not followed"))
        }
        var next = HTTPClientRequest(url: target.absoluteString)
        let keepsMethod = status == .temporaryRedirect || status == .permanentRedirect
            || (status != .seeOther && request.method != .POST) || request.method == .HEAD
        next.headers = request.headers
        if keepsMethod {
            next.method = request.method
            next.body = request.body
        } else {
            next.method = .GET
            for name in ["Content-Type", "Content-Length", "Transfer-Encoding"] { next.headers.remove(name: name) }
        }
        if origin(of: base) != origin(of: target) {
            for name in ["Authorization", "Proxy-Authorization", "Cookie"] { next.headers.remove(name: name) }
        }
        return .success(next)
    }

    /// Why a redirect is not followed.
    struct RedirectFailure: Error, Sendable {
        /// The attempt's error message.
        let text: String
    }

    private static func origin(of url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? ""
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
    }
}
