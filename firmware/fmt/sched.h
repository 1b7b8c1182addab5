/*
** sched.h: scheduling policy as pure functions (no I/O), so it can be
** tested exhaustively: retry backoff with jitter.
*/
#ifndef HF_SCHED_H
#define HF_SCHED_H

#include <stdint.h>

/*
** Delay before retry number FAILURES (1 after the first failure):
** MIN * 2^(FAILURES-1), capped at MAX, then "equal jitter": half of it fixed,
** the other half scaled by RND (uniform over 0..UINT32_MAX). Jitter keeps a
** fleet of devices that failed together (a shared outage) from retrying in
** lockstep; the fixed half keeps the delay from collapsing to zero.
*/
uint64_t sched_backoff_ms(uint64_t min_ms, uint64_t max_ms, int64_t failures, uint32_t rnd);

#endif /* HF_SCHED_H */
