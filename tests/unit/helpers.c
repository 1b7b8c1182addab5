/*
** helpers.c (tests/unit): captured log, file helpers, tree digests.
*/
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jlog.h"
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
