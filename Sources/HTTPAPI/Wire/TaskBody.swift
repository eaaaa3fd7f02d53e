/// What a job or DAG task runs, as JSON: `{"kind": "shell" | "http" | "sleep" | "noop", …}`.
public enum TaskBody: Codable, Hashable, Sendable {
    /// `{"kind": "noop"}`.
    case noop
    /// `{"kind": "sleep", "seconds": 0.5}`.
    case sleep(seconds: WireNumber)
    /// `{"kind": "shell", "command": [argv…], "env": {…}, "workdir": "…"}`.
    case shell(command: [String], env: [String: String]?, workdir: String?)
    /// `{"kind": "http", "method": "POST", "url": "…", "headers": {…}, "body": "…"}`.
    case http(method: String?, url: String, headers: [String: String]?, body: String?)

    /// Every key any kind uses.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, seconds, command, env, workdir, method, url, headers, body
    }

    /// The keys each kind allows.
    static func allowedKeys(kind: String) -> [CodingKeys]? {
        switch kind {
        case "noop": [.kind]
        case "sleep": [.kind, .seconds]
        case "shell": [.kind, .command, .env, .workdir]
        case "http": [.kind, .method, .url, .headers, .body]
        default: nil
        }
    }

    /// Decodes by `kind`; keys another kind uses are unknown here. A missing or unknown kind, or
    /// a missing required field, is a 422 naming it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let kind = try c.decodeIfPresent(String.self, forKey: .kind) else {
            throw FieldProblem(.invalid, path: decoder.codingPath + [CodingKeys.kind],
                               message: "required: one of shell, http, sleep, noop")
        }
        guard let allowed = Self.allowedKeys(kind: kind) else {
            throw FieldProblem(.invalid, path: decoder.codingPath + [CodingKeys.kind],
                               message: "unknown task kind '\(FieldProblem.shortened(kind))'; use shell, http, sleep or noop")
        }
        let any = try decoder.container(keyedBy: AnyCodingKey.self)
        let allowedNames = Set(allowed.map(\.stringValue))
        if let extra = any.allKeys.map(\.stringValue).filter({ !allowedNames.contains($0) }).sorted().first {
            throw FieldProblem(.badRequest, path: decoder.codingPath + [AnyCodingKey(stringValue: extra)],
                               message: "unknown field '\(FieldProblem.shortened(extra))' for a \(kind) task; allowed: \(allowed.map(\.stringValue).joined(separator: ", "))")
        }
        func required<T: Decodable>(_ type: T.Type, _ key: CodingKeys) throws -> T {
            guard let value = try c.decodeIfPresent(type, forKey: key) else {
                throw FieldProblem(.invalid, path: decoder.codingPath + [key], message: "required for a \(kind) task")
            }
            return value
        }
        switch kind {
        case "sleep":
            self = .sleep(seconds: try required(WireNumber.self, .seconds))
        case "shell":
            self = .shell(command: try required([String].self, .command),
                          env: try c.decodeIfPresent([String: String].self, forKey: .env),
                          workdir: try c.decodeIfPresent(String.self, forKey: .workdir))
        case "http":
            self = .http(method: try c.decodeIfPresent(String.self, forKey: .method),
                         url: try required(String.self, .url),
                         headers: try c.decodeIfPresent([String: String].self, forKey: .headers),
                         body: try c.decodeIfPresent(String.self, forKey: .body))
        default:
            self = .noop
        }
    }

    /// Writes the task with its `kind`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .noop:
            try c.encode("noop", forKey: .kind)
        case .sleep(let seconds):
            try c.encode("sleep", forKey: .kind)
            try c.encode(seconds, forKey: .seconds)
        case .shell(let command, let env, let workdir):
            try c.encode("shell", forKey: .kind)
            try c.encode(command, forKey: .command)
            try c.encodeIfPresent(env, forKey: .env)
            try c.encodeIfPresent(workdir, forKey: .workdir)
        case .http(let method, let url, let headers, let body):
            try c.encode("http", forKey: .kind)
            try c.encodeIfPresent(method, forKey: .method)
            try c.encode(url, forKey: .url)
            try c.encodeIfPresent(headers, forKey: .headers)
            try c.encodeIfPresent(body, forKey: .body)
        }
    }
}
