/// The short output tail an attempt's finish carries into the replicated state.
///
/// Every node keeps every kept attempt of every job, so a 64 KiB tail per attempt costs
/// megabytes per job on all nodes at once. The finish report carries only the end of the output
/// (at most ``limit`` bytes of UTF-8); the full tail stays in the executor node's
/// ``AttemptOutputStore``. The field is the same string as before, just shorter, so the command
/// format does not change.
public enum ReplicatedOutputTail {
    /// The most UTF-8 bytes of output replicated per attempt: 4 KiB.
    public static let limit = 4 * 1024

    /// The end of `text` in at most `limit` UTF-8 bytes, cut on a character boundary
    /// (the whole of `text` when it fits).
    public static func shortened(_ text: String, limit: Int = limit) -> String {
        let utf8 = text.utf8
        guard utf8.count > limit else { return text }
        guard limit > 0 else { return "" }
        var start = utf8.index(utf8.endIndex, offsetBy: -limit)
        // Skip continuation bytes (10xxxxxx): the cut must start at a character's first byte.
        while start < utf8.endIndex, utf8[start] & 0b1100_0000 == 0b1000_0000 {
            start = utf8.index(after: start)
        }
        return String(decoding: utf8[start...], as: UTF8.self)
    }
}
