// libFuzzer entry point for the Raft message decoder. Not a SwiftPM target: scripts/fuzz-libfuzzer-wire.sh
// compiles it with `swiftc -sanitize=fuzzer` together with the modules it tests.

import BinaryCoding
import RaftCore
import RaftWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let message = try? RaftWireCodec.decode(bytes) {
        guard (try? RaftWireCodec.decode(RaftWireCodec.encode(message))) == message else {
            fatalError("a decoded message does not survive a round trip")
        }
    }
    return 0
}
