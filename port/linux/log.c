/*
** log.c (linux): where messages go, at what level, and how often.
**
** A message is one line. It goes, in this order of preference:
**   - to the sink a test or the daemon's full-disk mode set
**     (port_log_set_sink), with its level;
**   - to syslog(3), facility LOG_DAEMON, once port_log_syslog() was called
**     (`holdfast run --syslog`, for inits without a journal); errors go
**     to standard error as well, as below;
**   - to standard error, as "holdfast: MESSAGE". When standard error is the
**     journal's stream, systemd says so in $JOURNAL_STREAM ("DEV:INO" of
**     that stream, sd-daemon(3), systemd.exec(5)): then the line is
**     "<N>MESSAGE", N the syslog level, which journald strips and keeps as
**     the entry's PRIORITY (and the "holdfast: " is left out: the journal
**     names the program itself). Comparing the device and inode, and not
**     just seeing the variable, tells a child whose stderr was redirected
**     from one that inherited the journal's.
** Each path writes a line with one call (write(2), syslog(3)), so lines of
** several processes, or of a task's thread, do not mix.
**
** With port_log_ratelimit() on (the daemon), a text repeated past its burst
** is dropped and counted (loglimit.h); the sink sees every line.
*/
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "loglimit.h"
#include "port.h"

static void (*log_sink)(int level, const char *line, void *arg);
static void *log_sink_arg;
static bool to_syslog;
static int journal = -1;        /* stderr is the journal's stream: 1; not: 0; unknown: -1 */
static struct loglimit limit;   /* burst 0 (zeroed): off */
/* A task's thread logs too (port_task_start): the limiter's slots are
** shared state. */
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

void port_log_set_sink(void (*sink)(int level, const char *line, void *arg), void *arg)
{
	log_sink = sink;
	log_sink_arg = arg;
}

bool port_log_journal_stream(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

int port_log_syslog(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	struct stat st;

	/* syslog(3) says nothing when no one listens, and the messages would be
	** lost: look first. */
	if (stat(sa.sun_path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		port_logl(PORT_LOG_WARNING, "no syslog daemon listens at %s: messages go to "
			  "standard error", sa.sun_path);
		return HF_ENOENT;
	}
	openlog("holdfast", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
	return HF_OK;
}

void port_log_ratelimit(unsigned burst, uint64_t interval_ms)
{
	pthread_mutex_lock(&limit_lock);
	loglimit_init(&limit, burst, interval_ms);
	pthread_mutex_unlock(&limit_lock);
}

static void emit(int level, char *line)
{
	if (journal < 0)
		journal = port_log_journal_stream();
	/* One message, one entry: the journal and syslog take a newline for
	** the start of another, which would lose the level. */
	for (char *p = line; (to_syslog || journal) && (p = strchr(p, '\n'));)
		*p = ' ';
	if (to_syslog) {
		syslog(level, "%s", line);
		/* An error also goes to stderr: it is why the daemon stops, and an
		** init script that started it shows its stderr, not syslog. */
		if (level <= PORT_LOG_ERR)
			dprintf(STDERR_FILENO, "holdfast: %s\n", line);
		return;
	}
	if (journal)
		dprintf(STDERR_FILENO, "<%d>%s\n", level, line);
	else
		dprintf(STDERR_FILENO, "holdfast: %s\n", line);
}

void port_log_flush(void)
{
	char note[LOGLIMIT_TEXT + 64];
	int lv;

	if (!limit.burst)
		return;
	pthread_mutex_lock(&limit_lock);
	while (loglimit_flush(&limit, port_clock_mono_ms(), note, sizeof(note), &lv))
		emit(lv, note);
	pthread_mutex_unlock(&limit_lock);
}

/* Checked at each caller's format: clang's -Wformat-nonliteral wants the
 * va_list function marked as a printf-like one too. */
__attribute__((format(printf, 2, 0)))
static void vlog(int level, const char *fmt, va_list ap)
{
	char line[1024], note[LOGLIMIT_TEXT + 64];
	bool allow = true;
	int lv;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_sink) {
		log_sink(level, line, log_sink_arg);
		return;
	}
	if (limit.burst) {
		uint64_t now = port_clock_mono_ms();

		pthread_mutex_lock(&limit_lock);
		while (loglimit_flush(&limit, now, note, sizeof(note), &lv))
			emit(lv, note);
		allow = loglimit_allow(&limit, line, level, now, note, sizeof(note), &lv);
		if (note[0])
			emit(lv, note);
		pthread_mutex_unlock(&limit_lock);
	}
	if (allow)
		emit(level, line);
}

void port_logl(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void port_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(PORT_LOG_ERR, fmt, ap);
	va_end(ap);
}
