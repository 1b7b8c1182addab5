/*
** version.c: the version report. Each component reports its own version at
** run time where it can (SQLite, mbedTLS, zstd), so a mixed-up build shows.
*/
#include <time.h>

#include "app/version.h"
#include "base/crypto.h"
#include "hf_build.h"
#include "log/jlog.h"
#include "zstd.h"

void version_print(FILE *f)
{
	time_t t = (time_t)HF_BUILD_TIME;
	struct tm tm;
	char date[32] = "unknown";

	if (t > 0 && gmtime_r(&t, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	fprintf(f, "holdfast %s (git %s, built %s) board %s\n", HF_VERSION, HF_GIT_REV,
		date, HF_BOARD);
	fprintf(f, "  SQLite  %s (%.19s)\n", jlog_sqlite_version(), jlog_sqlite_sourceid());
	fprintf(f, "  mbedTLS %s\n", crypto_version());
	fprintf(f, "  zstd    %s\n", ZSTD_versionString());
	fprintf(f, "  %-7s %s\n", HF_LIBC, HF_LIBC_VERSION);
}
