import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the API tokens file and the API's TLS pair and `client_ca` at once when the node
/// gets SIGHUP — the same reloads ``FileChangePoller`` triggers about a second after a file changes, for an
/// operator (or a certificate renewer's hook) who wants them now, or whose change the poller
/// cannot see (a file rewritten in place with its size and modification time kept).
///
/// A node always traps SIGHUP (whose default action would end the process): with nothing to
/// reload it logs that and carries on, as daemons do.
struct SIGHUPReloader: Service {
    /// One reload; it reports its own outcome in the log and never throws.
    typealias Reload = @Sendable (_ trigger: String) -> Void

    /// The trapped signal, created before the API listens.
    let signals: UnixSignalsSequence
    /// The tokens file's reload, the TLS pair's, or neither.
    let reloads: [Reload]
    let logger: Logger

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            guard !reloads.isEmpty else {
                logger.notice("SIGHUP: nothing to reload (no [api] tokens_file and no API TLS)")
                continue
            }
            logger.notice("SIGHUP: reloading the API tokens file and TLS pair")
            for reload in reloads { reload("SIGHUP") }
        }
    }
}
