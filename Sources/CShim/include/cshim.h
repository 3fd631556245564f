#ifndef CSHIM_H
#define CSHIM_H
// Small C helpers for things Swift/Glibc do not expose. Keep this file small.
#include <stdint.h>
#include <stddef.h>

/// Hint the CPU to pull a cache line in for reading.
static inline void cshim_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Read the time-stamp counter (x86) or a monotonic fallback in nanoseconds.
uint64_t cshim_monotonic_ns(void);

#endif
