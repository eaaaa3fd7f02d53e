#ifndef QUORUM_CALLOCATOR_H
#define QUORUM_CALLOCATOR_H

#include <stddef.h>

/// Returns the whole free pages the C allocator holds to the system (glibc's `malloc_trim(0)`).
/// Returns 1 if memory was released, 0 if not or on another C library.
int quorum_allocator_trim(void);

/// This process's resident size in bytes (`/proc/self/statm`), or 0 where it cannot be read.
size_t quorum_resident_bytes(void);

/// The C allocator's own account, over all its arenas (glibc's `mallinfo2`): bytes handed out
/// and not freed (`in_use`, mmapped blocks included), bytes it holds free (`free_bytes`), of
/// which `in_use` in separately mmapped blocks (`mapped`). All 0 on another C library.
void quorum_allocator_usage(size_t *in_use, size_t *free_bytes, size_t *mapped);

#endif
