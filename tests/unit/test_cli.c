/*
** test_cli.c: argument parsing and exit codes.
*/
#include <stdlib.h>
#include <unistd.h>

#include "app/args.h"
#include "app/cli.h"
#include "hf_build.h"
#include "port.h"
#include "test.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define RUN(...) run(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static char outbuf[65536];

/* Runs cli_main, capturing what it prints in outbuf. */
static int run(int argc, char **argv)
{
	FILE *f = tmpfile();
	size_t n;
	int code;

	if (!f)
		test_fail(__FILE__, __LINE__, "tmpfile");
	code = cli_main(argc, argv, f);
	rewind(f);
	n = fread(outbuf, 1, sizeof(outbuf) - 1, f);
	outbuf[n] = '\0';
	fclose(f);
	return code;
}

TEST(args_global_options)
{
	struct args_global g;

	CHECK_INT(args_parse_global(4, ARGV("hf", "--data", "/d", "init"), &g), HF_OK);
	CHECK_STR(g.data, "/d");
	CHECK_INT(g.verb, 3);
	CHECK_INT(args_parse_global(3, ARGV("hf", "--data=/e", "init"), &g), HF_OK);
	CHECK_STR(g.data, "/e");
	CHECK_INT(g.verb, 2);
	CHECK_INT(args_parse_global(2, ARGV("hf", "--version"), &g), HF_OK);
	CHECK(g.version && g.verb == 2);
	CHECK_INT(args_parse_global(3, ARGV("hf", "-h", "init"), &g), HF_OK);
	CHECK(g.help && g.verb == 2);
	CHECK_INT(args_parse_global(2, ARGV("hf", "--data"), &g), HF_EINVAL);
	CHECK(test_log_has("--data needs a directory"));
	CHECK_INT(args_parse_global(2, ARGV("hf", "--data="), &g), HF_EINVAL);
	CHECK_INT(args_parse_global(3, ARGV("hf", "--frob", "init"), &g), HF_EINVAL);
	CHECK(test_log_has("unknown option '--frob'"));
	CHECK_INT(args_parse_global(3, ARGV("hf", "--", "init"), &g), HF_EINVAL);
}

static const struct args_opt opts[] = {
	{ "help", 'h', false }, { "name", 'n', true }, { "force", 0, false }, { NULL, 0, false }
};

TEST(args_next_options_and_positionals)
{
	char **argv = ARGV("--name", "a", "--name=b", "-n", "c", "pos", "-", "--force",
			   "--", "--name", "-h");
	struct args a = { 11, argv, 0, false, "verb" };
	const char *val;
	int idx;

	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_OPTION);
	CHECK(idx == 1 && !strcmp(val, "a"));
	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_OPTION);
	CHECK(idx == 1 && !strcmp(val, "b"));
	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_OPTION);
	CHECK(idx == 1 && !strcmp(val, "c"));
	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_POSITIONAL);
	CHECK_STR(val, "pos");
	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_POSITIONAL);
	CHECK_STR(val, "-");
	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_OPTION);
	CHECK_INT(idx, 2);
	/* after "--" everything is positional: the command and its flags */
	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_POSITIONAL);
	CHECK_STR(val, "--name");
	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_POSITIONAL);
	CHECK_STR(val, "-h");
	CHECK_INT(args_next(&a, opts, &idx, &val), ARGS_END);
}

TEST(args_next_errors)
{
	const char *val;
	int idx;
	struct args a1 = { 1, ARGV("--name"), 0, false, "verb" };
	struct args a2 = { 1, ARGV("--nam"), 0, false, "verb" };
	struct args a3 = { 1, ARGV("--force=yes"), 0, false, "verb" };
	struct args a4 = { 1, ARGV("-x"), 0, false, "verb" };
	struct args a5 = { 1, ARGV("-hn"), 0, false, "verb" };

	CHECK_INT(args_next(&a1, opts, &idx, &val), HF_EINVAL);
	CHECK(test_log_has("option --name needs a value"));
	CHECK_INT(args_next(&a2, opts, &idx, &val), HF_EINVAL);
	CHECK(test_log_has("unknown option '--nam'"));
	CHECK_INT(args_next(&a3, opts, &idx, &val), HF_EINVAL);
	CHECK(test_log_has("--force takes no value"));
	CHECK_INT(args_next(&a4, opts, &idx, &val), HF_EINVAL);
	CHECK_INT(args_next(&a5, opts, &idx, &val), HF_EINVAL);
}

TEST(cli_exit_codes_and_help)
{
	CHECK_INT(RUN("holdfast"), CLI_EXIT_USAGE);
	CHECK(test_log_has("no verb given"));
	CHECK_INT(RUN("holdfast", "frobnicate"), CLI_EXIT_USAGE);
	CHECK(test_log_has("unknown verb 'frobnicate'"));
	CHECK_INT(RUN("holdfast", "--help"), CLI_EXIT_OK);
	CHECK(strstr(outbuf, "usage: holdfast") && strstr(outbuf, "Exit status: 0 ok, 1"));
	CHECK(strstr(outbuf, "  init "));
	CHECK_INT(RUN("holdfast", "init", "--help"), CLI_EXIT_OK);
	CHECK(strstr(outbuf, "usage: holdfast [--data DIR] init [DIR]"));
	CHECK_INT(RUN("holdfast", "--help", "init"), CLI_EXIT_OK);
	CHECK(strstr(outbuf, "usage: holdfast [--data DIR] init [DIR]"));
	CHECK_INT(RUN("holdfast", "help", "init"), CLI_EXIT_OK);
	CHECK(strstr(outbuf, "usage: holdfast [--data DIR] init [DIR]"));
	CHECK_INT(RUN("holdfast", "help", "nope"), CLI_EXIT_USAGE);
	CHECK_INT(RUN("holdfast", "version", "x"), CLI_EXIT_USAGE);
	CHECK_INT(RUN("holdfast", "--version"), CLI_EXIT_OK);
	CHECK(strstr(outbuf, "holdfast 0.") && strstr(outbuf, "SQLite  3.46.1"));
	CHECK(strstr(outbuf, "mbedTLS 3.6.6") && strstr(outbuf, "zstd    1.5.7"));
	/* The C library linked in: musl 1.2.5 on every board, the toolchain's
	** glibc on the sanitizer build (board/host-asan). */
	CHECK(strstr(outbuf, strcmp(HF_LIBC, "musl") ? "glibc   2." : "musl    1.2.5"));
}

TEST(cli_init_usage_errors_touch_nothing)
{
	CHECK_INT(RUN("holdfast", "init", "a", "b"), CLI_EXIT_USAGE);
	CHECK(test_log_has("unexpected argument 'b'"));
	CHECK_INT(RUN("holdfast", "init", "--bogus", "a"), CLI_EXIT_USAGE);
	CHECK_INT(RUN("holdfast", "--data", "x", "init", "y"), CLI_EXIT_USAGE);
	CHECK(test_log_has("disagree"));
	CHECK_INT(RUN("holdfast", "init", ""), CLI_EXIT_USAGE);
	CHECK(access("a", F_OK) != 0 && access("x", F_OK) != 0 && access("y", F_OK) != 0);
}

TEST(cli_init_runs)
{
	CHECK_INT(RUN("holdfast", "init", "d"), CLI_EXIT_OK);
	CHECK_STR(outbuf, "initialised d\n");
	CHECK_INT(RUN("holdfast", "--data", "d", "init"), CLI_EXIT_FAIL);
	CHECK(test_log_has("already a holdfast data directory"));
	setenv("HOLDFAST_DATA", "e", 1);
	CHECK_INT(RUN("holdfast", "init"), CLI_EXIT_OK);
	CHECK(access("e/holdfast.db", F_OK) == 0);
}
