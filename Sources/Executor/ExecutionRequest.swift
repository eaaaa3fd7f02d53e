/// One attempt of one run, as the node hands it to a ``AttemptRunner``.
///
/// The executor defines its own input type so that it does not depend on the scheduler's
/// task model; the node maps an applied assignment onto this value.
public struct ExecutionRequest: Sendable, Hashable {
    /// The run this attempt belongs to; used in logs and exported to shell tasks as
    /// `QUORUM_RUN_ID`. Never interpreted.
    public var runID: String
    /// The attempt number, counting from 1; exported to shell tasks as `QUORUM_ATTEMPT`.
    public var attempt: Int
    /// What to run.
    public var task: TaskSpec
    /// How long the attempt may run before it is stopped and reported `timedOut`.
    /// Must be positive.
    public var timeout: Duration

    /// Creates a request for one attempt.
    public init(runID: String, attempt: Int, task: TaskSpec, timeout: Duration) {
        self.runID = runID
        self.attempt = attempt
        self.task = task
        self.timeout = timeout
    }
}

/// The work of a task, by kind.
public enum TaskSpec: Sendable, Hashable {
    /// Does nothing and succeeds at once (benchmarks, smoke tests).
    case noop
    /// Waits for the given number of seconds (finite, not negative), then succeeds.
    case sleep(seconds: Double)
    /// Runs a program from an argv, without a shell. Refused unless the cluster allows shell tasks.
    case shell(ShellTask)
    /// Sends one HTTP request; a 2xx answer is success.
    case http(HTTPTask)

    /// The kind's name as the API spells it (`noop`, `sleep`, `shell`, `http`): for logs and errors.
    public var kindName: String {
        switch self {
        case .noop: "noop"
        case .sleep: "sleep"
        case .shell: "shell"
        case .http: "http"
        }
    }
}

/// A program to run as an argv: `argv[0]` is the executable, the rest its arguments.
///
/// There is no shell interpolation: `["/bin/echo", "$HOME"]` prints `$HOME`. A user who wants a
/// shell writes `["/bin/sh", "-c", "…"]` explicitly.
public struct ShellTask: Sendable, Hashable {
    /// The executable and its arguments. `argv[0]` containing a `/` is a path (relative paths
    /// resolve from the working directory); otherwise it is looked up in the `PATH` the task
    /// runs with.
    public var argv: [String]
    /// Variables set on top of the node's own environment (see `docs/executors.md`).
    public var environment: [String: String]
    /// The directory the program starts in; `nil` means the node's working directory.
    public var workingDirectory: String?

    /// Creates a shell task.
    public init(argv: [String], environment: [String: String] = [:], workingDirectory: String? = nil) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// One HTTP request.
public struct HTTPTask: Sendable, Hashable {
    /// The request method, e.g. `GET` or `POST` (sent upper-cased).
    public var method: String
    /// An absolute `http://` or `https://` URL.
    public var url: String
    /// Header fields in the order they are sent; a name may repeat.
    public var headers: [HTTPHeaderField]
    /// The request body, if any.
    public var body: [UInt8]?

    /// Creates an HTTP task.
    public init(method: String = "GET", url: String, headers: [HTTPHeaderField] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// One HTTP header field (name and value), kept in order in ``HTTPTask/headers``.
public struct HTTPHeaderField: Sendable, Hashable {
    /// The field name, e.g. `Content-Type`.
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
