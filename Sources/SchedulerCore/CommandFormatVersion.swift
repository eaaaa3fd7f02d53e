/// Command format versions: which builds can apply which commands.
///
/// A build reports ``CommandCodec/buildFormatVersion`` in every lease probe; the leader proposes
/// a command only when every member reported at least the command's
/// ``Command/minimumFormatVersion`` (`NodeCore.FormatGate`). A new command kind gets the next
/// version as its minimum, so a cluster in the middle of a rolling upgrade never commits an entry
/// that an older member cannot decode (which would stop that member: see `docs/node.md`).
///
/// The entry header byte (``CommandCodec/version``) is a different thing: it names the binary
/// layout and is still 1.
extension CommandCodec {
    /// The format version every build knows: what a member that never said otherwise (an older
    /// build's legacy pings, or a member not heard from yet) is assumed to run.
    public static let baselineFormatVersion: UInt32 = 1

    /// This build's format version. Version 2 adds no command kind (every kind still needs 1): it
    /// marks builds that decode version-2 lease echoes and take unstamped forwards, which a leader
    /// offers only to executors that report at least this (see `docs/node.md`, "Upgrades").
    public static let buildFormatVersion: UInt32 = 2
}

extension Command {
    /// The lowest build format version that can apply this command; a batch needs the highest of
    /// its commands'. Every kind needs ``CommandCodec/baselineFormatVersion`` today.
    public var minimumFormatVersion: UInt32 {
        switch self {
        case .batch(let commands):
            commands.reduce(CommandCodec.baselineFormatVersion) { max($0, $1.minimumFormatVersion) }
        case .submitJob, .submitDAG, .fireCron, .assignAttempt, .finishAttempt, .expireAttempt, .cancelJob, .cancelDAG,
             .pause, .resume, .trigger, .requeue, .purge, .tick:
            CommandCodec.baselineFormatVersion
        }
    }
}
