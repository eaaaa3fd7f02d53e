import EgressPolicy
import SchedulerCore

/// Checks a decoded submission against the size limits of ``APILimits`` before anything is
/// planned or proposed, so a huge label map or argv is a 422 naming the exact field and the
/// limit rather than a log entry every replica must carry.
///
/// Pure and separate from `SubmissionPlanner` (which checks values, not sizes): the routes
/// run it first, and the planner never sees an oversized submission.
struct SubmissionLimits {
    /// The numbers.
    let limits: APILimits
    /// What shell tasks may run; `nil` checks only sizes and `shellTasksAllowed`.
    var shellPolicy: (any ShellCommandPolicy)? = nil

    /// Checks a job; fields are named under `prefix` (`jobs[3]`).
    func check(_ job: JobSubmission, fieldPrefix prefix: String = "") throws(APIError) {
        try checkLabels(job.labels, field: FieldPath.join(prefix, "labels"))
        try checkTask(job.task, fieldPrefix: FieldPath.join(prefix, "task"))
    }

    /// Checks a DAG: labels, task count, every task, and the edge count (named at the task
    /// whose `depends_on` crosses the limit).
    func check(_ dag: DAGSubmission) throws(APIError) {
        try checkLabels(dag.labels, field: "labels")
        let tasks = dag.tasks ?? []
        guard tasks.count <= limits.maxDAGTasks else {
            throw .invalid(field: "tasks", "a DAG may have at most \(limits.maxDAGTasks) tasks, got \(tasks.count); split it")
        }
        var edges = 0
        for (index, task) in tasks.enumerated() {
            try checkTask(task.task, fieldPrefix: "tasks[\(index)].task")
            edges += task.dependsOn?.count ?? 0
            if edges > limits.maxDAGEdges {
                throw .invalid(field: "tasks[\(index)].depends_on",
                               "a DAG may have at most \(limits.maxDAGEdges) depends_on edges in all; tasks[0...\(index)] already have \(edges)")
            }
        }
    }

    func checkLabels(_ labels: [String: String]?, field: String) throws(APIError) {
        guard let labels else { return }
        guard labels.count <= limits.maxLabels else {
            throw .invalid(field: field, "at most \(limits.maxLabels) labels, got \(labels.count)")
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            guard key.utf8.count <= limits.maxLabelKeyBytes else {
                throw .invalid(field: field, "label key '\(FieldProblem.shortened(key))' is \(key.utf8.count) bytes; at most \(limits.maxLabelKeyBytes)")
            }
            guard value.utf8.count <= limits.maxLabelValueBytes else {
                throw .invalid(field: field, "label '\(FieldProblem.shortened(key))' has a \(value.utf8.count)-byte value; at most \(limits.maxLabelValueBytes)")
            }
        }
    }

    func checkTask(_ task: TaskBody?, fieldPrefix prefix: String) throws(APIError) {
        switch task {
        case .shell(let command, let env, let workdir)?:
            guard limits.shellTasksAllowed else {
                throw .invalid(field: FieldPath.join(prefix, "kind"),
                               "shell tasks are disabled on this cluster ([executor] allow_shell = false): use an http, sleep or noop "
                               + "task, or ask the operator to allow shell tasks")
            }
            if let shellPolicy, let program = command.first {
                if let refusal = shellPolicy.refusal(executable: program) {
                    throw .invalid(field: FieldPath.join(prefix, "command[0]"), refusal)
                }
                if let workdir, let refusal = shellPolicy.refusal(workdir: workdir) {
                    throw .invalid(field: FieldPath.join(prefix, "workdir"), refusal)
                }
            }
            let field = FieldPath.join(prefix, "command")
            guard command.count <= limits.maxArgvItems else {
                throw .invalid(field: field, "at most \(limits.maxArgvItems) arguments, got \(command.count)")
            }
            let argvBytes = command.reduce(0) { $0 + $1.utf8.count }
            guard argvBytes <= limits.maxArgvBytes else {
                throw .invalid(field: field, "the arguments total \(argvBytes) bytes; at most \(limits.maxArgvBytes)")
            }
            guard let env else { return }
            let envField = FieldPath.join(prefix, "env")
            if let forbidden = env.keys.sorted().first(where: { StartupVariables.isForbidden($0) }) {
                throw .invalid(field: envField, StartupVariables.reason(forbidden))
            }
            guard env.count <= limits.maxEnvEntries else {
                throw .invalid(field: envField, "at most \(limits.maxEnvEntries) variables, got \(env.count)")
            }
            let envBytes = env.reduce(0) { $0 + $1.key.utf8.count + 1 + $1.value.utf8.count }
            guard envBytes <= limits.maxEnvBytes else {
                throw .invalid(field: envField, "the variables total \(envBytes) bytes as name=value; at most \(limits.maxEnvBytes)")
            }
        case .http(_, let url, let headers, let body)?:
            if let address = URLHostLiteral.address(in: url),
               let refusal = limits.httpAddressPolicy.refusal(host: address.description, address: address) {
                throw .invalid(field: FieldPath.join(prefix, "url"), refusal.text)
            }
            if let headers {
                let field = FieldPath.join(prefix, "headers")
                guard headers.count <= limits.maxHTTPHeaders else {
                    throw .invalid(field: field, "at most \(limits.maxHTTPHeaders) headers, got \(headers.count)")
                }
                let headerBytes = headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
                guard headerBytes <= limits.maxHTTPHeaderBytes else {
                    throw .invalid(field: field, "the headers total \(headerBytes) bytes (names and values); at most \(limits.maxHTTPHeaderBytes)")
                }
            }
            if let body, body.utf8.count > limits.maxHTTPBodyBytes {
                throw .invalid(field: FieldPath.join(prefix, "body"), "the body is \(body.utf8.count) bytes; at most \(limits.maxHTTPBodyBytes)")
            }
        case nil, .noop?, .sleep?:
            return
        }
    }
}
