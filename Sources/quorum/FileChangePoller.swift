import Foundation
import ServiceLifecycle

/// Polls files' metadata and calls back when any of them changed — the one loop behind the
/// node's reloads without restart (the tokens file, the API's TLS pair). A change is reported
/// once: a broken file is not re-reported every second, only after it changes again.
enum FileChangePoller {
    /// How often the files' metadata is checked.
    static let interval: Duration = .seconds(1)

    /// What changes when a file is rewritten: size, modification time and inode (an atomic
    /// rename-into-place changes the inode even within one timestamp tick).
    static func stamp(of path: String) -> [String] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return ["missing"] }
        return ["\(attributes[.size] ?? "")", "\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
                "\(attributes[.systemFileNumber] ?? "")"]
    }

    /// Runs until a graceful shutdown or cancellation, calling `changed` after any of `paths`
    /// differs from `initial` (the stamps of what was loaded) or from the last change seen.
    static func run(paths: [String], initial: [[String]], changed: () -> Void) async {
        var seen = initial
        while !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            let now = paths.map(stamp(of:))
            guard now != seen else { continue }
            seen = now
            changed()
        }
    }
}
