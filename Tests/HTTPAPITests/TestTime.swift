import SchedulerCore

/// 2026-12-01T09:00:00Z: the clock reading every test starts at.
let startOfTest = Timestamp(1_796_115_600_000)
