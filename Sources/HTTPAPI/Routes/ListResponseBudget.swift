import Foundation
import NIOCore

/// Keeps a list page's JSON under ``APILimits/maxListResponseBytes``.
///
/// A page of `limit` items can be huge (1,000 jobs with 64 KiB of env each), so the route
/// measures the page and, when it is over the budget, reads again with as many items as fit.
/// The smaller read makes its own `next_cursor`, so the page ends early and the client carries
/// on from there: never an error. Reading again (rather than cutting the first page) keeps the
/// cursor logic in one place, the service's. A single item larger than the budget is still
/// sent, alone on its page, since it cannot be split.
enum ListResponseBudget {
    /// The JSON of the page `read(limit)` returns, or of a shorter one that fits in
    /// `maxBytes`. A page that fits (the usual case) is encoded once; only an oversized one is
    /// measured item by item.
    static func fittedJSON<Item>(limit: Int, maxBytes: Int,
                                 _ read: (Int) async throws(APIError) -> ListPage<Item>) async throws(APIError) -> ByteBuffer {
        try await fitted(limit: limit, maxBytes: maxBytes, encode: { page throws(APIError) in
            ByteBuffer(bytes: try RequestReading.encode(page))
        }, read)
    }

    /// ``fittedJSON(limit:maxBytes:_:)`` for `GET /api/jobs`, whose pages go through the
    /// hand-written job encoder (the same JSON; ``ListPage/handWrittenJSON()``).
    static func fittedJobsJSON(limit: Int, maxBytes: Int,
                               _ read: (Int) async throws(APIError) -> ListPage<JobResource>) async throws(APIError) -> ByteBuffer {
        try await fitted(limit: limit, maxBytes: maxBytes, encode: { page throws(APIError) in
            if let buffer = page.handWrittenJSON() { return buffer }
            return ByteBuffer(bytes: try RequestReading.encode(page))
        }, read)
    }

    private static func fitted<Item>(limit: Int, maxBytes: Int, encode: (ListPage<Item>) throws(APIError) -> ByteBuffer,
                                     _ read: (Int) async throws(APIError) -> ListPage<Item>) async throws(APIError) -> ByteBuffer {
        var limit = limit
        while true {
            let page = try await read(limit)
            // Encoding is synchronous CPU work: the admitted read's low-priority thread, if any.
            let json = try await ReadAdmission.offloaded { () throws(APIError) -> ByteBuffer in try encode(page) }
            guard json.readableBytes > maxBytes, page.items.count > 1 else { return json }
            // Each pass shrinks the limit (fit < count ≤ limit), so this ends.
            limit = max(1, min(fittingCount(page.items, maxBytes: maxBytes), page.items.count - 1))
        }
    }

    /// How many leading `items` fit in a page of at most `maxBytes` of JSON, counting the
    /// envelope with the longest cursor (`{"items":[…],"next_cursor":"<20 digits>"}`).
    static func fittingCount<Item: Encodable>(_ items: [Item], maxBytes: Int) -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let envelope = #"{"items":[],"next_cursor":"18446744073709551615"}"#.utf8.count
        var total = envelope
        for (index, item) in items.enumerated() {
            guard let data = try? encoder.encode(item) else { return index }
            total += data.count + (index == 0 ? 0 : 1)
            if total > maxBytes { return index }
        }
        return items.count
    }
}
