/// The sequential model of one once job that the linearizability search replays operations on.
///
/// The state is where the job is in its life: not yet created (`missing`), or a fine state with
/// its attempt number. Clients write it (submit creates it, cancel ends it); the cluster moves it
/// too (queued → running → waiting for a retry → … → terminal), and those transitions are
/// *unobserved writes*: no operation in the history stands for them, so the model lets the state
/// advance along ``StatusOrder`` by any amount at any moment. A read is therefore legal when what
/// it shows is reachable from the current state by such advances — and, because the cluster never
/// cancels a once job on its own, `cancelled` is reachable only through a cancel operation.
public enum JobModel {
    /// The model's state: the job is not created yet, or it shows `state` at `attempt`.
    public enum State: Hashable, Sendable {
        /// No submit has taken effect: a read answers 404.
        case missing
        /// The job exists and shows this fine state and attempt number.
        case at(state: String, attempt: Int)
    }

    /// What an operation does to the model.
    public enum Step: Hashable, Sendable {
        /// A submit (under the job's idempotency key): creates the job when missing, else changes nothing.
        case submit
        /// An acknowledged-or-unknown cancel: ends a job that is not terminal.
        case cancel
        /// A read that showed this state (`missing` for a 404).
        case read(State)
    }

    /// The state after `step` from `state`, or `nil` when the step cannot happen there.
    public static func apply(_ step: Step, to state: State) -> State? {
        switch (step, state) {
        case (.submit, .missing): return .at(state: "pending", attempt: 0)
        case (.submit, _): return state
        // A cancel of a job that does not exist yet answers 404: an acknowledged one cannot precede the submit.
        case (.cancel, .missing): return nil
        case (.cancel, .at(let current, _)) where StatusOrder.terminal.contains(current): return state
        case (.cancel, .at(_, let attempt)): return .at(state: "cancelled", attempt: attempt)
        case (.read(let seen), _): return reachable(seen, from: state) ? seen : nil
        }
    }

    /// Whether the cluster alone (unobserved writes) can take the job from `current` to `seen`.
    static func reachable(_ seen: State, from current: State) -> Bool {
        switch (current, seen) {
        case (.missing, .missing): return true
        case (.missing, .at), (.at, .missing): return false
        case (.at(let from, let fromAttempt), .at(let to, let toAttempt)):
            if StatusOrder.terminal.contains(from) { return to == from }
            if to == "cancelled" { return false }
            return StatusOrder.mayFollow((to, toAttempt), (from, fromAttempt))
        }
    }
}
