import BinaryCoding

extension BinaryWriter {
    /// Writes a count then each element, exactly as `writeArray` writes an `Array` (same bytes).
    mutating func writeArray<T>(_ values: ChunkedArray<T>, _ body: (inout BinaryWriter, T) -> Void) {
        write(UInt64(values.count))
        for value in values { body(&self, value) }
    }
}

extension BinaryReader {
    /// Reads what `writeArray` wrote straight into chunks (a restore of 1M jobs never holds a
    /// second, flat copy of the table). The count is bounded by the bytes left (`readCount`).
    mutating func readChunkedArray<T>(_ body: (inout BinaryReader) throws(DecodeError) -> T) throws(DecodeError) -> ChunkedArray<T> {
        let n = try readCount()
        var result = ChunkedArray<T>()
        for _ in 0..<n { result.append(try body(&self)) }
        return result
    }
}
