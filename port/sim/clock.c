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

int64_t port_clock_utc(bool *trusted)
{
	static int64_t base_utc = -1;
	static uint64_t base_mono;
	const char *set = getenv("HOLDFAST_SIM_UTC_MS");
	const char *synced = getenv("HOLDFAST_SIM_CLOCK_SYNCED");
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
	if (trusted) {
		bool sync;

		if (synced && *synced) {
			sync = synced[0] == '1';
		} else {
			struct timex tx = { 0 };
			int state = adjtimex(&tx);
			sync = state >= 0 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
		}
		*trusted = clock_trust(ms, sync);
	}
	return ms;
}
