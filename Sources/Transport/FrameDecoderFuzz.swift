import DeterministicRandom
import NIOCore

extension Transport {
    /// A seeded random-mutation fuzzer for ``FrameDecoder``, shared by the unit test (a short
    /// run) and `scripts/fuzz-transport.sh` (a million inputs or more, in release).
    ///
    /// Each input starts as a valid stream of a few frames, gets 1–4 mutations (bit flips,
    /// random bytes, inserted/deleted/duplicated ranges, truncation, hostile length prefixes,
    /// wrong versions), and is fed to the decoder in random chunks, as TCP would deliver it.
    /// A run checks that decoding never traps, that every error is a ``FrameError``, that no
    /// decoded frame exceeds the maximum, that the bytes decoded re-encode to exactly the input
    /// they came from, and that chunked decoding agrees with decoding the whole input at once.
    public struct FrameDecoderFuzz: Sendable {
        /// What a run found.
        public struct Report: Sendable, Hashable, CustomStringConvertible {
            /// Inputs tried.
            public var inputs = 0
            /// Frames decoded across all inputs.
            public var framesDecoded = 0
            /// Inputs rejected by each kind of error (`FrameError` case name).
            public var errors: [String: Int] = [:]
            /// Inputs that ended with an incomplete frame and no error.
            public var incomplete = 0
            /// Invariant violations (each names its input number); empty when the decoder is correct.
            public var violations: [String] = []

            /// A one-line summary.
            public var description: String {
                "inputs=\(inputs) frames=\(framesDecoded) incomplete=\(incomplete) "
                    + "errors=\(errors.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")) "
                    + "violations=\(violations.count)"
            }
        }

        /// The decoder's maximum frame length used for the run (small, so oversize paths are hit).
        public var maximumFrameLength: Int
        /// The seed; the same seed replays the same inputs.
        public var seed: UInt64

        /// Creates a fuzzer.
        public init(seed: UInt64, maximumFrameLength: Int = 4096) {
            self.seed = seed
            self.maximumFrameLength = maximumFrameLength
        }

        /// Runs `inputs` inputs and reports; stops collecting violations after 20.
        public func run(inputs: Int) -> Report {
            var random = SplitMix64(seed: seed)
            var report = Report()
            let decoder = FrameDecoder(maximumFrameLength: maximumFrameLength)
            for index in 0..<inputs {
                let input = makeInput(using: &random)
                report.inputs += 1
                let whole = decodeAll(input, chunks: [input.count], decoder: decoder)
                let chunked = decodeAll(input, chunks: randomChunks(input.count, using: &random), decoder: decoder)
                if whole != chunked {
                    note("input \(index): chunked decoding differs from whole decoding", in: &report)
                }
                report.framesDecoded += whole.frames.count
                switch whole.end {
                case .error(let name): report.errors[name, default: 0] += 1
                case .incomplete: report.incomplete += 1
                case .clean: break
                }
                var reencoded = ByteBuffer()
                for frame in whole.frames {
                    if frame.encodedLength > maximumFrameLength {
                        note("input \(index): decoded a frame above the maximum", in: &report)
                    }
                    FrameEncoder.write(frame, into: &reencoded)
                }
                if Array(input.prefix(whole.consumed)) != Array(reencoded.readableBytesView) {
                    note("input \(index): decoded frames do not re-encode to the consumed bytes", in: &report)
                }
            }
            return report
        }

        private func note(_ violation: String, in report: inout Report) {
            if report.violations.count < 20 { report.violations.append(violation) }
        }

        private enum End: Hashable { case clean, incomplete, error(String) }

        private struct Outcome: Hashable {
            var frames: [Frame] = []
            var consumed = 0
            var end = End.clean
        }

        /// Feeds `input` in `chunks` to one decoder, as `ByteToMessageHandler` would.
        private func decodeAll(_ input: [UInt8], chunks: [Int], decoder: FrameDecoder) -> Outcome {
            var outcome = Outcome()
            var buffer = ByteBuffer()
            var offset = 0
            for chunk in chunks {
                buffer.writeBytes(input[offset..<(offset + chunk)])
                offset += chunk
                do {
                    while let frame = try decoder.decodeFrame(from: &buffer) {
                        outcome.frames.append(frame)
                    }
                } catch let error as FrameError {
                    outcome.end = .error(Self.name(of: error))
                    outcome.consumed = offset - buffer.readableBytes
                    return outcome
                } catch {
                    outcome.end = .error("unexpected \(type(of: error))")
                    return outcome
                }
            }
            outcome.consumed = input.count - buffer.readableBytes
            outcome.end = buffer.readableBytes == 0 ? .clean : .incomplete
            return outcome
        }

        private static func name(of error: FrameError) -> String {
            switch error {
            case .frameTooLarge: "frameTooLarge"
            case .lengthTooSmall: "lengthTooSmall"
            case .unsupportedVersion: "unsupportedVersion"
            case .truncatedFrame: "truncatedFrame"
            }
        }

        private func randomChunks(_ count: Int, using random: inout SplitMix64) -> [Int] {
            var chunks: [Int] = []
            var left = count
            while left > 0 {
                let size = Int.random(in: 1...Swift.max(1, Swift.min(left, 64)), using: &random)
                chunks.append(size)
                left -= size
            }
            return chunks
        }

        private func makeInput(using random: inout SplitMix64) -> [UInt8] {
            var buffer = ByteBuffer()
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let size = Int.random(in: 0...Swift.min(200, maximumFrameLength - 2), using: &random)
                let payload = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
                FrameEncoder.write(Frame(type: .random(in: 0...255, using: &random), bytes: payload), into: &buffer)
            }
            var bytes = Array(buffer.readableBytesView)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                mutate(&bytes, using: &random)
            }
            return bytes
        }

        private func mutate(_ bytes: inout [UInt8], using random: inout SplitMix64) {
            guard !bytes.isEmpty else {
                bytes = (0..<Int.random(in: 1...16, using: &random)).map { _ in .random(in: 0...255, using: &random) }
                return
            }
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<8, using: &random) {
            case 0:
                bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &random)
            case 1:
                bytes[at] = .random(in: 0...255, using: &random)
            case 2:
                let inserted = (0..<Int.random(in: 1...32, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                bytes.insert(contentsOf: inserted, at: at)
            case 3:
                bytes.removeSubrange(at..<Swift.min(bytes.count, at + Int.random(in: 1...32, using: &random)))
            case 4:
                let range = at..<Swift.min(bytes.count, at + Int.random(in: 1...64, using: &random))
                bytes.insert(contentsOf: bytes[range], at: Int.random(in: 0...bytes.count, using: &random))
            case 5:
                bytes.removeLast(Int.random(in: 0...(bytes.count - at), using: &random))
            case 6:
                let hostile: [UInt32] = [
                    0, 1, 2, 3, UInt32(maximumFrameLength), UInt32(maximumFrameLength) + 1,
                    UInt32(Int32.max), UInt32.max, .random(in: 0...UInt32.max, using: &random),
                ]
                let length = hostile[Int.random(in: 0..<hostile.count, using: &random)]
                let start = Swift.min(at, Swift.max(0, bytes.count - 4))
                for (offset, byte) in withUnsafeBytes(of: length.bigEndian, Array.init).enumerated()
                where start + offset < bytes.count {
                    bytes[start + offset] = byte
                }
            default:
                let versions: [UInt8] = [0, 2, 255, .random(in: 0...255, using: &random)]
                bytes[at] = versions[Int.random(in: 0..<versions.count, using: &random)]
            }
        }
    }
}
