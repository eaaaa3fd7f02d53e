import Foundation
import Testing

@testable import Chaos

#if canImport(Glibc)
import Glibc
#endif

/// The `wipe` write-stall finding (docs/chaos.md): nodes the tool started inherited its open
/// descriptors — SwiftNIO opens sockets without `CLOEXEC` — among them the link proxies'
/// connections, so closing a proxy connection sent no FIN while some node still held it, and a
/// killed node's peers kept half-open connections to it until the 30 s idle timeout. A spawned
/// node must inherit nothing but stdin, stdout and stderr.
@Suite
struct NodeSpawnTests {
    @Test("a spawned child does not inherit the tool's descriptors: the tool's pipe reads end-of-file once the tool closes its end")
    func childInheritsNoDescriptors() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)  // no O_CLOEXEC: what SwiftNIO's sockets are like
        let (readEnd, writeEnd) = (ends[0], ends[1])
        defer { close(readEnd) }
        let pid = try NodeProcess.spawn(["/bin/sleep", "30"], environment: [])
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(writeEnd)
        // With the write end inherited by the sleeping child, no end-of-file would come for 30 s.
        var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 5_000)
        #expect(ready == 1, "the child holds the tool's pipe open (poll: \(ready)): it inherited the tool's descriptors")
        guard ready == 1 else { return }
        var byte: UInt8 = 0
        #expect(read(readEnd, &byte, 1) == 0, "end-of-file expected")
    }
}
