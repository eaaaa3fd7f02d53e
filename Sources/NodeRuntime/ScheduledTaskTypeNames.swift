// SchedulerCore's task type under a name of its own (see ExecutorTypeNames.swift).
import SchedulerCore

/// SchedulerCore's `TaskSpec` (the replicated description of what an attempt runs).
public typealias ScheduledTask = TaskSpec
