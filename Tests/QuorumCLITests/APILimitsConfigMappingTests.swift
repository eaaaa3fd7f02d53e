import ClusterConfig
import HTTPAPI
@testable import quorum
import Testing

/// `[api.limits]` reaches the API: the config's defaults are the API's, and each key sets the
/// field of the same name (a key mapped to the wrong field would pass every config test).
@Suite("[api.limits] → APILimits")
struct APILimitsConfigMappingTests {
    @Test("no overrides: exactly the API's documented defaults")
    func defaultsAgree() {
        #expect(APILimits(APIRequestLimits()) == APILimits())
    }

    @Test("each key moves its own field and no other")
    func eachKeyItsField() {
        let fields: [(APIRequestLimit, (APILimits) -> Int)] = [
            (.maxBodyBytes, \.maxBodyBytes), (.maxBatchBodyBytes, \.maxBatchBodyBytes), (.maxBatchJobs, \.maxBatchJobs),
            (.defaultPageSize, \.defaultPageSize), (.maxPageSize, \.maxPageSize),
            (.maxIdempotencyKeyBytes, \.maxIdempotencyKeyBytes), (.maxLabels, \.maxLabels),
            (.maxLabelKeyBytes, \.maxLabelKeyBytes), (.maxLabelValueBytes, \.maxLabelValueBytes),
            (.maxArgvItems, \.maxArgvItems), (.maxArgvBytes, \.maxArgvBytes), (.maxEnvEntries, \.maxEnvEntries),
            (.maxEnvBytes, \.maxEnvBytes), (.maxHTTPHeaders, \.maxHTTPHeaders), (.maxHTTPHeaderBytes, \.maxHTTPHeaderBytes),
            (.maxHTTPBodyBytes, \.maxHTTPBodyBytes), (.maxDAGTasks, \.maxDAGTasks), (.maxDAGEdges, \.maxDAGEdges),
            (.maxListResponseBytes, \.maxListResponseBytes),
            (.idleTimeoutSeconds, { Int($0.idleTimeout.components.seconds) }), (.maxConnections, \.maxConnections),
        ]
        #expect(Set(fields.map(\.0)) == Set(APIRequestLimit.allCases), "a key without a field in this test")
        for (limit, field) in fields {
            var configured = APIRequestLimits()
            // Inside every range, and different from each default.
            let value = limit.defaultValue == limit.allowed.lowerBound ? limit.defaultValue + 1 : limit.defaultValue - 1
            configured[limit] = value
            if limit == .maxPageSize { configured[.defaultPageSize] = 1 }
            let mapped = APILimits(configured)
            #expect(field(mapped) == value, "\(limit.key) did not reach its field")
            let unchanged = fields.filter { $0.0 != limit && !(limit == .maxPageSize && $0.0 == .defaultPageSize) }
            for (other, otherField) in unchanged {
                #expect(otherField(mapped) == other.defaultValue, "setting \(limit.key) moved \(other.key)")
            }
        }
    }
}
