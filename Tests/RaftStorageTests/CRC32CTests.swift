import DeterministicRandom
import Testing

@testable import RaftStorage

@Suite("CRC32C")
struct CRC32CTests {
    static let vectors: [(String, UInt32)] = [
        ("", 0x0000_0000),
        ("a", 0xC1D0_4330),
        ("123456789", 0xE306_9283),
        ("The quick brown fox jumps over the lazy dog", 0x2262_0404),
    ]

    @Test("software table matches the standard vectors", arguments: 0..<4)
    func softwareVectors(_ position: Int) {
        let (text, expected) = Self.vectors[position]
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { CRC32C.softwareChecksum($0) } == expected)
    }

    @Test("hardware instruction matches the standard vectors", arguments: 0..<4)
    func hardwareVectors(_ position: Int) throws {
        let (text, expected) = Self.vectors[position]
        let bytes = Array(text.utf8)
        guard CRC32C.isHardwareAccelerated else {
            print("skipped: this CPU has no SSE4.2 crc32 instruction")
            return
        }
        #expect(bytes.withUnsafeBytes { CRC32C.hardwareChecksum($0) } == expected)
    }

    @Test("32 zero bytes and 32 0xFF bytes (RFC 3720 B.4)")
    func iscsiVectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test("the checksums of two parts combine into the checksum of both, at every split of the vector and of random buffers",
          arguments: [UInt64(1), 2, 3])
    func combine(seed: UInt64) {
        let vector = Array("123456789".utf8)
        for split in 0...vector.count {
            let (a, b) = (Array(vector[..<split]), Array(vector[split...]))
            #expect(CRC32C.combine(CRC32C.checksum(a), CRC32C.checksum(b), secondLength: b.count) == 0xE306_9283, "split \(split)")
        }
        var random = SplitMix64(seed: seed)
        for _ in 0..<50 {
            let a = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: .min ... .max, using: &random) }
            let b = (0..<Int.random(in: 0...5_000, using: &random)).map { _ in UInt8.random(in: .min ... .max, using: &random) }
            #expect(CRC32C.combine(CRC32C.checksum(a), CRC32C.checksum(b), secondLength: b.count) == CRC32C.checksum(a + b),
                    "seed \(seed) lengths \(a.count) + \(b.count)")
        }
        // A long second part (the data of a large snapshot) exercises the high powers of x.
        let header = Array("QSNP header".utf8)
        let zeros = [UInt8](repeating: 0, count: 3 << 20)
        #expect(CRC32C.combine(CRC32C.checksum(header), CRC32C.checksum(zeros), secondLength: zeros.count)
                == CRC32C.checksum(header + zeros))
    }

    @Test("hardware and software agree on random buffers of every length up to 300", arguments: [UInt64(1), 2, 3])
    func pathsAgree(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for length in 0...300 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &random) }
            let software = bytes.withUnsafeBytes { CRC32C.softwareChecksum($0) }
            #expect(CRC32C.checksum(bytes) == software, "seed \(seed) length \(length)")
            if let hardware = bytes.withUnsafeBytes({ CRC32C.hardwareChecksum($0) }) {
                #expect(hardware == software, "seed \(seed) length \(length)")
            }
        }
    }
}
