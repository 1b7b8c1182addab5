/*
** submit.c (tools/bench): what `holdfast submit` costs without the process
** around it. Two loops on the same filesystem, each N submits of `true`:
**   open    jlog_open + one submit transaction + jlog_close (the CLI's work)
**   warm    one submit transaction on a connection kept open
** Usage: bench-submit DATADIR N [warm] (DATADIR made by holdfast init; warm:
** that loop only, e.g. to fill a log fast). Prints "name ops_per_s p50_us
** p99_us". Not a test: it asserts nothing.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/jlog.h"
#include "port.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int submit(struct jlog *j)
{
	static char *argv[] = { "true", NULL };
	struct jlog_spec s = { .argv = argv, .argc = 1, .cwd = "/",
			       .backoff_min_ms = 1000, .backoff_max_ms = 300000 };
	struct jlog_now now = { 0, port_clock_mono_ms(), -1 };
	char boot[64];
	int64_t id;
	bool existed;
	int rc;

	if ((rc = port_boot_id(boot, sizeof(boot))) || (rc = jlog_begin(j)) ||
	    (rc = jlog_boot(j, boot, -1, true, &now.boot)) ||
	    (rc = jlog_job_add(j, &s, &now, &id, &existed)))
		return rc;
	return jlog_commit(j);
}

int main(int argc, char **argv)
{
	char db[4096];
	struct jlog j = { 0 };
	double *lat, t0, t;
	int n;

	if (argc < 3 || argc > 4 || (n = atoi(argv[2])) <= 0 ||
	    (argc == 4 && strcmp(argv[3], "warm") != 0)) {
		fprintf(stderr, "usage: %s DATADIR N [warm]\n", argv[0]);
		return 2;
	}
	port_init(); /* the sim build's emulated fsync delay, as in holdfast */
	lat = calloc((size_t)n, sizeof(double));
	snprintf(db, sizeof(db), "%s/holdfast.db", argv[1]);
	for (int pass = argc == 4; pass < 2; pass++) {
		if (pass == 1 && jlog_open(&j, db, NULL))
			return 1;
		t0 = now_us();
		for (int i = 0; i < n; i++) {
			t = now_us();
			if (pass == 0 && jlog_open(&j, db, NULL))
				return 1;
			if (submit(&j))
				return 1;
			if (pass == 0)
				jlog_close(&j);
			lat[i] = now_us() - t;
		}
		double secs = (now_us() - t0) / 1e6;
		qsort(lat, (size_t)n, sizeof(double), cmp);
		printf("%s %.0f %.0f %.0f\n", pass ? "warm" : "open", n / secs, lat[n / 2],
		       lat[n * 99 / 100]);
	}
	jlog_close(&j);
	return 0;
}
