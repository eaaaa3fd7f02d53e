/// An append-only byte writer for Quorum's binary formats (Raft messages on the wire,
/// scheduler commands and snapshots).
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
    /// Forgets the bytes written so far, keeping the buffer (a streaming encoder hands them out
    /// in pieces and reuses one buffer).
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }
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
    /// Appends a presence byte, then the value if present.
    ///
    /// `@inlinable` (as ``writeArray(_:_:)``): callers in other modules then get a version
    /// specialised to their `T`; the generic one looks up `Optional<T>`'s metadata in the
    /// runtime's cache on every call, which showed in profiles of command encoding.
    @inlinable
    public mutating func writeOptional<T>(_ value: T?, _ body: (inout BinaryWriter, T) -> Void) {
        if let value {
            write(UInt8(1))
            body(&self, value)
        } else {
            write(UInt8(0))
        }
    }
    /// Appends a count, then each element.
    @inlinable
    public mutating func writeArray<T>(_ values: [T], _ body: (inout BinaryWriter, T) -> Void) {
        write(UInt64(values.count))
        for value in values { body(&self, value) }
    }
}
