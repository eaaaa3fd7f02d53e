import BinaryCoding

extension BinaryWriter {
    /// Appends a timestamp (milliseconds, zigzag varint).
    mutating func write(_ value: Timestamp) { write(value.milliseconds) }
}

extension BinaryReader {
    /// Reads a timestamp written by `BinaryWriter.write(_: Timestamp)`.
    mutating func readTimestamp() throws(DecodeError) -> Timestamp { Timestamp(try readInt64()) }
}
