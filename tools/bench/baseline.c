/*
** baseline.c (tools/bench): the floor the job benchmarks are measured
** against, in the same run and on the same filesystem:
**   fsync   4 KiB appends, each followed by fdatasync(2)
**   commit  single-row INSERT commits, SQLite (our build) in WAL mode with
**           synchronous=FULL
** Usage: bench-baseline DIR SECONDS. Prints "name ops_per_s p50_us p99_us".
** Not a test: it asserts nothing. The commits go through the port's VFS, so
** a sim build with an emulated fsync delay slows the baseline exactly as it
** slows holdfast (the fdatasync loop stays raw: the real device).
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "port.h"
#include "sqlite3.h"

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

static void report(const char *name, double *lat, int n, double secs)
{
	qsort(lat, (size_t)n, sizeof(double), cmp);
	printf("%s %.0f %.0f %.0f\n", name, n / secs, lat[n / 2], lat[n * 99 / 100]);
}

int main(int argc, char **argv)
{
	static double lat[1 << 20];
	char path[4096], buf[4096];
	double secs, t0, t;
	sqlite3 *db;
	sqlite3_stmt *st;
	int fd, n;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DIR SECONDS\n", argv[0]);
		return 2;
	}
	secs = atof(argv[2]);
	port_init();
	memset(buf, 'x', sizeof(buf));

	snprintf(path, sizeof(path), "%s/fsync.bin", argv[1]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd < 0)
		return perror(path), 1;
	t0 = now_us();
	for (n = 0; n < (1 << 20) && (t = now_us()) - t0 < secs * 1e6; n++) {
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fdatasync(fd))
			return perror("write/fdatasync"), 1;
		lat[n] = now_us() - t;
	}
	report("fsync", lat, n, (now_us() - t0) / 1e6);
	close(fd);
	unlink(path);

	snprintf(path, sizeof(path), "%s/raw.db", argv[1]);
	unlink(path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    port_db_vfs()) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES ('a job row of modest size')", -1,
			       &st, NULL))
		return fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db)), 1;
	t0 = now_us();
	for (n = 0; n < (1 << 20) && (t = now_us()) - t0 < secs * 1e6; n++) {
		if (sqlite3_step(st) != SQLITE_DONE)
			return fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db)), 1;
		sqlite3_reset(st);
		lat[n] = now_us() - t;
	}
	report("commit", lat, n, (now_us() - t0) / 1e6);
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	return 0;
}
