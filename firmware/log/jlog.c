/*
** jlog.c: opening, configuring and verifying the job log database, the
** cached statements the module's other files (jlog_*.c, jlog_int.h) run
** their SQL through, transactions (the writers' turnstile), checkpoints and
** the integrity checks.
**
** Why each setting (see jlog.h for the contract):
**   - WAL: readers (the CLI) never block the writer (the daemon), and the WAL
**     is what we ship to the replica, frame by frame.
**   - synchronous=FULL: in WAL mode, NORMAL syncs only at checkpoints, so a
**     power cut can lose the last commits; an acknowledged job must survive.
**     The build also refuses SQLITE_NO_SYNC, and we check it at run time.
**   - wal_autocheckpoint=0 and SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE: a checkpoint
**     we did not plan could move unshipped frames into the database file and
**     restart the WAL, losing history for the replica.
** Settings are read back after being set: SQLite answers a PRAGMA it cannot
** honour with the old value, not with an error.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/jlog_int.h"
#include "port.h"

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

/*
** SQLite's codes to ours. SQLITE_FULL is a full disk (ENOSPC, a short write,
** and EDQUOT, which the port's VFS turns into SQLITE_FULL for WAL writes): the
** transaction was rolled back and nothing written before was lost, so the
** caller may wait for room and try again. Every SQLITE_IOERR, a failed or
** refused fsync among them (even one that says ENOSPC: after a failed fsync
** the kernel may have dropped the pages), is HF_EIO, which nothing builds on.
*/
static int map_sqlite(int src)
{
	switch (src & 0xff) {
	case SQLITE_OK: return HF_OK;
	case SQLITE_NOMEM: return HF_ENOMEM;
	case SQLITE_IOERR: return HF_EIO;
	case SQLITE_FULL: return HF_ENOSPC;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return HF_EACCES;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: return HF_ECORRUPT;
	case SQLITE_BUSY: case SQLITE_LOCKED: return HF_EBUSY;
	case SQLITE_CANTOPEN: return HF_EACCES;
	case SQLITE_TOOBIG: return HF_ETOOBIG;
	case SQLITE_MISUSE: return HF_EBUG;
	}
	return HF_ESYS;
}

/* Logs SQLite's own message for a failed step on DB and maps the code. */
int jlog_sqlite_err(struct sqlite3 *db, const char *what, int src)
{
	port_log("job log: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
	return map_sqlite(src);
}

/* Runs a statement that returns at most one row; copies its first column as
** text into OUT[OUTLEN] (empty if no row). */
int jlog_query_text(struct sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st = NULL;
	int src, rc = HF_EBUG;

	src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return jlog_sqlite_err(db, sql, src);
	out[0] = '\0';
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", t ? (const char *)t : "");
		src = sqlite3_step(st);
	}
	rc = src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(db, sql, src);
	sqlite3_finalize(st);
	return rc;
}

int jlog_db_exec(struct sqlite3 *db, const char *sql)
{
	int src = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? HF_OK : jlog_sqlite_err(db, sql, src);
}

/* Expects PRAGMA NAME to read back as WANT; logs and fails otherwise. */
static int expect_pragma(struct sqlite3 *db, const char *name, const char *want,
			 const char *why)
{
	char sql[64], got[64];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA %s", name);
	if ((rc = jlog_query_text(db, sql, got, sizeof(got))) != HF_OK)
		return rc;
	if (strcmp(got, want) != 0) {
		port_log("job log: PRAGMA %s is '%s', need '%s' (%s)", name, got, want, why);
		return HF_ENOTSUP;
	}
	return HF_OK;
}

/*
** SQLite's memory: a heap of its own (memsys5, SQLITE_CONFIG_HEAP) in a
** region that the daemon's children do not inherit (port_mem_unshared),
** reserved once and backed only as used. Two costs of musl's allocator under
** SQLite go with it, both paid per job by the daemon (perf and strace -c of
** tests/soak's daemon, 2 cores, load 16):
**   - copy on write: a job's process is forked gated and waits for the
**     commit of its start (runner.c), sharing every page of the daemon's
**     meanwhile, and that commit writes SQLite's page cache and its
**     allocator's metadata: 36% of the daemon's CPU time went to those page
**     faults and their TLB flushes;
**   - munmap churn: mallocng gives a group back to the kernel as soon as
**     its last block is freed, and SQLite frees and allocates blocks of the
**     same sizes all the time: 12 munmap a job in the daemon, 46 in a
**     `holdfast status`, 990 in a `pipeline run` of 50 jobs, each one a TLB
**     flush too (10% of the daemon's time).
** With both gone the daemon took 2.6 ms of CPU a job instead of 9.2, and
** the soak ran 2.4x the jobs a second (tests/soak's workload, same run).
** A buddy allocator rounds each block up to a power of two, so the region is
** large (virtual, nothing of it resident until used); SQLite still gets all
** the memory it would have had on any device holdfast runs on. If the region
** cannot be had (no overcommit), SQLite uses malloc as before. Not under the
** sanitizers, which must see SQLite's allocations.
*/
#if UINTPTR_MAX > 0xffffffffu
#define JLOG_HEAP_BYTES (1024u << 20)
#else
#define JLOG_HEAP_BYTES (256u << 20)
#endif
#define JLOG_HEAP_MIN 32          /* memsys5's smallest block */

static void heap_init(void)
{
	static bool done;
	void *p;

	if (done)
		return;
	done = true;
#if HF_ASAN
	(void)p;
#else
	/* Only before SQLite initializes (sqlite3_config says MISUSE after). */
	if (port_mem_unshared(JLOG_HEAP_BYTES, &p) == HF_OK &&
	    sqlite3_config(SQLITE_CONFIG_HEAP, p, (int)JLOG_HEAP_BYTES, JLOG_HEAP_MIN) != SQLITE_OK)
		port_log("job log: SQLite's own heap could not be set up; using malloc");
#endif
}

int jlog_open_db(const char *path, const char *vfs, int flags, struct sqlite3 **out)
{
	struct sqlite3 *db = NULL;
	int src;

	heap_init();

	/* Refuse at run time too: a library built with SQLITE_NO_SYNC would turn
	** every fsync into a no-op, and nothing else would notice. */
	if (sqlite3_compileoption_used("NO_SYNC")) {
		port_log("job log: SQLite was built with SQLITE_NO_SYNC; refusing to run");
		return HF_ENOTSUP;
	}
	src = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOFOLLOW, vfs ? vfs : port_db_vfs());
	if (src != SQLITE_OK) {
		int rc = map_sqlite(src);
		port_log("job log: cannot open %s: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
		sqlite3_close(db);
		return rc;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, JLOG_BUSY_TIMEOUT_MS);
	*out = db;
	return HF_OK;
}

/* The per-connection settings, set and then verified. */
int jlog_configure(struct sqlite3 *db)
{
	char sql[48];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s", port_db_synchronous());
	if ((rc = jlog_db_exec(db, sql)) ||
	    (rc = jlog_db_exec(db, "PRAGMA wal_autocheckpoint=0")) ||
	    /* After the WAL restarts (a complete checkpoint), the first commit
	    ** cuts the file back: the WAL's disk use stays near wal_max. */
	    (rc = jlog_db_exec(db, "PRAGMA journal_size_limit=0")) ||
	    (rc = jlog_db_exec(db, "PRAGMA foreign_keys=ON")))
		return rc;
	return HF_OK;
}

int jlog_verify_db(struct sqlite3 *db)
{
	const char *sync = strcmp(port_db_synchronous(), "FULL") == 0 ? "2" : "1";
	char id[32];
	int rc;

	/* Identity first: for someone else's database the other answers do not
	** matter, and "not a holdfast job log" is the useful message. */
	snprintf(id, sizeof(id), "%d", JLOG_APPLICATION_ID);
	if ((rc = expect_pragma(db, "application_id", id, "not a holdfast job log")) != HF_OK)
		return rc == HF_ENOTSUP ? HF_ECORRUPT : rc;
	if ((rc = expect_pragma(db, "journal_mode", "wal",
				"readers must not block the daemon, and the WAL is what is shipped")) ||
	    (rc = expect_pragma(db, "synchronous", sync,
				"FULL: a commit must reach the device before it is acknowledged")) ||
	    (rc = expect_pragma(db, "wal_autocheckpoint", "0",
				"only the daemon checkpoints, after shipping")))
		return rc;
	return HF_OK;
}

int jlog_verify(struct jlog *j)
{
	return jlog_verify_db(j->db);
}

/* Opens the turnstile of the directory that holds the log at PATH. */
static int open_turnstile(struct jlog *j, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int rc;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path),
			  path) >= (int)sizeof(dir))
		return HF_ETOOBIG;
	if ((rc = port_turnstile_open(dir, &j->turnstile_fd)) == HF_OK)
		j->has_turnstile = true;
	return rc;
}

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* SQLite's WAL checksum over N bytes (a multiple of 8) of B, from S[2]:
** 32-bit words in big-endian order if BIG, else little-endian. */
static void wal_cksum(bool big, const unsigned char *b, size_t n, uint32_t s[2])
{
	size_t i;
	uint32_t x, y;

	for (i = 0; i + 8 <= n; i += 8) {
		if (big) {
			x = be32(b + i);
			y = be32(b + i + 4);
		} else {
			x = (uint32_t)b[i + 3] << 24 | (uint32_t)b[i + 2] << 16 | (uint32_t)b[i + 1] << 8 | b[i];
			y = (uint32_t)b[i + 7] << 24 | (uint32_t)b[i + 6] << 16 | (uint32_t)b[i + 5] << 8 |
			    b[i + 4];
		}
		s[0] += x + s[1];
		s[1] += y + s[0];
	}
}

/* Bytes of the WAL read at a time by wal_user_version: whole frames, so
** that a long WAL costs a few reads, not two for each of its frames (every
** command reads it; at 10 MB that was 19 ms of a 27 ms `ls`). */
#define WAL_PEEK_BUF (256u << 10)

/* Page 1's user_version (header offset 60) as of the last transaction
** committed to the WAL at PATH, into *VERSION; untouched if the WAL holds
** no committed page 1 (or is missing, empty or not a WAL). The WAL format
** (sqlite.org/fileformat2.html): a 32-byte header (magic, version, page
** size, checkpoint seq, two salts, a checksum), then frames: a 24-byte
** header (page number, the database size in pages on a commit frame, the
** salts, a running checksum) and the page. Frames count while their salts
** are the header's and the running checksum holds, as SQLite reads them. */
static void wal_user_version(const char *path, long *version)
{
	unsigned char hdr[32], *buf = NULL;
	uint64_t size, off;
	uint32_t s[2] = { 0, 0 }, psize, magic;
	long pending = -1;
	size_t frame, nbuf, want, got, i;
	bool big;
	int fd;

	if (port_fs_open_read(path, &fd, &size) != HF_OK)
		return;
	if (port_fs_pread(fd, hdr, sizeof(hdr), 0, &got) != HF_OK || got != sizeof(hdr))
		goto out;
	magic = be32(hdr);
	psize = be32(hdr + 8);
	if ((magic & ~1u) != 0x377f0682 || psize < 512 || psize > 65536 || (psize & (psize - 1)))
		goto out;
	big = magic & 1;
	wal_cksum(big, hdr, 24, s);
	frame = 24 + (size_t)psize;
	nbuf = WAL_PEEK_BUF / frame > 0 ? WAL_PEEK_BUF / frame * frame : frame;
	if (s[0] != be32(hdr + 24) || s[1] != be32(hdr + 28) || !(buf = malloc(nbuf)))
		goto out;
	for (off = sizeof(hdr); off + frame <= size; off += want) {
		want = size - off < nbuf ? (size_t)(size - off) / frame * frame : nbuf;
		if (port_fs_pread(fd, buf, want, off, &got) != HF_OK || got < frame)
			break;
		want = got / frame * frame;
		for (i = 0; i < want; i += frame) {
			const unsigned char *fh = buf + i, *page = buf + i + 24;
			if (memcmp(fh + 8, hdr + 16, 8) != 0)
				goto out;
			wal_cksum(big, fh, 8, s);
			wal_cksum(big, page, psize, s);
			if (s[0] != be32(fh + 16) || s[1] != be32(fh + 20))
				goto out;
			if (be32(fh) == 1)
				pending = (long)be32(page + 60);
			if (be32(fh + 4) != 0 && pending >= 0) /* a commit frame */
				*version = pending;
		}
	}
out:
	free(buf);
	port_close(fd);
}

/* The schema version of the log at PATH as SQLite would read it, read
** without SQLite: opening the log with SQLite makes its -wal and -shm files,
** and a log this holdfast refuses (a newer one) is left exactly as it was.
** -1 if the header cannot be read (SQLite then says what is wrong). */
static long peek_version(const char *path)
{
	unsigned char hdr[100];
	char side[4096];
	enum port_fs_kind kind;
	long version = -1;
	uint64_t size;
	size_t got;
	int fd;

	if (port_fs_open_read(path, &fd, &size) != HF_OK)
		return -1;
	if (port_fs_pread(fd, hdr, sizeof(hdr), 0, &got) == HF_OK && got == sizeof(hdr) &&
	    memcmp(hdr, "SQLite format 3", 16) == 0)
		version = (long)be32(hdr + 60);
	port_close(fd);
	/* With its -shm beside it, SQLite opens the log without making a file,
	** and jlog_migrate() refuses a newer version before anything is written: the
	** WAL is read here only when SQLite would make the -shm (the WAL is as
	** long as wal_max, or 4x that with no daemon, and every command opens
	** the log). */
	if (version >= 0 && snprintf(side, sizeof(side), "%s-shm", path) < (int)sizeof(side) &&
	    port_fs_kind(side, &kind) == HF_OK && kind == PORT_FS_NONE &&
	    snprintf(side, sizeof(side), "%s-wal", path) < (int)sizeof(side))
		wal_user_version(side, &version);
	return version;
}

void jlog_say_newer(long version)
{
	port_log("job log: schema version %ld is newer than this holdfast knows (%d); "
		 "run the newer holdfast", version, JLOG_SCHEMA_VERSION);
}

int jlog_open(struct jlog *j, const char *path, const char *vfs)
{
	struct sqlite3 *db = NULL;
	enum port_fs_kind kind;
	int rc, on = 0;
	long version;

	if ((rc = port_fs_kind(path, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_NONE) {
		port_log("job log %s does not exist (holdfast init creates one)", path);
		return HF_ENOENT;
	}
	if ((version = peek_version(path)) > JLOG_SCHEMA_VERSION) {
		jlog_say_newer(version);
		return HF_ENOTSUP;
	}
	rc = jlog_open_db(path, vfs, SQLITE_OPEN_READWRITE, &db);
	if (rc)
		return rc;
	if (sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on) != SQLITE_OK ||
	    !on) {
		port_log("job log: cannot disable the checkpoint on close");
		rc = HF_ENOTSUP;
		goto out_close;
	}
	if ((rc = jlog_configure(db)) || (rc = jlog_verify_db(db)))
		goto out_close;
	memset(j, 0, sizeof(*j));
	j->db = db;
	if ((rc = open_turnstile(j, path)) != HF_OK || (rc = jlog_migrate(j, JLOG_SCHEMA_VERSION)) != HF_OK) {
		jlog_close(j);
		return rc;
	}
	return HF_OK;

out_close:
	sqlite3_close(db);
	return rc;
}

void jlog_close(struct jlog *j)
{
	if (j->ckpt_db) {
		sqlite3_close(j->ckpt_db);
		j->ckpt_db = NULL;
	}
	j->pinned = NULL;
	for (int i = 0; i < JLOG_STMT_CACHE; i++) {
		sqlite3_finalize(j->stmts[i]);
		j->stmts[i] = NULL;
		j->stmt_sql[i] = NULL;
	}
	if (j->db) {
		sqlite3_close(j->db);
		j->db = NULL;
	}
	if (j->has_turnstile)
		port_close(j->turnstile_fd);
	j->has_turnstile = j->in_turnstile = false;
}

/* ---- statements ------------------------------------------------------------ */

/* The cached statement for SQL (a string constant), reset and unbound. */
sqlite3_stmt *jlog_stmt(struct jlog *j, const char *sql)
{
	int i, free_slot = -1;
	sqlite3_stmt *st = NULL;

	for (i = 0; i < JLOG_STMT_CACHE; i++) {
		if (j->stmt_sql[i] == sql) {
			sqlite3_reset(j->stmts[i]);
			sqlite3_clear_bindings(j->stmts[i]);
			return j->stmts[i];
		}
		if (!j->stmt_sql[i] && free_slot < 0)
			free_slot = i;
	}
	if (sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		port_log("job log: prepare: %s (%.60s...)", sqlite3_errmsg(j->db), sql);
		return NULL;
	}
	if (free_slot >= 0) {
		j->stmts[free_slot] = st;
		j->stmt_sql[free_slot] = sql;
	} else {
		/* Cache full: a bug in JLOG_STMT_CACHE sizing, but still correct. */
		port_log("job log: statement cache full");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Steps ST to completion (no rows expected). */
int jlog_step_done(struct jlog *j, sqlite3_stmt *st)
{
	int src;

	if (!st)
		return HF_EBUG;
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src == SQLITE_DONE || src == SQLITE_ROW)
		return HF_OK;
	return jlog_sqlite_err(j->db, "step", src);
}

void jlog_bind_utc(sqlite3_stmt *st, int i, int64_t utc_ms)
{
	if (utc_ms >= 0)
		sqlite3_bind_int64(st, i, utc_ms);
	else
		sqlite3_bind_null(st, i);
}

const char *jlog_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int64_t jlog_col_int_or(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

/* Binds ARGS[0..NARGS) to ?1.. of ST. Text and blobs are bound without a
** copy (SQLITE_STATIC): every caller steps and resets ST before it returns,
** and jlog_stmt clears the bindings before the statement is used again. */
static void bind_vals(sqlite3_stmt *st, const struct jlog_val *args, int nargs)
{
	for (int i = 0; i < nargs; i++) {
		const struct jlog_val *v = &args[i];

		switch (v->type) {
		case JV_INT:
			sqlite3_bind_int64(st, i + 1, v->i);
			break;
		case JV_TEXT:
			if (v->p)
				sqlite3_bind_text(st, i + 1, v->p, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		case JV_UTC:
			jlog_bind_utc(st, i + 1, v->i);
			break;
		case JV_BLOB:
			sqlite3_bind_blob(st, i + 1, v->p, (int)v->len, SQLITE_STATIC);
			break;
		case JV_NULL:
			sqlite3_bind_null(st, i + 1);
			break;
		}
	}
}

/* Runs SQL (a string constant, cached) with ARGS to completion; no rows
** expected. */
int jlog_exec(struct jlog *j, const char *sql, const struct jlog_val *args, int nargs)
{
	sqlite3_stmt *st = jlog_stmt(j, sql);

	if (!st)
		return HF_EBUG;
	bind_vals(st, args, nargs);
	return jlog_step_done(j, st);
}

/* Runs SQL with ARGS and hands each row to ROW, which returns 0 for the
** next one, JLOG_STOP to stop there (HF_OK) or an error to stop with. A
** failed step is logged as WHAT. */
int jlog_query(struct jlog *j, const char *sql, const struct jlog_val *args, int nargs,
	       const char *what, int (*row)(sqlite3_stmt *st, void *arg), void *arg)
{
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src, rc = HF_OK;

	if (!st)
		return HF_EBUG;
	bind_vals(st, args, nargs);
	while ((src = sqlite3_step(st)) == SQLITE_ROW && (rc = row(st, arg)) == HF_OK)
		;
	sqlite3_reset(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return jlog_sqlite_err(j->db, what, src);
	return rc == JLOG_STOP ? HF_OK : rc;
}

/* Runs SQL with ARGS for the first column of its first row, as an integer,
** into *V (untouched if there is no row; *FOUND says). A failed step is
** logged as WHAT. */
int jlog_query_int(struct jlog *j, const char *sql, const struct jlog_val *args, int nargs,
		   const char *what, int64_t *v, bool *found)
{
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	*found = false;
	if (!st)
		return HF_EBUG;
	bind_vals(st, args, nargs);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		*found = true;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, what, src);
}

/* ---- transactions ---------------------------------------------------------- */

void jlog_unpin(struct jlog *j)
{
	if (j->pinned) {
		sqlite3_reset(j->pinned);
		j->pinned = NULL;
	}
}

/* Says why a write transaction could not begin within the busy timeout: who
** holds the write lock, and what to do about it. */
static void say_locked(struct jlog *j)
{
	const char *path = sqlite3_db_filename(j->db, "main");
	char cmd[160];
	int pid;

	if (path && port_db_writer(path, &pid, cmd, sizeof(cmd)) == HF_OK) {
		port_log("job log locked for %d s by process %d (%s), which holds its write "
			 "lock. holdfast's own writers hold it for milliseconds: if that is a "
			 "sqlite3 shell or another program, end its transaction; if it is the "
			 "daemon, it may be stuck (look at its log). Nothing was changed; try "
			 "again", JLOG_BUSY_TIMEOUT_MS / 1000, pid, cmd[0] ? cmd : "?");
		return;
	}
	port_log("job log locked for %d s by another writer, which has let go since. "
		 "Nothing was changed; try again", JLOG_BUSY_TIMEOUT_MS / 1000);
}

void jlog_leave_turnstile(struct jlog *j)
{
	if (j->in_turnstile) {
		j->others_waited = j->watch_waiters && port_turnstile_waited(j->turnstile_fd);
		port_turnstile_leave(j->turnstile_fd);
		j->in_turnstile = false;
	}
}

/* Writers take turns at the turnstile (port.h) before SQLite's write lock,
** which then only waits for writers that are not holdfast (a sqlite3 shell). */
int jlog_begin(struct jlog *j)
{
	int rc, src;

	jlog_unpin(j);
	if (j->has_turnstile && !j->in_turnstile) {
		rc = port_turnstile_enter(j->turnstile_fd, JLOG_BUSY_TIMEOUT_MS);
		if (rc == HF_EBUSY)
			say_locked(j);
		if (rc != HF_OK)
			return rc;
		j->in_turnstile = true;
	}
	src = sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (src == SQLITE_OK)
		return HF_OK;
	jlog_leave_turnstile(j);
	if ((src & 0xff) == SQLITE_BUSY) {
		say_locked(j);
		return HF_EBUSY;
	}
	return jlog_sqlite_err(j->db, "BEGIN IMMEDIATE", src);
}

int jlog_commit(struct jlog *j)
{
	int rc, src;

	jlog_unpin(j);
	src = sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
	if (src == SQLITE_OK) {
		jlog_leave_turnstile(j);
		return HF_OK;
	}
	/* SQLite leaves the transaction open after a failed COMMIT (e.g. an
	** fsync error); nothing of it may be acknowledged, so roll it back. */
	rc = jlog_sqlite_err(j->db, "COMMIT", src);
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	jlog_leave_turnstile(j);
	return rc;
}

int jlog_lazy(struct jlog *j, bool lazy)
{
	return jlog_db_exec(j->db, lazy ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
}

void jlog_rollback(struct jlog *j)
{
	jlog_unpin(j);
	if (!sqlite3_get_autocommit(j->db))
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	jlog_leave_turnstile(j);
}

int jlog_checkpoint(struct jlog *j, bool *done)
{
	int log = 0, ckpt = 0;
	int src = sqlite3_wal_checkpoint_v2(j->db, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &ckpt);

	if (src == SQLITE_BUSY) {
		/* A reader holds an old snapshot: copy what we can, truncate later. */
		src = sqlite3_wal_checkpoint_v2(j->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log,
						&ckpt);
		*done = false;
		return src == SQLITE_OK || src == SQLITE_BUSY ? HF_OK :
			jlog_sqlite_err(j->db, "checkpoint", src);
	}
	*done = src == SQLITE_OK;
	return src == SQLITE_OK ? HF_OK : jlog_sqlite_err(j->db, "checkpoint", src);
}

int jlog_checkpoint_now(struct jlog *j, bool *done)
{
	int rc;

	sqlite3_busy_timeout(j->db, 0);
	rc = jlog_checkpoint(j, done);
	sqlite3_busy_timeout(j->db, JLOG_BUSY_TIMEOUT_MS);
	return rc;
}

const char *jlog_path(struct jlog *j)
{
	return sqlite3_db_filename(j->db, "main");
}

int jlog_quick_check_file(const char *path, bool *ok, char *problem, size_t len)
{
	struct sqlite3 *db = NULL;
	int rc;

	*ok = false;
	snprintf(problem, len, "not checked");
	if ((rc = jlog_open_db(path, NULL, SQLITE_OPEN_READONLY, &db)) != HF_OK)
		return rc;
	rc = jlog_query_text(db, "PRAGMA quick_check", problem, len);
	if (rc == HF_ECORRUPT) {
		/* A database too broken to check is not ok either. */
		snprintf(problem, len, "the check itself failed: database disk image is malformed");
		rc = HF_OK;
	} else if (rc == HF_OK) {
		*ok = strcmp(problem, "ok") == 0;
	}
	sqlite3_close(db);
	return rc;
}

int jlog_integrity_file(const char *path, bool *ok, char *problem, size_t len)
{
	struct sqlite3 *db = NULL;
	int rc;

	*ok = false;
	if ((rc = jlog_open_db(path, NULL, SQLITE_OPEN_READWRITE, &db)) != HF_OK)
		return rc;
	rc = jlog_query_text(db, "PRAGMA integrity_check", problem, len);
	if (rc == HF_ECORRUPT) {
		snprintf(problem, len, "database disk image is malformed");
		rc = HF_OK;
	} else if (rc == HF_OK) {
		*ok = strcmp(problem, "ok") == 0;
	}
	sqlite3_close(db);
	return rc;
}

const char *jlog_sqlite_version(void)
{
	return sqlite3_libversion();
}

const char *jlog_sqlite_sourceid(void)
{
	return sqlite3_sourceid();
}
