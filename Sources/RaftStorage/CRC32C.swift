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
