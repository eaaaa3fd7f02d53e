#ifndef CHAOS_WALL_CLOCK_H
#define CHAOS_WALL_CLOCK_H

/// The `clock` nemesis's preload (docs/chaos.md, "How clocks are skewed"): a shared library the
/// chaos tool puts in a node's LD_PRELOAD that skews only the wall clock — clock_gettime's
/// CLOCK_REALTIME(_COARSE), gettimeofday and time — by the offset and rate in the file named by
/// QUORUM_CHAOS_WALL_CLOCK_FILE. Monotonic clocks, timers, sleeps and file times are untouched.
/// Nothing here is called from Swift: the library works by symbol interposition.

/// The file's current offset in seconds as last read (0 before the first read or without the
/// variable): lets a test check what the library parsed.
double chaos_wall_clock_offset_seconds(void);

#endif
