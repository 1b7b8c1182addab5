/*
** test_log.c: the log's levels on the journal's stream, and its rate limit
** (port/loglimit.h, and through port_logl).
*/
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loglimit.h"
#include "port.h"
#include "test.h"

/* Points stderr at a new file "err.txt" and returns its "DEV:INO". */
static const char *stderr_to_file(void)
{
	static char id[64];
	struct stat st;
	int fd = open("err.txt", O_CREAT | O_TRUNC | O_WRONLY, 0600);

	CHECK(fd >= 0);
	CHECK(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	close(fd);
	CHECK(fstat(STDERR_FILENO, &st) == 0);
	snprintf(id, sizeof(id), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	port_log_set_sink(NULL, NULL); /* to stderr, as the binary */
	return id;
}

TEST(log_journal_stream_gets_level_prefixes)
{
	setenv("JOURNAL_STREAM", stderr_to_file(), 1);
	CHECK(port_log_journal_stream());
	port_log("failed: %d", 1);
	port_warn("retrying");
	port_notice("stopping");
	port_info("pruned\nsomething"); /* one entry, one level */
	CHECK_STR(test_read_file("err.txt"), "<3>failed: 1\n<4>retrying\n<5>stopping\n"
					     "<6>pruned something\n");
}

TEST(log_other_stream_keeps_plain_lines)
{
	char other[64];
	const char *id = stderr_to_file();

	/* The journal's stream was another file: a redirected stderr. */
	snprintf(other, sizeof(other), "%s1", id);
	setenv("JOURNAL_STREAM", other, 1);
	CHECK(!port_log_journal_stream());
	port_warn("retrying");
	port_log("two\nlines");
	CHECK_STR(test_read_file("err.txt"), "holdfast: retrying\nholdfast: two\nlines\n");
}

TEST(log_no_journal_stream_keeps_plain_lines)
{
	unsetenv("JOURNAL_STREAM");
	stderr_to_file();
	setenv("JOURNAL_STREAM", "garbage", 1);
	CHECK(!port_log_journal_stream());
	unsetenv("JOURNAL_STREAM");
	CHECK(!port_log_journal_stream());
	port_info("hello");
	CHECK_STR(test_read_file("err.txt"), "holdfast: hello\n");
}

TEST(loglimit_burst_then_one_summary)
{
	struct loglimit l;
	char note[200];
	int lv = -1, allowed = 0;

	loglimit_init(&l, 3, 1000);
	for (int i = 0; i < 10; i++) {
		allowed += loglimit_allow(&l, "job log busy", PORT_LOG_WARNING, 100 + i, note,
					  sizeof(note), &lv);
		CHECK_STR(note, "");
	}
	CHECK_INT(allowed, 3);
	/* Another text is not held back by the first one's burst. */
	CHECK(loglimit_allow(&l, "metrics: cannot write", PORT_LOG_WARNING, 120, note, sizeof(note),
			     &lv));
	/* Nothing to say while the window lasts. */
	CHECK(!loglimit_flush(&l, 1099, note, sizeof(note), &lv));
	/* Its next line, after the window: the summary first, then the line. */
	CHECK(loglimit_allow(&l, "job log busy", PORT_LOG_ERR, 1100, note, sizeof(note), &lv));
	CHECK_STR(note, "suppressed 7 repeat(s) of: job log busy");
	CHECK_INT(lv, PORT_LOG_WARNING);
	/* A new window: its burst again. */
	CHECK(loglimit_allow(&l, "job log busy", PORT_LOG_ERR, 1101, note, sizeof(note), &lv));
	CHECK(loglimit_allow(&l, "job log busy", PORT_LOG_ERR, 1102, note, sizeof(note), &lv));
	CHECK(!loglimit_allow(&l, "job log busy", PORT_LOG_ERR, 1103, note, sizeof(note), &lv));
	/* Quiet after: a flush says it. */
	CHECK(loglimit_flush(&l, 2100, note, sizeof(note), &lv));
	CHECK_STR(note, "suppressed 1 repeat(s) of: job log busy");
	CHECK_INT(lv, PORT_LOG_ERR);
	CHECK(!loglimit_flush(&l, 2100, note, sizeof(note), &lv));
}

TEST(loglimit_window_without_drops_says_nothing)
{
	struct loglimit l;
	char note[200];
	int lv;

	loglimit_init(&l, 2, 1000);
	for (int i = 0; i < 6; i++) {
		CHECK(loglimit_allow(&l, "x", PORT_LOG_INFO, (uint64_t)i * 600, note, sizeof(note),
				     &lv));
		CHECK_STR(note, "");
	}
	CHECK(!loglimit_flush(&l, 100000, note, sizeof(note), &lv));
}

TEST(loglimit_off_allows_everything)
{
	struct loglimit l;
	char note[200];
	int lv;

	loglimit_init(&l, 0, 1000);
	for (int i = 0; i < 1000; i++)
		CHECK(loglimit_allow(&l, "x", PORT_LOG_INFO, 5, note, sizeof(note), &lv));
}

TEST(loglimit_evicted_slot_says_its_drops)
{
	struct loglimit l;
	char note[200], text[32];
	int lv;

	loglimit_init(&l, 1, 60000);
	CHECK(loglimit_allow(&l, "first", PORT_LOG_WARNING, 0, note, sizeof(note), &lv));
	CHECK(!loglimit_allow(&l, "first", PORT_LOG_WARNING, 1, note, sizeof(note), &lv));
	for (int i = 1; i < LOGLIMIT_SLOTS; i++) {
		snprintf(text, sizeof(text), "other %d", i);
		CHECK(loglimit_allow(&l, text, PORT_LOG_INFO, 10 + (uint64_t)i, note, sizeof(note),
				     &lv));
		CHECK_STR(note, "");
	}
	/* Every slot taken: the newest text takes the oldest's, whose drop is
	** said rather than lost. */
	CHECK(loglimit_allow(&l, "newcomer", PORT_LOG_INFO, 100, note, sizeof(note), &lv));
	CHECK_STR(note, "suppressed 1 repeat(s) of: first");
	CHECK_INT(lv, PORT_LOG_WARNING);
	/* A long text is summed up by its start. */
	char long_text[300];
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	loglimit_init(&l, 1, 10);
	loglimit_allow(&l, long_text, PORT_LOG_INFO, 0, note, sizeof(note), &lv);
	loglimit_allow(&l, long_text, PORT_LOG_INFO, 1, note, sizeof(note), &lv);
	CHECK(loglimit_flush(&l, 20, note, sizeof(note), &lv));
	CHECK(strstr(note, "aaaa...") != NULL);
	CHECK_INT(strlen(note), strlen("suppressed 1 repeat(s) of: ") + LOGLIMIT_TEXT - 1 + 3);
}

TEST(log_ratelimit_through_port_log)
{
	unsetenv("JOURNAL_STREAM");
	stderr_to_file();
	/* A window long enough that no stall of a loaded machine ends it
	** between the lines. */
	port_log_ratelimit(2, 1000);
	for (int i = 0; i < 5; i++)
		port_warn("the same failure");
	port_notice("another");
	usleep(1100 * 1000);
	port_log_flush();
	port_log_ratelimit(0, 0);
	for (int i = 0; i < 3; i++)
		port_info("unlimited");
	CHECK_STR(test_read_file("err.txt"),
		  "holdfast: the same failure\nholdfast: the same failure\nholdfast: another\n"
		  "holdfast: suppressed 3 repeat(s) of: the same failure\n"
		  "holdfast: unlimited\nholdfast: unlimited\nholdfast: unlimited\n");
}
