/*
** test_clock.c: the monotonic clock never goes back; wall time is sane.
*/
#include <time.h>
#include <unistd.h>

#include "port.h"
#include "test.h"

TEST(clock_mono_advances_and_never_goes_back)
{
	uint64_t a = port_clock_mono_ms(), prev = a, now;

	for (int i = 0; i < 1000; i++) {
		now = port_clock_mono_ms();
		CHECK(now >= prev);
		prev = now;
	}
	usleep(20000);
	now = port_clock_mono_ms();
	CHECK(now - a >= 20);
	CHECK(now - a < 5000);
}

TEST(clock_utc_matches_time)
{
	bool trusted = true;
	int64_t ms = port_clock_utc(&trusted);
	int64_t t = (int64_t)time(NULL) * 1000;

	CHECK(ms - t > -2000 && ms - t < 2000);
	CHECK(port_clock_utc(NULL) >= ms);
}
