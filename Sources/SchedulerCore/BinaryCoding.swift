/// An append-only byte writer for the command and snapshot formats.
///
/// Integers are LEB128 varints (signed ones zigzag-encoded), strings and byte arrays are a
/// varint length followed by the bytes, doubles are their IEEE 754 bit pattern (8 bytes, little
/// endian), optionals a presence byte.
public struct BinaryWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]
    /// An empty writer.
    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }
    /// Appends one byte.
    public mutating func write(_ byte: UInt8) { bytes.append(byte) }
    /// Appends an unsigned varint.
    public mutating func write(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    /// Appends a signed varint (zigzag).
    public mutating func write(_ value: Int64) {
        write(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }
    /// Appends a signed varint (zigzag).
    public mutating func write(_ value: Int) { write(Int64(value)) }
    /// Appends a 32-bit signed varint (zigzag).
    public mutating func write(_ value: Int32) { write(Int64(value)) }
    /// Appends a bool as one byte.
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }
    /// Appends a double's bit pattern, little endian.
    public mutating func write(_ value: Double) {
        var bits = value.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }
    /// Appends a length-prefixed UTF-8 string.
    public mutating func write(_ value: String) {
        var copy = value
        copy.withUTF8 { utf8 in
            write(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
    /// Appends length-prefixed bytes.
    public mutating func write(_ value: [UInt8]) {
        write(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
    /// Appends a timestamp.
    public mutating func write(_ value: Timestamp) { write(value.milliseconds) }
    /// Appends a presence byte, then the value if present.
    public mutating func writeOptional<T>(_ value: T?, _ body: (inout BinaryWriter, T) -> Void) {
        if let value {
            bytes.append(1)
            body(&self, value)
        } else {
            bytes.append(0)
        }
    }
    /// Appends a count, then each element.
    public mutating func writeArray<T>(_ values: [T], _ body: (inout BinaryWriter, T) -> Void) {
        write(UInt64(values.count))
        for value in values { body(&self, value) }
    }
}

/// Why bytes could not be decoded. Decoding never traps on bad input.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var message: String
    /// The byte offset where it was noticed.
    public var offset: Int
    /// An error.
    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
    /// `message (at byte offset)`.
    public var description: String { "\(message) (at byte \(offset))" }
}

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
    /// Reads a timestamp.
    public mutating func readTimestamp() throws(DecodeError) -> Timestamp { Timestamp(try readInt64()) }
    /// Reads a presence byte, then the value if present.
    public mutating func readOptional<T>(_ body: (inout BinaryReader) throws(DecodeError) -> T) throws(DecodeError) -> T? {
        try readBool() ? try body(&self) : nil
    }
    /// Reads a count, then that many elements.
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
