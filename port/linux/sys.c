/*
** sys.c (linux): the syscall table and error mapping (messages: log.c).
**
** Every system call the port makes goes through port_sys so that tests can
** fail any one of them (the Nth write, a persistent fsync EIO...) in the very
** binary we ship. Wrappers exist only where libc's signature differs.
*/
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port.h"

static int sys_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags | O_CLOEXEC, mode);
}

static int sys_rename_noreplace(const char *from, const char *to)
{
	return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

struct port_syscalls port_sys = {
	.open = sys_open,
	.close = close,
	.read = read,
	.write = write,
	.fsync = fsync,
	.rename = rename,
	.unlink = unlink,
	.mkdir = mkdir,
	.rmdir = rmdir,
	.rename_noreplace = sys_rename_noreplace,
	.link = link,
	.pwrite = pwrite,
	.ftruncate = ftruncate,
};

void port_sys_reset(void)
{
	port_sys.open = sys_open;
	port_sys.close = close;
	port_sys.read = read;
	port_sys.write = write;
	port_sys.fsync = fsync;
	port_sys.rename = rename;
	port_sys.unlink = unlink;
	port_sys.mkdir = mkdir;
	port_sys.rmdir = rmdir;
	port_sys.rename_noreplace = sys_rename_noreplace;
	port_sys.link = link;
	port_sys.pwrite = pwrite;
	port_sys.ftruncate = ftruncate;
}

int port_errno_to_hf(int e)
{
	switch (e) {
	case 0: return HF_EBUG;
	case EIO: return HF_EIO;
	case ENOSPC: case EDQUOT: case EFBIG: return HF_ENOSPC;
	case EACCES: case EPERM: case EROFS: return HF_EACCES;
	case EEXIST: case ENOTEMPTY: return HF_EEXIST;
	case ENOENT: case ENOTDIR: return HF_ENOENT;
	case ENOMEM: return HF_ENOMEM;
	case EINVAL: case ENAMETOOLONG: case ELOOP: return HF_EINVAL;
	case EBUSY: case ETXTBSY: return HF_EBUSY;
	case EOPNOTSUPP: case ENOSYS: case EXDEV: return HF_ENOTSUP;
	}
	return HF_ESYS;
}

int port_syserr(const char *fn, const char *path, int e)
{
	if (path)
		port_log("%s(%s): %s", fn, path, strerror(e));
	else
		port_log("%s: %s", fn, strerror(e));
	return port_errno_to_hf(e);
}

pid_t port_pid(void)
{
	return getpid();
}

bool port_user_is_root(void)
{
	return geteuid() == 0;
}

const char *port_user_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && home[0] == '/')
		return home;
	pw = getpwuid(geteuid());
	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

uid_t port_uid(void)
{
	return geteuid();
}

int port_user_lookup(const char *name, struct port_user *u)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e;

	/* getpwnam_r reports "no such user" as 0 with no result; some libcs
	** say ENOENT or ESRCH instead (getpwnam_r(3)). */
	e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (!res && (e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM))
		return HF_ENOENT;
	if (!res)
		return port_syserr("getpwnam_r", name, e);
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	snprintf(u->home, sizeof(u->home), "%s", pw.pw_dir && pw.pw_dir[0] == '/' ? pw.pw_dir : "/");
	return HF_OK;
}

extern char **environ;

char **port_environ(void)
{
	return environ;
}

const char *port_env(const char *name)
{
	return getenv(name);
}

uint32_t port_random_u32(void)
{
	uint32_t v;

	/* GRND_NONBLOCK: jitter needs no cryptographic quality, and an early
	** boot with an unseeded pool must not stall the daemon. */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint32_t)port_clock_mono_ms() * 2654435761u;
	return v;
}

bool port_stderr_is_tty(void)
{
	return isatty(STDERR_FILENO) == 1;
}

int port_hostname(char *buf, size_t len)
{
	if (gethostname(buf, len) != 0)
		return port_syserr("gethostname", NULL, errno);
	buf[len - 1] = '\0';
	return HF_OK;
}

int port_mem_unshared(size_t len, void **out)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return HF_ENOMEM;
	/* Without MADV_DONTFORK (Linux 2.6.16) the memory would be of no use
	** here: give it back. */
	if (madvise(p, len, MADV_DONTFORK) != 0) {
		munmap(p, len);
		return HF_ENOMEM;
	}
	*out = p;
	return HF_OK;
}
