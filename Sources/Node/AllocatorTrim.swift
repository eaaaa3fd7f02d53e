import CAllocator

/// Hands the memory the C allocator holds free back to the system (`malloc_trim(0)` on glibc;
/// nothing elsewhere).
///
/// Why: glibc returns freed memory to the system only from the top of its heaps. After a
/// snapshot, the old versions of the tables that applies copied while the frozen state was
/// encoded are freed all over the heap and stay resident until reused; `malloc_trim` releases
/// every whole free page (`MADV_DONTNEED`). A restore frees an image and the decoder's scratch
/// likewise. It walks the heaps under their locks (milliseconds on a GiB heap), so it runs once
/// per snapshot written or restored, on the snapshot thread (docs/node.md, "Snapshots"; figures
/// in docs/benchmarks.md).
enum AllocatorTrim {
    /// Trims, and returns the resident bytes it released (what `/proc/self/statm` says before
    /// minus after; 0 where unknown, and possibly off by what other threads allocated meanwhile).
    @discardableResult
    static func returnFreeMemory() -> Int {
        let before = Int(quorum_resident_bytes())
        _ = quorum_allocator_trim()
        return max(0, before - Int(quorum_resident_bytes()))
    }

    /// The allocator's account after a trim, for the log: what the heap holds live against what
    /// it holds free, so a resident size above another node's says which of the two it is.
    static func usage() -> (inUse: Int, free: Int, mapped: Int) {
        var inUse = 0
        var free = 0
        var mapped = 0
        quorum_allocator_usage(&inUse, &free, &mapped)
        return (inUse, free, mapped)
    }
}
