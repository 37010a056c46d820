/* CLOCK_MONOTONIC readings for deadlines and step timings (the one clock
 * that neither jumps nor stops with the wall clock). */
#pragma once
#include <stdint.h>
#include <time.h>

static inline uint64_t husk_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t husk_monotonic_ms(void)
{
	return (int64_t)(husk_monotonic_ns() / 1000000u);
}
