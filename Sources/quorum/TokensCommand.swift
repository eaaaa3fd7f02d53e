import ArgumentParser
import Foundation
import HTTPAPI

/// `quorum tokens create | revoke | list --file PATH`: manage the API tokens file
/// (`[api] tokens_file`). Every node re-reads the file within about a second of a change.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Manage the API bearer tokens file ([api] tokens_file): create, revoke, list.",
        subcommands: [TokensCreateCommand.self, TokensRevokeCommand.self, TokensListCommand.self]
    )
}

/// The `--file` every tokens subcommand takes, and reading and writing it.
struct TokensFileOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The tokens file ([api] tokens_file); distribute it to every node.", valueName: "PATH"))
    var file: String

    /// The file's entries; a missing file is empty when `missingIsEmpty`.
    func read(missingIsEmpty: Bool) throws(CLIError) -> TokenFile {
        guard FileManager.default.fileExists(atPath: file) else {
            if missingIsEmpty { return TokenFile() }
            throw .invalidInput("--file: \(file) does not exist")
        }
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw .failure("cannot read \(file): \(error.localizedDescription)")
        }
        do {
            return try TokenFile(parsing: text)
        } catch {
            throw .invalidInput("\(file): \(error)")
        }
    }

    /// Writes `tokens` through a temporary file renamed into place (owner-only permissions), so
    /// a node never reads half a file and the hashes are not world-readable.
    func write(_ tokens: TokenFile) throws(CLIError) {
        let temporary = file + ".tmp"
        let created = FileManager.default.createFile(
            atPath: temporary, contents: Data(tokens.text.utf8), attributes: [.posixPermissions: 0o600])
        guard created, rename(temporary, file) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .failure("cannot write \(file) (check the directory exists and is writable)")
        }
    }
}

/// `quorum tokens create --file PATH --name N --role R`: appends a token and prints it once.
struct TokensCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a token, store its SHA-256 in the file and print the token (only this once).")

    @OptionGroup var options: TokensFileOptions

    @Option(name: .long, help: "A unique name (letters, digits, '-', '_', '.'; at most 64): what logs and `list` show.")
    var name: String

    @Option(name: .long, help: "read (GETs), submit (create and change work) or admin (DLQ purge, cluster writes).")
    var role: String

    func run() throws {
        guard TokenFile.isValidName(name) else {
            throw CLIError.invalidInput("--name: '\(name)' must be 1-64 letters, digits, '-', '_' or '.'")
        }
        guard let role = APIRole(rawValue: role) else {
            throw CLIError.invalidInput("--role: '\(role)' is not read, submit or admin")
        }
        var tokens = try options.read(missingIsEmpty: true)
        guard !tokens.entries.contains(where: { $0.name == name }) else {
            throw CLIError.invalidInput("--name: '\(name)' already exists in \(options.file); revoke it first or choose another name")
        }
        let token = TokenFile.newToken()
        tokens.entries.append(TokenFile.Entry(name: name, role: role, digest: TokenFile.digest(of: token)))
        try options.write(tokens)
        print(token)
        StandardError.write("created token '\(name)' (\(role.rawValue)) in \(options.file); it is shown only now — store it, then use it "
                       + "with QUORUM_TOKEN=… or --token")
    }
}

/// `quorum tokens revoke --file PATH --name N`.
struct TokensRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Remove a token; nodes refuse it within about a second, no restart needed.")

    @OptionGroup var options: TokensFileOptions

    @Option(name: .long, help: "The token's name.")
    var name: String

    func run() throws {
        var tokens = try options.read(missingIsEmpty: false)
        guard tokens.entries.contains(where: { $0.name == name }) else {
            throw CLIError.invalidInput("--name: no token named '\(name)' in \(options.file) (see `quorum tokens list --file \(options.file)`)")
        }
        tokens.entries.removeAll { $0.name == name }
        try options.write(tokens)
        print("revoked token '\(name)'")
    }
}

/// `quorum tokens list --file PATH`: names and roles (the tokens themselves are not stored).
struct TokensListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tokens' names and roles.")

    @OptionGroup var options: TokensFileOptions

    func run() throws {
        let tokens = try options.read(missingIsEmpty: false)
        var table = TextTable(["NAME", "ROLE"])
        for entry in tokens.entries { table.append([entry.name, entry.role.rawValue]) }
        print(table.render())
    }
}
