/// Keeps only the last `limit` bytes of a stream, in constant memory.
///
/// A job that prints a gigabyte costs `limit` bytes here: every chunk is copied into a fixed ring
/// and older bytes are overwritten. ``text`` turns the kept bytes into valid UTF-8.
struct OutputTail: Sendable {
    /// The most bytes kept.
    let limit: Int
    /// The ring; grows up to `limit` and then stays that size.
    private var ring: [UInt8] = []
    /// Where the next byte goes once the ring is full (and so where the oldest byte is).
    private var head = 0
    /// Every byte ever appended, kept or not.
    private(set) var totalBytes = 0

    /// Creates an empty tail that keeps at most `limit` bytes (`limit` ≥ 0).
    init(limit: Int) {
        precondition(limit >= 0, "OutputTail limit must not be negative, got \(limit)")
        self.limit = limit
    }

    /// Appends a chunk of the stream.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += bytes.count
        guard limit > 0, !bytes.isEmpty else { return }
        // Only the last `limit` bytes of a large chunk can survive.
        let chunk = bytes.count > limit ? UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - limit)...]) : bytes
        var offset = 0
        if ring.count < limit {
            let room = limit - ring.count
            let taken = min(room, chunk.count)
            ring.append(contentsOf: chunk[0..<taken])
            offset = taken
        }
        // Ring is full: overwrite from `head`, wrapping.
        while offset < chunk.count {
            let run = min(limit - head, chunk.count - offset)
            let source = UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + run)])
            let start = head
            ring.withUnsafeMutableBytes { destination in
                UnsafeMutableRawBufferPointer(rebasing: destination[start..<(start + run)]).copyMemory(from: source)
            }
            offset += run
            head = (head + run) % limit
        }
    }

    /// Appends a chunk of the stream.
    mutating func append(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBytes { append($0) }
    }

    /// The kept bytes, oldest first.
    var bytes: [UInt8] {
        guard ring.count == limit, head != 0 else { return ring }
        return Array(ring[head...] + ring[..<head])
    }

    /// The kept bytes as text: a partial character at the start of the tail is dropped, invalid
    /// bytes become U+FFFD, and the result is at most `limit` bytes of UTF-8.
    var text: String {
        var kept = bytes[...]
        // If the stream was cut, the first bytes may be the continuation bytes (10xxxxxx) of a
        // character whose lead byte was overwritten: drop them rather than show U+FFFD.
        if totalBytes > kept.count {
            var dropped = 0
            while dropped < 3, let first = kept.first, first & 0b1100_0000 == 0b1000_0000 {
                kept = kept.dropFirst()
                dropped += 1
            }
        }
        let decoded = String(decoding: kept, as: UTF8.self)
        // Each replaced byte may grow to three (U+FFFD); trim from the front to stay in `limit`.
        var excess = decoded.utf8.count - limit
        guard excess > 0 else { return decoded }
        var scalars = decoded.unicodeScalars[...]
        while excess > 0, let first = scalars.first {
            excess -= first.utf8.count
            scalars = scalars.dropFirst()
        }
        return String(String.UnicodeScalarView(scalars))
    }
}
