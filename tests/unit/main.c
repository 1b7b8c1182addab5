/*
** main.c (tests/unit): the runner. Usage: unit-tests [SUBSTRING...]
*/
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "port.h"
#include "test.h"

#define MAX_TESTS 512

static struct {
	const char *name;
	void (*fn)(void);
} tests[MAX_TESTS];
static int ntests;

void test_register(const char *name, void (*fn)(void))
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* stdout of the child is a pipe read by the parent. */
	printf("%s:%d: %s\n", file, line, msg);
	if (test_log()[0])
		printf("  log: %s\n", test_log());
	fflush(stdout);
	_exit(1);
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

static int run_one(int k, const char *base)
{
	char dir[4200], out[8192];
	int pfd[2], status;
	ssize_t n;
	size_t have = 0;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/%s", base, tests[k].name);
	if (mkdir(dir, 0755) != 0 || pipe(pfd) != 0) {
		printf("FAIL - %s: setup: %s\n", tests[k].name, strerror(errno));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[1]);
		if (chdir(dir) != 0)
			test_fail(__FILE__, __LINE__, "chdir %s", dir);
		umask(022);
		tests[k].fn();
		fflush(stdout);
		_exit(0);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], out + have, sizeof(out) - 1 - have)) > 0)
		have += (size_t)n;
	out[have] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok - %s\n", tests[k].name);
		return 0;
	}
	if (WIFSIGNALED(status))
		printf("FAIL - %s: killed by signal %d\n%s", tests[k].name, WTERMSIG(status), out);
	else
		printf("FAIL - %s: %s", tests[k].name, have ? out : "exited non-zero\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char base[4096];
	int passed = 0, failed = 0;

	/* Test vectors: $HF_TESTDATA, else tests/data below the directory the
	** runner starts in (the repository, as make and tests/run-board do). */
	if (!getenv("HF_TESTDATA") && getcwd(base, sizeof(base) - 16)) {
		strcat(base, "/tests/data");
		setenv("HF_TESTDATA", base, 0);
	}
	snprintf(base, sizeof(base), "%s/hf-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 2;
	}
	for (int k = 0; k < ntests; k++) {
		if (!selected(tests[k].name, argc, argv))
			continue;
		if (run_one(k, base))
			failed++;
		else
			passed++;
	}
	if (failed == 0)
		port_fs_remove_tree(base);
	else
		printf("# test directories kept in %s\n", base);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
