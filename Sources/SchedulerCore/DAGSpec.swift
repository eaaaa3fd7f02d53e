/// One task of a DAG.
public struct DAGTaskSpec: Hashable, Sendable {
    /// The task's id, unique within its DAG (`"extract"`).
    public var id: String
    /// Ids of tasks that must succeed before this one is queued.
    public var dependsOn: [String]
    /// What the task runs.
    public var task: TaskSpec
    /// The task's own retry policy.
    public var retry: RetryPolicy
    /// The task's per-attempt timeout in milliseconds.
    public var timeoutMs: Int64
    /// Which nodes may run its attempts (``Placement``); ``Placement/none`` for any node.
    public var placement: Placement
    /// A DAG task.
    public init(id: String, dependsOn: [String] = [], task: TaskSpec = .noop,
                retry: RetryPolicy = .default, timeoutMs: Int64 = JobSpec.defaultTimeoutMs, placement: Placement = .none) {
        self.placement = placement
        self.id = id
        self.dependsOn = dependsOn
        self.task = task
        self.retry = retry
        self.timeoutMs = timeoutMs
    }
}

/// A validated DAG: tasks plus their dependency graph, precomputed once and shared by reference.
///
/// Build one with ``DAGSpec/validated(name:tasks:priority:labels:)``, which rejects unknown
/// dependencies, duplicate ids and cycles; the API layer calls the same function before
/// proposing.
public final class DAGSpec: Hashable, Sendable {
    /// A display name.
    public let name: String
    /// The tasks in submission order.
    public let tasks: [DAGTaskSpec]
    /// Priority of every task run.
    public let priority: Int
    /// Labels, sorted by key.
    public let labels: [KeyValue]
    /// `dependencies[i]`: indices of the tasks task `i` depends on (deduplicated, ascending).
    public let dependencies: [[Int]]
    /// `dependents[i]`: indices of the tasks that depend on task `i` (ascending).
    public let dependents: [[Int]]
    /// Task indices in a topological order (dependencies first; ties by index).
    public let topologicalOrder: [Int]

    /// Unchecked: only for a graph already validated (``validated(name:tasks:priority:labels:)``).
    init(name: String, tasks: [DAGTaskSpec], priority: Int, labels: [KeyValue],
                 dependencies: [[Int]], dependents: [[Int]], topologicalOrder: [Int]) {
        self.name = name
        self.tasks = tasks
        self.priority = priority
        self.labels = labels
        self.dependencies = dependencies
        self.dependents = dependents
        self.topologicalOrder = topologicalOrder
    }

    /// Validates `tasks` and builds the graph.
    ///
    /// - Throws: ``DAGValidationError`` naming the field: `tasks` when empty,
    ///   `tasks[i].id` for an empty or duplicate id, `tasks[i].depends_on` for an unknown or
    ///   self dependency, and `tasks` with a message naming the cycle (`a -> b -> a`).
    public static func validated(name: String, tasks: [DAGTaskSpec], priority: Int = 0,
                                 labels: [KeyValue] = []) throws(DAGValidationError) -> DAGSpec {
        if tasks.isEmpty {
            throw DAGValidationError(kind: .invalid, field: "tasks",
                                     message: "a DAG needs at least one task")
        }
        var indexByID: [String: Int] = [:]
        for (i, task) in tasks.enumerated() {
            if task.id.isEmpty {
                throw DAGValidationError(kind: .invalid, field: "tasks[\(i)].id",
                                         message: "task id must not be empty")
            }
            if task.id.contains("/") {
                throw DAGValidationError(kind: .invalid, field: "tasks[\(i)].id",
                                         message: "task id '\(task.id)' must not contain '/'")
            }
            if let first = indexByID[task.id] {
                throw DAGValidationError(kind: .invalid, field: "tasks[\(i)].id",
                                         message: "duplicate task id '\(task.id)' (also tasks[\(first)].id); give each task a unique id")
            }
            indexByID[task.id] = i
        }
        var dependencies: [[Int]] = []
        var dependents: [[Int]] = Array(repeating: [], count: tasks.count)
        for (i, task) in tasks.enumerated() {
            var deps: [Int] = []
            for dep in task.dependsOn {
                guard let j = indexByID[dep] else {
                    throw DAGValidationError(kind: .invalid, field: "tasks[\(i)].depends_on",
                                             message: "task '\(task.id)' depends on unknown task '\(dep)'; known ids: \(tasks.map(\.id).joined(separator: ", "))")
                }
                if j == i {
                    throw DAGValidationError(kind: .cycle, field: "tasks[\(i)].depends_on",
                                             message: "task '\(task.id)' depends on itself: \(task.id) -> \(task.id)")
                }
                deps.append(j)
            }
            deps = Array(Set(deps)).sorted()
            for j in deps { dependents[j].append(i) }
            dependencies.append(deps)
        }
        // Cycle detection by an iterative DFS in index order (deterministic, no recursion so a
        // long chain cannot overflow the stack), reporting the first cycle found.
        var color = Array(repeating: UInt8(0), count: tasks.count)  // 0 white, 1 on path, 2 done
        for root in 0..<tasks.count where color[root] == 0 {
            var path: [Int] = [root]
            var nextChild: [Int] = [0]
            color[root] = 1
            while let node = path.last {
                let k = nextChild[nextChild.count - 1]
                guard k < dependents[node].count else {
                    color[node] = 2
                    path.removeLast()
                    nextChild.removeLast()
                    continue
                }
                nextChild[nextChild.count - 1] += 1
                let child = dependents[node][k]
                if color[child] == 1, let start = path.firstIndex(of: child) {
                    let text = (path[start...] + [child]).map { tasks[$0].id }.joined(separator: " -> ")
                    throw DAGValidationError(kind: .cycle, field: "tasks",
                                             message: "dependency cycle \(text); remove one of these depends_on edges")
                }
                if color[child] == 0 {
                    color[child] = 1
                    path.append(child)
                    nextChild.append(0)
                }
            }
        }
        // Kahn's algorithm with the smallest ready index first.
        var indegree = dependencies.map(\.count)
        var ready = BinaryHeap((0..<tasks.count).filter { indegree[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(tasks.count)
        while let node = ready.popFirst() {
            order.append(node)
            for next in dependents[node] {
                indegree[next] -= 1
                if indegree[next] == 0 { ready.push(next) }
            }
        }
        precondition(order.count == tasks.count, "topological order incomplete after cycle check: \(order.count)/\(tasks.count)")
        return DAGSpec(name: name, tasks: tasks, priority: priority,
                       labels: labels.sorted { $0.key < $1.key }, dependencies: dependencies,
                       dependents: dependents, topologicalOrder: order)
    }

    /// Value equality of name, tasks, priority and labels (the graph follows from the tasks).
    public static func == (lhs: DAGSpec, rhs: DAGSpec) -> Bool {
        lhs === rhs || (lhs.name == rhs.name && lhs.tasks == rhs.tasks && lhs.priority == rhs.priority
            && lhs.labels == rhs.labels)
    }
    /// Hashes name and tasks.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(tasks)
    }
}

/// Why a DAG was rejected. `field` names the offending field in the API's JSON.
public struct DAGValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The class of problem, which the API maps to a status.
    public enum Kind: Hashable, Sendable {
        /// A bad value (422): empty, duplicate id, unknown dependency.
        case invalid
        /// A dependency cycle (409).
        case cycle
    }
    /// The class of problem.
    public var kind: Kind
    /// The offending field, e.g. `tasks[2].depends_on`.
    public var field: String
    /// What is wrong and what to do.
    public var message: String
    /// `field: message`.
    public var description: String { "\(field): \(message)" }
}
