import QuorumClient
import Testing

@Suite("ServerList and APIRequest")
struct ServerListTests {
    @Test("the default list is the local three-node cluster")
    func defaults() {
        #expect(ServerList.localCluster.urls == ["http://127.0.0.1:8080", "http://127.0.0.1:8081", "http://127.0.0.1:8082"])
    }

    @Test("bare host:port gets http://, trailing slashes and blank entries go")
    func normalizes() throws {
        let list = try ServerList(parsing: " 127.0.0.1:8080 , https://node2.example:8443/,")
        #expect(list.urls == ["http://127.0.0.1:8080", "https://node2.example:8443"])
    }

    @Test(
        "a bad entry is refused naming it",
        arguments: [
            ("", "no server given"), ("ftp://h:1", "scheme"), ("http://h:1/api", "no path"), ("http://h:1?x=1", "no path"),
            ("http://:80", "no host"), ("http://h:70000", "port"),
        ])
    func refuses(text: String, reason: String) {
        #expect {
            _ = try ServerList(parsing: text)
        } throws: { error in
            guard let error = error as? QuorumClientError, case .invalidServer = error else { return false }
            return error.isInvalidInput && error.description.contains(reason) && error.description.hasPrefix("--server:")
        }
    }

    @Test("ids are escaped as one path segment; query values keep ':'")
    func escaping() {
        let request = APIRequest(.get, ["api", "jobs", "a/b c"], query: [.init("label", "team:data"), .init("cursor", "x&y=z")])
        #expect(request.target == "/api/jobs/a%2Fb%20c?label=team:data&cursor=x%26y%3Dz")
        #expect(request.description == "GET " + request.target)
    }

    @Test("only reads and keyed writes are safe to repeat after a lost answer")
    func safeToRepeat() {
        #expect(APIRequest(.get, ["api", "jobs"]).isSafeToRepeat)
        #expect(!APIRequest(.post, ["api", "jobs"]).isSafeToRepeat)
        #expect(APIRequest(.post, ["api", "jobs"], idempotencyKey: "k").isSafeToRepeat)
        #expect(!APIRequest(.delete, ["api", "dlq", "r"]).isSafeToRepeat)
    }
}
