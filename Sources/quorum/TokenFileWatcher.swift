import Foundation
import HTTPAPI
import Logging
import ServiceLifecycle

/// Keeps a ``TokenAuthorizer`` in step with `[api] tokens_file`: read once at start (a missing or
/// invalid file stops the node with the file's error), then re-read whenever its size or
/// modification time changes (``FileChangePoller``) — so `quorum tokens revoke` takes
/// effect on every node within about a second, without a restart.
///
/// A file that becomes invalid is not applied: the node keeps the entries it had and logs an
/// error every time it looks, because locking every client out (or letting a half-written file
/// through) would be worse. Fix the file and the next look applies it.
struct TokenFileWatcher: Service {
    /// A tokens file as read, with the metadata it had just before (``stamp(of:)``): a change
    /// after that is seen by the watcher even if it happens before the watcher starts.
    struct Loaded: Sendable {
        var file: TokenFile
        var stamp: [String]
    }

    let path: String
    let authorizer: TokenAuthorizer
    let logger: Logger
    /// The metadata of the file the authorizer holds now.
    let loadedStamp: [String]

    /// Reads the file for the first time (metadata first, so no change can slip between).
    static func loadWithStamp(path: String) throws(CLIError) -> Loaded {
        let stamp = stamp(of: path)
        return Loaded(file: try load(path: path), stamp: stamp)
    }

    /// Reads and parses the file.
    static func load(path: String) throws(CLIError) -> TokenFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .invalidInput("[api] tokens_file \(path) cannot be read (\(error.localizedDescription)); "
                + "create it with `quorum tokens create --file \(path) --name NAME --role admin`")
        }
        do {
            return try TokenFile(parsing: text)
        } catch {
            throw .invalidInput("[api] tokens_file \(path): \(error)")
        }
    }

    func run() async throws {
        await FileChangePoller.run(paths: [path], initial: [loadedStamp]) { reload(trigger: "file change") }
    }

    /// Re-reads the file now and applies it if it is valid; `trigger` (`file change`, `SIGHUP`)
    /// goes into the log line.
    func reload(trigger: String) {
        do {
            let file = try Self.load(path: path)
            authorizer.replace(file)
            logger.notice("re-read the API tokens file",
                          metadata: ["file": "\(path)", "tokens": "\(file.entries.count)", "trigger": "\(trigger)"])
        } catch {
            logger.error("the API tokens file cannot be used; keeping the tokens read before",
                         metadata: ["file": "\(path)", "error": "\(error)", "trigger": "\(trigger)"])
        }
    }

    static func stamp(of path: String) -> [String] { FileChangePoller.stamp(of: path) }
}
