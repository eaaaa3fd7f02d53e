import Foundation

/// Remembers, on disk, the process groups of running shell attempts, so that a node restarted
/// after a crash can kill what its previous incarnation left running.
///
/// A shell attempt runs in its own session (so a timeout can signal the whole group), which
/// also means it outlives a SIGKILLed node. Its attempt is retried elsewhere, so the orphan must
/// not keep running. Each entry is one file named by the group id holding the group leader's
/// start time (field 22 of `/proc/<pid>/stat`): on restart a group is killed only if a process
/// with that id still exists **and** started at that time, so a reused id is never signalled.
public struct ProcessGroupJournal: Sendable {
    /// The directory holding one file per running group.
    public let directory: String

    /// A journal in `directory` (created if missing).
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Records a started group. Best effort: a failure is logged by the caller's result only.
    func started(group: pid_t) {
        guard let start = Self.startTime(of: group) else { return }
        _ = FileManager.default.createFile(atPath: path(group), contents: Data(start.utf8))
    }

    /// Forgets a group that ended.
    func ended(group: pid_t) {
        try? FileManager.default.removeItem(atPath: path(group))
    }

    /// Kills (SIGKILL) every recorded group whose leader is still the process that was
    /// recorded, and empties the journal. Returns the groups killed.
    @discardableResult
    public func killLeftovers() -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var killed: [pid_t] = []
        for name in names {
            guard let group = pid_t(name), group > 0 else { continue }
            let recorded = (try? String(contentsOfFile: path(group), encoding: .utf8)) ?? ""
            if !recorded.isEmpty, Self.startTime(of: group) == recorded, kill(-group, SIGKILL) == 0 {
                killed.append(group)
            }
            ended(group: group)
        }
        return killed
    }

    private func path(_ group: pid_t) -> String { directory + "/" + String(group) }

    /// The start time (clock ticks since boot) of process `pid`, or `nil` if it does not exist.
    static func startTime(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": field 3 is the state; the start time is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
