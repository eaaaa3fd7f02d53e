import Foundation
import Hummingbird
import NIOCore

/// Reading requests strictly: bounded bodies, strict JSON, query parameters with named errors.
enum RequestReading {
    /// The JSON body, at most `limit` bytes (413 beyond, before reading it all when the length
    /// is declared). The request must say `Content-Type: application/json` (parameters such as
    /// `charset=utf-8` allowed), else 415 before anything is read: a browser on any web page can
    /// send a cross-site "simple" POST (`text/plain`, form-encoded) without asking the server
    /// first, but never one declared `application/json`, so this is what keeps a page in the
    /// user's browser from submitting jobs to a node it can reach (docs/security.md).
    static func body(_ request: Request, limit: Int) async throws(APIError) -> [UInt8] {
        try requireJSON(request)
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw .payloadTooLarge(limit: limit)
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw .payloadTooLarge(limit: limit)
        } catch {
            throw .badRequest("the request body could not be read: \(error)")
        }
    }

    /// Throws 415 unless the request declares `Content-Type: application/json`.
    static func requireJSON(_ request: Request) throws(APIError) {
        let declared = request.headers[.contentType] ?? ""
        guard declaresJSON(declared) else {
            let shown = declared.isEmpty ? "no Content-Type" : "Content-Type '\(FieldProblem.shortened(declared))'"
            throw APIError(.unsupportedMediaType, "the body must be JSON sent with Content-Type: application/json (got \(shown))",
                           field: "Content-Type")
        }
    }

    /// Whether a `Content-Type` value names `application/json`: the media type before any `;`,
    /// trimmed of whitespace, in any case. On every write, so ASCII values are compared byte by
    /// byte (Foundation's `trimmingCharacters(in:)` and `lowercased()` cost about 1 % of a
    /// node's CPU under single submissions); any other value takes the general path, which
    /// decides exactly as before (docs/benchmarks.md, "Where a submission's CPU goes").
    static func declaresJSON(_ declared: String) -> Bool {
        var mediaType = declared.utf8[...]
        if let semicolon = mediaType.firstIndex(of: UInt8(ascii: ";")) { mediaType = mediaType[..<semicolon] }
        // A leading ";" takes the general path too: `split` drops the empty piece before it.
        guard declared.utf8.first != UInt8(ascii: ";"), mediaType.allSatisfy({ $0 < 0x80 }) else {
            let general = declared.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
            return general == "application/json"
        }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while let first = mediaType.first, isBlank(first) { mediaType = mediaType.dropFirst() }
        while let last = mediaType.last, isBlank(last) { mediaType = mediaType.dropLast() }
        let expected = "application/json".utf8
        return mediaType.count == expected.count
            && zip(mediaType, expected).allSatisfy { byte, wanted in
                byte == wanted || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(wanted) && byte == wanted - 0x20
            }
    }

    /// The `Idempotency-Key` header with the body's digest, if the header is present.
    static func idempotencyKey(_ request: Request, body: [UInt8], limits: APILimits) throws(APIError) -> IdempotencyKey? {
        guard let key = request.headers.first(where: { $0.name.canonicalName == "idempotency-key" })?.value else { return nil }
        guard !key.isEmpty, key.utf8.count <= limits.maxIdempotencyKeyBytes, !key.contains("#") else {
            throw .invalid(field: "Idempotency-Key", "must be 1 to \(limits.maxIdempotencyKeyBytes) bytes without '#'")
        }
        return IdempotencyKey(key: key, bodyDigest: BodyDigest.fnv1a64(body))
    }

    /// The `Idempotency-Key` of a request without a body (trigger, requeue), remembered with a
    /// digest of `scope` (the action and its id): the same key on another job or run is a 409.
    static func idempotencyKey(_ request: Request, scope: String, limits: APILimits) throws(APIError) -> IdempotencyKey? {
        try idempotencyKey(request, body: Array(scope.utf8), limits: limits)
    }

    /// The response header naming the run a trigger started (`Quorum-Run-Id`).
    static let runIDHeader = HTTPFields.Element.Name("Quorum-Run-Id")

    /// `If-Match: "7"` (or `7`, or a weak `W/"7"`) → 7; absent or `*` → `nil` (no precondition).
    /// Exactly what `docs/openapi.yaml` allows: 1 to 18 digits without a leading zero or a sign.
    /// Anything else is a 400 naming the header.
    static func ifMatch(_ request: Request) throws(APIError) -> Int? {
        guard let raw = request.headers[.ifMatch], raw != "*" else { return nil }
        var text = Substring(raw)
        if text.hasPrefix("W/\"") { text = text.dropFirst(2) }
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
        guard (1...18).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), text.utf8.first != 48,
              let version = Int(text) else {
            throw .badRequest("If-Match must be a job version as the ETag header gave it, e.g. \"3\" (got '\(FieldProblem.shortened(raw))')",
                              field: "If-Match")
        }
        return version
    }

    /// A job as JSON with `ETag: "<version>"` (GET and PATCH of a job): what a client sends
    /// back in `If-Match`.
    static func jobJSON(_ job: JobResource) throws(APIError) -> Response {
        var response = try json(job: job)
        if let version = job.version { response.headers[.eTag] = "\"\(version)\"" }
        return response
    }

    /// `?stale=true` → stale; absent or `false` → linearizable.
    static func consistency(_ request: Request) throws(APIError) -> ReadConsistency {
        switch request.uri.queryParameters.get("stale") {
        case nil, "false"?, "0"?: return .linearizable
        case "true"?, "1"?, ""?: return .stale
        case let other?: throw .invalid(field: "stale", "'\(FieldProblem.shortened(other))' is not true or false")
        }
    }

    /// `?limit=` in 1...max, default `limits.defaultPageSize`.
    static func limit(_ request: Request, limits: APILimits) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return limits.defaultPageSize }
        guard let value = Int(text), value >= 1, value <= limits.maxPageSize else {
            throw .invalid(field: "limit", "must be an integer from 1 to \(limits.maxPageSize), got '\(FieldProblem.shortened(text))'")
        }
        return value
    }

    /// `?attempt=`: an attempt number ≥ 1, or `nil` when absent.
    static func attempt(_ request: Request) throws(APIError) -> Int? {
        guard let text = request.uri.queryParameters.get("attempt") else { return nil }
        guard let value = Int(text), value >= 1 else {
            throw .invalid(field: "attempt", "must be an attempt number ≥ 1, got '\(FieldProblem.shortened(text))'")
        }
        return value
    }

    /// `?cursor=`.
    static func cursor(_ request: Request) -> String? {
        request.uri.queryParameters.get("cursor")
    }

    /// A path parameter, percent-decoded once (`%2F` → `/`; see ``PathParameterDecoding``).
    /// The router guarantees it; a missing one is a 404, a malformed escape a 400.
    static func pathParameter(_ name: String, _ context: some RequestContext) throws(APIError) -> String {
        guard let raw = context.parameters.get(name) else {
            throw .notFound("missing \(name) in the path")
        }
        let value = try PathParameterDecoding.decode(raw, parameter: name)
        guard !value.isEmpty else { throw .notFound("missing \(name) in the path") }
        return value
    }

    /// A JSON response.
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws(APIError) -> Response {
        json(encoded: try encode(value), status: status)
    }

    /// A 201's body with `Location`: `collection` (`/api/jobs`) and the created resource's `id`,
    /// percent-encoded as one path segment (RFC 9110 §10.2.2).
    static func created<T: Encodable>(_ value: T, status: HTTPResponse.Status, at collection: String, id: String) throws(APIError) -> Response {
        var response = try json(value, status: status)
        response.headers[.location] = location(collection, id: id)
        return response
    }

    /// A created (or idempotently replayed) job: the whole job, or with `Prefer: return=minimal`
    /// its id, state and `links.self` with `Preference-Applied: return=minimal`.
    static func createdJob(_ job: JobResource, status: HTTPResponse.Status, preference: ReturnPreference) throws(APIError) -> Response {
        let location = location("/api/jobs", id: job.id)
        var response: Response
        switch preference {
        case .representation:
            response = try json(job: job, status: status)
        case .minimal:
            var writer = JSONBufferWriter(buffer: ByteBuffer())
            writer.beginObject()
            writer.key("id"); writer.string(job.id)
            writer.key("state"); writer.string(job.state)
            writer.key("links")
            writer.beginObject()
            writer.key("self"); writer.string(location)
            writer.endObject()
            writer.endObject()
            response = json(buffer: writer.buffer, status: status)
            if let name = ReturnPreference.appliedHeader { response.headers[name] = "return=minimal" }
        }
        response.headers[.location] = location
        return response
    }

    /// `collection/id` with `id` percent-encoded as one path segment (RFC 9110 §10.2.2).
    static func location(_ collection: String, id: String) -> String {
        var segment = ""
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                segment.unicodeScalars.append(UnicodeScalar(byte))
            default:
                segment += String(format: "%%%02X", byte)
            }
        }
        return collection + "/" + segment
    }

    /// A job as JSON, through the hand-written encoder when it can write it
    /// (``JobResource/canWriteJSON``), else through `JSONEncoder`.
    static func json(job: JobResource, status: HTTPResponse.Status = .ok) throws(APIError) -> Response {
        guard let buffer = job.handWrittenJSON() else { return try json(job, status: status) }
        return json(buffer: buffer, status: status)
    }

    /// A response with JSON already written into a buffer.
    static func json(buffer: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: buffer))
    }

    /// A response with JSON already encoded by ``encode(_:)``.
    static func json(encoded data: Data, status: HTTPResponse.Status = .ok) -> Response {
        json(buffer: ByteBuffer(bytes: data), status: status)
    }

    /// `value` as the API writes JSON (slashes unescaped: ids and URLs stay readable).
    static func encode<T: Encodable>(_ value: T) throws(APIError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            throw APIError(.internal, "could not encode the response: \(error)")
        }
    }
}
