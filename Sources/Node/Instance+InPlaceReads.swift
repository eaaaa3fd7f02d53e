import RaftCore

/// Reads of the driver's `Raft.Instance` that run often (per Raft message, per proposal).
///
/// Why they are `mutating`: a getter or method called on the instance the actor stores copies
/// the whole value first — the compiler cannot prove the actor's property unchanged during an
/// opaque call into RaftCore — and the copy retains and releases every table in it (log,
/// progress, membership, peers' incarnations …). A mutating call reads the stored value in place
/// through an exclusive `inout` access. Measured in docs/benchmarks.md ("CPU per drained job").
extension Raft.Instance {
    /// ``Raft/Instance/abstainsFromElections``, read in place.
    mutating func abstainsFromElectionsReadInPlace() -> Bool {
        abstainsFromElections
    }

    /// ``Raft/Instance/lastLogIndex``, read in place.
    mutating func lastLogIndexReadInPlace() -> Raft.LogIndex {
        lastLogIndex
    }
}
