/*
** baseline.c (tools/bench): the floor the job benchmarks are measured
** against, in the same run and on the same filesystem:
**   fsync   4 KiB appends, each followed by fdatasync(2)
**   commit  single-row INSERT commits, SQLite (our build) in WAL mode with
**           synchronous=FULL
** Usage: bench-baseline DIR SECONDS. Prints "name ops_per_s p50_us p99_us".
**
** bench-baseline wear DIR SRC_DB CONCURRENCY WAL_MAX: flash wear's floor
** (tools/bench/wear). It commits the very rows of a job log holdfast wrote
** (SRC_DB: its jobs, attempts and output, read through ATTACH) into a new
** database at synchronous=FULL in WAL mode, in the fewest transactions a
** durable runner can use: one per submit (it is acknowledged), and per group
** of CONCURRENCY jobs one holding the previous group's ends (output, end of
** attempt, final state) and this group's starts (the attempt row, written
** before the process runs); a TRUNCATE checkpoint whenever the WAL reaches
** WAL_MAX bytes, as the daemon does. The tables are holdfast's own (same
** columns, same keys) without a single secondary index. It does so once for
** each page size from 512 to 4096 bytes (a raw program may choose its page
** size too, and the smallest frames write the least: the floor is the
** least of them). Prints a line "wear PAGE_SIZE JOBS BYTES BYTES_PER_JOB
** COMMITS" per page size: write_bytes of /proc/self/io across the commits
** and checkpoints.
**
** Not a test: it asserts nothing. The commits go through the port's VFS, so
** a sim build with an emulated fsync delay slows the baseline exactly as it
** slows holdfast (the fdatasync loop stays raw: the real device).
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "port.h"
#include "sqlite3.h"

static long long write_bytes(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/self/io", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench-baseline wear: %s: %s\n", what, sqlite3_errmsg(db));
	return 1;
}

/* Runs SQL with the job id bound to every ?1 (and the group's last to ?2). */
static int run(sqlite3 *db, const char *sql, long long a, long long b)
{
	sqlite3_stmt *st;
	int src;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, sql);
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? 0 : fail(db, sql);
}

static long long wal_size(const char *db_path)
{
	char wal[4200];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	return stat(wal, &st) == 0 ? (long long)st.st_size : 0;
}

/* One transaction: the statements of A with the ids [a1, a2] bound, then
** those of B (if any) with [b1, b2]; a TRUNCATE checkpoint past WAL_MAX. */
static int commit(sqlite3 *db, const char *path, long long wal_max, const char *const *A,
		  long long a1, long long a2, const char *const *B, long long b1, long long b2)
{
	if (run(db, "BEGIN IMMEDIATE", 0, 0))
		return 1;
	for (; A && *A; A++)
		if (run(db, *A, a1, a2))
			return 1;
	for (; B && *B; B++)
		if (run(db, *B, b1, b2))
			return 1;
	if (run(db, "COMMIT", 0, 0))
		return 1;
	if (wal_size(path) >= wal_max &&
	    sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL))
		return fail(db, "checkpoint");
	return 0;
}

static int wear_one(char **argv, long long conc, long long wal_max, int page_size);

static int wear(int argc, char **argv)
{
	long long conc, wal_max;

	if (argc != 6) {
		fprintf(stderr, "usage: %s wear DIR SRC_DB CONCURRENCY WAL_MAX\n", argv[0]);
		return 2;
	}
	conc = atoll(argv[4]);
	wal_max = atoll(argv[5]);
	if (conc < 1 || wal_max < 4096) {
		fprintf(stderr, "bench-baseline wear: bad CONCURRENCY or WAL_MAX\n");
		return 2;
	}
	port_init();
	for (int ps = 512; ps <= 4096; ps *= 2)
		if (wear_one(argv, conc, wal_max, ps))
			return 1;
	return 0;
}

static int wear_one(char **argv, long long conc, long long wal_max, int page_size)
{
	static const char *const submit[] = {
		"INSERT INTO jobs SELECT * FROM src.jobs WHERE id = ?1",
		"UPDATE jobs SET state = 'queued', reason = NULL, attempts = 0, failures = 0,"
		" end_boot = NULL, end_mono_ms = NULL, end_utc_ms = NULL WHERE id = ?1",
		NULL
	};
	static const char *const ends[] = {
		"INSERT INTO output SELECT * FROM src.output WHERE job BETWEEN ?1 AND ?2",
		"UPDATE attempts SET (end_boot, end_mono_ms, end_utc_ms, end_reason, exit_code,"
		" signal, out_bytes, out_truncated) = (SELECT end_boot, end_mono_ms, end_utc_ms,"
		" end_reason, exit_code, signal, out_bytes, out_truncated FROM src.attempts s"
		" WHERE s.job = attempts.job AND s.n = attempts.n) WHERE job BETWEEN ?1 AND ?2",
		"UPDATE jobs SET (state, reason, attempts, failures, end_boot, end_mono_ms,"
		" end_utc_ms) = (SELECT state, reason, attempts, failures, end_boot, end_mono_ms,"
		" end_utc_ms FROM src.jobs s WHERE s.id = jobs.id) WHERE id BETWEEN ?1 AND ?2",
		NULL
	};
	static const char *const starts[] = {
		"INSERT INTO attempts SELECT * FROM src.attempts WHERE job BETWEEN ?1 AND ?2",
		"UPDATE attempts SET end_boot = NULL, end_mono_ms = NULL, end_utc_ms = NULL,"
		" end_reason = NULL, exit_code = NULL, signal = NULL, out_bytes = 0,"
		" out_truncated = 0 WHERE job BETWEEN ?1 AND ?2",
		"UPDATE jobs SET state = 'running' WHERE id BETWEEN ?1 AND ?2",
		NULL
	};
	char path[4096], sql[8192];
	long long lo, hi, id, w0, w1, commits = 0;
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "%s/wear.db", argv[2]);
	unlink(path);
	snprintf(sql, sizeof(sql), "PRAGMA page_size=%d", page_size);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
			    port_db_vfs()) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=0;"
			 "PRAGMA foreign_keys=OFF", NULL, NULL, NULL))
		return fail(db, "open");
	snprintf(sql, sizeof(sql), "ATTACH 'file:%s?mode=ro' AS src", argv[3]);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL))
		return fail(db, "attach");
	/* holdfast's tables as they are, less their UNIQUE constraints (each an
	** index: idem_key's); no other index is made. */
	if (sqlite3_prepare_v2(db, "SELECT replace(sql, ' UNIQUE', '') FROM src.sqlite_schema"
			       " WHERE type = 'table' AND name IN ('jobs', 'attempts', 'output')",
			       -1, &st, NULL))
		return fail(db, "schema");
	while (sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_exec(db, (const char *)sqlite3_column_text(st, 0), NULL, NULL, NULL))
			return fail(db, "create");
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT min(id), max(id) FROM src.jobs", -1, &st, NULL) ||
	    sqlite3_step(st) != SQLITE_ROW)
		return fail(db, "jobs");
	lo = sqlite3_column_int64(st, 0);
	hi = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL))
		return fail(db, "checkpoint");

	w0 = write_bytes();
	for (id = lo; id <= hi; id++, commits++)
		if (commit(db, path, wal_max, submit, id, id, NULL, 0, 0))
			return 1;
	/* Group g's starts share a transaction with group g-1's ends. */
	for (id = lo; id <= hi + conc; id += conc, commits++)
		if (commit(db, path, wal_max, id > lo ? ends : NULL, id - conc, id - 1,
			   id <= hi ? starts : NULL, id, id + conc - 1))
			return 1;
	w1 = write_bytes();
	printf("wear %d %lld %lld %.0f %lld\n", page_size, hi - lo + 1, w1 - w0,
	       (double)(w1 - w0) / (double)(hi - lo + 1), commits);
	sqlite3_close(db);
	snprintf(sql, sizeof(sql), "%s-wal", path);
	unlink(sql);
	unlink(path);
	return 0;
}

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

	if (argc > 1 && strcmp(argv[1], "wear") == 0)
		return wear(argc, argv);
	if (argc != 3) {
		fprintf(stderr, "usage: %s DIR SECONDS | wear DIR SRC_DB CONCURRENCY WAL_MAX\n",
			argv[0]);
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
