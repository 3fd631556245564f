#ifndef ALLOC_COUNTER_H
#define ALLOC_COUNTER_H
#include <stdint.h>
/// Start counting heap allocations made by the calling thread.
void alloc_counter_start(void);
/// Stop counting and return how many allocations the calling thread made since start.
uint64_t alloc_counter_stop(void);
#endif
