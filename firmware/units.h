/*
** units.h: durations and sizes as people write them on the command line and
** in holdfast.conf: "250ms", "30s", "5m", "2h", "1d", "1h30m"; "512", "64KiB",
** "10MB". Parsing is strict: a number without a unit is not a duration, a
** unit we do not know is an error, and overflow is an error.
*/
#ifndef HF_UNITS_H
#define HF_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest duration accepted: 100 years, far past any timeout or backoff. */
#define UNITS_MAX_DURATION_MS (100ULL * 366 * 24 * 3600 * 1000)

/* Parses S into milliseconds; HF_EINVAL if malformed or too long. */
int units_parse_duration(const char *s, uint64_t *ms);

/* Parses S into bytes (KB = 1000, KiB = 1024, likewise M, G); HF_EINVAL. */
int units_parse_size(const char *s, uint64_t *bytes);

/* Writes MS as the shortest exact form ("1h30m", "250ms") into BUF[LEN]. */
void units_format_duration(uint64_t ms, char *buf, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
** algorithm: no C library time zone code on the device). */
int64_t units_days_from_civil(int64_t y, unsigned m, unsigned d);

/* MS since the epoch as UTC "YYYY-MM-DDTHH:MM:SSZ", or with COMPACT as
** "YYYYMMDDTHHMMSSZ" (SigV4's form), into OUT[LEN]. */
void units_format_utc(int64_t ms, bool compact, char *out, size_t len);

#endif /* HF_UNITS_H */
