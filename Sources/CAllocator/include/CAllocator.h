#ifndef QUORUM_CALLOCATOR_H
#define QUORUM_CALLOCATOR_H

#include <stddef.h>

/// Returns the whole free pages the C allocator holds to the system (glibc's `malloc_trim(0)`).
/// Returns 1 if memory was released, 0 if not or on another C library.
int quorum_allocator_trim(void);

/// The bytes the C allocator holds free (glibc's `mallinfo2().fordblks`: free chunks in its
/// heaps, which count as resident once touched), or 0 on another C library.
size_t quorum_allocator_free_bytes(void);

#endif
