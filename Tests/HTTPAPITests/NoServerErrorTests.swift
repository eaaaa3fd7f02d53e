import DeterministicRandom
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Testing


@Suite("Mutated bodies never cause a 500")
struct NoServerErrorTests {
    static let bodies: [(String, String)] = [
        ("/api/jobs", #"{"name":"example-job","type":"cron","schedule":"0 * * * *","priority":1}"#),
        ("/api/jobs", #"{"name":"r","run_at":"2026-12-01T09:00:00Z","task":{"kind":"http","method":"POST","url":"https://x/y","headers":{"a":"b"},"body":"z"},"retry":{"max_attempts":2,"multiplier":1.5},"labels":{"k":"v"}}"#),
        ("/api/jobs/batch", #"{"jobs":[{"name":"a","delay_seconds":1.5},{"name":"b","task":{"kind":"shell","command":["ls","-l"],"env":{"A":"1"}}}]}"#),
        ("/api/dags", #"{"name":"etl","schedule":"30 2 * * *","timezone":"Europe/Berlin","tasks":[{"id":"a","task":{"kind":"sleep","seconds":1}},{"id":"b","depends_on":["a"],"timeout_seconds":5}]}"#),
    ]
    static let fragments: [String] = ["{", "}", "[", "]", ",", ":", "\"", "null", "true", "-1", "1e999", "0.5", "\"x\"", "{}", "[]", "\\u0000", "\"\\ud800\"", "99999999999999999999"]

    static func mutate(_ text: String, _ rng: inout SplitMix64) -> String {
        var chars = Array(text)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            guard !chars.isEmpty else { break }
            let at = Int.random(in: 0..<chars.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: chars.remove(at: at)
            case 1: chars.insert(contentsOf: fragments.randomElement(using: &rng) ?? "", at: at)
            case 2: chars = Array(chars.prefix(at))
            default:
                let end = min(chars.count, at + Int.random(in: 1...8, using: &rng))
                chars.replaceSubrange(at..<end, with: fragments.randomElement(using: &rng) ?? "")
            }
        }
        return String(chars)
    }

    @Test("every answer is a 2xx, 400, 409, 413 or 422 with the error object", arguments: [UInt64(1), 2, 3])
    func mutations(seed: UInt64) async throws {
        try await withAPI(makeLocalService()) { client in
            var rng = SplitMix64(seed: seed)
            for _ in 0..<150 {
                guard let (uri, body) = Self.bodies.randomElement(using: &rng) else { continue }
                let mutated = Self.mutate(body, &rng)
                let response = try await client.send(.post, uri, json: mutated)
                let code = response.status.code
                #expect([200, 201, 400, 409, 413, 422].contains(code), "seed \(seed): \(code) for \(uri) \(mutated): \(response.text)")
                if code >= 400 {
                    #expect(response.apiError != nil, "seed \(seed): no error object for \(mutated)")
                }
            }
        }
    }
}
