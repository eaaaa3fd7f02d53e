import ArgumentParser
import Foundation
import QuorumClient

/// The flags every client command shares: where the cluster is and how to print.
struct ClientOptions: ParsableArguments {
    @Option(
        name: .customLong("server"),
        help: ArgumentHelp(
            "API base URLs, comma-separated, tried in order (the next on 503 or when unreachable).",
            valueName: "URL[,URL…]"))
    var servers: String = ProcessInfo.processInfo.environment["QUORUM_SERVER"] ?? ServerList.defaultText

    @Flag(name: .long, help: "Print the server's JSON instead of a table.")
    var json = false

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for a connection to one server before trying the next.")
    var connectTimeout: Double = 1

    @Option(name: .customLong("request-timeout"), help: "Seconds to wait for one server's answer.")
    var requestTimeout: Double = 30

    @Option(name: .long, help: "Keep retrying the servers for up to this many seconds while none can serve (e.g. during an election).")
    var wait: Double = 0

    @Option(name: .long, help: "The API bearer token (default: $QUORUM_TOKEN); needed when the cluster sets [api] tokens_file.")
    var token: String?

    /// `--token`, else `$QUORUM_TOKEN` (empty counts as unset).
    var effectiveToken: String? {
        token ?? ProcessInfo.processInfo.environment["QUORUM_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    @Option(name: .long, help: ArgumentHelp("Trust this CA (PEM) for https:// servers, e.g. the cluster's certs/ca.pem.", valueName: "FILE"))
    var cacert: String?

    @Option(name: .long, help: ArgumentHelp("A client certificate (PEM) for nodes that require one ([api] client_ca); with --key.", valueName: "FILE"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("The private key (PEM) of --cert.", valueName: "FILE"))
    var key: String?

    @Flag(name: .long, help: "Print request details on stderr (the Idempotency-Key a creating command sends).")
    var verbose = false

    /// Runs `body` with a client over `--server`, turning client errors into the CLI's exit codes
    /// (2 for a bad `--server` or a 400/422 answer, 1 otherwise).
    func withClient(_ body: (QuorumAPIClient) async throws -> Void) async throws {
        guard connectTimeout > 0, connectTimeout <= 600 else {
            throw CLIError.invalidInput("--connect-timeout: \(connectTimeout) is out of range (0, 600] seconds")
        }
        guard requestTimeout > 0, requestTimeout <= 86_400 else {
            throw CLIError.invalidInput("--request-timeout: \(requestTimeout) is out of range (0, 86400] seconds")
        }
        guard wait >= 0, wait <= 86_400 else {
            throw CLIError.invalidInput("--wait: \(wait) is out of range [0, 86400] seconds")
        }
        do {
            let list = try ServerList(parsing: servers)
            try await QuorumAPIClient.withClient(
                servers: list, connectTimeout: .milliseconds(Int64(connectTimeout * 1000)),
                requestTimeout: .milliseconds(Int64(requestTimeout * 1000)), unavailableWait: .milliseconds(Int64(wait * 1000)),
                token: effectiveToken, tls: ClientTLS(caFile: cacert, certificateFile: cert, keyFile: key), body)
        } catch let error as QuorumClientError {
            throw CLIError(message: error.description, exitCode: error.isInvalidInput ? CLIError.invalidInputCode : CLIError.failureCode)
        }
    }

    /// The `Idempotency-Key` a creating command sends: `given` (`--idempotency-key`), else a new
    /// random one. Always sending one is what makes the client's retries safe: a write whose
    /// outcome is unknown (no answer, or 503 `outcome_unknown`) is repeated — on this or another
    /// server — only with a key, and the repeat then returns the first job instead of a second.
    /// Printed on stderr with `--verbose`, so a user can repeat the command by hand with it.
    func idempotencyKey(_ given: String?) -> String {
        let key = given ?? UUID().uuidString.lowercased()
        if verbose { StandardError.write("Idempotency-Key: \(key)") }
        return key
    }

    /// Prints `reply` as the server's JSON with `--json`, else as `render` makes it.
    func output<Value>(_ reply: APIReply<Value>, render: (Value) -> String) {
        if json {
            printJSON(reply.json)
        } else {
            let text = render(reply.value)
            if !text.isEmpty { print(text) }
        }
    }

    /// Writes JSON bytes as they came, on one line.
    func printJSON(_ bytes: [UInt8]) {
        print(String(decoding: bytes, as: UTF8.self))
    }
}

/// The `--stale` flag of read commands.
struct ReadOptions: ParsableArguments {
    @Flag(name: .long, help: "Read this node's own state without confirming with the leader (works without a leader; may be behind).")
    var stale = false
}

/// The paging flags of list commands.
struct PageOptions: ParsableArguments {
    @Option(name: .long, help: "The page size (1-1000; server default 100).")
    var limit: Int?

    @Option(name: .long, help: "Continue after a previous page: its next_cursor.")
    var cursor: String?

    /// Tells the user how to get the next page (on standard error, so standard output stays a table).
    static func announceNextPage(_ cursor: String?, command: String) {
        guard let cursor else { return }
        StandardError.write("more: \(command) --cursor \(cursor)")
    }
}
