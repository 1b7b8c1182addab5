/*
** units.c: parsing and formatting durations and sizes (see units.h).
*/
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/units.h"

/* Reads a decimal number at *P into *V; false if none or overflow. */
static int read_number(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9') {
		if (n > (UINT64_MAX - 9) / 10)
			return 0;
		n = n * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	*v = n;
	return 1;
}

int units_parse_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	uint64_t total = 0, n;
	const char *p = s;

	if (!s || !*s)
		return HF_EINVAL;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return HF_OK;
	}
	while (*p) {
		size_t k, best = 0, best_len = 0;

		if (!read_number(&p, &n))
			return HF_EINVAL;
		/* Longest unit name that matches: "ms" before "m". */
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
			size_t l = strlen(units[k].name);
			if (strncmp(p, units[k].name, l) == 0 && l > best_len) {
				best = k;
				best_len = l;
			}
		}
		if (best_len == 0)
			return HF_EINVAL;
		p += best_len;
		if (n > UNITS_MAX_DURATION_MS / units[best].ms)
			return HF_EINVAL;
		total += n * units[best].ms;
		if (total > UNITS_MAX_DURATION_MS)
			return HF_EINVAL;
	}
	*ms = total;
	return HF_OK;
}

int units_parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *name; uint64_t mult; } units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
		{ "KiB", 1024 }, { "MiB", 1048576 }, { "GiB", 1073741824 },
		{ "K", 1024 }, { "M", 1048576 }, { "G", 1073741824 },
	};
	const char *p = s;
	uint64_t n;

	if (!s || !read_number(&p, &n))
		return HF_EINVAL;
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (strcmp(p, units[k].name) == 0) {
			if (n > UINT64_MAX / units[k].mult)
				return HF_EINVAL;
			*bytes = n * units[k].mult;
			return HF_OK;
		}
	}
	return HF_EINVAL;
}

void units_format_duration(uint64_t ms, char *buf, size_t len)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
		{ "ms", 1 },
	};
	size_t used = 0;

	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	buf[0] = '\0';
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]) && used < len; k++) {
		if (ms >= units[k].ms) {
			int w = snprintf(buf + used, len - used, "%llu%s",
					 (unsigned long long)(ms / units[k].ms), units[k].name);
			if (w < 0)
				return;
			used += (size_t)w;
			ms %= units[k].ms;
		}
	}
}

void units_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t k = 0;
	uint64_t unit = 1;

	while (k + 1 < sizeof(names) / sizeof(names[0]) && bytes >= unit * 1024) {
		unit *= 1024;
		k++;
	}
	if (bytes % unit == 0)
		snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / unit), names[k]);
	else
		snprintf(buf, len, "%.1f%s", (double)bytes / (double)unit, names[k]);
}

void units_format_approx(uint64_t ms, char *buf, size_t len)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	};
	size_t k = 0;

	if (ms < 60000) {
		snprintf(buf, len, "%llu.%llus", (unsigned long long)(ms / 1000),
			 (unsigned long long)(ms % 1000 / 100));
		return;
	}
	while (ms < units[k].ms)
		k++;
	if (ms % units[k].ms < units[k + 1].ms)
		snprintf(buf, len, "%llu%s", (unsigned long long)(ms / units[k].ms), units[k].name);
	else
		snprintf(buf, len, "%llu%s%llu%s", (unsigned long long)(ms / units[k].ms),
			 units[k].name, (unsigned long long)(ms % units[k].ms / units[k + 1].ms),
			 units[k + 1].name);
}

void units_format_when(int64_t utc_ms, int64_t boot, uint64_t mono_ms, int64_t now_boot,
		       uint64_t now_mono_ms, char *out, size_t len)
{
	char d[32];

	if (utc_ms >= 0) {
		units_format_utc(utc_ms, false, out, len);
	} else if (boot > 0 && boot == now_boot && now_mono_ms >= mono_ms) {
		units_format_approx(now_mono_ms - mono_ms, d, sizeof(d));
		snprintf(out, len, "%s ago", d);
	} else {
		units_format_approx(mono_ms, d, sizeof(d));
		snprintf(out, len, "boot %lld +%s", (long long)boot, d);
	}
}

int64_t units_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void units_format_utc(int64_t ms, bool compact, char *out, size_t len)
{
	int64_t secs = ms / 1000, z = secs / 86400 + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153, day = doy - (153 * mp + 2) / 5 + 1;
	unsigned mon = mp < 10 ? mp + 3 : mp - 9;
	long long year = (long long)yoe + era * 400 + (mon <= 2);
	unsigned sod = (unsigned)(secs % 86400);
	char buf[64];

	snprintf(buf, sizeof(buf), compact ? "%04lld%02u%02uT%02u%02u%02uZ"
					   : "%04lld-%02u-%02uT%02u:%02u:%02uZ",
		 year, mon, day, sod / 3600, sod / 60 % 60, sod % 60);
	snprintf(out, len, "%s", buf);
}
