// Wall-clock skew for one chaos node, by LD_PRELOAD interposition (see include/ChaosWallClock.h).
//
// Why not libfaketime: it also rewrites the absolute deadlines given to timerfd_settime by the
// skew, even for CLOCK_MONOTONIC/CLOCK_BOOTTIME timers and with FAKETIME_DONT_FAKE_MONOTONIC=1.
// The Swift runtime's Task.sleep and Dispatch timers arm absolute monotonic timerfds, so a
// clock five minutes back delayed every timer by five minutes, and stayed so after the clock was
// set right (Dispatch does not re-arm a timer it believes armed for an earlier deadline); an
// hour ahead made every timer fire at once. It also shifts the mtimes stat() reports, so a jump
// looked like a change of every watched file (the node reloaded its peer TLS files at each one).
// This library fakes what a real clock step or drift changes — the wall clock — and nothing else.
//
// The file holds "<offset seconds> <rate>" (for example "3600 1", "-300 1", "0 1.5"); it is
// re-read at most every 100 ms of real monotonic time. A new content takes effect from the
// moment it is read: fake = real + offset + (rate - 1) * (real - moment read).
#define _GNU_SOURCE
#include "ChaosWallClock.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime_fn;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *spec_path;
static char last_spec[64];
static double offset_seconds;
static double rate = 1.0;
static long long anchor_real_ns;
static long long next_read_monotonic_ns;

static void resolve(void) {
    real_clock_gettime_fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    spec_path = getenv("QUORUM_CHAOS_WALL_CLOCK_FILE");
}

static int real_clock_gettime(clockid_t id, struct timespec *ts) {
    pthread_once(&resolve_once, resolve);
    if (real_clock_gettime_fn != NULL) return real_clock_gettime_fn(id, ts);
    return (int)syscall(SYS_clock_gettime, id, ts);
}

static long long nanoseconds(const struct timespec *ts) { return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec; }

/// Re-reads the spec file when 100 ms have passed since the last read; called with state_lock held.
static void refresh(long long real_ns) {
    struct timespec mono;
    if (spec_path == NULL || real_clock_gettime(CLOCK_MONOTONIC, &mono) != 0) return;
    long long now = nanoseconds(&mono);
    if (now < next_read_monotonic_ns) return;
    next_read_monotonic_ns = now + 100000000LL;
    int fd = open(spec_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char text[64];
    ssize_t count = read(fd, text, sizeof text - 1);
    close(fd);
    if (count <= 0) return;
    text[count] = '\0';
    if (strcmp(text, last_spec) == 0) return;
    char *end = NULL;
    double offset = strtod(text, &end);
    if (end == text) return;
    double speed = strtod(end, NULL);
    if (speed <= 0) speed = 1.0;
    memcpy(last_spec, text, (size_t)count + 1);
    offset_seconds = offset;
    rate = speed;
    anchor_real_ns = real_ns;
}

/// The skewed wall clock for a real reading of it.
static void skew(struct timespec *ts) {
    long long real_ns = nanoseconds(ts);
    pthread_mutex_lock(&state_lock);
    refresh(real_ns);
    double shift = offset_seconds * 1e9 + (rate - 1.0) * (double)(real_ns - anchor_real_ns);
    pthread_mutex_unlock(&state_lock);
    long long fake = real_ns + (long long)shift;
    ts->tv_sec = (time_t)(fake / 1000000000LL);
    ts->tv_nsec = (long)(fake % 1000000000LL);
    if (ts->tv_nsec < 0) {
        ts->tv_nsec += 1000000000L;
        ts->tv_sec -= 1;
    }
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    int result = real_clock_gettime(id, ts);
    if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) skew(ts);
    return result;
}

int gettimeofday(struct timeval *restrict tv, void *restrict zone) {
    (void)zone;
    struct timespec ts;
    int result = clock_gettime(CLOCK_REALTIME, &ts);
    if (result != 0) return result;
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
    if (out != NULL) *out = ts.tv_sec;
    return ts.tv_sec;
}

double chaos_wall_clock_offset_seconds(void) {
    struct timespec ts;
    real_clock_gettime(CLOCK_REALTIME, &ts);
    pthread_mutex_lock(&state_lock);
    refresh(nanoseconds(&ts));
    double offset = offset_seconds;
    pthread_mutex_unlock(&state_lock);
    return offset;
}
