import Crypto
import Foundation
import Hummingbird
import NIOCore

/// One static file of the dashboard, embedded in the binary.
struct DashboardAsset: Sendable {
    /// The file name (`index.html`, `dashboard.js`).
    let name: String
    /// Its `Content-Type`.
    let contentType: String
    /// Its text (UTF-8).
    let text: String
}

/// The dashboard's files (`GET /`, `GET /dashboard/{file}`; docs/dashboard.md).
///
/// They are compiled in (``files``, generated from `Sources/HTTPAPI/Dashboard/static/` by
/// `scripts/dashboard/embed.py`) rather than read from disk, so a node serves them whatever its
/// working directory and wherever its binary was copied. Every response carries
/// `Content-Security-Policy: default-src 'self'` (no inline script or style, no other origin:
/// data a page inserts can never run), `X-Content-Type-Options: nosniff` and an `ETag`; the
/// files change only with the binary, so clients revalidate (`no-cache`) and get a 304.
public enum DashboardAssets {
    /// The page's path.
    public static let indexPath = "/"
    /// The prefix of the page's scripts and styles.
    public static let assetPrefix = "/dashboard/"
    /// The header every dashboard response carries.
    public static let contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The served files by name, each with its ETag (computed once).
    private static let byName: [String: (asset: DashboardAsset, etag: String)] = {
        var table: [String: (asset: DashboardAsset, etag: String)] = [:]
        for file in files {
            let digest = SHA256.hash(data: Data(file.text.utf8))
            let hex = digest.prefix(12).map { String(format: "%02x", $0) }.joined()
            table[file.name] = (file, "\"\(hex)\"")
        }
        return table
    }()

    /// The names of the files served under ``assetPrefix`` (`index.html` is served at `/`).
    public static var names: [String] { files.map(\.name).sorted() }

    /// The response for file `name` to `request`: 200 with the file, or 304 when the request's
    /// `If-None-Match` names its ETag.
    ///
    /// - Throws: 404 `not_found` naming the files there are, for any other name.
    static func response(for name: String, request: Request) throws(APIError) -> Response {
        guard let (asset, etag) = byName[name] else {
            throw APIError.notFound("the dashboard has no file '\(FieldProblem.shortened(name))'; it serves "
                                    + names.filter { $0 != "index.html" }.map { assetPrefix + $0 }.joined(separator: ", ") + " and /")
        }
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = etag
        if let referrer = HTTPFields.Element.Name("Referrer-Policy") { headers[referrer] = "no-referrer" }
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: asset.text)))
    }
}
