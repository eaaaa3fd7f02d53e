import TOMLKit

/// Reads one TOML table strictly: every key must be read by the caller, and `finish()` turns any
/// key nobody asked for into an error, so a typo (`heartbeat_msec`) never passes silently.
struct StrictTable {
    private let table: TOMLTable
    /// The dotted path of this table (`raft`, `nodes[1]`), for messages.
    let path: String
    private let file: String
    private var consumed: Set<String> = []

    init(_ table: TOMLTable, path: String, file: String) {
        self.table = table
        self.path = path
        self.file = file
    }

    func keyPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    func error(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(file: file, key: keyPath(key), reason: reason)
    }

    private mutating func value(_ key: String) -> TOMLValueConvertible? {
        consumed.insert(key)
        return table[key]
    }

    private func typeMismatch(_ key: String, expected: String, found: TOMLValueConvertible) -> ConfigError {
        error(key, "expected \(expected), found \(found.type.description)")
    }

    mutating func string(_ key: String) throws(ConfigError) -> String? {
        guard let raw = value(key) else { return nil }
        guard let string = raw.string else { throw typeMismatch(key, expected: "a string", found: raw) }
        return string
    }

    mutating func int(_ key: String) throws(ConfigError) -> Int? {
        guard let raw = value(key) else { return nil }
        guard let int = raw.int else { throw typeMismatch(key, expected: "an integer", found: raw) }
        return int
    }

    mutating func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let raw = value(key) else { return nil }
        guard let bool = raw.bool else { throw typeMismatch(key, expected: "true or false", found: raw) }
        return bool
    }

    mutating func intArray(_ key: String) throws(ConfigError) -> [Int]? {
        guard let raw = value(key) else { return nil }
        guard let array = raw.array else { throw typeMismatch(key, expected: "an array of integers", found: raw) }
        var result: [Int] = []
        for element in array {
            guard let int = element.int else {
                throw error(key, "expected an array of integers, found an element that is a \(element.type.description)")
            }
            result.append(int)
        }
        return result
    }

    mutating func stringArray(_ key: String) throws(ConfigError) -> [String]? {
        guard let raw = value(key) else { return nil }
        guard let array = raw.array else { throw typeMismatch(key, expected: "an array of strings", found: raw) }
        var result: [String] = []
        for element in array {
            guard let string = element.string else {
                throw error(key, "expected an array of strings, found an element that is a \(element.type.description)")
            }
            result.append(string)
        }
        return result
    }

    /// An inline table of strings (`labels = {zone = "a"}`).
    mutating func stringTable(_ key: String) throws(ConfigError) -> [String: String]? {
        guard let raw = value(key) else { return nil }
        guard let table = raw.table else { throw typeMismatch(key, expected: "a table of strings ({key = \"value\"})", found: raw) }
        var result: [String: String] = [:]
        for name in table.keys.sorted() {
            guard let string = table[name]?.string else {
                throw error("\(key).\(name)", "expected a string (write it quoted, e.g. \(name) = \"true\")")
            }
            result[name] = string
        }
        return result
    }

    mutating func table(_ key: String) throws(ConfigError) -> StrictTable? {
        guard let raw = value(key) else { return nil }
        guard let table = raw.table else { throw typeMismatch(key, expected: "a table ([\(keyPath(key))])", found: raw) }
        return StrictTable(table, path: keyPath(key), file: file)
    }

    mutating func tableArray(_ key: String) throws(ConfigError) -> [StrictTable]? {
        guard let raw = value(key) else { return nil }
        guard let array = raw.array else {
            throw typeMismatch(key, expected: "an array of tables ([[\(keyPath(key))]])", found: raw)
        }
        var result: [StrictTable] = []
        for (offset, element) in array.enumerated() {
            guard let table = element.table else {
                throw ConfigError(file: file, key: "\(keyPath(key))[\(offset)]", reason: "expected a table, found a \(element.type.description)")
            }
            result.append(StrictTable(table, path: "\(keyPath(key))[\(offset)]", file: file))
        }
        return result
    }

    /// Fails on the first key (in sorted order, so messages are stable) that was never read.
    func finish() throws(ConfigError) {
        for key in table.keys.sorted() where !consumed.contains(key) {
            throw error(key, "unknown key (check the spelling; docs/configuration.md lists every key)")
        }
    }
}
