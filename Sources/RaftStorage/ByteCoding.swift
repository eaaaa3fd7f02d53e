/// Appends little-endian integers and byte strings to a buffer (the WAL's encoding).
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write(_ value: UInt16) { writeLittleEndian(value) }

    mutating func write(_ value: UInt32) { writeLittleEndian(value) }

    mutating func write(_ value: UInt64) { writeLittleEndian(value) }

    mutating func write<Bytes: Collection>(bytes other: Bytes) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: other)
    }

    /// Overwrites four bytes at `offset` (used to patch a length after the body is known).
    mutating func patch(_ value: UInt32, at offset: Int) {
        precondition(offset + 4 <= bytes.count, "patch at \(offset) beyond \(bytes.count) bytes")
        for shift in 0..<4 {
            bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(shift)))
        }
    }

    private mutating func writeLittleEndian<Value: FixedWidthInteger>(_ value: Value) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads little-endian integers from a byte buffer, failing (not trapping) on short input:
/// everything it reads came from a disk that may be damaged.
struct ByteReader {
    /// Why a read failed; the decoder turns it into a `StorageError` naming the file and offset.
    struct ShortRead: Error {
        var needed: Int
        var offset: Int
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func readUInt8() throws(ShortRead) -> UInt8 {
        try require(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws(ShortRead) -> UInt16 { try readLittleEndian(UInt16.self) }

    mutating func readUInt32() throws(ShortRead) -> UInt32 { try readLittleEndian(UInt32.self) }

    mutating func readUInt64() throws(ShortRead) -> UInt64 { try readLittleEndian(UInt64.self) }

    mutating func readBytes(_ count: Int) throws(ShortRead) -> [UInt8] {
        try require(count)
        defer { offset += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
    }

    private func require(_ count: Int) throws(ShortRead) {
        if count < 0 || remaining < count { throw ShortRead(needed: count, offset: offset) }
    }

    private mutating func readLittleEndian<Value: FixedWidthInteger>(_: Value.Type) throws(ShortRead) -> Value {
        let size = MemoryLayout<Value>.size
        try require(size)
        defer { offset += size }
        return Value(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Value.self))
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body with a typed error (`withUnsafeBytes` itself rethrows untyped
    /// errors, so the body's error is carried out as a value).
    func withBytes<E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        let result: Result<Void, E> = withUnsafeBytes { raw in
            do throws(E) {
                try body(raw)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }
}
