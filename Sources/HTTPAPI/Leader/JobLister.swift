import SchedulerCore

/// `GET /api/jobs` over a ``SchedulerState``: the state machine filters by state and every
/// label through its label index, reading only as far as the page needs.
public enum JobLister {
    /// One page of jobs matching `query`, newest first; `next_cursor` is set when another
    /// matching job exists.
    public static func list(_ query: JobListQuery, in state: SchedulerState) throws(APIError) -> ListPage<JobResource> {
        let cursor = try self.cursor(query.cursor)
        let filter = JobFilter(state: query.state, labels: query.labels.map { KeyValue($0.key, $0.value) })
        let page = state.listJobs(filter: filter, limit: max(1, query.limit), cursor: cursor)
        return ListPage(items: page.items.map { ResourceMapper.job($0, in: state) }, nextCursor: page.nextCursor)
    }

    /// Checks a cursor: the state machine's cursors are decimal sequence numbers.
    public static func cursor(_ text: String?) throws(APIError) -> String? {
        guard let text else { return nil }
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), UInt64(text) != nil else {
            throw .invalid(field: "cursor", "not a cursor from this API; pass next_cursor of the previous page")
        }
        return text
    }
}
