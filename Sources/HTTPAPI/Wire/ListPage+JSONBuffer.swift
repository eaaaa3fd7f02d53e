import NIOCore

extension ListPage where Item == JobResource {
    /// The page as the API writes it, through the hand-written job encoder; `nil` when one of its
    /// jobs is not one that encoder writes (``JobResource/canWriteJSON``: use `JSONEncoder`).
    ///
    /// Issue #12: encoding 50-job pages with `JSONEncoder` was about half of the leader's CPU
    /// while four clients looped over `GET /api/jobs` (more than the walk and the rendering
    /// together; docs/benchmarks.md, "Reads cannot starve writes").
    @inline(never)  // a frame of its own in profiles
    func handWrittenJSON() -> ByteBuffer? {
        guard items.allSatisfy(\.canWriteJSON) else { return nil }
        var writer = JSONBufferWriter(buffer: ByteBuffer())
        writer.buffer.reserveCapacity(64 + items.count * 1024)
        writer.beginObject()
        writer.key("items")
        writer.beginArray()
        for item in items { item.writeJSON(into: &writer) }
        writer.endArray()
        writer.key("next_cursor"); writer.string(orNull: nextCursor)
        writer.endObject()
        return writer.buffer
    }
}
