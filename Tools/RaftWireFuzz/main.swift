import Foundation
import BinaryCoding
import RaftCore
import RaftWire

// Feeds mutated encodings of random Raft messages to the decoder. Any crash is a bug; every
// input must either decode to a message that re-encodes losslessly or fail with a DecodeError.
//
//   RaftWireFuzz [COUNT] [SEED]     (defaults: 1000000 inputs, seed 1)

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
let seed = arguments.count > 2 ? UInt64(arguments[2]) ?? 1 : 1
var samples = RaftMessageSamples(seed: seed)
var decoded = 0
var rejected = 0
for iteration in 0..<count {
    let original = RaftWireCodec.encode(samples.message())
    let input = samples.below(10) == 0 ? samples.mutate(samples.mutate(original)) : samples.mutate(original)
    do {
        let message = try RaftWireCodec.decode(input)
        // Whatever decodes must survive a round trip unchanged.
        guard try RaftWireCodec.decode(RaftWireCodec.encode(message)) == message else {
            print("FAIL seed=\(seed) iteration=\(iteration): \(message) does not round-trip")
            exit(1)
        }
        decoded += 1
    } catch {
        rejected += 1
    }
}
print("RaftWireFuzz seed=\(seed): \(count) inputs, \(decoded) decoded, \(rejected) rejected, 0 crashes")
