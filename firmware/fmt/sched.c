/*
** sched.c: retry backoff (see sched.h).
*/
#include "fmt/sched.h"

uint64_t sched_backoff_ms(uint64_t min_ms, uint64_t max_ms, int64_t failures, uint32_t rnd)
{
	uint64_t d = min_ms, half;

	if (max_ms < min_ms)
		max_ms = min_ms;
	for (int64_t i = 1; i < failures && d < max_ms; i++)
		d = d > max_ms / 2 ? max_ms : d * 2;
	if (d > max_ms)
		d = max_ms;
	half = d / 2;
	return d - half + (uint64_t)((double)half * rnd / UINT32_MAX);
}
