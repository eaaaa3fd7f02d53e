import ClusterConfig
import HTTPAPI

extension APILimits {
    /// The API's limits with the values of a config's `[api.limits]` table (defaults for the
    /// keys it leaves out). The one place the config's keys meet the API's fields: the two
    /// modules do not know each other.
    init(_ configured: APIRequestLimits) {
        self.init(maxBodyBytes: configured[.maxBodyBytes], maxBatchBodyBytes: configured[.maxBatchBodyBytes],
                  maxBatchJobs: configured[.maxBatchJobs], defaultPageSize: configured[.defaultPageSize],
                  maxPageSize: configured[.maxPageSize], maxIdempotencyKeyBytes: configured[.maxIdempotencyKeyBytes])
        maxLabels = configured[.maxLabels]
        maxLabelKeyBytes = configured[.maxLabelKeyBytes]
        maxLabelValueBytes = configured[.maxLabelValueBytes]
        maxArgvItems = configured[.maxArgvItems]
        maxArgvBytes = configured[.maxArgvBytes]
        maxEnvEntries = configured[.maxEnvEntries]
        maxEnvBytes = configured[.maxEnvBytes]
        maxHTTPHeaders = configured[.maxHTTPHeaders]
        maxHTTPHeaderBytes = configured[.maxHTTPHeaderBytes]
        maxHTTPBodyBytes = configured[.maxHTTPBodyBytes]
        maxDAGTasks = configured[.maxDAGTasks]
        maxDAGEdges = configured[.maxDAGEdges]
        maxListResponseBytes = configured[.maxListResponseBytes]
        idleTimeout = .seconds(configured[.idleTimeoutSeconds])
        maxConnections = configured[.maxConnections]
    }
}
