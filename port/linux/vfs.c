/*
** vfs.c (linux): the SQLite VFS the job log is opened with. It is SQLite's
** own (unix, or the sim port's recorder over it) with one change: the
** directory fsync that makes the WAL's name durable is paid once per WAL
** file, not once per connection.
**
** Why. SQLite's unixOpen() schedules a directory fsync at the first sync of
** every WAL handle opened with SQLITE_OPEN_CREATE (UNIXFILE_DIRSYNC), and the
** pager always passes CREATE, whether the file exists or not. So every new
** connection's first commit paid two flushes: `holdfast submit`, one process,
** one connection, one commit, paid twice what a commit costs, on an SD card
** twice the time. SQLite also ignores the result of that directory fsync;
** port.h's rule is that a failed directory fsync is an error.
**
** The rule. A commit may be acknowledged only if the WAL's name survives a
** power cut, and a name is durable only once an fsync of its directory has
** returned after the name was made. That the WAL exists proves nothing: the
** process that made it may have been killed before its first sync, or was a
** reader (SQLite makes the WAL at a connection's first read, and a reader
** never syncs), or was a foreign sqlite3 shell that re-made the WAL after
** deleting it at its close; in each case another process sees a WAL whose
** name a power cut can still take, with every commit in it. And nothing
** orders the makers: `holdfast init` makes the WAL at its last check without
** syncing it, and the daemon may not be running.
**
** So the WAL carries a mark: after an fsync of its directory has succeeded,
** the file gets the extended attribute user.holdfast.wal = "dirsynced DEV
** INO", its own device and inode numbers. A WAL handle whose file carries the
** mark for its own device and inode skips the directory fsync; any other
** (no mark; a copy of a marked WAL, which cp -a and rsync -X copy the
** attribute onto, under a new inode; a filesystem without user attributes,
** e.g. FAT) fsyncs the directory itself, through the port, at its first sync,
** fails that sync if the directory fsync fails, and then marks the file. Why
** that is enough:
**   - The mark is written only after the directory fsync returned success,
**     so seeing it means a flush of the directory followed the making of the
**     name: a WAL's name is made once per inode (SQLite only creates and
**     deletes it; holdfast renames one only aside, a corrupt log's, with
**     port_fs_rename's directory fsync, and never links one). A WAL someone
**     moves into place by hand is, like a database copied in by hand, as
**     durable as they made it.
**   - The mark lives on the inode. A WAL deleted and made again (a foreign
**     shell closing last; our connections never delete it, as they set
**     SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, and checkpoints truncate it in place)
**     is a new inode without it.
**   - The mark need not be durable: lost in a power cut, it costs the next
**     connection one directory fsync. It cannot outlive its name: it is on
**     the inode the name points to, and that name was durable before it was
**     written.
**   - The WAL cannot change between the look at the mark and the open: the
**     pager opens the WAL holding a SHARED lock on the database, and only a
**     connection holding EXCLUSIVE (the last one closing) deletes the WAL.
** Where the directory fsync is ours, SQLite's must not also happen: a missing
** WAL is made by an open with CREATE (so SQLite chooses its mode and owner
** from the database's) that is closed at once, before any sync, and the
** handle kept is opened without CREATE, so SQLite never schedules its own.
**
** The sim port's negative control (port/sim/db.c) passes NEVER_DIRSYNC: no
** WAL handle then fsyncs its directory, even one that made the file, and the
** crash test must see acknowledged jobs lost. Every binary that ships passes
** false.
*/
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "linux_int.h"
#include "port.h"
#include "sqlite3.h"

#define VFS_NAME "holdfast"
#define VFS_MARK "user.holdfast.wal"

static sqlite3_vfs *under;
static sqlite3_vfs vfs;
static sqlite3_io_methods wal_io;
static bool never_dirsync;

/* A WAL handle: SQLite's below it, and whether its directory is yet to be
** fsynced. PATH is SQLite's, valid until xClose (sqlite3_vfs.xOpen). */
struct wal_file {
	sqlite3_file base;
	sqlite3_file *real;
	const char *path;
	dev_t dev;
	ino_t ino;
	bool dirsync_pending;
};

#define REAL(f) (((struct wal_file *)(f))->real)

static void mark_text(dev_t dev, ino_t ino, char *buf, size_t len)
{
	snprintf(buf, len, "dirsynced %llu %llu", (unsigned long long)dev,
		 (unsigned long long)ino);
}

/* Whether the WAL's name is known durable: it carries the mark for its own
** device and inode. Any failure to tell is a no. */
static bool wal_is_marked(const struct wal_file *w)
{
	char want[64], got[64];
	ssize_t n;

	mark_text(w->dev, w->ino, want, sizeof(want));
	n = lgetxattr(w->path, VFS_MARK, got, sizeof(got));
	return n == (ssize_t)strlen(want) && memcmp(got, want, (size_t)n) == 0;
}

/* After the directory fsync: marks the file, if it is still ours. A failure
** (ENOTSUP on FAT, EDQUOT...) only costs later connections a directory fsync
** each, so it is not an error. */
static void wal_mark(const struct wal_file *w)
{
	char text[64];
	struct stat st;

	if (lstat(w->path, &st) != 0 || st.st_dev != w->dev || st.st_ino != w->ino)
		return;
	mark_text(w->dev, w->ino, text, sizeof(text));
	(void)lsetxattr(w->path, VFS_MARK, text, strlen(text), 0);
}

static int wal_sync(sqlite3_file *f, int flags)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = w->real->pMethods->xSync(w->real, flags);

	if (rc != SQLITE_OK || !w->dirsync_pending)
		return rc;
	/* Before this sync returns, so before the commit is acknowledged. */
	if (port_fs_fsync_parent(w->path) != HF_OK)
		return SQLITE_IOERR_DIR_FSYNC;
	w->dirsync_pending = false;
	wal_mark(w);
	return SQLITE_OK;
}

/* ---- the rest passes through ----------------------------------------------- */

static int wal_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int wal_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

/*
** SQLite's unixWrite says SQLITE_FULL for ENOSPC (and a short write) but
** SQLITE_IOERR_WRITE for EDQUOT. For us a quota is the same event as a full
** disk: nothing already written was lost, the commit was not made, and room
** can come back (firmware/daemon/runner.c waits for it). An I/O error is not: it
** stops the daemon. errno is still the failed pwrite's: unixWrite returns
** right after it.
*/
static int wal_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	int rc = REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);

	if (rc == SQLITE_IOERR_WRITE && errno == EDQUOT)
		return SQLITE_FULL;
	return rc;
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int wal_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int wal_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int wal_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int wal_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int wal_device_chars(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int wal_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int wal_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void wal_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int wal_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int wal_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int wal_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static sqlite3_io_methods wal_io = {
	3,
	wal_close, wal_read, wal_write, wal_truncate, wal_sync, wal_file_size,
	wal_lock, wal_unlock, wal_check_reserved, wal_file_control, wal_sector_size,
	wal_device_chars, wal_shm_map, wal_shm_lock, wal_shm_barrier, wal_shm_unmap,
	wal_fetch, wal_unfetch,
};

/* Everything but a WAL opened for writing is SQLite's own handle, in place. */
static int vfs_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags,
		    int *out_flags)
{
	struct wal_file *w = (struct wal_file *)f;
	struct stat st;
	int rc;

	(void)v;
	if (!name || !(flags & SQLITE_OPEN_WAL) || !(flags & SQLITE_OPEN_CREATE))
		return under->xOpen(under, name, f, flags, out_flags);
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)&w[1];
	w->path = name;
	if (lstat(name, &st) != 0 && errno == ENOENT) {
		/* Made by SQLite, then closed before any sync: the directory
		** fsync is ours (below), never SQLite's unchecked one. */
		rc = under->xOpen(under, name, w->real, flags, NULL);
		if (rc != SQLITE_OK)
			return rc;
		w->real->pMethods->xClose(w->real);
		memset(w->real, 0, (size_t)under->szOsFile);
	}
	rc = under->xOpen(under, name, w->real, flags & ~SQLITE_OPEN_CREATE, out_flags);
	if (rc != SQLITE_OK)
		return rc;
	if (lstat(name, &st) == 0 && S_ISREG(st.st_mode)) {
		w->dev = st.st_dev;
		w->ino = st.st_ino;
		w->dirsync_pending = !never_dirsync && !wal_is_marked(w);
	} else {
		w->dirsync_pending = !never_dirsync;
	}
	f->pMethods = &wal_io;
	return SQLITE_OK;
}

/*
** The full name of NAME, with the links in its directory part resolved
** first. The job log is opened with SQLITE_OPEN_NOFOLLOW, and SQLite's
** unixFullPathname reports a link in any component, which that flag turns
** into SQLITE_CANTOPEN_SYMLINK: a data directory under a linked /var could
** not be opened, nor initialised. holdfast refuses links only at the names it
** owns, the last components (firmware/log/datadir.c says why), so the ancestors
** are resolved here and SQLite's check sees only the last component, where
** it still refuses a link made after dd_check_links looked.
*/
static int vfs_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	char dir[PATH_MAX], real[PATH_MAX], path[2 * PATH_MAX];
	const char *slash = strrchr(name, '/');
	size_t len = slash ? (size_t)(slash - name) : 0;

	(void)v;
	if (len > 0 && len < sizeof(dir)) {
		memcpy(dir, name, len);
		dir[len] = '\0';
		/* A missing directory: SQLite's own answer, and its error. */
		if (realpath(dir, real) &&
		    snprintf(path, sizeof(path), "%s%s", real, slash) < (int)sizeof(path))
			return under->xFullPathname(under, path, n, out);
	}
	return under->xFullPathname(under, name, n, out);
}

const char *linux_vfs(const char *under_name, bool never)
{
	if (under)
		return VFS_NAME;
	if (!(under = sqlite3_vfs_find(under_name))) {
		port_log("job log: no SQLite VFS '%s'", under_name ? under_name : "(default)");
		return NULL;
	}
	vfs = *under;
	vfs.zName = VFS_NAME;
	vfs.pNext = NULL;
	vfs.szOsFile = (int)sizeof(struct wal_file) + under->szOsFile;
	vfs.xOpen = vfs_open;
	vfs.xFullPathname = vfs_full_pathname;
	never_dirsync = never;
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
		port_log("job log: cannot register the '%s' SQLite VFS", VFS_NAME);
		under = NULL;
		return NULL;
	}
	return VFS_NAME;
}
