/// A bounds-checked reader over bytes written by ``BinaryWriter``.
public struct BinaryReader: Sendable {
    private let bytes: [UInt8]
    /// The next byte to read.
    public private(set) var offset: Int
    /// A reader at the start of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }
    /// Whether every byte was consumed.
    public var isAtEnd: Bool { offset == bytes.count }
    /// Bytes not yet read.
    public var remaining: Int { bytes.count - offset }

    /// Reads one byte.
    public mutating func readByte() throws(DecodeError) -> UInt8 {
        guard offset < bytes.count else { throw DecodeError("unexpected end of data", offset: offset) }
        let b = bytes[offset]
        offset += 1
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
    /// Reads a count bounded by the bytes left (each element takes at least one byte).
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
        guard remaining >= 8 else { throw DecodeError("unexpected end of data in a double", offset: offset) }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return Double(bitPattern: bits)
    }
    /// Reads a length-prefixed byte array.
    public mutating func readBytes() throws(DecodeError) -> [UInt8] {
        let n = try readCount()
        let slice = Array(bytes[offset..<(offset + n)])
        offset += n
        return slice
    }
    /// Reads a length-prefixed UTF-8 string (invalid UTF-8 is an error).
    public mutating func readString() throws(DecodeError) -> String {
        let start = offset
        let n = try readCount()
        let s: String? = bytes.withUnsafeBufferPointer { buffer in
            let slice = UnsafeBufferPointer(rebasing: buffer[offset..<(offset + n)])
            // ASCII (the common case: ids, names) is valid UTF-8; skip the generic validator.
            if !slice.contains(where: { $0 >= 0x80 }) { return String(decoding: slice, as: UTF8.self) }
            return String(validating: slice, as: UTF8.self)
        }
        guard let s else { throw DecodeError("string is not valid UTF-8", offset: start) }
        offset += n
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
