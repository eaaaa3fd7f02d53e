import Testing

@testable import ClusterConfig

@Suite("Config: [scheduler]")
struct SchedulerConfigTests {
    @Test("retention_seconds defaults to 7 days and takes a value in range")
    func retention() throws {
        #expect(try ConfigLoader.parse(validConfig, file: "c.toml").scheduler.retentionSeconds == 604_800)
        let text = validConfig + "\n[scheduler]\nretention_seconds = 3600\n"
        let config = try ConfigLoader.parse(text, file: "c.toml")
        #expect(config.scheduler.retentionSeconds == 3_600)
        #expect(configError(text) == nil)
    }

    @Test("out of 60…315360000, or an unknown key: an error naming the key", arguments: ["59", "315360001", "-1"])
    func outOfRange(_ value: String) {
        let error = configError(validConfig + "\n[scheduler]\nretention_seconds = \(value)\n")
        #expect(error?.key == "scheduler.retention_seconds")
        #expect(error?.reason.contains("60-315360000") == true)
    }

    @Test("history_limit defaults to 20 and must be 1…1000")
    func historyLimit() throws {
        #expect(try ConfigLoader.parse(validConfig, file: "c.toml").scheduler.historyLimit == 20)
        #expect(try ConfigLoader.parse(validConfig + "\n[scheduler]\nhistory_limit = 5\n", file: "c.toml").scheduler.historyLimit == 5)
        for bad in ["0", "1001"] {
            #expect(configError(validConfig + "\n[scheduler]\nhistory_limit = \(bad)\n")?.key == "scheduler.history_limit")
        }
    }

    @Test("an unknown key in [scheduler] is refused")
    func unknownKey() {
        #expect(configError(validConfig + "\n[scheduler]\nretention = 60\n")?.key == "scheduler.retention")
    }
}

@Suite("Config: [executor] output_files, output_bytes")
struct OutputStoreConfigTests {
    @Test("defaults 1,000 files and 64 MiB; values in range are taken")
    func defaultsAndValues() throws {
        let plain = try ConfigLoader.parse(validConfig, file: "c.toml").executor
        #expect(plain.outputFiles == 1_000 && plain.outputBytes == 64 << 20)
        let set = try ConfigLoader.parse(executorConfig("output_files = 10\noutput_bytes = 65536"), file: "c.toml").executor
        #expect(set.outputFiles == 10 && set.outputBytes == 65_536)
    }

    @Test("one past either end: refused, naming the key and the range")
    func outOfRange() {
        for (key, value, range) in [("output_files", "0", "1-1000000"), ("output_files", "1000001", "1-1000000"),
                                    ("output_bytes", "65535", "65536-68719476736"), ("output_bytes", "68719476737", "65536-68719476736")] {
            let error = configError(executorConfig("\(key) = \(value)"))
            #expect(error?.key == "executor.\(key)", "\(key) = \(value)")
            #expect(error?.reason.contains(range) == true, "\(error?.reason ?? "no error")")
        }
    }
}

/// `validConfig` with `lines` added to its `[executor]` table.
private func executorConfig(_ lines: String) -> String {
    validConfig.replacingOccurrences(of: "allow_shell = false", with: "allow_shell = false\n" + lines)
}

@Suite("Config: [executor] prefetch")
struct ConfigPrefetchTests {
    /// The valid config with `slots` and `prefetch` in `[executor]`.
    func config(slots: Int, prefetch: Int) -> String {
        validConfig.replacingOccurrences(of: "slots = 2\n", with: "slots = \(slots)\nprefetch = \(prefetch)\n")
    }

    @Test("defaults to 0 (off); a value up to slots is taken")
    func defaultsAndValues() throws {
        #expect(try ConfigLoader.parse(validConfig, file: "c.toml").executor.prefetch == 0)
        #expect(try ConfigLoader.parse(config(slots: 4, prefetch: 4), file: "c.toml").executor.prefetch == 4)
        #expect(configError(config(slots: 4, prefetch: 4)) == nil)
    }

    @Test("below 0, above 1024, or above slots: refused, naming the key and why")
    func refused() {
        let negative = configError(config(slots: 4, prefetch: -1))
        #expect(negative?.key == "executor.prefetch")
        #expect(negative?.reason.contains("0-1024") == true)
        #expect(configError(config(slots: 1024, prefetch: 1025))?.key == "executor.prefetch")
        let overSlots = configError(config(slots: 4, prefetch: 5))
        #expect(overSlots?.key == "executor.prefetch")
        #expect(overSlots?.reason.contains("is more than 4 (executor.slots × 1") == true)
        #expect(configError(config(slots: 0, prefetch: 1))?.key == "executor.prefetch")
    }
}
