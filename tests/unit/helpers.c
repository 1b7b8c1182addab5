/*
** helpers.c (tests/unit): captured log, file helpers, tree digests, a job
** log with jobs in it.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/jlog.h"
#include "port.h"
#include "sqlite3.h"
#include "test.h"

static char logbuf[16384];
static size_t loglen;

static void sink(int level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	int n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s%s",
			 loglen ? "\n" : "", line);
	if (n > 0 && loglen + (size_t)n < sizeof(logbuf))
		loglen += (size_t)n;
}

/* Installed in every test process before the test body runs. */
__attribute__((constructor)) static void install_sink(void)
{
	port_log_set_sink(sink, NULL);
}

const char *test_log(void)
{
	return logbuf;
}

void test_log_clear(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

bool test_log_has(const char *needle)
{
	return strstr(logbuf, needle) != NULL;
}

void test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		test_fail(__FILE__, __LINE__, "cannot write %s", path);
}

const char *test_read_file(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static unsigned long long fnv_file(const char *path)
{
	unsigned long long h = 1469598103934665603ULL;
	unsigned char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
	close(fd);
	return h;
}

static void digest(const char *dir, char **out, size_t *len, size_t *cap)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char path[4096], line[4400];
		struct stat st;

		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (lstat(path, &st) == 0) {
				int k = snprintf(line, sizeof(line), "%s %o %lld %llx\n", path,
						 (unsigned)st.st_mode, (long long)st.st_size,
						 S_ISREG(st.st_mode) ? fnv_file(path) : 0ULL);
				while (*len + (size_t)k + 1 > *cap) {
					*cap = *cap * 2 + 256;
					*out = realloc(*out, *cap);
				}
				memcpy(*out + *len, line, (size_t)k + 1);
				*len += (size_t)k;
				if (S_ISDIR(st.st_mode))
					digest(path, out, len, cap);
			}
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

char *test_tree_digest(const char *dir)
{
	size_t len = 0, cap = 256;
	char *out = malloc(cap);

	out[0] = '\0';
	digest(dir, &out, &len, &cap);
	return out;
}

long long test_q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -12345;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
		return v;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void test_open_log(struct jlog *j, struct jlog_now *now)
{
	int64_t boot;

	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK_INT(jlog_open(j, "t.db", NULL), HF_OK);
	CHECK_INT(jlog_boot(j, "boot-a", -1, true, &boot), HF_OK);
	CHECK_INT(boot, 1);
	now->boot = boot;
	now->mono_ms = 1000;
	now->utc_ms = -1;
}

int64_t test_job_true(struct jlog *j, const struct jlog_now *now, int64_t run,
		      const int64_t *after, int nafter, const char *key, bool *existed)
{
	char *argv[] = { "true", NULL };
	struct jlog_spec s = { 0 };
	int64_t id = 0;
	bool ex;

	s.argv = argv;
	s.argc = 1;
	s.run = run;
	s.after = after;
	s.nafter = nafter;
	s.key = key;
	s.backoff_min_ms = s.backoff_max_ms = 100;
	CHECK_INT(jlog_job_add(j, &s, now, &id, existed ? existed : &ex), HF_OK);
	return id;
}

void test_job_finish(struct jlog *j, const struct jlog_now *now, int64_t job, int code,
		     int out_bytes)
{
	struct jlog_end e = { .reason = "exit", .exit_code = code, .signal = -1 };
	char chunk[1000];
	int64_t seq = 0;

	memset(chunk, 'x', sizeof(chunk));
	CHECK_INT(jlog_attempt_start(j, job, 1, 4242, 1, now), HF_OK);
	for (int left = out_bytes; left > 0; left -= (int)sizeof(chunk))
		CHECK_INT(jlog_output_add(j, job, 1, seq++, 1, chunk,
					  left < (int)sizeof(chunk) ? (size_t)left : sizeof(chunk)),
			  HF_OK);
	e.out_bytes = out_bytes;
	CHECK_INT(jlog_attempt_end(j, job, 1, &e, now, UINT32_MAX), HF_OK);
}

/*
** A disk of ROOM free bytes under SQLite (the unix VFS's pwrite and
** ftruncate, which the port's VFS wraps, swapped in its system call table
** as SQLite's own test_syscall.c does): a write that grows a file takes
** room, one within the file's size takes none (a WAL restarting over its
** old frames), a truncation gives room back; a write that does not fit
** fails with ERR.
*/
static long long write_room = -1;
static int write_err;
static sqlite3_syscall_ptr real_pwrite, real_pwrite64, real_ftruncate;

static bool write_fits(int fd, size_t n, off_t off)
{
	struct stat st;
	long long grow;

	if (write_room < 0 || fstat(fd, &st) != 0)
		return true;
	grow = (long long)off + (long long)n - (long long)st.st_size;
	if (grow <= 0)
		return true;
	if (grow > write_room) {
		errno = write_err;
		return false;
	}
	write_room -= grow;
	return true;
}

static ssize_t room_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (!write_fits(fd, n, off))
		return -1;
	return ((ssize_t (*)(int, const void *, size_t, off_t))real_pwrite)(fd, buf, n, off);
}

static ssize_t room_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	if (!write_fits(fd, n, off))
		return -1;
	return ((ssize_t (*)(int, const void *, size_t, off_t))real_pwrite64)(fd, buf, n, off);
}

static int room_ftruncate(int fd, off_t len)
{
	struct stat st;
	int rc;

	if (write_room >= 0 && fstat(fd, &st) == 0 && st.st_size > len) {
		if ((rc = ((int (*)(int, off_t))real_ftruncate)(fd, len)) == 0)
			write_room += (long long)(st.st_size - len);
		return rc;
	}
	if (write_room >= 0 && fstat(fd, &st) == 0 && len > st.st_size &&
	    len - st.st_size > write_room) {
		errno = write_err;
		return -1;
	}
	return ((int (*)(int, off_t))real_ftruncate)(fd, len);
}

void test_sqlite_writes(long long room, int err)
{
	sqlite3_vfs *u = sqlite3_vfs_find("unix");

	if (!real_pwrite && !real_pwrite64) {
		real_pwrite = u->xGetSystemCall(u, "pwrite");
		real_pwrite64 = u->xGetSystemCall(u, "pwrite64");
		real_ftruncate = u->xGetSystemCall(u, "ftruncate");
		if (real_pwrite)
			u->xSetSystemCall(u, "pwrite", (sqlite3_syscall_ptr)room_pwrite);
		if (real_pwrite64)
			u->xSetSystemCall(u, "pwrite64", (sqlite3_syscall_ptr)room_pwrite64);
		if (real_ftruncate)
			u->xSetSystemCall(u, "ftruncate", (sqlite3_syscall_ptr)room_ftruncate);
		if ((!real_pwrite && !real_pwrite64) || !real_ftruncate)
			test_fail(__FILE__, __LINE__, "SQLite's unix VFS has no pwrite to wrap");
	}
	write_room = room;
	write_err = err;
}

long long test_sqlite_room(void)
{
	return write_room;
}
