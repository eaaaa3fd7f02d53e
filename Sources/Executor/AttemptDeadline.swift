/// Why an attempt was stopped before it ended on its own.
enum Interruption: Sendable, Hashable {
    /// The attempt's timeout (the associated value) elapsed.
    case timedOut(Duration)
    /// The calling task was cancelled.
    case cancelled
}

/// What a child of ``withAttemptDeadline(timeout:clock:_:)``'s task group reports.
private enum AttemptEvent<Value: Sendable>: Sendable {
    /// The work ended with this value.
    case finished(Value)
    /// The timeout elapsed first.
    case deadlineReached
    /// The timer was cancelled (the work ended, or the caller was cancelled).
    case timerStopped
}

/// Races `work` against `timeout` on `clock`.
///
/// When the timeout elapses first, `work`'s task is cancelled and this waits for it to wind down
/// (a shell task's process group is then being killed), so the attempt never outlives its
/// result. Cancelling the calling task cancels `work` the same way.
///
/// - Returns: what `work` returned and, if it was stopped, why. A deadline that fires first wins
///   even if `work` then finishes normally: the attempt was still running at its deadline.
func withAttemptDeadline<Value: Sendable>(
    timeout: Duration,
    clock: any Clock<Duration>,
    _ work: @escaping @Sendable () async -> Value
) async -> (value: Value, interruption: Interruption?) {
    let (value, timedOut) = await withTaskGroup(of: AttemptEvent<Value>.self) { group in
        group.addTask { .finished(await work()) }
        group.addTask {
            do {
                try await clock.sleep(for: timeout)
                return .deadlineReached
            } catch {
                return .timerStopped
            }
        }
        var value: Value?
        var timedOut = false
        while let event = await group.next() {
            switch event {
            case .finished(let finished):
                value = finished
                group.cancelAll()
            case .deadlineReached:
                timedOut = true
                group.cancelAll()
            case .timerStopped:
                break
            }
        }
        return (value, timedOut)
    }
    guard let value else {
        preconditionFailure("withAttemptDeadline: the work task ended without a value (timedOut: \(timedOut))")
    }
    if timedOut { return (value, .timedOut(timeout)) }
    if Task.isCancelled { return (value, .cancelled) }
    return (value, nil)
}
