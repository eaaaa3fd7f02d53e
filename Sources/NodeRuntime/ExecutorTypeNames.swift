// The executor's task types under names that do not collide with SchedulerCore's (`TaskSpec`,
// `ShellTask`, `HTTPTask` exist in both) or with the standard library's `Executor` protocol,
// which shadows the module name `Executor` in qualified references.
import Executor

typealias ExecutorTask = TaskSpec
typealias ExecutorShellTask = ShellTask
typealias ExecutorHTTPTask = HTTPTask
