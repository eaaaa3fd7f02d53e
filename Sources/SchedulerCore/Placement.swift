/// Where a job's (or a DAG task's) attempts may run: on a node whose labels carry every
/// constraint, and at most ``maxPerNode`` of them on one node at a time (docs/scheduling.md,
/// "Placement").
///
/// Part of the spec, so it is replicated and every leader places the same way. Specs without
/// placement (``none``) encode exactly as before (command format 9 gates the ones with it).
public struct Placement: Hashable, Sendable {
    /// Labels a node must carry, key and value equal (`gpu = "true"`), sorted by key, unique keys.
    public var constraints: [KeyValue]
    /// At most this many attempts of the same job (a DAG's: of the same DAG run or cron DAG
    /// job) on one node at a time; `nil`: no limit beyond the node's slots.
    public var maxPerNode: Int?

    /// A placement; `constraints` are sorted by key here.
    public init(constraints: [KeyValue] = [], maxPerNode: Int? = nil) {
        self.constraints = constraints.sorted { $0.key < $1.key }
        self.maxPerNode = maxPerNode
    }

    /// No constraint and no per-node limit: any node with a free slot.
    public static let none = Placement()

    /// Whether this is ``none`` (the spec is encoded in its pre-placement layout).
    public var isNone: Bool { constraints.isEmpty && maxPerNode == nil }

    /// Whether a node labelled `labels` satisfies every constraint.
    public func matches(_ labels: [String: String]) -> Bool {
        constraints.allSatisfy { labels[$0.key] == $0.value }
    }

    /// The constraints as `key=value` joined by `,` (`gpu=true,zone=a`), for reasons and logs.
    public var constraintText: String {
        constraints.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The `max_per_node` values a spec may have.
    public static let maxPerNodeRange: ClosedRange<Int> = 1...1_024
    /// Most constraints one spec may have (a node carries at most ``NodeLabelRules/maxLabels``).
    public static let maxConstraints = NodeLabelRules.maxLabels
}

/// The rules node labels and placement constraints share: what a key and a value may be, and
/// how many a node may carry. One place, used by the config file, the add-node request and job
/// submissions, so anything a job may ask for is something a node can carry.
public enum NodeLabelRules {
    /// Most labels one node carries.
    public static let maxLabels = 16
    /// Longest key, in bytes.
    public static let maxKeyBytes = 63
    /// Longest value, in bytes.
    public static let maxValueBytes = 63

    /// Why `key = value` is not a valid label (or constraint); `nil` when it is. Keys and values
    /// are 1–63 ASCII letters, digits, `.`, `_` or `-`, a key starting with a letter or digit:
    /// they travel in URLs, TOML keys and Prometheus label values without escaping.
    public static func problem(key: String, value: String) -> String? {
        if let problem = problem(in: key, what: "key", maxBytes: maxKeyBytes) { return problem }
        guard let first = key.unicodeScalars.first, isAlphanumeric(first) else {
            return "key '\(key)' must start with a letter or a digit"
        }
        return problem(in: value, what: "value of '\(key)'", maxBytes: maxValueBytes)
    }

    /// Why `labels` are not valid node labels (the count, then the first bad pair by key).
    public static func problem(labels: [String: String]) -> (key: String?, message: String)? {
        guard labels.count <= maxLabels else { return (nil, "at most \(maxLabels) labels, got \(labels.count)") }
        for key in labels.keys.sorted() {
            if let problem = problem(key: key, value: labels[key] ?? "") { return (key, problem) }
        }
        return nil
    }

    private static func problem(in text: String, what: String, maxBytes: Int) -> String? {
        let shown = text.utf8.count > maxBytes ? String(text.prefix(maxBytes)) + "…" : text
        if text.isEmpty { return "\(what) must not be empty" }
        if text.utf8.count > maxBytes { return "\(what) '\(shown)' is \(text.utf8.count) bytes; at most \(maxBytes)" }
        guard text.unicodeScalars.allSatisfy({ isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }) else {
            return "\(what) '\(shown)' may contain only ASCII letters, digits, '.', '_' and '-'"
        }
        return nil
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
