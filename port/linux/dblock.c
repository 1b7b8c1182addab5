/*
** dblock.c (linux): the job log's write lock: taking turns, and who holds it.
**
** A CLI verb that waited its whole busy timeout for the write lock should say
** who holds it, not only "database is locked". In WAL mode SQLite's unix VFS
** takes the write lock as a POSIX record lock on one byte of the "-shm" file:
** byte UNIX_SHM_BASE + WAL_WRITE_LOCK, that is (22 + SQLITE_SHM_NLOCK) * 4 + 0
** = 120 (sqlite3.c, "unixShmLock" and the UNIX_SHM_BASE comment). F_GETLK on
** that byte names a process that holds it. The answer is advice for a
** message, read after the fact, and may already be stale.
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include "linux_int.h"
#include "port.h"

#define SHM_WRITE_LOCK_BYTE 120

int port_db_writer(const char *db_path, int *pid, char *cmd, size_t len)
{
	char path[4096], text[256];
	struct flock fl;
	size_t n;
	int fd, rc;

	if (snprintf(path, sizeof(path), "%s-shm", db_path) >= (int)sizeof(path))
		return HF_ETOOBIG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return HF_ENOENT;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = SHM_WRITE_LOCK_BYTE;
	fl.l_len = 1;
	rc = fcntl(fd, F_GETLK, &fl);
	close(fd);
	if (rc < 0 || fl.l_type == F_UNLCK || fl.l_pid <= 0)
		return HF_ENOENT;
	*pid = (int)fl.l_pid;
	cmd[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", *pid);
	if (len && linux_read_proc(path, text, sizeof(text), &n) == HF_OK) {
		/* Arguments are NUL-separated: show them with spaces, and only
		** printable bytes (this goes to a terminal). */
		size_t o = 0;
		for (size_t i = 0; i < n && o + 1 < len; i++)
			cmd[o++] = text[i] == '\0' ? ' ' : (text[i] < 0x20 || text[i] == 0x7f) ? '?' : text[i];
		while (o > 0 && cmd[o - 1] == ' ')
			o--;
		cmd[o] = '\0';
	}
	return HF_OK;
}

/*
** The writers' turnstile. SQLite's busy handler polls: it sleeps 1, 2, 5, ...
** up to 100 ms between tries and never queues. A daemon that commits tick
** after tick holds the write lock most of the time, and a `holdfast submit`
** that polls keeps missing the gaps: with a deep queue draining, 9 of 10
** submits gave up after 5 s (issue 14). So every holdfast writer first takes
** an exclusive flock(2) on the data directory and holds it for its write
** transaction. A waiter blocks in the kernel and is woken when the lock is
** let go, before the daemon's next tick asks again: writers take turns.
** flock locks belong to the open file description, so they do not disturb
** SQLite's POSIX locks on the database files (which a close(2) of another
** descriptor of those files would drop: the reason it is the directory).
** The wait is bounded by an interval timer whose SIGALRM interrupts it.
*/
static void on_alarm(int sig)
{
	(void)sig;
}

int port_turnstile_open(const char *dir, int *fd)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (d < 0)
		return port_syserr("open", dir, errno);
	*fd = d;
	return HF_OK;
}

int port_turnstile_enter(int fd, uint64_t timeout_ms)
{
	struct sigaction sa, old_sa;
	struct itimerval it, old_it;
	int rc, err;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return HF_OK;
	if (errno != EWOULDBLOCK)
		return port_syserr("flock", "data directory", errno);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm ends the wait */
	sigemptyset(&sa.sa_mask);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)(timeout_ms / 1000);
	it.it_value.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	if (sigaction(SIGALRM, &sa, &old_sa) != 0)
		return port_syserr("sigaction", "SIGALRM", errno);
	setitimer(ITIMER_REAL, &it, &old_it);
	rc = flock(fd, LOCK_EX);
	err = errno;
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	sigaction(SIGALRM, &old_sa, NULL);
	if (rc == 0)
		return HF_OK;
	return err == EINTR ? HF_EBUSY : port_syserr("flock", "data directory", err);
}

void port_turnstile_leave(int fd)
{
	if (fd >= 0)
		flock(fd, LOCK_UN);
}

/* Whether a process waits at the turnstile FD now: a blocked flock on its
** directory, which /proc/locks lists as "N: -> FLOCK ADVISORY WRITE PID
** MAJ:MIN:INODE ..." (fs/locks.c, lock_get_status; major and minor in
** hex). One read of a small kernel table, so the daemon can ask every tick. */
bool port_turnstile_waited(int fd)
{
	static char text[64 * 1024];
	char id[64];
	struct stat st;
	size_t n;

	if (fstat(fd, &st) != 0)
		return false;
	snprintf(id, sizeof(id), " %02x:%02x:%llu ", major(st.st_dev), minor(st.st_dev),
		 (unsigned long long)st.st_ino);
	if (linux_read_proc("/proc/locks", text, sizeof(text), &n) != HF_OK)
		return false;
	for (char *hit = strstr(text, id); hit; hit = strstr(hit + 1, id)) {
		char *line = hit;

		while (line > text && line[-1] != '\n')
			line--;
		*hit = '\0';
		bool blocked = strstr(line, " -> FLOCK ") != NULL;
		*hit = ' ';
		if (blocked)
			return true;
	}
	return false;
}
