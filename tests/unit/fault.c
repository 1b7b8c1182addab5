/*
** fault.c (tests/unit): fail the Nth system call of a kind, through the port's
** syscall table, as SQLite's test_syscall.c does for its aSyscall[].
*/
#include <errno.h>

#include "port.h"
#include "test.h"

static struct port_syscalls real;
static enum fault_call armed_call;
static int armed_nth, armed_err, fired;
static enum fault_call last_fired = FAULT_NCALLS;
static bool armed_persistent, armed;
static int calls[FAULT_NCALLS + 1];

/* Counts a call of kind C; true if it must fail (errno is then set). */
static bool hit(enum fault_call c)
{
	int n;

	calls[c]++;
	calls[FAULT_NCALLS]++;
	if (!armed)
		return false;
	n = calls[armed_call == FAULT_NCALLS ? FAULT_NCALLS : armed_call];
	if ((armed_call == c || armed_call == FAULT_NCALLS) &&
	    (n == armed_nth || (armed_persistent && n > armed_nth))) {
		fired++;
		last_fired = c;
		errno = armed_err;
		return true;
	}
	return false;
}

static int f_open(const char *p, int fl, mode_t m) { return hit(FAULT_OPEN) ? -1 : real.open(p, fl, m); }
static int f_close(int fd)
{
	/* A failed close still releases the descriptor, as on Linux. */
	if (hit(FAULT_CLOSE)) {
		int e = errno;
		real.close(fd);
		errno = e;
		return -1;
	}
	return real.close(fd);
}
static ssize_t f_read(int fd, void *b, size_t n) { return hit(FAULT_READ) ? -1 : real.read(fd, b, n); }
static ssize_t f_write(int fd, const void *b, size_t n) { return hit(FAULT_WRITE) ? -1 : real.write(fd, b, n); }
static int f_fsync(int fd) { return hit(FAULT_FSYNC) ? -1 : real.fsync(fd); }
static int f_rename(const char *a, const char *b) { return hit(FAULT_RENAME) ? -1 : real.rename(a, b); }
static int f_unlink(const char *p) { return hit(FAULT_UNLINK) ? -1 : real.unlink(p); }
static int f_mkdir(const char *p, mode_t m) { return hit(FAULT_MKDIR) ? -1 : real.mkdir(p, m); }
static int f_rmdir(const char *p) { return hit(FAULT_RMDIR) ? -1 : real.rmdir(p); }
static int f_rename_noreplace(const char *a, const char *b)
{
	return hit(FAULT_RENAME_NOREPLACE) ? -1 : real.rename_noreplace(a, b);
}
static int f_link(const char *a, const char *b) { return hit(FAULT_LINK) ? -1 : real.link(a, b); }
static ssize_t f_pwrite(int fd, const void *b, size_t n, off_t off)
{
	return hit(FAULT_PWRITE) ? -1 : real.pwrite(fd, b, n, off);
}
static int f_ftruncate(int fd, off_t size) { return hit(FAULT_FTRUNCATE) ? -1 : real.ftruncate(fd, size); }

void fault_arm(enum fault_call call, int nth, int err, bool persistent)
{
	if (!armed)
		real = port_sys;
	armed = true;
	armed_call = call;
	armed_nth = nth;
	armed_err = err;
	armed_persistent = persistent;
	fired = 0;
	last_fired = FAULT_NCALLS;
	memset(calls, 0, sizeof(calls));
	port_sys = (struct port_syscalls){ f_open, f_close, f_read, f_write, f_fsync,
					   f_rename, f_unlink, f_mkdir, f_rmdir,
					   f_rename_noreplace, f_link, f_pwrite, f_ftruncate };
}

int fault_disarm(void)
{
	if (armed)
		port_sys = real;
	armed = false;
	return fired;
}

enum fault_call fault_last(void)
{
	return last_fired;
}

int fault_calls(enum fault_call call)
{
	return calls[call];
}
