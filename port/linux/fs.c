/*
** fs.c (linux): durable filesystem primitives.
**
** The folklore this file encodes (see port.h for the contract):
**   - rename(2) is atomic, but the new name is only durable once the
**     directory is fsynced; ext4's auto_da_alloc heuristics are not a promise.
**   - fsync reports a writeback error once. After a failure the page cache may
**     hold clean-looking pages whose data never reached the device, so we never
**     retry an fsync and call it success; the operation fails.
**   - write(2) may be short; EINTR is retried, ENOSPC and EIO are not.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fs_magic.h"
#include "port.h"

/* Writes all of BUF to FD; returns 0 or an errno value. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = port_sys.write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int port_fs_fsync_dir(const char *dir)
{
	int fd, rc = HF_OK;

	fd = port_sys.open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return port_syserr("open", dir, errno);
	if (port_sys.fsync(fd) != 0)
		rc = port_syserr("fsync", dir, errno);
	port_sys.close(fd);
	return rc;
}

/* Copies the directory part of PATH ("." if none) into DIR[PATH_MAX]. */
static int parent_of(const char *path, char *dir)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		strcpy(dir, ".");
		return HF_OK;
	}
	n = (size_t)(slash - path);
	if (n == 0)
		n = 1; /* "/name": the parent is "/" */
	if (n >= PATH_MAX)
		return HF_EINVAL;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return HF_OK;
}

int port_fs_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	int rc = parent_of(path, dir);

	return rc ? rc : port_fs_fsync_dir(dir);
}

int port_fs_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, e, rc = HF_EBUG;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return HF_EINVAL;
	fd = port_sys.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
	if (fd < 0)
		return port_syserr("open", tmp, errno);
	/* The mode is exact, whatever the umask: a config holding credentials
	** must not become world-readable by accident. */
	if (fchmod(fd, mode) != 0) {
		rc = port_syserr("fchmod", tmp, errno);
		goto out_close;
	}
	if ((e = write_all(fd, data, len)) != 0) {
		rc = port_syserr("write", tmp, e);
		goto out_close;
	}
	if (port_sys.fsync(fd) != 0) {
		rc = port_syserr("fsync", tmp, errno);
		goto out_close;
	}
	if (port_sys.close(fd) != 0) {
		fd = -1;
		rc = port_syserr("close", tmp, errno);
		goto out_unlink;
	}
	fd = -1;
	if (port_sys.rename(tmp, path) != 0) {
		rc = port_syserr("rename", path, errno);
		goto out_unlink;
	}
	return port_fs_fsync_parent(path);

out_close:
	port_sys.close(fd);
out_unlink:
	port_sys.unlink(tmp);
	return rc;
}

/* HF_OK if PATH holds exactly LEN bytes of DATA, HF_EEXIST (unsaid) if it
** holds anything else, or why it could not be read. */
static int compare_file(const char *path, const void *data, size_t len)
{
	char buf[8192];
	struct stat st;
	size_t have = 0;
	int rc = HF_EEXIST, fd = port_sys.open(path, O_RDONLY | O_NOFOLLOW, 0);

	if (fd < 0)
		return port_syserr("open", path, errno);
	if (fstat(fd, &st) != 0) {
		rc = port_syserr("fstat", path, errno);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != len)
		goto out_close;
	for (;;) {
		ssize_t n = port_sys.read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = port_syserr("read", path, errno);
			goto out_close;
		}
		if (n == 0)
			break;
		if ((size_t)n > len - have || memcmp(buf, (const char *)data + have, (size_t)n) != 0)
			goto out_close;
		have += (size_t)n;
	}
	rc = have == len ? HF_OK : HF_EEXIST;
out_close:
	port_sys.close(fd);
	return rc;
}

/* Moves TMP to PATH unless PATH exists: HF_EEXIST (unsaid) if it does. */
static int move_noreplace(const char *tmp, const char *path)
{
	if (port_sys.rename_noreplace(tmp, path) == 0)
		return HF_OK;
	if (errno == EEXIST)
		return HF_EEXIST;
	/* EINVAL: a filesystem without the flag (NFS, older FUSE); ENOSYS: a
	** kernel before 3.15. link(2) refuses an existing name as well. */
	if (errno != EINVAL && errno != ENOSYS)
		return port_syserr("rename", path, errno);
	if (port_sys.link(tmp, path) != 0)
		return errno == EEXIST ? HF_EEXIST : port_syserr("link", path, errno);
	return port_sys.unlink(tmp) == 0 ? HF_OK : port_syserr("unlink", tmp, errno);
}

int port_fs_publish(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *base = strrchr(path, '/');
	int dl = base ? (int)(base - path + 1) : 0;
	int fd = -1, e, rc = HF_EBUG;

	base = base ? base + 1 : path;
	/* Unique and hidden: a second writer (a cloned device on the same
	** share) never writes into our file, and listings skip dot files. */
	for (int tries = 0; fd < 0; tries++) {
		if (snprintf(tmp, sizeof(tmp), "%.*s.%s.%08x.tmp", dl, path, base,
			     (unsigned)port_random_u32()) >= (int)sizeof(tmp))
			return HF_EINVAL;
		fd = port_sys.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
		if (fd < 0 && (errno != EEXIST || tries == 8))
			return port_syserr("open", tmp, errno);
	}
	if (fchmod(fd, mode) != 0) {
		rc = port_syserr("fchmod", tmp, errno);
		goto out_close;
	}
	if ((e = write_all(fd, data, len)) != 0) {
		rc = port_syserr("write", tmp, e);
		goto out_close;
	}
	if (port_sys.fsync(fd) != 0) {
		rc = port_syserr("fsync", tmp, errno);
		goto out_close;
	}
	e = port_sys.close(fd);
	fd = -1;
	if (e != 0) {
		rc = port_syserr("close", tmp, errno);
		goto out_unlink;
	}
	if ((rc = move_noreplace(tmp, path)) == HF_EEXIST) {
		if ((rc = compare_file(path, data, len)) == HF_EEXIST)
			port_log("%s: a different file is already there; not replaced", path);
		if (rc != HF_OK)
			goto out_unlink;
		if (port_sys.unlink(tmp) != 0) {
			rc = port_syserr("unlink", tmp, errno);
			goto out_unlink;
		}
	} else if (rc != HF_OK) {
		goto out_unlink;
	}
	/* Ours or the same bytes from before: durable only once the name is
	** (the writer before may have died before its directory fsync). */
	return port_fs_fsync_parent(path);

out_close:
	port_sys.close(fd);
out_unlink:
	port_sys.unlink(tmp);
	return rc;
}

int port_fs_mkdir(const char *path, mode_t mode)
{
	if (port_sys.mkdir(path, mode) != 0) {
		if (errno == EEXIST)
			return HF_EEXIST;
		return port_syserr("mkdir", path, errno);
	}
	/* mkdir(2) applies the umask; the caller asked for MODE exactly. */
	if (chmod(path, mode) != 0)
		return port_syserr("chmod", path, errno);
	return port_fs_fsync_parent(path);
}

int port_fs_chmod(const char *path, mode_t mode)
{
	return chmod(path, mode) == 0 ? HF_OK : port_syserr("chmod", path, errno);
}

int port_fs_rename(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];
	int rc;

	if (port_sys.rename(from, to) != 0)
		return port_syserr("rename", to, errno);
	if ((rc = parent_of(from, a)) || (rc = parent_of(to, b)))
		return rc;
	if ((rc = port_fs_fsync_dir(b)) != HF_OK)
		return rc;
	return strcmp(a, b) == 0 ? HF_OK : port_fs_fsync_dir(a);
}

int port_fs_unlink(const char *path)
{
	if (port_sys.unlink(path) != 0)
		return errno == ENOENT ? HF_ENOENT : port_syserr("unlink", path, errno);
	return HF_OK;
}

int port_fs_rmdir(const char *path)
{
	if (port_sys.rmdir(path) != 0)
		return errno == ENOENT ? HF_ENOENT : port_syserr("rmdir", path, errno);
	return HF_OK;
}

int port_fs_read_file(const char *path, size_t cap, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	int fd, rc = HF_EBUG;

	/* O_NONBLOCK: a FIFO (or a device) must not block the open before
	** fstat can refuse it; for a regular file it changes nothing. */
	fd = port_sys.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT ? HF_ENOENT : port_syserr("open", path, errno);
	if (fstat(fd, &st) != 0) {
		rc = port_syserr("fstat", path, errno);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		port_log("%s: not a regular file", path);
		rc = HF_EINVAL;
		goto out_close;
	}
	if ((uint64_t)st.st_size > cap) {
		port_log("%s: %lld bytes, over the %zu byte limit", path,
			 (long long)st.st_size, cap);
		rc = HF_ETOOBIG;
		goto out_close;
	}
	/* +1: room for the NUL and to notice a file that grew since fstat. */
	buf = malloc((size_t)st.st_size + 2);
	if (!buf) {
		rc = HF_ENOMEM;
		goto out_close;
	}
	for (;;) {
		ssize_t n = port_sys.read(fd, buf + have, (size_t)st.st_size + 1 - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = port_syserr("read", path, errno);
			goto out_free;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > (size_t)st.st_size) {
			port_log("%s: changed while being read", path);
			rc = HF_EBUSY;
			goto out_free;
		}
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	port_sys.close(fd);
	return HF_OK;

out_free:
	free(buf);
out_close:
	port_sys.close(fd);
	return rc;
}

int port_fs_kind(const char *path, enum port_fs_kind *kind)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT) {
			*kind = PORT_FS_NONE;
			return HF_OK;
		}
		return port_syserr("stat", path, errno);
	}
	*kind = S_ISREG(st.st_mode) ? PORT_FS_FILE :
		S_ISDIR(st.st_mode) ? PORT_FS_DIR : PORT_FS_OTHER;
	return HF_OK;
}

int port_fs_lkind(const char *path, enum port_fs_kind *kind)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT) {
			*kind = PORT_FS_NONE;
			return HF_OK;
		}
		return port_syserr("lstat", path, errno);
	}
	*kind = S_ISLNK(st.st_mode) ? PORT_FS_LINK : S_ISREG(st.st_mode) ? PORT_FS_FILE :
		S_ISDIR(st.st_mode) ? PORT_FS_DIR : PORT_FS_OTHER;
	return HF_OK;
}

int port_fs_dir_is_empty(const char *dir, bool *empty)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return port_syserr("opendir", dir, errno);
	*empty = true;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*empty = false;
			break;
		}
	}
	if (errno != 0 && *empty) {
		int e = errno;
		closedir(d);
		return port_syserr("readdir", dir, e);
	}
	closedir(d);
	return HF_OK;
}

int port_fs_remove_tree(const char *dir)
{
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = HF_OK;

	if (!d)
		return errno == ENOENT ? HF_OK : port_syserr("opendir", dir, errno);
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			rc = HF_EINVAL;
			break;
		}
		if (de->d_type == DT_DIR)
			rc = port_fs_remove_tree(path);
		else if (port_sys.unlink(path) != 0 && errno != ENOENT)
			rc = port_syserr("unlink", path, errno);
		if (rc)
			break;
	}
	closedir(d);
	if (rc == HF_OK && port_sys.rmdir(dir) != 0 && errno != ENOENT)
		rc = port_syserr("rmdir", dir, errno);
	return rc;
}

bool port_fs_is_writable(const char *dir)
{
	return access(dir, W_OK | X_OK) == 0;
}

int port_cwd(char *buf, size_t len)
{
	return getcwd(buf, len) ? HF_OK : port_syserr("getcwd", NULL, errno);
}

int port_fs_volatile(const char *dir, const char **what)
{
	const struct fs_magic *m;
	char path[PATH_MAX];
	struct statfs sf;
	char *slash;

	*what = NULL;
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return port_syserr("statfs", dir, ENAMETOOLONG);
	while (statfs(path, &sf) != 0) {
		if (errno != ENOENT)
			return port_syserr("statfs", path, errno);
		if (!(slash = strrchr(path, '/')))
			snprintf(path, sizeof(path), ".");
		else if (slash == path)
			path[1] = '\0';
		else
			*slash = '\0';
	}
	if ((m = fs_magic_find((unsigned long)sf.f_type)) && m->cls != FS_MAGIC_LOCAL)
		*what = m->name;
	return HF_OK;
}

int port_fs_open_read(const char *path, int *fd, uint64_t *size)
{
	struct stat st;
	int f = port_sys.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0); /* as read_file */

	if (f < 0)
		return errno == ENOENT ? HF_ENOENT : port_syserr("open", path, errno);
	if (fstat(f, &st) != 0) {
		int rc = port_syserr("fstat", path, errno);
		port_sys.close(f);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		port_log("%s: not a regular file", path);
		port_sys.close(f);
		return HF_EINVAL;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return HF_OK;
}

int port_fs_open_beneath(const char *root, const char *rel, int *fd, uint64_t *size)
{
	char comp[256];
	const char *p = rel, *slash;
	struct stat st;
	int dfd, f, e;

	if ((dfd = port_sys.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)) < 0)
		return errno == ENOENT ? HF_ENOENT : port_syserr("open", root, errno);
	/* One component at a time, from the directory opened before it, none
	** followed if it is a symbolic link: nothing below ROOT can lead out
	** of it, and a name swapped for a link after a check changes nothing. */
	for (;;) {
		size_t n;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= sizeof(comp) || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			port_log("%s/%s: not a plain name below the directory", root, rel);
			port_sys.close(dfd);
			return HF_EINVAL;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		f = openat(dfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
				      (slash ? O_DIRECTORY : 0));
		e = errno;
		if (f < 0 && slash && e == ENOTDIR) {
			/* O_DIRECTORY on a link says ENOTDIR: tell which it is. */
			struct stat ls;
			if (fstatat(dfd, comp, &ls, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(ls.st_mode))
				e = ELOOP;
		}
		port_sys.close(dfd);
		if (f < 0) {
			if (e == ENOENT)
				return HF_ENOENT;
			if (e == ELOOP || (slash && e == ENOTDIR)) {
				port_log("%s/%.*s: %s; not followed", root, (int)(p - rel + n), rel,
					 e == ELOOP ? "a symbolic link" : "not a directory");
				return HF_EINVAL;
			}
			return port_syserr("openat", rel, e);
		}
		if (!slash)
			break;
		dfd = f;
		p = slash + 1;
	}
	if (fstat(f, &st) != 0) {
		e = port_syserr("fstat", rel, errno);
		port_sys.close(f);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		port_log("%s/%s: not a regular file", root, rel);
		port_sys.close(f);
		return HF_EINVAL;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return HF_OK;
}

int port_fs_create(const char *path, mode_t mode, int *fd)
{
	int f = port_sys.open(path, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);

	if (f < 0)
		return port_syserr("open", path, errno);
	*fd = f;
	return HF_OK;
}

int port_fs_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = port_sys.pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return port_syserr("pwrite", NULL, errno);
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return HF_OK;
}

int port_fs_truncate(int fd, uint64_t size)
{
	while (port_sys.ftruncate(fd, (off_t)size) != 0)
		if (errno != EINTR)
			return port_syserr("ftruncate", NULL, errno);
	return HF_OK;
}

int port_fs_sync(int fd)
{
	if (port_sys.fsync(fd) != 0)
		return port_syserr("fsync", NULL, errno);
	return HF_OK;
}

int port_fs_free_space(const char *dir, uint64_t *bytes)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) != 0)
		return port_syserr("statvfs", dir, errno);
	*bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return HF_OK;
}

int port_fs_total_size(const char *dir, uint64_t *bytes)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) != 0)
		return port_syserr("statvfs", dir, errno);
	*bytes = (uint64_t)sv.f_blocks * (uint64_t)sv.f_frsize;
	return HF_OK;
}

/* Adds what the files below directory FD (named PATH, for messages) take
** on the disk to *BYTES, DEPTH levels down at most. Links are not
** followed; a name that vanishes meanwhile (a spool file shipped) is not
** an error. */
static int usage_below(int fd, const char *path, int depth, uint64_t *bytes)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = HF_OK;

	if (!d) {
		rc = port_syserr("fdopendir", path, errno);
		close(fd);
		return rc;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			rc = port_syserr("fstatat", de->d_name, errno);
			break;
		}
		if (S_ISREG(st.st_mode)) {
			*bytes += (uint64_t)st.st_blocks * 512;
		} else if (S_ISDIR(st.st_mode) && depth > 0) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				if (errno == ENOENT)
					continue;
				rc = port_syserr("openat", de->d_name, errno);
				break;
			}
			if ((rc = usage_below(sub, de->d_name, depth - 1, bytes)) != HF_OK)
				break;
		}
	}
	if (!de && errno != 0 && rc == HF_OK)
		rc = port_syserr("readdir", path, errno);
	closedir(d);
	return rc;
}

int port_fs_usage(const char *dir, uint64_t *bytes)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*bytes = 0;
	if (fd < 0)
		return port_syserr("open", dir, errno);
	return usage_below(fd, dir, 4, bytes);
}

int port_fs_pread(int fd, void *buf, size_t len, uint64_t off, size_t *got)
{
	size_t have = 0;

	while (have < len) {
		ssize_t n = pread(fd, (char *)buf + have, len - have, (off_t)(off + have));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return port_syserr("pread", NULL, errno);
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	*got = have;
	return HF_OK;
}

int port_fs_list(const char *dir, int (*fn)(void *arg, const char *name), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = HF_OK;

	if (!d && errno == ENOTDIR) {
		/* Not "missing": a file where the directory should be is
		** something there that cannot be listed, not an empty listing. */
		port_syserr("opendir", dir, errno);
		return HF_ESYS;
	}
	if (!d)
		return errno == ENOENT ? HF_ENOENT : port_syserr("opendir", dir, errno);
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((rc = fn(arg, de->d_name)) != 0)
			break;
		errno = 0;
	}
	if (!de && errno != 0)
		rc = port_syserr("readdir", dir, errno);
	closedir(d);
	return rc;
}

int port_fs_stamp(const char *path, uint64_t *size, int64_t *mtime_ns)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? HF_ENOENT : port_syserr("stat", path, errno);
	*size = (uint64_t)st.st_size;
	*mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return HF_OK;
}

int port_fs_lock(const char *path, int *fd)
{
	/* O_NOFOLLOW: a link planted at a lock's name must not make us create
	** or open a file wherever it points (the daemon may run as root). */
	int f = port_sys.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);

	if (f < 0)
		return port_syserr("open", path, errno);
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		port_sys.close(f);
		return e == EWOULDBLOCK ? HF_EBUSY : port_syserr("flock", path, e);
	}
	*fd = f;
	return HF_OK;
}

int port_fs_mode_owner(const char *path, mode_t *mode, bool *mine)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return port_syserr("stat", path, errno);
	*mode = st.st_mode & 07777;
	*mine = st.st_uid == geteuid();
	return HF_OK;
}

int port_fs_mode(const char *path, mode_t *mode)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return port_syserr("stat", path, errno);
	*mode = st.st_mode & 07777;
	return HF_OK;
}
