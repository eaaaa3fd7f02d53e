/// A bounds-checked reader over bytes written by ``BinaryWriter``: over an array held whole, or
/// over a stream read in windows from a ``BinaryByteSource``.
///
/// Why windows: a snapshot image of 1M pending jobs is ~150 MiB; decoding it from one array
/// held that much beside the state being built (issue #18, "a node restoring a 1,000,000-job
/// snapshot stays under 1 GiB"). A windowed reader holds one window (1 MiB by default), refilled
/// from the source when a read runs past it. Lengths and counts are checked against what is left
/// of the *stream*, not of the window, so a damaged count fails exactly as it does over an array
/// and never makes a decoder allocate for elements that cannot be there.
public struct BinaryReader: Sendable {
    /// The bytes in hand: the whole input, or the current window of a stream.
    private var bytes: [UInt8]
    /// The next byte to read, as an index into `bytes`.
    private var position: Int
    /// The stream offset of `bytes[0]` (always 0 over an array).
    private var base: Int
    /// The length of the whole input.
    private let length: Int
    /// Where a windowed reader refills from; `nil` when `bytes` is the whole input.
    private let source: (any BinaryByteSource)?
    /// How many bytes a refill asks the source for (at least what the read needs).
    private let windowBytes: Int

    /// A reader at the start of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        position = 0
        base = 0
        length = bytes.count
        source = nil
        windowBytes = bytes.count
    }

    /// A reader at the start of `source`'s bytes, holding at most about `windowBytes` of them at
    /// a time (more only while one string or byte array longer than that is read).
    public init(source: any BinaryByteSource, windowBytes: Int = 1 << 20) {
        bytes = []
        position = 0
        base = 0
        length = max(0, source.count)
        self.source = source
        self.windowBytes = max(1, windowBytes)
    }

    /// The next byte to read: its offset in the whole input.
    public var offset: Int { base + position }
    /// Whether every byte was consumed.
    public var isAtEnd: Bool { offset == length }
    /// Bytes not yet read (of the whole input, not of the window).
    public var remaining: Int { length - offset }

    /// Makes `bytes[position..<position + count]` valid, refilling the window from the source;
    /// throws `message` when the input ends first.
    @inline(__always)
    private mutating func require(_ count: Int, _ message: @autoclosure () -> String) throws(DecodeError) {
        guard bytes.count - position < count else { return }
        try refill(count, message())
    }

    private mutating func refill(_ count: Int, _ message: String) throws(DecodeError) {
        guard let source, count <= remaining else { throw DecodeError(message, offset: offset) }
        let kept = bytes.count - position
        let start = base + bytes.count
        let wanted = min(length - start, max(windowBytes, count - kept))
        let fetched = try source.read(offset: start, length: wanted)
        guard fetched.count == wanted else {
            throw DecodeError("the source ended after \(start + fetched.count) of its \(length) bytes", offset: start + fetched.count)
        }
        bytes.removeSubrange(0..<position)
        bytes.append(contentsOf: fetched)
        base += position
        position = 0
    }

    /// Reads one byte.
    public mutating func readByte() throws(DecodeError) -> UInt8 {
        if position >= bytes.count { try refill(1, "unexpected end of data") }
        let b = bytes[position]
        position += 1
        return b
    }
    /// Reads an unsigned varint (at most 10 bytes; overlong input is an error).
    public mutating func readUInt64() throws(DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try readByte()
            if shift == 63 && b > 1 { throw DecodeError("varint overflows 64 bits", offset: offset - 1) }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw DecodeError("varint too long", offset: offset) }
        }
    }
    /// Reads a zigzag varint.
    public mutating func readInt64() throws(DecodeError) -> Int64 {
        let raw = try readUInt64()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }
    /// Reads a zigzag varint that must fit an `Int`.
    public mutating func readInt() throws(DecodeError) -> Int {
        let v = try readInt64()
        guard let i = Int(exactly: v) else { throw DecodeError("integer \(v) out of range", offset: offset) }
        return i
    }
    /// Reads a zigzag varint that must fit an `Int32`.
    public mutating func readInt32() throws(DecodeError) -> Int32 {
        let v = try readInt64()
        guard let i = Int32(exactly: v) else { throw DecodeError("integer \(v) out of Int32 range", offset: offset) }
        return i
    }
    /// Reads a count bounded by the bytes left in the input (each element takes at least one byte).
    public mutating func readCount() throws(DecodeError) -> Int {
        let start = offset
        let n = try readUInt64()
        guard n <= UInt64(remaining) else {
            throw DecodeError("count \(n) exceeds the \(remaining) bytes left", offset: start)
        }
        return Int(n)
    }
    /// Reads a bool byte (0 or 1).
    public mutating func readBool() throws(DecodeError) -> Bool {
        let b = try readByte()
        guard b <= 1 else { throw DecodeError("bool byte \(b) is not 0 or 1", offset: offset - 1) }
        return b == 1
    }
    /// Reads a double's bit pattern.
    public mutating func readDouble() throws(DecodeError) -> Double {
        try require(8, "unexpected end of data in a double")
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return Double(bitPattern: bits)
    }
    /// Reads a length-prefixed byte array.
    public mutating func readBytes() throws(DecodeError) -> [UInt8] {
        let n = try readCount()
        try require(n, "unexpected end of data")
        let slice = Array(bytes[position..<(position + n)])
        position += n
        return slice
    }
    /// Reads a length-prefixed UTF-8 string (invalid UTF-8 is an error).
    public mutating func readString() throws(DecodeError) -> String {
        try readString(sharing: nil)
    }
    /// Reads a length-prefixed UTF-8 string, returning `candidate` itself when the bytes are its
    /// UTF-8: no new buffer, the decoded value shares the candidate's.
    ///
    /// Why: applied commands give a job's id, its run's `jobID`, its `runID` and active runs one
    /// shared buffer each; decoded field by field, a snapshot gave every copy its own (ids of
    /// 16+ bytes are heap strings, ~64 B each), so a restored node held ~3 more per pending job
    /// than one that applied the same log (issue #18).
    public mutating func readString(sharing candidate: String?) throws(DecodeError) -> String {
        let start = offset
        let n = try readCount()
        try require(n, "unexpected end of data")
        if var candidate, candidate.utf8.count == n {
            let same = candidate.withUTF8 { expected in
                bytes.withUnsafeBufferPointer { [position] buffer in
                    UnsafeBufferPointer(rebasing: buffer[position..<(position + n)]).elementsEqual(expected)
                }
            }
            if same {
                position += n
                return candidate
            }
        }
        let s: String? = bytes.withUnsafeBufferPointer { [position] buffer in
            let slice = UnsafeBufferPointer(rebasing: buffer[position..<(position + n)])
            // ASCII (the common case: ids, names) is valid UTF-8; skip the generic validator.
            if !slice.contains(where: { $0 >= 0x80 }) { return String(decoding: slice, as: UTF8.self) }
            return String(validating: slice, as: UTF8.self)
        }
        guard let s else { throw DecodeError("string is not valid UTF-8", offset: start) }
        position += n
        return s
    }
    /// Reads a presence byte, then the value if present (`@inlinable`, as
    /// ``BinaryWriter/writeOptional(_:_:)``: specialised in the caller's module).
    @inlinable
    public mutating func readOptional<T>(_ body: (inout BinaryReader) throws(DecodeError) -> T) throws(DecodeError) -> T? {
        try readBool() ? try body(&self) : nil
    }
    /// Reads a count, then that many elements (`@inlinable`: specialised in the caller's module).
    @inlinable
    public mutating func readArray<T>(_ body: (inout BinaryReader) throws(DecodeError) -> T) throws(DecodeError) -> [T] {
        let n = try readCount()
        var result: [T] = []
        // A corrupt count is bounded by the bytes left, but elements are larger in memory than
        // on the wire: cap the up-front reservation so bad input cannot demand gigabytes.
        result.reserveCapacity(min(n, 1 << 20))
        for _ in 0..<n { result.append(try body(&self)) }
        return result
    }
}
