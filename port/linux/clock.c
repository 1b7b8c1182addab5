/*
** clock.c (linux): the monotonic clock and untrusted wall time.
**
** CLOCK_MONOTONIC (not _RAW) is what timers and ordering use: it never steps
** back when NTP or a user sets the date. CLOCK_BOOTTIME would count suspend,
** which these boards do not do, and is not what poll/timerfd deadlines use.
**
** Wall time is trusted by the rule in clock_trust.h: synchronised, and not
** before this binary was built. The sim port (port/sim/clock.c) replaces this
** file so tests can set a wrong clock.
*/
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
	struct timespec ts;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (trusted) {
		struct timex tx = { 0 };
		int state = adjtimex(&tx);
		*trusted = clock_trust(ms, state >= 0 && state != TIME_ERROR &&
					       !(tx.status & STA_UNSYNC));
	}
	return ms;
}

void port_clock_state(struct port_clock_state *st)
{
	struct timex tx = { 0 };
	int state = adjtimex(&tx);

	st->utc_ms = port_clock_utc(NULL);
	st->synchronised = state >= 0 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
	st->max_error_us = state >= 0 ? (int64_t)tx.maxerror : -1;
	st->build_utc_s = (int64_t)HF_BUILD_TIME;
	st->trusted = clock_trust(st->utc_ms, st->synchronised);
}
