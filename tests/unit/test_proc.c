/*
** test_proc.c: gated children, process groups, wake-ups.
*/
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "port.h"
#include "test.h"

/* Waits up to MS for PID to exit; its status, or -1 on timeout. */
static int wait_exit(pid_t pid, int ms)
{
	int status;

	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	return -1;
}

static const struct port_spawn plain = { .umask = 022 };
static const struct port_spawn root_dir = { .cwd = "/", .umask = 022 };

static char *const ECHO[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };

TEST(proc_gated_child_runs_only_after_release)
{
	struct port_child c;
	char buf[64];
	size_t got = 0, n;
	int status;

	CHECK_INT(port_spawn_gated(ECHO, port_environ(), &root_dir, &c), HF_OK);
	CHECK(c.pid > 0);
	CHECK(c.start_time > 0);
	int64_t t;
	CHECK_INT(port_proc_start_time(c.pid, &t), HF_OK);
	CHECK_INT(t, c.start_time);
	CHECK_INT(getpgid(c.pid), c.pid);   /* its own process group */
	usleep(100000);
	CHECK(waitpid(c.pid, &status, WNOHANG) == 0); /* still at the gate */
	CHECK_INT(port_child_release(&c), HF_OK);
	status = wait_exit(c.pid, 5000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	while (port_read_nb(c.out_fd, buf + got, sizeof(buf) - 1 - got, &n) == HF_OK && n)
		got += n;
	buf[got] = '\0';
	CHECK_STR(buf, "out\n");
	port_close(c.out_fd);
	port_close(c.err_fd);
}

TEST(proc_aborted_child_never_runs_even_beside_others)
{
	struct port_child a, b;
	char *const touch[] = { "touch", "ran", NULL };
	int status;

	/* b is forked after a and so (before exec) holds copies of the
	** daemon's descriptors, a's gate among them: a must still see EOF. */
	CHECK_INT(port_spawn_gated(touch, port_environ(), &plain, &a), HF_OK);
	CHECK_INT(port_spawn_gated(touch, port_environ(), &plain, &b), HF_OK);
	port_child_abort(&a);
	status = wait_exit(a.pid, 3000);
	CHECK(status != -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	CHECK(access("ran", F_OK) != 0);
	port_child_abort(&b);
	CHECK(wait_exit(b.pid, 3000) != -1);
	CHECK(access("ran", F_OK) != 0);
}

TEST(proc_kill_group_reaches_grandchildren)
{
	struct port_child c;
	char *const tree[] = { "sh", "-c", "sleep 30 & sleep 30; wait", NULL };
	int status;

	CHECK_INT(port_spawn_gated(tree, port_environ(), &plain, &c), HF_OK);
	CHECK_INT(port_child_release(&c), HF_OK);
	usleep(200000);
	CHECK_INT(port_kill_group(c.pid, SIGKILL), HF_OK);
	status = wait_exit(c.pid, 3000);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The background sleep was in the group too: the pipe reaches EOF. */
	char buf[16];
	size_t n = 1;
	for (int i = 0; i < 300 && n; i++) {
		int rc = port_read_nb(c.out_fd, buf, sizeof(buf), &n);
		if (rc == HF_EBUSY) {
			usleep(10000);
			n = 1;
		}
	}
	CHECK_INT(n, 0);
	CHECK_INT(port_kill_group(1, SIGKILL), HF_EBUG); /* never everything */
	port_close(c.out_fd);
	port_close(c.err_fd);
}

TEST(proc_boot_id_and_wake)
{
	char id[64];
	int fd, fd2;

	CHECK_INT(port_boot_id(id, sizeof(id)), HF_OK);
	CHECK_INT(strlen(id), 36); /* a UUID */
	CHECK_INT(port_wake_send("."), HF_ENOENT); /* nobody listens */
	CHECK_INT(port_wake_listen(".", &fd), HF_OK);
	CHECK_INT(port_wake_listen(".", &fd2), HF_EBUSY); /* one daemon per directory */
	CHECK_INT(port_wake_send("."), HF_OK);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK_INT(port_poll(&p, 1, 1000), HF_OK);
	CHECK(p.revents & POLLIN);
	CHECK(port_wake_drain(fd, NULL, NULL)); /* a poke */
	CHECK(!port_wake_drain(fd, NULL, NULL)); /* nothing more */
	port_close(fd);
	CHECK_INT(port_wake_listen(".", &fd2), HF_OK); /* free again */
	port_close(fd2);
}

static void echo_answer(const char *question, char *reply, size_t len, void *arg)
{
	snprintf(reply, len, "%s: %s", (const char *)arg, question);
}

/* status asks the daemon for its state: answered, or said to be unanswered. */
TEST(proc_wake_ask_is_answered)
{
	char reply[64];
	int fd, status;
	pid_t pid;

	CHECK_INT(port_wake_ask(".", "?state", reply, sizeof(reply), 100), HF_ENOENT);
	CHECK_INT(port_wake_listen(".", &fd), HF_OK);
	/* Listening but not reading: no answer in time. */
	CHECK_INT(port_wake_ask(".", "?state", reply, sizeof(reply), 50), HF_EBUSY);
	/* Its question is no poke; the asker is gone, the answer lost. */
	CHECK(!port_wake_drain(fd, echo_answer, "daemon"));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		for (;;) {
			if (port_poll(&p, 1, 10000) != HF_OK || !(p.revents & POLLIN))
				_exit(2);
			if (port_wake_drain(fd, echo_answer, "daemon"))
				_exit(0); /* poked: done */
		}
	}
	CHECK_INT(port_wake_ask(".", "?state", reply, sizeof(reply), 5000), HF_OK);
	CHECK_STR(reply, "daemon: ?state");
	CHECK_INT(port_wake_send("."), HF_OK);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	port_close(fd);
}

/* Reads all of C's stdout (until EOF) into BUF[LEN]. */
static void read_all(struct port_child *c, char *buf, size_t len)
{
	size_t got = 0, n = 1;

	for (int i = 0; i < 500 && got < len - 1; i++) {
		int rc = port_read_nb(c->out_fd, buf + got, len - 1 - got, &n);
		if (rc == HF_OK && n == 0)
			break;
		if (rc == HF_OK)
			got += n;
		else
			usleep(10000);
	}
	buf[got] = '\0';
}

/* Only 0, 1 and 2 reach the job (the shell's own fds, listed by a child
** via /proc/$$/fd, so ls's directory fd is not among them; no pipe of the
** shell's own either, which $(...) would add); no_new_privs is set;
** the umask and the limits are the ones asked for. */
TEST(proc_job_gets_only_stdio_and_its_limits)
{
	char *const sh[] = { "sh", "-c", "ls /proc/$$/fd; umask; "
			     "grep NoNewPrivs /proc/$$/status | tr -d ' \\t'; "
			     "awk '/Max open files|Max core/ {print $(NF-2), $(NF-1)}' "
			     "/proc/$$/limits", NULL };
	struct port_spawn sp = { .umask = 027 };
	struct port_child c;
	char buf[512];
	int leak = open("/dev/null", O_RDONLY); /* not close-on-exec: a leak to be */

	CHECK(leak >= 3);
	sp.limit[PORT_RLIM_NOFILE].set = true;
	sp.limit[PORT_RLIM_NOFILE].value = 77;
	sp.limit[PORT_RLIM_CORE].set = true;
	sp.limit[PORT_RLIM_CORE].value = 0;
	CHECK_INT(port_spawn_gated(sh, port_environ(), &sp, &c), HF_OK);
	close(leak);
	CHECK_INT(port_child_release(&c), HF_OK);
	read_all(&c, buf, sizeof(buf));
	CHECK_STR(buf, "0\n1\n2\n0027\nNoNewPrivs:1\n0 0\n77 77\n");
	CHECK(wait_exit(c.pid, 3000) != -1);
	port_close(c.out_fd);
	port_close(c.err_fd);
}

/* A step's command: our process group and stderr, its stdout a pipe; one
** that cannot be run is said and has no child. */
TEST(proc_run_piped_gives_stdout_and_status)
{
	char *const sig[] = { "sh", "-c", "kill -9 $$", NULL };
	char *const none[] = { "/nonexistent/holdfast-test", NULL };
	char buf[64];
	size_t got = 0, n;
	pid_t pid;
	int fd, code, s;

	CHECK_INT(port_run_piped(ECHO, port_environ(), &pid, &fd), HF_OK);
	while (port_read_nb(fd, buf + got, sizeof(buf) - 1 - got, &n) == HF_OK && n > 0)
		got += n;
	port_close(fd);
	buf[got] = '\0';
	CHECK_STR(buf, "out\n");
	/* Ours (not reaped yet, so it still has one): a job's kill reaches it. */
	CHECK_INT((int)getpgid(pid), (int)getpgrp());
	CHECK_INT(port_wait(pid, &code, &s), HF_OK);
	CHECK_INT(code, 3);
	CHECK_INT(s, -1);
	CHECK_INT(port_run_piped(sig, port_environ(), &pid, &fd), HF_OK);
	port_close(fd);
	CHECK_INT(port_wait(pid, &code, &s), HF_OK);
	CHECK_INT(code, -1);
	CHECK_INT(s, 9);
	CHECK_INT(port_run_piped(none, port_environ(), &pid, &fd), HF_ENOENT);
}
