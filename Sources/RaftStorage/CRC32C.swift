import CCRC32C

/// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), the checksum of every WAL
/// frame and snapshot file.
///
/// Uses the CPU's `crc32` instruction (x86-64 SSE4.2) when present, detected once at run time,
/// and a table-driven software implementation otherwise. Both give identical results; the tests
/// check both against the standard vector `CRC32C("123456789") == 0xE3069283`.
public enum CRC32C {
    /// Whether the hardware path is used on this machine.
    public static let isHardwareAccelerated: Bool = quorum_crc32c_hardware_available() == 1

    /// The CRC32C of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        finish(update(start, bytes))
    }

    /// The CRC32C of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// The CRC32C computed by the software table only (exposed so tests can check both paths).
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        finish(softwareUpdate(start, bytes))
    }

    /// The CRC32C computed by the hardware instruction, or `nil` when the CPU has none.
    public static func hardwareChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard isHardwareAccelerated else { return nil }
        return finish(hardwareUpdate(start, bytes))
    }

    /// The running value before any byte (the CRC register is preset to all ones).
    static let start: UInt32 = 0xFFFF_FFFF

    /// The final checksum from a running value (the register is inverted at the end).
    static func finish(_ running: UInt32) -> UInt32 { running ^ 0xFFFF_FFFF }

    /// Continues a running CRC over `bytes`, so a checksum can span several buffers.
    static func update(_ running: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        isHardwareAccelerated ? hardwareUpdate(running, bytes) : softwareUpdate(running, bytes)
    }

    /// The CRC32C of `a` followed by `b`, from the CRC32C of `a`, that of `b` and `b`'s length
    /// in bytes (zlib's `crc32_combine`, for the Castagnoli polynomial).
    ///
    /// Why: a snapshot file's checksum covers its header first, and the header holds the data's
    /// length, known only once the data has been streamed to the file. The data's checksum is
    /// computed as it passes and the header's is combined in front of it at the end.
    static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        multiplyModP(xPower8n(secondLength), first) ^ second
    }

    /// `a * b` modulo the polynomial, both as reflected polynomials (bit 31 is x⁰).
    private static func multiplyModP(_ a: UInt32, _ b: UInt32) -> UInt32 {
        guard a != 0 else { return 0 }
        var mask: UInt32 = 1 << 31
        var product: UInt32 = 0
        var b = b
        while true {
            if a & mask != 0 {
                product ^= b
                if a & (mask &- 1) == 0 { break }
            }
            mask >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ 0x82F6_3B78 : b >> 1
        }
        return product
    }

    /// x^(8·n) modulo the polynomial: shifting a CRC past n zero bytes multiplies it by this.
    private static func xPower8n(_ n: Int) -> UInt32 {
        var power: UInt32 = 1 << 31  // x⁰
        var remaining = UInt64(max(0, n))
        var k = 3  // x^(2^3) = x^8: one byte
        while remaining != 0 {
            if remaining & 1 != 0 { power = multiplyModP(powersOfX[k], power) }
            remaining >>= 1
            k += 1
        }
        return power
    }

    /// x^(2^k) modulo the polynomial for k = 0..<67: enough for any byte count up to 2⁶⁴ (zlib
    /// keeps 32 and wraps, which assumes an irreducible polynomial; this one need not be).
    private static let powersOfX: [UInt32] = {
        var powers: [UInt32] = []
        var power: UInt32 = 1 << 30  // x¹
        for _ in 0..<67 {
            powers.append(power)
            power = multiplyModP(power, power)
        }
        return powers
    }()

    private static func hardwareUpdate(_ running: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return running }
        return quorum_crc32c_hardware_update(running, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    private static func softwareUpdate(_ running: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = running
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return crc
    }

    /// The byte-at-a-time table for the reflected Castagnoli polynomial.
    private static let table: [UInt32] = (0..<256).map { value in
        var crc = UInt32(value)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }
}
