/*
** clock.c (sim): a wall clock the test sets, to show that a wrong clock
** changes nothing but what it should (calendar schedules, display).
**
** $HOLDFAST_SIM_UTC_MS: wall time (ms since the epoch) when the process
** starts; it then advances with the monotonic clock. 0 is a board that
** booted at 1970. $HOLDFAST_SIM_CLOCK_SYNCED: 1 or 0, what adjtimex(2) would
** say. Either unset: the real one. The monotonic clock is always the real
** one. Trust follows the shipped rule (clock_trust.h).
*/
#include <stdlib.h>
#include <sys/timex.h>
#include <time.h>

#include "clock_trust.h"
#include "port.h"

uint64_t port_clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* What adjtimex(2) says, or $HOLDFAST_SIM_CLOCK_SYNCED; *MAX_ERROR_US (if
** not NULL) the kernel's bound, -1 when the test decided. */
static bool synchronised(int64_t *max_error_us)
{
	const char *synced = getenv("HOLDFAST_SIM_CLOCK_SYNCED");
	struct timex tx = { 0 };
	int state;

	if (max_error_us)
		*max_error_us = -1;
	if (synced && *synced)
		return synced[0] == '1';
	state = adjtimex(&tx);
	if (max_error_us && state >= 0)
		*max_error_us = (int64_t)tx.maxerror;
	return state >= 0 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
}

int64_t port_clock_utc(bool *trusted)
{
	static int64_t base_utc = -1;
	static uint64_t base_mono;
	const char *set = getenv("HOLDFAST_SIM_UTC_MS");
	struct timespec ts;
	int64_t ms;

	if (set && *set) {
		if (base_utc < 0) {
			base_utc = strtoll(set, NULL, 10);
			base_mono = port_clock_mono_ms();
		}
		ms = base_utc + (int64_t)(port_clock_mono_ms() - base_mono);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	if (trusted)
		*trusted = clock_trust(ms, synchronised(NULL));
	return ms;
}

void port_clock_state(struct port_clock_state *st)
{
	st->utc_ms = port_clock_utc(NULL);
	st->synchronised = synchronised(&st->max_error_us);
	st->build_utc_s = (int64_t)HF_BUILD_TIME;
	st->trusted = clock_trust(st->utc_ms, st->synchronised);
}
