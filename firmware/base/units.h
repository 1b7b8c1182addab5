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

/* Writes BYTES in the largest binary unit it fills: exactly ("64MiB") when
** it is a whole number of them, else to one decimal ("71.3MiB"). */
void units_format_size(uint64_t bytes, char *buf, size_t len);

/* Writes MS roughly, as an age reads: "12.5s" under a minute, else its two
** largest units ("3m12s", "2h5m", "1d3h"), truncated, into BUF[LEN]. */
void units_format_approx(uint64_t ms, char *buf, size_t len);

/*
** A moment recorded as BOOT (the boot counter) and MONO_MS (that boot's
** monotonic clock), with UTC_MS beside it (< 0: the wall clock was not
** trusted then), as people read it at NOW_BOOT/NOW_MONO_MS, into OUT[LEN]:
** "2024-05-01T12:00:00Z" when the wall clock was trusted; else, in this boot,
** its age on the monotonic clock, "3m12s ago"; else "boot 3 +12.5s", that
** long after boot 3 started (no clock relates two boots).
*/
void units_format_when(int64_t utc_ms, int64_t boot, uint64_t mono_ms, int64_t now_boot,
		       uint64_t now_mono_ms, char *out, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
** algorithm: no C library time zone code on the device). */
int64_t units_days_from_civil(int64_t y, unsigned m, unsigned d);

/* MS since the epoch as UTC "YYYY-MM-DDTHH:MM:SSZ", or with COMPACT as
** "YYYYMMDDTHHMMSSZ" (SigV4's form), into OUT[LEN]. */
void units_format_utc(int64_t ms, bool compact, char *out, size_t len);

#endif /* HF_UNITS_H */
