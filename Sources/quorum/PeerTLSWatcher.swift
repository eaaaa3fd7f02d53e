import Logging
import NodeRuntime
import ServiceLifecycle

/// Re-reads the peer TLS files (`[tls] ca`, `cert`, `key`) when any of them changes — checked
/// every second by ``FileChangePoller`` — and swaps them into the running peer transport
/// (``PeerTLSReload``): new peer connections use them, established ones stay up. A set that does
/// not load is logged, counted and not applied.
struct PeerTLSWatcher: Service {
    let reload: PeerTLSReload
    /// The files' metadata taken just before the node loaded them at start, so a change made
    /// while the node was starting is still seen.
    let loadedStamps: [[String]]

    func run() async throws {
        await FileChangePoller.run(paths: reload.files, initial: loadedStamps) {
            reload.reload()
        }
    }
}
