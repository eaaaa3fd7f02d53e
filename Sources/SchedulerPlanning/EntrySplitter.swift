import SchedulerCore

/// Splits the commands a leader makes itself (cron fires, expiries, assignments) into log
/// entries that each fit `[raft] max_entry_bytes` once encoded.
///
/// Why: the driver refuses an entry over the limit (one that large could not travel in a peer
/// frame), so one oversized batch would stall every duty forever — no cron fire, no
/// assignment. The commands of one round are independent: each is checked by the state
/// machine when it applies, so several entries in order mean the same as one batch.
public enum EntrySplitter {
    /// The most bytes a stamped batch adds around its commands' own encodings: the format
    /// version (1), the stamp (a varint, at most 10), the batch tag (1) and the count (at most 10).
    public static let batchOverheadBytes = 22

    /// `commands` as entries, in order: each a single command or a `.batch` whose encoding is
    /// at most `maxEntryBytes` for any stamp. A command too large on its own is still returned
    /// alone (the proposer refuses it; nothing else is held back by it).
    public static func entries(_ commands: [Command], maxEntryBytes: Int) -> [Command] {
        var entries: [Command] = []
        var chunk: [Command] = []
        var chunkBytes = batchOverheadBytes
        func flush() {
            if chunk.count == 1 { entries.append(chunk[0]) } else if chunk.count > 1 { entries.append(.batch(chunk)) }
            chunk.removeAll(keepingCapacity: true)
            chunkBytes = batchOverheadBytes
        }
        for command in commands {
            let size = encodedSize(of: command)
            if !chunk.isEmpty, chunkBytes + size > maxEntryBytes { flush() }
            chunk.append(command)
            chunkBytes += size
        }
        flush()
        return entries
    }

    /// The bytes `command` takes inside a batch: its stamped encoding minus the stamp's header
    /// (measured at one fixed stamp; a command's own encoding does not depend on it).
    public static func encodedSize(of command: Command) -> Int {
        let header = CommandCodec.encode(.tick, at: .zero).count - 1  // `.tick` is its tag alone
        return CommandCodec.encode(command, at: .zero).count - header
    }
}
