/// A problem with one field of a request body, found while decoding it.
///
/// Thrown from the wire types' `init(from:)` (unknown fields, bad enum values, non-integers)
/// with the decoder's coding path, so a problem deep in a batch is reported as
/// `jobs[3].task.command`. ``APIError/init(decoding:)`` turns it into a 400 or 422.
public struct FieldProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// Whether the body has the wrong shape (400) or a bad value (422).
    public enum Kind: Hashable, Sendable {
        /// Wrong type or unknown field: `bad_request`.
        case badRequest
        /// A value of the right type that is not allowed: `invalid`.
        case invalid
    }
    /// 400 or 422.
    public var kind: Kind
    /// The field path, e.g. `jobs[3].task.kind`.
    public var field: String
    /// What is wrong and what to write instead.
    public var message: String

    /// A problem at an explicit field path.
    public init(_ kind: Kind, field: String, message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    /// A problem at a decoder's coding path.
    public init(_ kind: Kind, path: [any CodingKey], message: String) {
        self.init(kind, field: FieldPath.render(path), message: message)
    }

    /// `field: message`.
    public var description: String { "\(field): \(message)" }

    /// `text` cut to 60 characters, so a huge bad value does not end up in an error message.
    static func shortened(_ text: String) -> String {
        text.count <= 60 ? text : String(text.prefix(60)) + "…"
    }
}

/// Renders coding paths as the API names fields: `jobs[3].task.command`.
public enum FieldPath {
    /// `[jobs, 3, task, command]` → `jobs[3].task.command`.
    public static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index ") || key.stringValue == String(index) {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }

    /// `prefix.field`, or `field` when `prefix` is empty.
    static func join(_ prefix: String, _ field: String) -> String {
        prefix.isEmpty ? field : prefix + "." + field
    }
}

/// Any JSON object key, for listing the keys a body actually has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Rejects object keys that are not in `Keys` with a `bad_request` naming the first one
    /// (sorted, so the answer does not depend on hash order).
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        // `Keys(stringValue:)` is the membership test (every key type here is a `String` enum):
        // no set built and no key-path reads per decoded object — this runs for every job of a
        // batch submission (docs/benchmarks.md, "CPU per drained job").
        let unknown = container.allKeys.lazy.map { $0.stringValue }.filter { Keys(stringValue: $0) == nil }.sorted()
        if let first = unknown.first {
            let allowed = Keys.allCases.map { $0.stringValue }.joined(separator: ", ")
            throw FieldProblem(.badRequest, path: codingPath + [AnyCodingKey(stringValue: first)],
                               message: "unknown field '\(FieldProblem.shortened(first))'; allowed here: \(allowed)")
        }
    }
}

/// A JSON number that remembers whether it was an integer, so "priority must be an integer"
/// can be a 422 naming the field rather than a type error.
public enum WireNumber: Codable, Hashable, Sendable {
    /// A number without a fraction that fits in 64 bits.
    case integer(Int64)
    /// Any other number.
    case fractional(Double)

    /// Reads a JSON number; a string or other type is a `bad_request`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .fractional(value)
        } else {
            throw FieldProblem(.badRequest, path: decoder.codingPath, message: "expected a number")
        }
    }

    /// Writes the number.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .fractional(let value): try container.encode(value)
        }
    }

    /// The value as a double.
    public var doubleValue: Double {
        switch self {
        case .integer(let value): Double(value)
        case .fractional(let value): value
        }
    }
}
