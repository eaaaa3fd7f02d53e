import Foundation

extension QuorumBinary {
    /// Runs `quorum arguments…` without blocking a Swift concurrency thread while it runs (the
    /// test's own in-process server needs those threads to answer it), with `input` on its
    /// standard input and `environment` added to the test's. Kills it after `deadline` seconds.
    static func runAsync(_ arguments: [String], input: String? = nil, environment: [String: String] = [:],
                         deadline: Double = 60) async throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out")
        let err = scratch.appendingPathComponent("err")
        let inputFile = scratch.appendingPathComponent("in")
        guard FileManager.default.createFile(atPath: out.path, contents: nil),
            FileManager.default.createFile(atPath: err.path, contents: nil),
            FileManager.default.createFile(atPath: inputFile.path, contents: Data((input ?? "").utf8))
        else { throw CocoaError(.fileWriteUnknown) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = input == nil ? FileHandle.nullDevice : try FileHandle(forReadingFrom: inputFile)
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        try process.run()
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                var iterator = exited.stream.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(deadline))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let status else {
            process.terminate()
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "quorum \(arguments) ran over \(deadline) s"])
        }
        return Result(
            exitCode: status,
            standardOutput: try String(contentsOf: out, encoding: .utf8),
            standardError: try String(contentsOf: err, encoding: .utf8))
    }
}
