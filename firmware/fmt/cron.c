/*
** cron.c: cron expressions (see cron.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "fmt/cron.h"

/* Parses one field into the bit set *BITS over LO..HI. */
static int field(const char *f, int lo, int hi, uint64_t *bits, bool *any, const char *what,
		 char *err, size_t errlen)
{
	char buf[128], *save = NULL, *part;

	*bits = 0;
	*any = strcmp(f, "*") == 0;
	if (strlen(f) >= sizeof(buf)) {
		snprintf(err, errlen, "%s field is too long", what);
		return HF_EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", f);
	for (part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		long a = lo, b = hi, step = 1;
		bool range = false;
		char *p = part, *end;

		if (*p == '*') {
			p++;
		} else {
			a = strtol(p, &end, 10);
			if (end == p)
				goto bad;
			p = end;
			b = a;
			if (*p == '-') {
				range = true;
				p++;
				b = strtol(p, &end, 10);
				if (end == p)
					goto bad;
				p = end;
			}
		}
		if (*p == '/') {
			p++;
			step = strtol(p, &end, 10);
			if (end == p || step <= 0)
				goto bad;
			p = end;
			if (!range && part[0] != '*')
				b = hi; /* "5/15": from 5 to the end, every 15 */
		}
		if (*p != '\0')
			goto bad;
		if (a < lo || b > hi || a > b) {
			snprintf(err, errlen, "%s field '%s' is out of range %d-%d", what, part, lo, hi);
			return HF_EINVAL;
		}
		for (long v = a; v <= b; v += step)
			*bits |= 1ULL << v;
	}
	if (*bits == 0)
		goto bad;
	return HF_OK;
bad:
	snprintf(err, errlen, "%s field '%s' is not a number, range, step or list", what, f);
	return HF_EINVAL;
}

int cron_parse(const char *expr, struct cron *c, char *err, size_t errlen)
{
	char buf[256], *f[6], *save = NULL;
	uint64_t bits;
	int n = 0, rc;

	if (strlen(expr) >= sizeof(buf)) {
		snprintf(err, errlen, "expression too long");
		return HF_EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", expr);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 5) {
			snprintf(err, errlen, "more than 5 fields (minute hour day month weekday)");
			return HF_EINVAL;
		}
		f[n++] = t;
	}
	if (n != 5) {
		snprintf(err, errlen, "%d field%s; cron needs 5 (minute hour day month weekday)",
			 n, n == 1 ? "" : "s");
		return HF_EINVAL;
	}
	memset(c, 0, sizeof(*c));
	bool any;
	if ((rc = field(f[0], 0, 59, &c->minute, &any, "minute", err, errlen)))
		return rc;
	if ((rc = field(f[1], 0, 23, &bits, &any, "hour", err, errlen)))
		return rc;
	c->hour = (uint32_t)bits;
	if ((rc = field(f[2], 1, 31, &bits, &c->dom_any, "day-of-month", err, errlen)))
		return rc;
	c->dom = (uint32_t)bits;
	if ((rc = field(f[3], 1, 12, &bits, &any, "month", err, errlen)))
		return rc;
	c->month = (uint16_t)bits;
	if ((rc = field(f[4], 0, 7, &bits, &c->dow_any, "day-of-week", err, errlen)))
		return rc;
	if (bits & (1u << 7))
		bits |= 1; /* 7 is Sunday too */
	c->dow = (uint8_t)(bits & 0x7f);
	return HF_OK;
}

static bool day_matches(const struct cron *c, const struct tm *tm)
{
	bool dom = c->dom >> tm->tm_mday & 1, dow = c->dow >> tm->tm_wday & 1;

	if (c->dom_any || c->dow_any)
		return dom && dow;
	return dom || dow;
}

int64_t cron_next(const struct cron *c, int64_t t_s)
{
	/* Minute by minute, skipping whole hours and days that cannot match:
	** at most a few hundred thousand steps for five years. */
	int64_t t = (t_s / 60 + 1) * 60, limit = t_s + 5LL * 366 * 86400;
	struct tm tm;

	while (t <= limit) {
		time_t tt = (time_t)t;
		gmtime_r(&tt, &tm);
		if (!(c->month >> (tm.tm_mon + 1) & 1) || !day_matches(c, &tm)) {
			t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60);
			continue;
		}
		if (!(c->hour >> tm.tm_hour & 1)) {
			t += 3600 - tm.tm_min * 60;
			continue;
		}
		if (c->minute >> tm.tm_min & 1)
			return t;
		t += 60;
	}
	return -1;
}
