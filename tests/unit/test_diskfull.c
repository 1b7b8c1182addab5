/*
** test_diskfull.c: making room on a full disk (diskfull_relieve): the prune
** past [history]'s limits down to the floor, what it keeps, the gap it
** records past the export's watermark, the file that shrinks; a step with
** no room is skipped (and the next prune is smaller), an I/O error is not.
** The daemon's side, on a real full file system, is tests/diskfull/run.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/diskfull.h"
#include "fmt/cfg.h"
#include "log/jlog.h"
#include "port.h"
#include "test.h"

#define NFIN 1100     /* finished jobs (setup's default), each with OUT_BYTES of output */
#define OUT_BYTES 1000
#define NROOM 400     /* finished jobs for the test of a disk with ROOM_BYTES free */
#define ROOM_BYTES (128 * 1024)

static struct jlog J;
static struct jlog_now NOW = { 1, 1000, -1 };
static struct cfg C;
static int64_t dep_id, queued_id, waiting_id;

static long long q_int(const char *sql)
{
	return test_q_int(J.db, sql);
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static int64_t add(const int64_t *after, int nafter)
{
	return test_job_true(&J, &NOW, 0, after, nafter, NULL, NULL);
}

/* Attempt 1 of JOB exits 0 with OUT_BYTES of output. */
static void finish(int64_t job)
{
	test_job_finish(&J, &NOW, job, 0, OUT_BYTES);
	NOW.mono_ms += 10;
}

/*
** A log of N finished jobs with output, all within [history]'s default
** limits (keep 7 d, keep_jobs 10000: nothing is due), the oldest of them a
** dependency of a queued job; a queued job; the export on, nothing exported.
*/
static void setup_n(int n)
{
	int64_t boot;

	cfg_init(&C);
	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK_INT(jlog_open(&J, "t.db", NULL), HF_OK);
	CHECK_INT(jlog_boot(&J, "boot-a", -1, true, &boot), HF_OK);
	NOW.boot = boot;
	CHECK_INT(jlog_begin(&J), HF_OK);
	for (int i = 0; i < n; i++) {
		int64_t id = add(NULL, 0);
		finish(id);
		if (i == 0)
			dep_id = id;
	}
	waiting_id = add(&dep_id, 1);
	queued_id = add(NULL, 0);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_export_activate(&J, true), HF_OK);
	CHECK_INT(q_int("SELECT finished FROM history"), n);
	CHECK_INT(q_int("PRAGMA auto_vacuum"), 2);
	test_log_clear();
}

static void setup(void)
{
	setup_n(NFIN);
}

/* A try after one that found no room even after a checkpoint: it prunes. */
static int relieve(struct diskfull *d)
{
	d->prune_next = true;
	return diskfull_relieve(d, &J, NULL, &C, ".", &NOW);
}

static void check_kept(void)
{
	/* Unfinished work, and what it depends on, always stays. */
	CHECK_INT(q_int("SELECT count(*) FROM jobs WHERE fin_seq IS NULL"), 2);
	CHECK_INT(q_int("SELECT count(*) FROM jobs WHERE id IN (SELECT dep FROM deps)"), 1);
	/* Nothing left behind without its job. */
	CHECK_INT(q_int("SELECT count(*) FROM attempts WHERE job NOT IN (SELECT id FROM jobs)"), 0);
	CHECK_INT(q_int("SELECT count(*) FROM output WHERE job NOT IN (SELECT id FROM jobs)"), 0);
	CHECK_INT(q_int("SELECT finished FROM history"),
		  q_int("SELECT count(*) FROM jobs WHERE fin_seq IS NOT NULL"));
}

TEST(diskfull_relieve_prunes_to_floor_and_gives_back)
{
	struct diskfull d = { 0 };
	struct jlog_export_state es;
	long long size0, size1;
	char sql[128];

	setup();
	CHECK_INT(jlog_checkpoint(&J, &(bool){ false }), HF_OK);
	size0 = file_size("t.db");
	diskfull_enter(&d, &NOW, ".", "a test");
	CHECK(test_log_has("down to the 20 newest finished jobs"));

	/* The first try: one batch, the oldest first, past every limit. */
	CHECK_INT(relieve(&d), HF_OK);
	/* The 1000 oldest but the dependency of the queued job, which stays. */
	CHECK_INT(d.pruned, DISKFULL_PRUNE_BATCH);
	CHECK(d.pruned_output >= (int64_t)DISKFULL_PRUNE_BATCH * OUT_BYTES);
	CHECK_INT(q_int("SELECT finished FROM history"), NFIN - DISKFULL_PRUNE_BATCH);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE id > %lld AND id <= %lld",
		 (long long)dep_id, (long long)dep_id + DISKFULL_PRUNE_BATCH);
	CHECK_INT(q_int(sql), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE id = %lld",
		 (long long)dep_id + DISKFULL_PRUNE_BATCH + 1);
	CHECK_INT(q_int(sql), 1);
	check_kept();
	/* The pages went back to the file system: the file shrank, by about
	** what the pruned jobs held. */
	size1 = file_size("t.db");
	CHECK(size1 > 0 && size0 - size1 >= (long long)DISKFULL_PRUNE_BATCH * OUT_BYTES);
	CHECK_INT(d.given_back, size0 - size1);
	CHECK_INT(q_int("PRAGMA freelist_count"), 0);
	CHECK_INT(file_size("t.db-wal") <= 0, 1);
	/* Past the export's watermark (nothing exported): recorded as a gap. */
	CHECK_INT(jlog_export_get(&J, &es), HF_OK);
	CHECK_INT(es.open_gap_jobs, DISKFULL_PRUNE_BATCH);

	/* The next try: down to the floor, the dependency kept besides. */
	CHECK_INT(relieve(&d), HF_OK);
	CHECK_INT(q_int("SELECT finished FROM history"), CFG_HISTORY_FLOOR_JOBS + 1);
	CHECK_INT(d.pruned, NFIN - CFG_HISTORY_FLOOR_JOBS - 1);
	check_kept();
	CHECK(!d.prune_over);
	CHECK(!test_log_has("no more history may be pruned"));

	/* Then nothing more may go: said once, and no prune is tried again. */
	CHECK_INT(relieve(&d), HF_OK);
	CHECK(d.prune_over);
	CHECK(test_log_has("no more history may be pruned to make room: the 20 newest"));
	CHECK(test_log_has("so far 1079 finished job(s) with"));
	test_log_clear();
	CHECK_INT(relieve(&d), HF_OK);
	CHECK(!test_log_has("no more history"));
	CHECK_INT(q_int("SELECT finished FROM history"), CFG_HISTORY_FLOOR_JOBS + 1);

	diskfull_leave(&d, NOW.mono_ms + 5000, 2);
	CHECK(test_log_has("2 job end(s) that waited in memory are recorded; to make room, "
			   "1079 finished job(s) with"));
	CHECK(!d.on);
	jlog_close(&J);
}

/* A try prunes only right after one that found no room even after its
** checkpoint: room that came back by itself costs no history. */
TEST(diskfull_prunes_only_after_a_failed_try)
{
	struct diskfull d = { 0 };

	setup_n(30);
	diskfull_enter(&d, &NOW, ".", "a test");
	CHECK(!d.prune_next);
	CHECK_INT(diskfull_relieve(&d, &J, NULL, &C, ".", &NOW), HF_OK);
	CHECK_INT(d.pruned, 0);
	CHECK_INT(q_int("SELECT finished FROM history"), 30);
	/* It failed: the next try is at once, and prunes. */
	diskfull_try_failed(&d, 5000);
	CHECK(d.prune_next);
	CHECK_INT(d.next_try_ms, 5000);
	CHECK_INT(diskfull_relieve(&d, &J, NULL, &C, ".", &NOW), HF_OK);
	CHECK_INT(d.pruned, 30 - CFG_HISTORY_FLOOR_JOBS - 1);
	/* That failed too: the next in DISKFULL_RETRY_MS, without pruning
	** first; and with nothing more to prune or give back, never again. */
	diskfull_try_failed(&d, 6000);
	CHECK(!d.prune_next);
	CHECK_INT(d.next_try_ms, 6000 + DISKFULL_RETRY_MS);
	CHECK_INT(diskfull_relieve(&d, &J, NULL, &C, ".", &NOW), HF_OK);
	diskfull_try_failed(&d, 9000);
	CHECK(d.prune_next);
	CHECK_INT(diskfull_relieve(&d, &J, NULL, &C, ".", &NOW), HF_OK);
	CHECK(d.prune_over);
	CHECK(!d.free_left);
	diskfull_try_failed(&d, 9100);
	CHECK(!d.prune_next);
	diskfull_try_failed(&d, 9200);
	CHECK(!d.prune_next);
	CHECK_INT(d.next_try_ms, 9200 + DISKFULL_RETRY_MS);
	jlog_close(&J);
}

/* Without room for a prune's frames, the step is skipped (HF_OK: the daemon
** waits) and the next prune is smaller, down to one job; with some room, the
** smaller prune that fits goes; with room again, the rest. */
TEST(diskfull_relieve_without_room_is_skipped)
{
	struct diskfull d = { 0 };
	int64_t fin;

	setup_n(NROOM);
	CHECK_INT(jlog_checkpoint(&J, &(bool){ false }), HF_OK);
	diskfull_enter(&d, &NOW, ".", "a test");
	test_sqlite_writes(0, ENOSPC);
	CHECK_INT(relieve(&d), HF_OK);
	CHECK_INT(d.pruned, 0);
	CHECK_INT(d.batch, 1);
	CHECK(!d.prune_over);
	CHECK_INT(q_int("SELECT finished FROM history"), NROOM);

	/* A prune of one job goes past the oldest, which is kept (a queued job
	** depends on it), to the next. */
	test_sqlite_writes(-1, 0);
	CHECK_INT(relieve(&d), HF_OK);
	CHECK_INT(d.pruned, 1);
	CHECK(!d.prune_over);
	CHECK_INT(q_int("SELECT finished FROM history"), NROOM - 1);
	d.pruned = 0;

	/* Room for a small prune only: all NROOM - 21 jobs past the floor (one
	** batch) do not fit, a smaller batch does; it fitted, so the next one
	** may be eight times bigger. */
	d.batch = DISKFULL_PRUNE_BATCH;
	test_sqlite_writes(ROOM_BYTES, ENOSPC);
	CHECK_INT(relieve(&d), HF_OK);
	test_sqlite_writes(-1, 0);
	fin = q_int("SELECT finished FROM history");
	CHECK(d.pruned > 0 && d.pruned < NROOM - CFG_HISTORY_FLOOR_JOBS - 1);
	CHECK_INT(fin, NROOM - 1 - d.pruned);
	CHECK(d.batch > d.pruned);
	check_kept();

	/* Room again: the rest goes in growing batches, down to the floor. */
	for (int i = 0; i < 3; i++)
		CHECK_INT(relieve(&d), HF_OK);
	CHECK_INT(q_int("SELECT finished FROM history"), CFG_HISTORY_FLOOR_JOBS + 1);
	check_kept();
	jlog_close(&J);
}

/* An I/O error while making room is not a full disk: it is returned, for
** the daemon to stop on. */
TEST(diskfull_relieve_io_error_is_returned)
{
	struct diskfull d = { 0 };

	setup_n(30);
	diskfull_enter(&d, &NOW, ".", "a test");
	test_sqlite_writes(0, EIO);
	CHECK_INT(relieve(&d), HF_EIO);
	test_sqlite_writes(-1, 0);
	CHECK_INT(d.pruned, 0);
	CHECK_INT(q_int("SELECT finished FROM history"), 30);
	jlog_close(&J);
}
