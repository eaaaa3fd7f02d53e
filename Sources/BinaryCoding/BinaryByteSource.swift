/// Bytes a windowed ``BinaryReader`` reads in pieces: a file, or an array (tests, images that
/// arrived in memory).
///
/// Positional rather than a cursor, so a source is a plain `Sendable` value or a file held open
/// (`pread`), with no position of its own to guard.
public protocol BinaryByteSource: Sendable {
    /// The number of bytes in the stream. A reader trusts it for every length and count check.
    var count: Int { get }
    /// The bytes `offset ..< offset + length`; fewer only when the stream ends first (the reader
    /// then fails with a ``DecodeError``). A source that cannot read says why in the error.
    func read(offset: Int, length: Int) throws(DecodeError) -> [UInt8]
}

/// An array read through a windowed ``BinaryReader`` (tests compare it with the array reader).
public struct ArrayByteSource: BinaryByteSource {
    private let bytes: [UInt8]
    /// A source of `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// See ``BinaryByteSource/count``.
    public var count: Int { bytes.count }
    /// See ``BinaryByteSource/read(offset:length:)``.
    public func read(offset: Int, length: Int) throws(DecodeError) -> [UInt8] {
        let start = min(max(0, offset), bytes.count)
        return Array(bytes[start..<min(bytes.count, start + max(0, length))])
    }
}
