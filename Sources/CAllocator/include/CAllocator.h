#ifndef QUORUM_CALLOCATOR_H
#define QUORUM_CALLOCATOR_H

#include <stddef.h>

/// Returns the whole free pages the C allocator holds to the system (glibc's `malloc_trim(0)`).
/// Returns 1 if memory was released, 0 if not or on another C library.
int quorum_allocator_trim(void);

/// This process's resident size in bytes (`/proc/self/statm`), or 0 where it cannot be read.
size_t quorum_resident_bytes(void);

#endif
