import RaftCore

extension RaftDriver {
    /// Proposes each of `entries` as its own entry and returns each one's outcome, in order: one
    /// over `Options.maxEntryBytes` fails alone with `.entryTooLarge`, and the rest are appended
    /// together (``propose(batch:)``: one log write, one AppendEntries per follower) — an error
    /// for the whole batch (`.notLeader`, `.refused`, `.shuttingDown`) is each one's.
    ///
    /// For callers that propose commands which arrived together (a follower's forwarded batch,
    /// the leader's own clients' writes) and answer each on its own.
    public nonisolated func proposeEach(_ entries: [[UInt8]]) async -> [Result<Raft.LogIndex, RaftDriverError>] {
        var outcomes = [Result<Raft.LogIndex, RaftDriverError>](
            repeating: .failure(.shuttingDown(id)), count: entries.count)
        var proposed: [[UInt8]] = []
        var slots: [Int] = []
        for (slot, entry) in entries.enumerated() {
            if entry.count > maxEntryBytes {
                outcomes[slot] = .failure(.entryTooLarge(size: entry.count, limit: maxEntryBytes))
            } else {
                proposed.append(entry)
                slots.append(slot)
            }
        }
        guard !proposed.isEmpty else { return outcomes }
        do {
            let results = try await propose(batch: proposed)
            for (position, result) in results.enumerated() where position < slots.count {
                outcomes[slots[position]] = result
            }
        } catch {
            for slot in slots { outcomes[slot] = .failure(error) }
        }
        return outcomes
    }
}
