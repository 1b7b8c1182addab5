/*
** db.c (sim): the crash model's recorder, the fault injector, and the
** negative control's synchronous=NORMAL. Replaces port/linux/db.c in the test
** binaries under build/<board>-sim/; nothing here is in what ships.
**
** Recorder ($HOLDFAST_SIM_TRACE=FILE, $HOLDFAST_SIM_ROOT=DIR): every change
** this process makes below DIR is appended to FILE as one record
** (crash_trace.h), in the order it happened: SQLite's writes, truncates,
** syncs, creates and deletes through a VFS that wraps SQLite's own, and ours
** through the port_sys table. tests/crash/crashsim replays a trace up to a
** chosen sync and cuts the power there: each write not yet synced is kept,
** dropped or torn, and each directory change not yet made durable by an fsync
** of its directory may be lost. The trace is the model; the real files are
** only what the live processes read.
**
** Faults ($HOLDFAST_SIM_FAULT="OP[@NAME]:N:ERRNO[:always|:lie]"): the Nth
** OP (write, fsync, open, rename, link, truncate, mkdir, unlink) of this
** process on a path ending in NAME, or, for a NAME that ends in '/', on a
** path under the directory NAME or on that directory itself (its fsync),
** fails with ERRNO (EIO or ENOSPC), once or from then on, without reaching
** the file. A pwrite counts as a write and an ftruncate as a truncate.
** Each injection is logged as "sim: injected ..." so a fault loop knows
** when N has passed the last such operation. "lie" is the
** fault loops' negative control: from the Nth fsync on, fsync reports
** success but the model keeps the data unsynced, as a flash that ignores
** flushes would. "die" lets the Nth write or fsync happen and then kills the
** process on the spot (_exit, as kill -9 would), e.g. between a commit's
** fsync and SQLite publishing it in the WAL index.
**
** $HOLDFAST_SIM_SYNC=NORMAL makes the job log run with synchronous=NORMAL:
** the crash test's negative control, which must then see acknowledged jobs
** lost. $HOLDFAST_SIM_WAL_DIRSYNC=never makes the port's VFS
** (port/linux/vfs.c) never fsync the WAL's directory, even after making the
** file: the second negative control, which must see acknowledged jobs lost
** with the WAL's name.
**
** Layers: SQLite, the port's VFS (vfs.c, as shipped), then this recorder,
** then SQLite's unix VFS. The recorder sits where the OS would, so it sees
** what the shipped logic does to the files.
**
** $HOLDFAST_SIM_SYNC_DELAY_US=N adds N microseconds to every successful
** fsync of a file or a directory, SQLite's and ours (the directory fsync
** SQLite's unix VFS makes inside a sync included): a benchmark's stand-in for
** an SD card or eMMC, where one fsync costs milliseconds (make
** bench-slow-sync).
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crash_trace.h"
#include "linux_int.h"
#include "port.h"
#include "sqlite3.h"

#define SIM_VFS_NAME "hfsim"

/* ---- recorder ------------------------------------------------------------- */

static int trace_fd = -1;
static char root[PATH_MAX];
static size_t root_len;

/* PATH relative to the root, or NULL if it is outside (not recorded). */
static const char *rel_path(const char *path, char *buf, size_t len)
{
	if (path[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    (size_t)snprintf(buf, len, "%s/%s", cwd, path) >= len)
			return NULL;
		path = buf;
	}
	if (strncmp(path, root, root_len) != 0)
		return NULL;
	if (path[root_len] == '\0')
		return ""; /* the root itself, e.g. its fsync */
	return path[root_len] == '/' ? path + root_len + 1 : NULL;
}

/* A trace that misses a record would make the test lie: die instead. */
static void trace_fail(const char *what)
{
	port_log("sim: cannot write the crash trace (%s): %s", what, strerror(errno));
	_exit(99);
}

static void record(enum crash_op op, const char *path, uint64_t off, const void *data,
		   size_t data_len, int failed)
{
	char rel[PATH_MAX];
	const char *p;
	struct crash_rec h;
	char *buf;
	size_t plen, total;
	ssize_t n;

	if (trace_fd < 0 || !(p = rel_path(path, rel, sizeof(rel))))
		return;
	plen = strlen(p);
	memset(&h, 0, sizeof(h));
	h.magic = CRASH_MAGIC;
	h.op = (uint8_t)op;
	h.failed = (uint8_t)failed;
	h.pid = (uint32_t)getpid();
	h.path_len = (uint32_t)plen;
	h.data_len = (uint32_t)data_len;
	h.off = off;
	total = sizeof(h) + plen + data_len;
	if (!(buf = malloc(total)))
		trace_fail("out of memory");
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), p, plen);
	if (data_len)
		memcpy(buf + sizeof(h) + plen, data, data_len);
	/* One write: O_APPEND keeps concurrent records whole on a local file. */
	n = write(trace_fd, buf, total);
	free(buf);
	if (n != (ssize_t)total)
		trace_fail("short write");
}

/*
** A write is recorded before it is made, not after: a process killed by
** SIGKILL between the two (the crash test's kill -9 of a daemon) must not
** leave the kernel holding bytes the trace never saw. Those bytes are real:
** another process reads them (SQLite's WAL recovery takes a whole commit
** frame written by a writer that died before its fsync), builds on them, and
** its own fsync makes them durable; a trace without them breaks the WAL's
** checksum chain at the next cut. Recorded first, a write killed before it
** was made is in the trace alone, which is harmless: a later writer writes
** over it, or SQLite reads past it as an uncommitted frame. A write that
** fails (or is short) under the recorder cannot be modelled, and stops it.
*/
static void write_recorded(int done, const char *path)
{
	if (!done && trace_fd >= 0) {
		port_log("sim: a recorded write to %s failed; the trace no longer matches the files",
			 path);
		_exit(2);
	}
}

static void record_dirsync_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		record(CRASH_DIRSYNC, dir, 0, NULL, 0, 0);
	}
}

/* ---- slow storage ---------------------------------------------------------- */

static long sync_delay_us;

static void sync_delay(void)
{
	struct timespec ts = { sync_delay_us / 1000000, (sync_delay_us % 1000000) * 1000 };

	while (sync_delay_us > 0 && nanosleep(&ts, &ts) != 0)
		;
}

/* ---- faults --------------------------------------------------------------- */

static struct {
	char op[80];
	char name[64];
	long n, seen;
	int err;
	int always;
	int lie;
	int die;
} fault;

static void fault_parse(const char *spec)
{
	char op[80], err[16], mode[16] = "";
	char *at;

	if (sscanf(spec, "%79[^:]:%ld:%15[^:]:%15s", op, &fault.n, err, mode) < 3 ||
	    fault.n < 1) {
		port_log("sim: bad HOLDFAST_SIM_FAULT '%s' (OP[@NAME]:N:EIO|ENOSPC[:always])", spec);
		_exit(2);
	}
	if ((at = strchr(op, '@'))) {
		*at = '\0';
		snprintf(fault.name, sizeof(fault.name), "%s", at + 1);
	}
	snprintf(fault.op, sizeof(fault.op), "%s", op);
	fault.err = strcmp(err, "ENOSPC") == 0 ? ENOSPC : strcmp(err, "EIO") == 0 ? EIO : 0;
	fault.lie = strcmp(mode, "lie") == 0;
	fault.die = strcmp(mode, "die") == 0;
	fault.always = fault.lie || strcmp(mode, "always") == 0;
	if (!fault.err || (mode[0] && !fault.always && !fault.die)) {
		port_log("sim: bad HOLDFAST_SIM_FAULT '%s'", spec);
		_exit(2);
	}
}

/* Whether PATH is what the fault's NAME aims at: a path ending in NAME, or
** with "DIR/", the directory DIR (however PATH begins: relative or not) or
** anything under it. A fault loop aims at one part of the data directory
** (the spool, a replica, restore's output) so that the job log's own
** writes around it do not use up the faults. */
static bool fault_aimed_at(const char *path)
{
	size_t pl = path ? strlen(path) : 0, nl = strlen(fault.name);
	const char *p;

	if (fault.name[nl - 1] != '/')
		return pl >= nl && strcmp(path + pl - nl, fault.name) == 0;
	if (!path)
		return false;
	for (p = path; (p = strstr(p, fault.name)) != NULL; p++)
		if (p == path || p[-1] == '/')
			return true;
	/* The directory itself, named without its trailing slash. */
	nl--;
	return pl >= nl && strncmp(path + pl - nl, fault.name, nl) == 0 &&
	       (pl == nl || path[pl - nl - 1] == '/');
}

/* The errno the OP on PATH must fail with, or 0 to let it happen. */
static int fault_check(const char *op, const char *path)
{
	if (!fault.op[0] || strcmp(op, fault.op) != 0)
		return 0;
	if (fault.name[0] && !fault_aimed_at(path))
		return 0;
	if (++fault.seen < fault.n || (fault.seen > fault.n && !fault.always))
		return 0;
	if (fault.die) {
		port_log("sim: dying after %s #%ld (%s)", op, fault.seen, path ? path : "?");
		return -1; /* the caller does it, then dies */
	}
	port_log("sim: injected %s into %s #%ld (%s)", fault.err == EIO ? "EIO" : "ENOSPC", op,
		 fault.seen, path ? path : "?");
	return fault.err;
}

/* ---- the wrapping VFS ---------------------------------------------------- */

static sqlite3_vfs *real_vfs;
static sqlite3_vfs sim_vfs;
static sqlite3_io_methods sim_io;

struct sim_file {
	sqlite3_file base;
	sqlite3_file *real;
	char path[PATH_MAX];
	int dirsync_pending; /* a WAL opened with CREATE: SQLite's unix VFS
			      * fsyncs its directory at the first sync */
};

#define REAL(f) (((struct sim_file *)(f))->real)

static int sim_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int sim_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int sim_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct sim_file *s = (struct sim_file *)f;
	int e = fault_check("write", s->path), rc;

	if (e > 0)
		return e == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
	/* Recorded first: see write_recorded. */
	record(CRASH_WRITE, s->path, (uint64_t)off, buf, (size_t)n, 0);
	rc = s->real->pMethods->xWrite(s->real, buf, n, off);
	write_recorded(rc == SQLITE_OK, s->path);
	if (e < 0)
		_exit(137);
	return rc;
}

static int sim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct sim_file *s = (struct sim_file *)f;
	int rc;

	if (fault_check("truncate", s->path) > 0)
		return SQLITE_IOERR_TRUNCATE;
	rc = s->real->pMethods->xTruncate(s->real, size);
	if (rc == SQLITE_OK)
		record(CRASH_TRUNCATE, s->path, (uint64_t)size, NULL, 0, 0);
	return rc;
}

static int sim_sync(sqlite3_file *f, int flags)
{
	struct sim_file *s = (struct sim_file *)f;
	int e = fault_check("fsync", s->path), rc;

	if (e > 0) {
		/* The model keeps what was not synced as unsynced forever: after a
		** failed fsync the kernel may have dropped the pages. */
		record(CRASH_SYNC, s->path, 0, NULL, 0, 1);
		return fault.lie ? SQLITE_OK : SQLITE_IOERR_FSYNC;
	}
	rc = s->real->pMethods->xSync(s->real, flags);
	if (rc == SQLITE_OK)
		sync_delay();
	record(CRASH_SYNC, s->path, 0, NULL, 0, rc != SQLITE_OK);
	if (rc == SQLITE_OK && s->dirsync_pending) {
		/* unixSync() fsynced the directory too: a second flush. */
		sync_delay();
		s->dirsync_pending = 0;
		record_dirsync_of(s->path);
	}
	if (e < 0)
		_exit(137);
	return rc;
}

static int sim_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int sim_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int sim_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int sim_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int sim_file_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int sim_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int sim_device_chars(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

/* The -shm file is not modelled: SQLite rebuilds it from the WAL after a
** power cut (the first connection truncates it). */
static int sim_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int sim_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void sim_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int sim_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int sim_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int sim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static sqlite3_io_methods sim_io = {
	3,
	sim_close, sim_read, sim_write, sim_truncate, sim_sync, sim_file_size,
	sim_lock, sim_unlock, sim_check_reserved, sim_file_control, sim_sector_size,
	sim_device_chars, sim_shm_map, sim_shm_lock, sim_shm_barrier, sim_shm_unmap,
	sim_fetch, sim_unfetch,
};

static int sim_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags,
		    int *out_flags)
{
	struct sim_file *s = (struct sim_file *)f;
	struct stat st;
	int existed, rc;

	(void)v;
	memset(s, 0, sizeof(*s));
	s->real = (sqlite3_file *)&s[1];
	if (name)
		snprintf(s->path, sizeof(s->path), "%s", name);
	if (fault_check("open", s->path) > 0)
		return SQLITE_CANTOPEN;
	existed = name && stat(name, &st) == 0;
	rc = real_vfs->xOpen(real_vfs, name, s->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		s->real->pMethods = NULL;
		return rc;
	}
	f->pMethods = &sim_io;
	if (name && !existed && (flags & SQLITE_OPEN_CREATE))
		record(CRASH_CREATE, s->path, 0, NULL, 0, 0);
	/* As unixOpen(): whoever opens a journal or a WAL with CREATE, new or
	** not, fsyncs its directory at the first sync through that handle (the
	** port's VFS hands SQLite a WAL with CREATE only to make it, and closes
	** that handle unsynced). */
	s->dirsync_pending = (flags & SQLITE_OPEN_CREATE) &&
			     (flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL |
				       SQLITE_OPEN_SUPER_JOURNAL));
	return SQLITE_OK;
}

static int sim_delete(sqlite3_vfs *v, const char *name, int dirsync)
{
	int rc;

	(void)v;
	rc = real_vfs->xDelete(real_vfs, name, dirsync);
	if (rc == SQLITE_OK) {
		record(CRASH_UNLINK, name, 0, NULL, 0, 0);
		if (dirsync)
			record_dirsync_of(name);
	}
	return rc;
}

/* ---- our own files, through port_sys ------------------------------------- */

static struct port_syscalls real_sys;

/* Paths of our open descriptors, so write and fsync know what they touch. */
static struct {
	int fd;
	int dir;
	char path[PATH_MAX];
} fds[16];

static void fd_remember(int fd, const char *path, int dir)
{
	/* A number closed behind our back (not through port_sys) is reused. */
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i].fd == fd)
			fds[i].fd = 0;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i].fd <= 0) {
			fds[i].fd = fd;
			fds[i].dir = dir;
			snprintf(fds[i].path, sizeof(fds[i].path), "%s", path);
			return;
		}
	trace_fail("too many open files to follow");
}

static int fd_find(int fd)
{
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i].fd == fd)
			return (int)i;
	return -1;
}

static int sys_open(const char *path, int flags, mode_t mode)
{
	struct stat st;
	int existed, fd, e;

	if ((e = fault_check("open", path)) > 0) {
		errno = e;
		return -1;
	}
	existed = stat(path, &st) == 0;
	if ((fd = real_sys.open(path, flags, mode)) < 0)
		return fd;
	if (!existed && (flags & O_CREAT))
		record(CRASH_CREATE, path, 0, NULL, 0, 0);
	else if (existed && (flags & O_TRUNC) && S_ISREG(st.st_mode))
		record(CRASH_TRUNCATE, path, 0, NULL, 0, 0);
	fd_remember(fd, path, existed && S_ISDIR(st.st_mode));
	return fd;
}

static int sys_close(int fd)
{
	int i = fd_find(fd);

	if (i >= 0)
		fds[i].fd = 0;
	return real_sys.close(fd);
}

static ssize_t sys_write(int fd, const void *buf, size_t len)
{
	int i = fd_find(fd), e;
	off_t off = lseek(fd, 0, SEEK_CUR);
	ssize_t n;

	if (i >= 0 && (e = fault_check("write", fds[i].path)) > 0) {
		errno = e;
		return -1;
	}
	if (i >= 0 && off >= 0 && len > 0)
		record(CRASH_WRITE, fds[i].path, (uint64_t)off, buf, len, 0);
	n = real_sys.write(fd, buf, len);
	if (i >= 0 && off >= 0 && len > 0)
		write_recorded(n == (ssize_t)len, fds[i].path);
	return n;
}

static ssize_t sys_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	int i = fd_find(fd), e;
	ssize_t n;

	if (i >= 0 && (e = fault_check("write", fds[i].path)) > 0) {
		errno = e;
		return -1;
	}
	if (i >= 0 && len > 0)
		record(CRASH_WRITE, fds[i].path, (uint64_t)off, buf, len, 0);
	n = real_sys.pwrite(fd, buf, len, off);
	if (i >= 0 && len > 0)
		write_recorded(n == (ssize_t)len, fds[i].path);
	return n;
}

static int sys_ftruncate(int fd, off_t size)
{
	int i = fd_find(fd), e, rc;

	if (i >= 0 && (e = fault_check("truncate", fds[i].path)) > 0) {
		errno = e;
		return -1;
	}
	rc = real_sys.ftruncate(fd, size);
	if (rc == 0 && i >= 0)
		record(CRASH_TRUNCATE, fds[i].path, (uint64_t)size, NULL, 0, 0);
	return rc;
}

static int sys_fsync(int fd)
{
	int i = fd_find(fd), e, rc;

	if (i >= 0 && (e = fault_check("fsync", fds[i].path)) > 0) {
		if (!fds[i].dir)
			record(CRASH_SYNC, fds[i].path, 0, NULL, 0, 1);
		if (fault.lie)
			return 0;
		errno = e;
		return -1;
	}
	rc = real_sys.fsync(fd);
	if (rc == 0)
		sync_delay();
	if (i >= 0) {
		if (fds[i].dir && rc == 0)
			record(CRASH_DIRSYNC, fds[i].path, 0, NULL, 0, 0);
		else if (!fds[i].dir)
			record(CRASH_SYNC, fds[i].path, 0, NULL, 0, rc != 0);
	}
	return rc;
}

static int sys_rename(const char *from, const char *to)
{
	char rel[PATH_MAX];
	const char *r;
	int e, rc;

	if ((e = fault_check("rename", to)) > 0) {
		errno = e;
		return -1;
	}
	rc = real_sys.rename(from, to);
	if (rc == 0 && (r = rel_path(to, rel, sizeof(rel))))
		record(CRASH_RENAME, from, 0, r, strlen(r), 0);
	return rc;
}

static int sys_rename_noreplace(const char *from, const char *to)
{
	char rel[PATH_MAX];
	const char *r;
	int e, rc;

	if ((e = fault_check("rename", to)) > 0) {
		errno = e;
		return -1;
	}
	rc = real_sys.rename_noreplace(from, to);
	if (rc == 0 && (r = rel_path(to, rel, sizeof(rel))))
		record(CRASH_RENAME, from, 0, r, strlen(r), 0);
	return rc;
}

/* The crash model has no hard links: one made inside its root would be a
** name the replay never sees, so the trace stops rather than lie. (Only a
** filesystem without RENAME_NOREPLACE makes port_fs_publish link.) */
static int sys_link(const char *from, const char *to)
{
	char rel[PATH_MAX];
	int e;

	if ((e = fault_check("link", to)) > 0) {
		errno = e;
		return -1;
	}
	if (trace_fd >= 0 && rel_path(to, rel, sizeof(rel)))
		trace_fail("a hard link inside the crash model's root");
	return real_sys.link(from, to);
}

static int sys_unlink(const char *path)
{
	int e, rc;

	if ((e = fault_check("unlink", path)) > 0) {
		errno = e;
		return -1;
	}
	rc = real_sys.unlink(path);

	if (rc == 0)
		record(CRASH_UNLINK, path, 0, NULL, 0, 0);
	return rc;
}

static int sys_mkdir(const char *path, mode_t mode)
{
	int e, rc;

	if ((e = fault_check("mkdir", path)) > 0) {
		errno = e;
		return -1;
	}
	rc = real_sys.mkdir(path, mode);

	if (rc == 0)
		record(CRASH_MKDIR, path, 0, NULL, 0, 0);
	return rc;
}

static int sys_rmdir(const char *path)
{
	int rc = real_sys.rmdir(path);

	if (rc == 0)
		record(CRASH_RMDIR, path, 0, NULL, 0, 0);
	return rc;
}

/* ---- the crash test's negative control for pruning ------------------------ */

/* $HOLDFAST_SIM_PRUNE_BREAK=output: every connection gets a TEMP trigger that
** silently skips each delete from the output table, so pruning removes a
** job and leaves its output behind (orphans): the crash test's prune flavour
** must see it. Set before the schema exists, the trigger cannot be made; that
** connection stays unbroken. */
static int break_prune(sqlite3 *db, char **err, const void *api)
{
	(void)err;
	(void)api;
	sqlite3_exec(db, "CREATE TEMP TRIGGER IF NOT EXISTS hf_sim_prune_break"
		     " BEFORE DELETE ON main.output BEGIN SELECT RAISE(IGNORE); END", NULL, NULL,
		     NULL);
	/* sqlite3_open fails on the connection's last error: clear it. */
	sqlite3_exec(db, "SELECT 1", NULL, NULL, NULL);
	return SQLITE_OK;
}

/* ---- the port contract ---------------------------------------------------- */

static int sim_active;

void port_init(void)
{
	const char *trace = getenv("HOLDFAST_SIM_TRACE");
	const char *spec = getenv("HOLDFAST_SIM_FAULT");
	const char *delay = getenv("HOLDFAST_SIM_SYNC_DELAY_US");

	const char *brk = getenv("HOLDFAST_SIM_PRUNE_BREAK");

	if (brk && strcmp(brk, "output") == 0)
		sqlite3_auto_extension((void (*)(void))break_prune);
	if (spec && *spec)
		fault_parse(spec);
	if (trace && *trace) {
		const char *r = getenv("HOLDFAST_SIM_ROOT");

		if (!r || !realpath(r, root)) {
			port_log("sim: HOLDFAST_SIM_TRACE needs HOLDFAST_SIM_ROOT, an existing "
				 "directory");
			_exit(2);
		}
		root_len = strlen(root);
		trace_fd = open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (trace_fd < 0)
			trace_fail(trace);
	}
	if (delay && *delay)
		sync_delay_us = strtol(delay, NULL, 10);
	if (trace_fd < 0 && !fault.op[0] && sync_delay_us <= 0)
		return;
	sim_active = 1;
	real_sys = port_sys;
	port_sys.open = sys_open;
	port_sys.close = sys_close;
	port_sys.write = sys_write;
	port_sys.fsync = sys_fsync;
	port_sys.rename = sys_rename;
	port_sys.unlink = sys_unlink;
	port_sys.mkdir = sys_mkdir;
	port_sys.rmdir = sys_rmdir;
	port_sys.rename_noreplace = sys_rename_noreplace;
	port_sys.link = sys_link;
	port_sys.pwrite = sys_pwrite;
	port_sys.ftruncate = sys_ftruncate;
}

const char *port_db_vfs(void)
{
	const char *d = getenv("HOLDFAST_SIM_WAL_DIRSYNC");
	bool never = d && strcmp(d, "never") == 0;
	const char *name;

	if (!sim_active)
		return linux_vfs(NULL, never);
	if (!real_vfs) {
		real_vfs = sqlite3_vfs_find(NULL);
		sim_vfs = *real_vfs;
		sim_vfs.zName = SIM_VFS_NAME;
		sim_vfs.pNext = NULL;
		sim_vfs.szOsFile = (int)sizeof(struct sim_file) + real_vfs->szOsFile;
		sim_vfs.xOpen = sim_open;
		sim_vfs.xDelete = sim_delete;
		if (sqlite3_vfs_register(&sim_vfs, 0) != SQLITE_OK) {
			port_log("sim: cannot register the crash-model VFS");
			_exit(99);
		}
	}
	/* The trace must see what the shipped VFS does: no falling back. */
	if (!(name = linux_vfs(SIM_VFS_NAME, never)))
		_exit(99);
	return name;
}

const char *port_db_synchronous(void)
{
	const char *s = getenv("HOLDFAST_SIM_SYNC");

	return s && strcmp(s, "NORMAL") == 0 ? "NORMAL" : "FULL";
}
