/*
** test_jlog.c: the job log's pragma setup and verification.
*/
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/jlog.h"
#include "port.h"
#include "sqlite3.h"
#include "test.h"

/* AddressSanitizer: gcc says __SANITIZE_ADDRESS__, clang before 16 only
** __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define HF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HF_ASAN 1
#endif
#endif
#ifndef HF_ASAN
#define HF_ASAN 0
#endif

static long long pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -12345;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *pragma_text(sqlite3 *db, const char *sql)
{
	static char out[64];
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return out;
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

TEST(jlog_create_then_open_verifies)
{
	struct jlog j = { 0 };
	struct stat st;

	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK(stat("t.db", &st) == 0 && (st.st_mode & 0777) == 0600);
	/* A fresh log is one self-contained file: the WAL was checkpointed. */
	CHECK(access("t.db-wal", F_OK) != 0);
	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	CHECK_STR(pragma_text(j.db, "PRAGMA journal_mode"), "wal");
	CHECK_INT(pragma_int(j.db, "PRAGMA synchronous"), 2);
	CHECK_INT(pragma_int(j.db, "PRAGMA wal_autocheckpoint"), 0);
	CHECK_INT(pragma_int(j.db, "PRAGMA application_id"), JLOG_APPLICATION_ID);
	CHECK_STR(pragma_text(j.db, "PRAGMA integrity_check"), "ok");
	CHECK_INT(jlog_verify(&j), HF_OK);
	jlog_close(&j);
	jlog_close(&j); /* idempotent */
	CHECK(j.db == NULL);
}

TEST(jlog_no_checkpoint_on_close)
{
	struct jlog j = { 0 };
	struct stat st;

	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	CHECK_INT(sqlite3_exec(j.db, "CREATE TABLE x(a); INSERT INTO x VALUES(1)",
			       NULL, NULL, NULL), SQLITE_OK);
	jlog_close(&j);
	/* The commit is still in the WAL, for the shipper to read. */
	CHECK(stat("t.db-wal", &st) == 0 && st.st_size > 0);
}

TEST(jlog_refuses_synchronous_normal)
{
	struct jlog j = { 0 };

	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	sqlite3_exec(j.db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	CHECK_INT(jlog_verify(&j), HF_ENOTSUP);
	CHECK(test_log_has("PRAGMA synchronous is '1', need '2'"));
	jlog_close(&j);
}

TEST(jlog_refuses_autocheckpoint)
{
	struct jlog j = { 0 };

	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	sqlite3_exec(j.db, "PRAGMA wal_autocheckpoint=1000", NULL, NULL, NULL);
	CHECK_INT(jlog_verify(&j), HF_ENOTSUP);
	CHECK(test_log_has("wal_autocheckpoint"));
	jlog_close(&j);
}

/* A VFS whose files have no shared-memory methods: SQLite then cannot use
** WAL and silently keeps the rollback journal, which we must catch. */
static sqlite3_vfs noshm;
static sqlite3_io_methods noshm_methods;
static int (*unix_open)(sqlite3_vfs *, sqlite3_filename, sqlite3_file *, int, int *);

static int noshm_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags,
		      int *out)
{
	int rc = unix_open(v, name, f, flags, out);

	if (rc == SQLITE_OK && f->pMethods) {
		noshm_methods = *f->pMethods;
		noshm_methods.iVersion = 1;
		f->pMethods = &noshm_methods;
	}
	return rc;
}

static void register_noshm(void)
{
	sqlite3_vfs *u = sqlite3_vfs_find("unix");

	noshm = *u;
	noshm.zName = "noshm";
	unix_open = u->xOpen;
	noshm.xOpen = noshm_open;
	sqlite3_vfs_register(&noshm, 0);
}

TEST(jlog_create_refuses_without_wal)
{
	register_noshm();
	CHECK_INT(jlog_create("t.db", "noshm"), HF_ENOTSUP);
	CHECK(test_log_has("PRAGMA journal_mode is 'delete', need 'wal'"));
}

TEST(jlog_open_refuses_without_wal)
{
	struct jlog j = { 0 };

	register_noshm();
	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK(jlog_open(&j, "t.db", "noshm") != HF_OK);
	CHECK(j.db == NULL);
}

TEST(jlog_create_refuses_existing_file)
{
	test_write_file("t.db", "precious");
	CHECK_INT(jlog_create("t.db", NULL), HF_EEXIST);
	CHECK_STR(test_read_file("t.db"), "precious");
}

TEST(jlog_open_refuses_foreign_database)
{
	struct jlog j = { 0 };
	sqlite3 *db;

	CHECK_INT(sqlite3_open("other.db", &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_INT(jlog_open(&j, "other.db", NULL), HF_ECORRUPT);
	CHECK(test_log_has("not a holdfast job log"));
}

TEST(jlog_open_refuses_garbage_and_missing)
{
	struct jlog j = { 0 };
	char junk[8192];

	memset(junk, 'x', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	test_write_file("junk.db", junk);
	CHECK_INT(jlog_open(&j, "junk.db", NULL), HF_ECORRUPT);
	CHECK_INT(jlog_open(&j, "missing.db", NULL), HF_ENOENT);
	CHECK(test_log_has("job log missing.db does not exist"));
	CHECK(access("missing.db", F_OK) != 0);
}

/* How a forked child fares reading P: 0 it read it, else the signal that
** killed it. */
static int child_reads(const volatile char *p)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(p[0] == 7 ? 0 : 1);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st) == 0 ? 0 : -2;
}

/* SQLite's memory is its own heap, which a forked job does not inherit:
** nothing of it is copied on write while a gated child waits (jlog.c). */
TEST(sqlite_heap_not_inherited)
{
	struct jlog j = { 0 };
	char *mine, *sq;
	void *u;

	CHECK(sqlite3_compileoption_used("ENABLE_MEMSYS5"));
	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	CHECK((mine = malloc(64)) != NULL);
	CHECK((sq = sqlite3_malloc(64)) != NULL);
	mine[0] = sq[0] = 7;
	/* The control: memory of the process's own is inherited. */
	CHECK_INT(child_reads(mine), 0);
#if HF_ASAN
	(void)u;
	CHECK_INT(child_reads(sq), 0); /* the sanitizers see malloc's blocks */
#else
	CHECK_INT(port_mem_unshared(4096, &u), HF_OK);
	((char *)u)[0] = 7;
	if (child_reads(u) == 0) {
		/* An emulator (qemu-user) that takes MADV_DONTFORK as a hint
		** and ignores it: nothing to tell apart here. */
		printf("# sqlite_heap_not_inherited: MADV_DONTFORK not honoured here\n");
	} else {
		CHECK_INT(child_reads(u), SIGSEGV);
		CHECK_INT(child_reads(sq), SIGSEGV);
	}
#endif
	sqlite3_free(sq);
	free(mine);
	jlog_close(&j);
}

TEST(sqlite_built_for_durability)
{
	CHECK(!sqlite3_compileoption_used("NO_SYNC"));
	CHECK(sqlite3_compileoption_used("DEFAULT_SYNCHRONOUS=2"));
	CHECK(sqlite3_compileoption_used("DEFAULT_WAL_SYNCHRONOUS=2"));
	CHECK(sqlite3_compileoption_used("DEFAULT_WAL_AUTOCHECKPOINT=0"));
	CHECK(sqlite3_compileoption_used("OMIT_LOAD_EXTENSION"));
	CHECK(sqlite3_compileoption_used("ENABLE_DBPAGE_VTAB"));
	CHECK_STR(jlog_sqlite_version(), "3.46.1");
}
