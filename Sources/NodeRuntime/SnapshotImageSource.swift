import BinaryCoding
import Node

/// A snapshot image as the bytes a windowed `BinaryReader` reads: the shell's reads (a file's
/// `pread`) behind the pure decoder's source protocol. A read that fails is a `DecodeError` that
/// says why, so the restore stops as it would on bad bytes.
struct SnapshotImageSource: BinaryByteSource {
    let image: any SnapshotImage

    var count: Int { image.count }

    func read(offset: Int, length: Int) throws(DecodeError) -> [UInt8] {
        do {
            return try image.read(offset: offset, length: length)
        } catch {
            throw DecodeError("cannot read the snapshot image: \(error)", offset: offset)
        }
    }
}
