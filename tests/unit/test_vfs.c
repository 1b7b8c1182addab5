/*
** test_vfs.c: the job log's VFS (port/linux/vfs.c). The WAL's directory is
** fsynced, through the port and checked, by the first commit on a WAL file
** not yet known durable, and by no later one; a WAL that merely exists (made
** by a reader, or by a process killed before its first sync) or carries
** another file's mark is not trusted. Directory fsyncs are counted on
** port_sys, which SQLite's own (unchecked) one would bypass: the shell suite
** (tests/jobs) counts every fsync-class system call of a submit with strace.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log/jlog.h"
#include "port.h"
#include "sqlite3.h"
#include "test.h"

#define MARK "user.holdfast.wal"

static int (*real_fsync)(int fd);
static int dir_fsyncs, dir_fsync_err;

static int counting_fsync(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		dir_fsyncs++;
		if (dir_fsync_err) {
			errno = dir_fsync_err;
			return -1;
		}
	}
	return real_fsync(fd);
}

/* A new job log t.db, with directory fsyncs counted from here on. */
static void setup(void)
{
	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	real_fsync = port_sys.fsync;
	port_sys.fsync = counting_fsync;
}

/* Whether this filesystem keeps user extended attributes (not FAT, not an
** old tmpfs): without them every connection fsyncs the directory. */
static bool have_xattrs(void)
{
	int fd = open("probe", O_WRONLY | O_CREAT, 0600);
	bool ok = fd >= 0 && fsetxattr(fd, "user.probe", "1", 1, 0) == 0;

	if (fd >= 0)
		close(fd);
	unlink("probe");
	return ok;
}

static int rows(void)
{
	struct jlog j = { 0 };
	sqlite3_stmt *st;
	int n = -1;

	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	CHECK_INT(sqlite3_prepare_v2(j.db, "SELECT count(*) FROM boots", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	jlog_close(&j);
	return n;
}

/* One connection, one committed row, as `holdfast submit` does; returns the
** directory fsyncs it made. */
static int commit_one(int want_rc)
{
	static int n;
	struct jlog j = { 0 };
	char sql[96];
	int before = dir_fsyncs;

	snprintf(sql, sizeof(sql), "INSERT INTO boots(kernel_boot_id) VALUES ('boot-%d')", ++n);
	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	CHECK_INT(jlog_begin(&j), HF_OK);
	CHECK_INT(sqlite3_exec(j.db, sql, NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(jlog_commit(&j), want_rc);
	jlog_close(&j);
	return dir_fsyncs - before;
}

static bool marked(void)
{
	char v[64];

	return lgetxattr("t.db-wal", MARK, v, sizeof(v)) > 0;
}

TEST(vfs_wal_directory_fsynced_once_per_file)
{
	bool x = have_xattrs();
	struct stat st;

	setup();
	/* jlog_create checkpoints on close, which deletes the WAL: the first
	** open makes it. */
	CHECK(stat("t.db-wal", &st) != 0);
	CHECK_INT(commit_one(HF_OK), 1);
	CHECK(marked() == x);
	CHECK_INT(commit_one(HF_OK), x ? 0 : 1);
	CHECK_INT(commit_one(HF_OK), x ? 0 : 1);
	CHECK_INT(rows(), 3);
}

TEST(vfs_wal_that_exists_is_not_trusted)
{
	struct jlog j = { 0 };
	struct stat st;
	sqlite3 *db;
	int fd;

	setup();
	/* A reader makes the WAL and never syncs it. */
	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	jlog_close(&j);
	CHECK_INT(stat("t.db-wal", &st), 0);
	CHECK_INT(dir_fsyncs, 0);
	CHECK_INT(commit_one(HF_OK), 1);
	/* Deleted by a foreign sqlite3 closing last (it checkpoints first)... */
	CHECK_INT(sqlite3_open_v2("t.db", &db, SQLITE_OPEN_READWRITE, "unix"), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "SELECT count(*) FROM boots", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_close(db), SQLITE_OK);
	CHECK(stat("t.db-wal", &st) != 0);
	/* ...and made again by a process killed before its first sync: an
	** empty file with no mark. */
	CHECK((fd = open("t.db-wal", O_RDWR | O_CREAT | O_EXCL, 0600)) >= 0);
	close(fd);
	CHECK_INT(commit_one(HF_OK), 1);
	CHECK_INT(rows(), 2);
}

TEST(vfs_wal_mark_of_another_inode_is_not_trusted)
{
	char v[64];
	struct stat st;

	if (!have_xattrs())
		return; /* nothing can be marked here: always fsynced (above) */
	setup();
	CHECK_INT(commit_one(HF_OK), 1);
	CHECK_INT(commit_one(HF_OK), 0);
	/* What cp -a leaves on a copy: the original's mark on a new inode. */
	CHECK_INT(stat("t.db-wal", &st), 0);
	snprintf(v, sizeof(v), "dirsynced %llu %llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	CHECK_INT(lsetxattr("t.db-wal", MARK, v, strlen(v), 0), 0);
	CHECK_INT(commit_one(HF_OK), 1);
	CHECK_INT(commit_one(HF_OK), 0);
	/* A mark removed: fsynced again. */
	CHECK_INT(lremovexattr("t.db-wal", MARK), 0);
	CHECK_INT(commit_one(HF_OK), 1);
	CHECK_INT(rows(), 5);
}

TEST(vfs_wal_directory_fsync_failure_fails_the_commit)
{
	setup();
	dir_fsync_err = EIO;
	CHECK_INT(commit_one(HF_EIO), 1);
	CHECK(test_log_has("fsync"));
	CHECK(!marked());
	dir_fsync_err = 0;
	CHECK_INT(rows(), 0);
	/* Not acknowledged, not marked: the next commit fsyncs again. */
	CHECK_INT(commit_one(HF_OK), 1);
	CHECK_INT(rows(), 1);
}

/*
** A full disk is its own error, HF_ENOSPC, whether the file system says
** ENOSPC or the user's quota says EDQUOT (which SQLite's unixWrite reports as
** an I/O error, and the port's VFS turns into SQLITE_FULL); an I/O error is
** HF_EIO, and so is a failed fsync whatever errno it carries. After a full
** disk the same connection commits again once there is room: the daemon
** waits on one connection, it does not reopen the log.
*/
static void fail_writes_with(int e)
{
	test_sqlite_writes(e ? 0 : -1, e);
}

/* A row of 16 KiB in its own transaction on J; returns jlog_commit's code. */
static int commit_blob(struct jlog *j)
{
	CHECK_INT(jlog_begin(j), HF_OK);
	CHECK_INT(sqlite3_exec(j->db, "INSERT INTO boots(kernel_boot_id) "
			       "VALUES (hex(randomblob(8192)))", NULL, NULL, NULL), SQLITE_OK);
	return jlog_commit(j);
}

TEST(vfs_full_disk_is_enospc_and_passes)
{
	static const struct { int e, want; } cases[] = {
		{ ENOSPC, HF_ENOSPC }, { EDQUOT, HF_ENOSPC }, { EIO, HF_EIO },
	};
	struct jlog j = { 0 };

	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK_INT(jlog_open(&j, "t.db", NULL), HF_OK);
	CHECK_INT(commit_blob(&j), HF_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fail_writes_with(cases[i].e);
		CHECK_INT(commit_blob(&j), cases[i].want);
		fail_writes_with(0);
		if (cases[i].want == HF_ENOSPC) {
			/* Rolled back whole; room again: the same connection commits. */
			CHECK_INT(rows(), 1 + (int)i);
			CHECK_INT(commit_blob(&j), HF_OK);
			CHECK_INT(rows(), 2 + (int)i);
		}
	}
	jlog_close(&j);
	CHECK_STR(hf_strerror(HF_ENOSPC), "no space left on device (the disk is full, or over quota)");
}

TEST(vfs_failed_fsync_saying_enospc_is_eio)
{
	/* As for EIO above: an fsync that failed, for whatever reason, may
	** have lost pages, so it is never the full disk the daemon waits out. */
	setup();
	dir_fsync_err = ENOSPC;
	CHECK_INT(commit_one(HF_EIO), 1);
	dir_fsync_err = 0;
	CHECK_INT(rows(), 0);
}
