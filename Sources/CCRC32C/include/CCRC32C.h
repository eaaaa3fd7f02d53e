#ifndef QUORUM_CCRC32C_H
#define QUORUM_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Returns 1 when this CPU has a CRC32C instruction (x86-64 SSE4.2), 0 otherwise.
int quorum_crc32c_hardware_available(void);

/// Continues a CRC32C (Castagnoli) over `length` bytes with the CPU's crc32 instruction.
/// `crc` is the running, already inverted value: start with 0xFFFFFFFF and invert the result.
/// Only call when `quorum_crc32c_hardware_available()` returned 1.
uint32_t quorum_crc32c_hardware_update(uint32_t crc, const uint8_t *bytes, size_t length);

#endif
