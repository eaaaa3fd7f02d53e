import Testing

@testable import ClusterConfig

@Suite("Config: [api.limits]")
struct APILimitsConfigTests {
    @Test("absent, every limit is its documented default")
    func defaults() throws {
        let limits = try ConfigLoader.parse(validConfig, file: "c.toml").api.limits
        #expect(limits.overrides.isEmpty)
        #expect(limits[.maxLabels] == 64 && limits[.maxBodyBytes] == 1 << 20 && limits[.idleTimeoutSeconds] == 60)
        for limit in APIRequestLimit.allCases {
            #expect(limit.allowed.contains(limit.defaultValue), "\(limit.key)'s default is outside its own range")
        }
    }

    @Test("a key in range is taken; the others keep their defaults")
    func override() throws {
        let text = validConfig + "\n[api.limits]\nmax_labels = 8\nmax_dag_tasks = 5000\nidle_timeout_seconds = 300\n"
        let limits = try ConfigLoader.parse(text, file: "c.toml").api.limits
        #expect(limits[.maxLabels] == 8 && limits[.maxDAGTasks] == 5_000 && limits[.idleTimeoutSeconds] == 300)
        #expect(limits[.maxArgvItems] == 1_024)
    }

    @Test("every key one past either end of its range: an error naming the key and the range")
    func outOfRange() {
        for limit in APIRequestLimit.allCases {
            for value in [limit.allowed.lowerBound - 1, limit.allowed.upperBound + 1] {
                let error = configError(validConfig + "\n[api.limits]\n\(limit.key) = \(value)\n")
                #expect(error?.key == "api.limits.\(limit.key)", "\(limit.key) = \(value)")
                #expect(error?.reason.contains("\(limit.allowed.lowerBound)-\(limit.allowed.upperBound)") == true)
            }
        }
    }

    @Test("default_page_size above max_page_size, an unknown key, a wrong type: refused, naming the key")
    func inconsistent() {
        #expect(configError(validConfig + "\n[api.limits]\nmax_page_size = 50\n")?.key == "api.limits.default_page_size")
        #expect(configError(validConfig + "\n[api.limits]\nmax_labelz = 5\n")?.key == "api.limits.max_labelz")
        #expect(configError(validConfig + "\n[api.limits]\nmax_labels = \"5\"\n")?.key == "api.limits.max_labels")
    }
}
