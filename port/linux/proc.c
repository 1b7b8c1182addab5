/*
** proc.c (linux): child processes, signals, poll and wake-ups.
**
** Children are started "gated" (see port.h): fork, then the child puts itself
** in a new process group, wires its stdio, resets the signal state it
** inherited (the daemon blocks signals for its signalfd; a job must not start
** with them blocked), and waits for one byte on the gate pipe before exec.
** The parent learns the pid at once, records it durably, then releases the
** gate. If the parent dies first, the gate reads EOF and the child exits 127
** without running the job: no process runs that the log does not know of.
**
** Released, the child closes every descriptor but 0-2 (a job inherits
** nothing of the daemon's: not its gate, not the job log), sets its
** rlimits, drops to the job's user with that user's groups if asked,
** sets no_new_privs and its umask, enters its directory, and execs.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stddef.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux_int.h"
#include "port.h"

/* Reads a /proc file (whose stat size is 0) into BUF[LEN], NUL-terminated. */
int linux_read_proc(const char *path, char *buf, size_t len, size_t *n)
{
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? HF_ENOENT : port_syserr("open", path, errno);
	do
		got = read(fd, buf, len - 1);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		int e = errno;
		close(fd);
		return port_syserr("read", path, e);
	}
	close(fd);
	buf[got] = '\0';
	*n = (size_t)got;
	return HF_OK;
}

/* Closes every descriptor from LOW up: close_range(2) (Linux 5.9), else
** each one /proc/self/fd lists, else every number below the fd limit. Runs
** in a forked child only: the daemon is single-threaded, so opendir's malloc
** is safe here. */
static void close_from(int low)
{
	DIR *d;
	struct dirent *de;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)low, ~0U, 0) == 0)
		return;
#endif
	if ((d = opendir("/proc/self/fd")) != NULL) {
		int self = dirfd(d);
		while ((de = readdir(d)) != NULL) {
			char *end;
			long fd = strtol(de->d_name, &end, 10);
			if (!*end && end != de->d_name && fd >= low && fd != self)
				close((int)fd);
		}
		closedir(d);
		return;
	}
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = low; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close((int)fd);
}

/* In the child: says what failed on the job's stderr (so it is in the
** attempt's output) and exits 127, the shell's "could not run". */
static void child_fail(const char *what, const char *arg, int e)
{
	dprintf(2, "holdfast: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(e));
	_exit(127);
}

void port_spawn_init(struct port_spawn *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->umask = 022;
}

static const int rlimit_res[PORT_RLIM_N] = { RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_CORE };
static const char *const rlimit_name[PORT_RLIM_N] = { "nofile", "as", "core" };

/*
** The child's privileges, in the order that works: limits while still
** privileged (raising a hard limit needs CAP_SYS_RESOURCE), then the
** supplementary groups, the group and last the user (after setuid nothing
** else may be changed); then a check that root cannot be taken back, as
** OpenBSD daemons do after their privilege drop. no_new_privs keeps a setuid
** binary the job runs from gaining what the job has not (prctl(2)).
*/
static void child_privileges(const struct port_spawn *sp)
{
	for (int i = 0; i < PORT_RLIM_N; i++) {
		struct rlimit rl;
		if (!sp->limit[i].set)
			continue;
		rl.rlim_cur = rl.rlim_max = sp->limit[i].value == PORT_RLIM_UNLIMITED ?
			RLIM_INFINITY : (rlim_t)sp->limit[i].value;
		if (setrlimit(rlimit_res[i], &rl) != 0)
			child_fail("setrlimit", rlimit_name[i], errno);
	}
	if (sp->user) {
		if (initgroups(sp->user, sp->gid) != 0)
			child_fail("initgroups", sp->user, errno);
		if (setgid(sp->gid) != 0)
			child_fail("setgid", sp->user, errno);
		if (setuid(sp->uid) != 0)
			child_fail("setuid", sp->user, errno);
		if (getuid() != sp->uid || geteuid() != sp->uid || getgid() != sp->gid ||
		    getegid() != sp->gid || (sp->uid != 0 && setuid(0) == 0))
			child_fail("dropping privileges to", sp->user, EPERM);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		child_fail("prctl", "PR_SET_NO_NEW_PRIVS", errno);
	umask(sp->umask & 0777);
}

/* The child's side of port_spawn_gated; never returns. */
static void child_exec(char *const argv[], char *const envp[], const struct port_spawn *sp,
		       int gate, int out, int err)
{
	sigset_t none;
	char go = 0;
	int devnull;

	setpgid(0, 0);
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
	    dup2(gate, 3) < 0)
		_exit(127);
	gate = 3;
	/* Until exec, this process holds copies of every descriptor of the
	** daemon: the job log, the wake socket (which would keep a restarted
	** daemon from binding it) and other children's gates (which would keep
	** those children from ever seeing EOF if the daemon dies). Drop them. */
	close_from(4);
	/* Wait for the parent's durable record of this attempt. */
	while (read(gate, &go, 1) < 0 && errno == EINTR)
		;
	if (go != 'g')
		_exit(127);
	/* The gate is done with: a job gets 0, 1 and 2 and nothing else
	** (dup2 cleared its close-on-exec). Closed, and everything from 3 up
	** closed again, should anything have been opened since. */
	close(gate);
	close_from(3);
	if (sp->refuse) {
		dprintf(2, "holdfast: %s\n", sp->refuse);
		_exit(127);
	}
	child_privileges(sp);
	/* After the drop, so the job's user must be able to enter it. */
	if (sp->cwd && chdir(sp->cwd) != 0)
		child_fail("chdir", sp->cwd, errno);
	execvpe(argv[0], argv, envp);
	child_fail("exec", argv[0], errno);
}

int port_spawn_gated(char *const argv[], char *const envp[], const struct port_spawn *sp,
		     struct port_child *c)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, gate[2] = { -1, -1 };
	int rc = HF_EBUG;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(gate, O_CLOEXEC)) {
		rc = port_syserr("pipe2", NULL, errno);
		goto out_close;
	}
	pid = fork();
	if (pid < 0) {
		rc = port_syserr("fork", argv[0], errno);
		goto out_close;
	}
	if (pid == 0)
		child_exec(argv, envp, sp, gate[0], out[1], err[1]);
	/* Also here: the group must exist before we might signal it. */
	setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	close(gate[0]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	c->pid = pid;
	c->out_fd = out[0];
	c->err_fd = err[0];
	c->gate_fd = gate[1];
	if (port_proc_start_time(pid, &c->start_time) != HF_OK)
		c->start_time = 0;
	return HF_OK;

out_close:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0) close(out[i]);
		if (err[i] >= 0) close(err[i]);
		if (gate[i] >= 0) close(gate[i]);
	}
	return rc;
}

int port_child_release(struct port_child *c)
{
	ssize_t n;

	do
		n = write(c->gate_fd, "g", 1);
	while (n < 0 && errno == EINTR);
	close(c->gate_fd);
	c->gate_fd = -1;
	return n == 1 ? HF_OK : port_syserr("write", "gate", errno);
}

void port_child_abort(struct port_child *c)
{
	if (c->gate_fd >= 0) {
		close(c->gate_fd);
		c->gate_fd = -1;
	}
}

int port_run_piped(char *const argv[], char *const envp[], pid_t *pid, int *out_fd)
{
	posix_spawn_file_actions_t fa;
	int out[2], e;

	if (pipe2(out, O_CLOEXEC))
		return port_syserr("pipe2", NULL, errno);
	/* posix_spawn, not fork: the child shares our memory until it execs
	** (CLONE_VM|CLONE_VFORK), so no page table is copied; a fork of a
	** process that has opened the job log took 1-2 ms here (issue 19,
	** BENCHMARKS.md "Durable steps"). The pipe's write end becomes its
	** stdout (dup2 clears close-on-exec on 1); every other descriptor of
	** ours is close-on-exec. */
	if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
		close(out[0]);
		close(out[1]);
		return port_syserr("posix_spawn_file_actions_init", NULL, e);
	}
	e = posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	if (e == 0)
		e = posix_spawnp(pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	if (e != 0) {
		close(out[0]);
		port_log("exec %s: %s", argv[0], strerror(e));
		return e == ENOENT ? HF_ENOENT : HF_EACCES;
	}
	*out_fd = out[0];
	return HF_OK;
}

int port_wait(pid_t pid, int *exit_code, int *sig)
{
	int status;
	pid_t p;

	do
		p = waitpid(pid, &status, 0);
	while (p < 0 && errno == EINTR);
	if (p < 0)
		return port_syserr("waitpid", NULL, errno);
	*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : -1;
	return HF_OK;
}

/* From /proc/PID/stat (proc(5)): the state letter, process group (field 5)
** and start time (field 22). HF_ENOENT if there is no such process. */
static int proc_stat(pid_t pid, char *state, pid_t *pgrp, int64_t *t)
{
	char path[64], text[1024], *p;
	size_t n;
	int rc, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((rc = linux_read_proc(path, text, sizeof(text), &n)) != HF_OK)
		return rc;
	/* Field 2 (comm) may hold spaces and parentheses: skip to its last ')'. */
	p = strrchr(text, ')');
	rc = HF_ECORRUPT;
	for (field = 2; p && *p; p++) {
		if (*p != ' ')
			continue;
		field++;
		if (field == 3)
			*state = p[1];
		else if (field == 5)
			*pgrp = (pid_t)strtol(p + 1, NULL, 10);
		else if (field == 22) {
			*t = strtoll(p + 1, NULL, 10);
			rc = HF_OK;
			break;
		}
	}
	return rc;
}

int port_proc_start_time(pid_t pid, int64_t *t)
{
	char state;
	pid_t pgrp;

	return proc_stat(pid, &state, &pgrp, t);
}

/*
** Whether process PID's environment holds every entry of MARKS. Streamed in
** pieces against the marks still matching the entry at hand, since an
** environment may be as large as ARG_MAX. Unreadable (gone, or not ours to
** read): false.
*/
static bool environ_has(pid_t pid, const char *const marks[])
{
	char path[64], buf[4096];
	unsigned nmarks = 0, all, live, found = 0;
	size_t pos = 0;
	ssize_t got;
	int fd;

	while (marks[nmarks] && nmarks < 8)
		nmarks++;
	all = live = (1u << nmarks) - 1;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	for (;;) {
		do
			got = read(fd, buf, sizeof(buf));
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			for (unsigned m = 0; m < nmarks; m++) {
				if (!(live & (1u << m)))
					continue;
				/* A mark that ends with the entry matched it; one that
				** differs (or ends early) cannot match this entry. */
				if (buf[i] == '\0' && marks[m][pos] == '\0')
					found |= 1u << m;
				else if (marks[m][pos] != buf[i])
					live &= ~(1u << m);
			}
			if (buf[i] == '\0') {
				live = all;
				pos = 0;
			} else {
				pos++;
			}
		}
	}
	close(fd);
	return nmarks > 0 && found == all;
}

/* Looks through /proc for the members of group PGID that have not exited
** (zombies aside): *LIVE of them; *OLDER if one started before START_TIME;
** *MARKED if one carries MARKS (not looked at if MARKS is NULL). */
static int group_members(pid_t pgid, int64_t start_time, const char *const marks[],
			 unsigned *live, bool *older, bool *marked)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	*live = 0;
	*older = *marked = false;
	if (!d)
		return port_syserr("opendir", "/proc", errno);
	while ((de = readdir(d)) != NULL) {
		char *end, state;
		long pid = strtol(de->d_name, &end, 10);
		pid_t pgrp;
		int64_t t;

		if (*end || pid <= 0 || proc_stat((pid_t)pid, &state, &pgrp, &t) != HF_OK ||
		    pgrp != pgid || state == 'Z')
			continue;
		(*live)++;
		if (t < start_time)
			*older = true;
		else if (marks && !*marked)
			*marked = environ_has((pid_t)pid, marks);
	}
	closedir(d);
	return HF_OK;
}

int port_kill_orphan_group(pid_t pgid, int64_t start_time, const char *const marks[], int sig,
			   enum port_orphan *found)
{
	bool older, marked, zombie;
	unsigned live;
	char state = '?';
	pid_t pgrp;
	int64_t t;
	int rc;

	*found = PORT_ORPHAN_NONE;
	rc = proc_stat(pgid, &state, &pgrp, &t);
	if (rc == HF_OK && t != start_time)
		return HF_OK; /* a stranger took the pid: our group is gone */
	if (rc != HF_OK && rc != HF_ENOENT)
		return rc;
	zombie = rc == HF_OK && state == 'Z';
	if (rc == HF_OK && !zombie) {
		if ((rc = port_kill_group(pgid, sig)) == HF_OK)
			*found = PORT_ORPHAN_LEADER;
		return rc;
	}
	/* The leader exited. Its zombie still vouches for its group; with the
	** leader gone, the members must show they are the job's. */
	if ((rc = group_members(pgid, start_time, zombie ? NULL : marks, &live, &older,
				&marked)) != HF_OK)
		return rc;
	if (!live || (!zombie && (older || !marked)))
		return HF_OK;
	if ((rc = port_kill_group(pgid, sig)) == HF_OK)
		*found = PORT_ORPHAN_MEMBERS;
	return rc;
}

int port_kill_group(pid_t pgid, int sig)
{
	if (pgid <= 1)
		return HF_EBUG; /* never -1 or -0: that would signal everything */
	if (kill(-pgid, sig) != 0 && errno != ESRCH)
		return port_syserr("kill", NULL, errno);
	return HF_OK;
}

int port_reap(pid_t *pid, int *exit_code, int *sig)
{
	int status;
	pid_t p;

	do
		p = waitpid(-1, &status, WNOHANG);
	while (p < 0 && errno == EINTR);
	if (p > 0) {
		*pid = p;
		*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		*sig = WIFSIGNALED(status) ? WTERMSIG(status) : -1;
		return HF_OK;
	}
	if (p < 0 && errno != ECHILD)
		return port_syserr("waitpid", NULL, errno);
	return HF_ENOENT;
}

int port_read_nb(int fd, void *buf, size_t len, size_t *got)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0) {
		*got = (size_t)n;
		return HF_OK;
	}
	if (errno == EAGAIN)
		return HF_EBUSY;
	return port_syserr("read", "pipe", errno);
}

void port_close(int fd)
{
	if (fd >= 0)
		port_sys.close(fd);
}

int port_signals_open(int *fd)
{
	sigset_t set;
	int f;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return port_syserr("sigprocmask", NULL, errno);
	f = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (f < 0)
		return port_syserr("signalfd", NULL, errno);
	/* A closed reader must not kill us (SIGPIPE on a job's pipe or a
	** `holdfast logs | head`). */
	signal(SIGPIPE, SIG_IGN);
	*fd = f;
	return HF_OK;
}

int port_signals_read(int fd, int *sig)
{
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof(si));

	if (n == (ssize_t)sizeof(si)) {
		*sig = (int)si.ssi_signo;
		return HF_OK;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return port_syserr("read", "signalfd", errno);
	return HF_EBUSY;
}

int port_poll(struct pollfd *fds, unsigned n, int timeout_ms)
{
	uint64_t end = timeout_ms >= 0 ? port_clock_mono_ms() + (uint64_t)timeout_ms : 0;
	int r;

	for (;;) {
		r = poll(fds, n, timeout_ms);
		if (r >= 0)
			return HF_OK;
		if (errno != EINTR)
			return port_syserr("poll", NULL, errno);
		if (timeout_ms >= 0) {
			uint64_t now = port_clock_mono_ms();
			timeout_ms = now >= end ? 0 : (int)(end - now);
		}
	}
}

/* The abstract socket address of DIR's daemon. */
static int wake_addr(const char *dir, struct sockaddr_un *sa, socklen_t *len)
{
	struct stat st;
	int n;

	if (stat(dir, &st) != 0)
		return port_syserr("stat", dir, errno);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* sun_path[0] == 0: Linux's abstract namespace. */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "holdfast/%llx/%llx",
		     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	return HF_OK;
}

/* A datagram socket and DIR's wake address. */
static int wake_socket(const char *dir, struct sockaddr_un *sa, socklen_t *len, int *f)
{
	int rc;

	if ((rc = wake_addr(dir, sa, len)) != HF_OK)
		return rc;
	*f = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return *f < 0 ? port_syserr("socket", NULL, errno) : HF_OK;
}

int port_wake_listen(const char *dir, int *fd)
{
	struct sockaddr_un sa;
	socklen_t len;
	int f, rc;

	if ((rc = wake_socket(dir, &sa, &len, &f)) != HF_OK)
		return rc;
	if (bind(f, (struct sockaddr *)&sa, len) != 0) {
		int e = errno;
		close(f);
		if (e == EADDRINUSE)
			return HF_EBUSY;
		return port_syserr("bind", dir, e);
	}
	*fd = f;
	return HF_OK;
}

int port_wake_send(const char *dir)
{
	struct sockaddr_un sa;
	socklen_t len;
	int f, rc;

	if ((rc = wake_socket(dir, &sa, &len, &f)) != HF_OK)
		return rc;
	/* EAGAIN: the daemon's queue is full of wake-ups already; it is
	** listening and will wake, which is all a poke asks for. */
	rc = sendto(f, "w", 1, 0, (struct sockaddr *)&sa, len) == 1 || errno == EAGAIN ?
		HF_OK : HF_ENOENT;
	close(f);
	return rc;
}

int port_wake_probe(const char *dir)
{
	struct sockaddr_un sa;
	socklen_t len;
	int f, rc;

	if ((rc = wake_socket(dir, &sa, &len, &f)) != HF_OK)
		return rc;
	/* connect(2) on a datagram socket only checks that the address is
	** bound (ECONNREFUSED if not); nothing is sent. */
	rc = connect(f, (struct sockaddr *)&sa, len) == 0 ? HF_OK : HF_ENOENT;
	close(f);
	return rc;
}

int port_wake_ask(const char *dir, const char *question, char *reply, size_t len,
		  int timeout_ms)
{
	struct sockaddr_un sa, self = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	socklen_t salen;
	ssize_t n;
	int f, rc;

	if ((rc = wake_socket(dir, &sa, &salen, &f)) != HF_OK)
		return rc;
	/* Bound to nothing but the family: Linux picks a free abstract name,
	** the address the daemon answers to. */
	if (bind(f, (struct sockaddr *)&self, sizeof(sa_family_t)) != 0) {
		rc = port_syserr("bind", "(autobind)", errno);
		goto out;
	}
	if (sendto(f, question, strlen(question), 0, (struct sockaddr *)&sa, salen) < 0) {
		rc = errno == EAGAIN ? HF_EBUSY : HF_ENOENT;
		goto out;
	}
	pfd = (struct pollfd){ .fd = f, .events = POLLIN };
	if ((rc = port_poll(&pfd, 1, timeout_ms)) != HF_OK)
		goto out;
	n = recv(f, reply, len ? len - 1 : 0, 0);
	if (n < 0) {
		rc = HF_EBUSY; /* no answer in time */
		goto out;
	}
	reply[n] = '\0';
	rc = HF_OK;
out:
	close(f);
	return rc;
}

bool port_wake_drain(int fd, void (*answer)(const char *question, char *reply, size_t len,
					    void *arg), void *arg)
{
	char buf[64], reply[512];
	struct sockaddr_un from;
	socklen_t flen;
	bool poked = false;
	ssize_t n;

	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return poked;
		buf[n] = '\0';
		/* A question from an unbound (unnamed) socket cannot be answered. */
		if (n == 0 || buf[0] != '?' || flen <= sizeof(sa_family_t)) {
			poked = true;
			continue;
		}
		reply[0] = '\0';
		if (answer)
			answer(buf, reply, sizeof(reply), arg);
		/* Never waits: an asker that went away loses its answer. */
		(void)sendto(fd, reply, strlen(reply), MSG_DONTWAIT, (struct sockaddr *)&from, flen);
	}
}
