// Interposes malloc and friends for the test executable and counts calls made by a thread
// while counting is switched on for it. Forwards to glibc's internal entry points.
#define _GNU_SOURCE
#include "alloc_counter.h"
#include <stddef.h>
#include <errno.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static __thread int counting;
static __thread uint64_t count;

void alloc_counter_start(void) { count = 0; counting = 1; }
uint64_t alloc_counter_stop(void) { counting = 0; return count; }

void *malloc(size_t n) { if (counting) count++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) count++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) count++; return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { if (counting) count++; return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { if (counting) count++; return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    if (counting) count++;
    void *p = __libc_memalign(al, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
