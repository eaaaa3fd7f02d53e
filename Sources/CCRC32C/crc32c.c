// Hardware CRC32C. The function carries its own target attribute, so the target needs no
// compiler flags (SwiftPM forbids unsafeFlags in dependencies); callers check for the
// instruction at run time first.
#include "CCRC32C.h"
#include <string.h>

#if defined(__x86_64__)

int quorum_crc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t quorum_crc32c_hardware_update(uint32_t crc, const uint8_t *bytes, size_t length) {
    uint64_t wide = crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        wide = __builtin_ia32_crc32di(wide, word);
        bytes += 8;
        length -= 8;
    }
    uint32_t narrow = (uint32_t)wide;
    while (length > 0) {
        narrow = __builtin_ia32_crc32qi(narrow, *bytes);
        bytes += 1;
        length -= 1;
    }
    return narrow;
}

#else

int quorum_crc32c_hardware_available(void) { return 0; }

uint32_t quorum_crc32c_hardware_update(uint32_t crc, const uint8_t *bytes, size_t length) {
    (void)bytes;
    (void)length;
    return crc;
}

#endif
