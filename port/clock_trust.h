/*
** clock_trust.h: when wall time may be trusted, for port/linux/clock.c and
** port/sim/clock.c alike: the kernel says the clock is synchronised
** (adjtimex(2) without STA_UNSYNC, as chrony, ntpd and systemd-timesyncd leave
** it), and it is not earlier than the build time of this binary (an RTC-less
** board that booted at 1970 or at the last saved fake-hwclock time fails that
** at once).
*/
#ifndef HF_CLOCK_TRUST_H
#define HF_CLOCK_TRUST_H

#include <stdbool.h>
#include <stdint.h>

#include "hf_build.h"

static inline bool clock_trust(int64_t utc_ms, bool synchronised)
{
	return synchronised && utc_ms / 1000 >= (int64_t)HF_BUILD_TIME;
}

#endif /* HF_CLOCK_TRUST_H */
