/*
** datadir.c: resolving and initialising the data directory (see datadir.h).
**
** init is all-or-nothing. The new database and config are made in a staging
** directory next to (or, for an existing empty directory such as a mount
** point, inside) the target, verified, and then renamed into place with the
** directory fsyncs that make the names durable. The database is verified
** again through the normal open path once in place; if that fails, exactly
** the files init put there are removed again. A stale staging directory from
** an init cut short by a power loss is ours and is removed first.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/cfg.h"
#include "log/datadir.h"
#include "log/jlog.h"
#include "port.h"

#define DD_STAGE_NAME ".holdfast-init.tmp"

int dd_resolve(const char *opt, char *out, size_t cap, bool *is_default)
{
	const char *env = port_env("HOLDFAST_DATA");
	const char *xdg = port_env("XDG_STATE_HOME");
	const char *home;
	int n;

	*is_default = false;
	if (opt && *opt)
		n = snprintf(out, cap, "%s", opt);
	else if (env && *env)
		n = snprintf(out, cap, "%s", env);
	else {
		*is_default = true;
		if (port_user_is_root())
			n = snprintf(out, cap, "/var/lib/holdfast");
		else if (xdg && xdg[0] == '/') /* XDG: relative values are invalid */
			n = snprintf(out, cap, "%s/holdfast", xdg);
		else if ((home = port_user_home()) != NULL)
			n = snprintf(out, cap, "%s/.local/state/holdfast", home);
		else {
			port_log("no data directory: give --data DIR or set HOLDFAST_DATA "
				 "(no home directory to default to)");
			return HF_EINVAL;
		}
	}
	if (n < 0 || (size_t)n >= cap) {
		port_log("data directory path is too long");
		return HF_EINVAL;
	}
	/* Trailing slashes would make "dir/" and "dir" different staging names. */
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return HF_OK;
}

int dd_conf_path(const char *opt, const char *dir, char *out, size_t cap, bool *named)
{
	const char *env = port_env("HOLDFAST_CONFIG");
	enum port_fs_kind kind;
	int n;

	*named = true;
	if (opt && *opt)
		n = snprintf(out, cap, "%s", opt);
	else if (env && *env)
		n = snprintf(out, cap, "%s", env);
	else {
		n = snprintf(out, cap, "%s/%s", dir, DD_CONF_NAME);
		*named = false;
		if (n >= 0 && (size_t)n < cap && port_fs_lkind(out, &kind) == HF_OK &&
		    kind == PORT_FS_NONE && strcmp(dir, DD_SYSTEM_DATA) == 0 &&
		    port_fs_kind(DD_SYSTEM_CONF, &kind) == HF_OK && kind != PORT_FS_NONE) {
			n = snprintf(out, cap, "%s", DD_SYSTEM_CONF);
			*named = true;
		}
	}
	if (n < 0 || (size_t)n >= cap) {
		port_log("config path is too long");
		return HF_EINVAL;
	}
	return HF_OK;
}

/* mkdir -p of every missing ancestor of PATH (not PATH itself), mode 0700. */
static int make_parents(const char *path)
{
	char p[PATH_MAX];
	enum port_fs_kind kind;
	int rc;

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if ((rc = port_fs_kind(p, &kind)) != HF_OK)
			return rc;
		if (kind == PORT_FS_NONE && (rc = port_fs_mkdir(p, 0700)) != HF_OK &&
		    rc != HF_EEXIST)
			return rc;
		*s = '/';
	}
	return HF_OK;
}

/* Checks that DIR can become a data directory; *EXISTS says whether it is
** an (empty) directory already. Changes nothing. */
static int check_target(const char *dir, bool parents, bool *exists)
{
	char parent[PATH_MAX], db[PATH_MAX + 16];
	enum port_fs_kind kind;
	bool empty;
	int rc;

	if ((rc = dd_check_links(dir)) != HF_OK || (rc = port_fs_kind(dir, &kind)) != HF_OK)
		return rc;
	*exists = kind != PORT_FS_NONE;
	if (kind == PORT_FS_DIR) {
		snprintf(db, sizeof(db), "%s/%s", dir, DD_DB_NAME);
		if ((rc = port_fs_kind(db, &kind)) != HF_OK)
			return rc;
		if (kind != PORT_FS_NONE) {
			port_log("%s is already a holdfast data directory (%s exists); "
				 "nothing was changed", dir, DD_DB_NAME);
			return HF_EEXIST;
		}
		if ((rc = port_fs_dir_is_empty(dir, &empty)) != HF_OK)
			return rc;
		if (!empty) {
			/* Only our own leftover staging directory may be there. */
			snprintf(db, sizeof(db), "%s/%s", dir, DD_STAGE_NAME);
			if ((rc = port_fs_kind(db, &kind)) != HF_OK)
				return rc;
			if (kind != PORT_FS_DIR) {
				port_log("%s is not empty; a data directory must be a new or "
					 "empty directory of holdfast's own", dir);
				return HF_EEXIST;
			}
		}
		if (!port_fs_is_writable(dir)) {
			port_log("cannot initialise %s: no permission to write there", dir);
			return HF_EACCES;
		}
		return HF_OK;
	}
	if (kind != PORT_FS_NONE) {
		port_log("%s exists and is not a directory", dir);
		return HF_EEXIST;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	{
		char *slash = strrchr(parent, '/');
		if (!slash)
			strcpy(parent, ".");
		else if (slash == parent)
			parent[1] = '\0';
		else
			*slash = '\0';
	}
	if ((rc = port_fs_kind(parent, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_NONE && parents) {
		if ((rc = make_parents(dir)) != HF_OK)
			return rc;
		kind = PORT_FS_DIR;
	}
	if (kind == PORT_FS_NONE) {
		port_log("cannot create %s: parent directory %s does not exist", dir, parent);
		return HF_ENOENT;
	}
	if (kind != PORT_FS_DIR) {
		port_log("cannot create %s: %s is not a directory", dir, parent);
		return HF_ENOENT;
	}
	if (!port_fs_is_writable(parent)) {
		port_log("cannot create %s: no permission to write in %s", dir, parent);
		return HF_EACCES;
	}
	return HF_OK;
}

/* Whether PATH exists (errors count as "exists": we then leave it alone). */
static bool is_there(const char *path)
{
	enum port_fs_kind kind;

	return port_fs_kind(path, &kind) != HF_OK || kind != PORT_FS_NONE;
}

/* Moves the staged files into the existing empty directory DIR; on failure
** moves back what was moved, so DIR is as it was. A failed rename may still
** have happened (only the directory fsync after it failed), so each file is
** looked for rather than assumed. */
static int move_files_in(const char *stage, const char *dir, bool with_conf)
{
	static const char *const names[] = { DD_DB_NAME, DD_CONF_NAME };
	char from[PATH_MAX + 32], to[PATH_MAX + 32];
	size_t i, n = with_conf ? 2 : 1;
	int rc = HF_OK;

	for (i = 0; i < n && rc == HF_OK; i++) {
		snprintf(from, sizeof(from), "%s/%s", stage, names[i]);
		snprintf(to, sizeof(to), "%s/%s", dir, names[i]);
		rc = port_fs_rename(from, to);
	}
	if (rc == HF_OK && (rc = port_fs_rmdir(stage)) == HF_OK)
		return HF_OK;
	while (i-- > 0) {
		snprintf(from, sizeof(from), "%s/%s", stage, names[i]);
		snprintf(to, sizeof(to), "%s/%s", dir, names[i]);
		if (is_there(to) && !is_there(from))
			port_fs_rename(to, from);
	}
	return rc;
}

/* Removes what init put in DIR (for a failed verification after the move). */
static void undo_init(const char *dir, bool existed)
{
	static const char *const names[] = { DD_DB_NAME, DD_DB_NAME "-wal",
					     DD_DB_NAME "-shm", DD_CONF_NAME };
	char p[PATH_MAX + 32];

	if (!existed) {
		port_fs_remove_tree(dir);
		port_fs_fsync_parent(dir);
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		port_fs_unlink(p);
	}
	port_fs_fsync_dir(dir);
}

static int init_dir(const char *dir, bool parents, bool with_conf)
{
	char stage[PATH_MAX], path[PATH_MAX + 32];
	const char *text = cfg_init_text(port_user_is_root());
	const char *base;
	struct jlog j = { 0 };
	bool exists;
	int rc = HF_EBUG;

	if (strlen(dir) + sizeof(DD_STAGE_NAME) + 32 >= PATH_MAX) {
		port_log("%s: path too long", dir);
		return HF_EINVAL;
	}
	if ((rc = check_target(dir, parents, &exists)) != HF_OK)
		return rc;

	/* An existing directory may be a mount point: stage inside it so the
	** final renames stay on one filesystem. Otherwise stage beside it and
	** rename the whole directory into place in one step. */
	if (exists) {
		snprintf(stage, sizeof(stage), "%s/%s", dir, DD_STAGE_NAME);
	} else {
		base = strrchr(dir, '/');
		if (base)
			snprintf(stage, sizeof(stage), "%.*s/.%s%s", (int)(base - dir), dir,
				 base + 1, DD_STAGE_NAME);
		else
			snprintf(stage, sizeof(stage), ".%s%s", dir, DD_STAGE_NAME);
	}
	if ((rc = port_fs_remove_tree(stage)) != HF_OK)
		return rc;
	if ((rc = port_fs_mkdir(stage, 0700)) != HF_OK) {
		if (rc == HF_EEXIST)
			port_log("%s: appeared while initialising", stage);
		else /* made, but its name may not be durable: take it back */
			port_fs_rmdir(stage);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s", stage, DD_DB_NAME);
	if ((rc = jlog_create(path, NULL)) != HF_OK)
		goto out_stage;
	snprintf(path, sizeof(path), "%s/%s", stage, DD_CONF_NAME);
	if (with_conf && (rc = port_fs_replace(path, text, strlen(text), 0600)) != HF_OK)
		goto out_stage;

	if (exists) {
		if ((rc = move_files_in(stage, dir, with_conf)) != HF_OK)
			goto out_stage;
		/* The config will hold credentials: the directory is private. */
		if ((rc = port_fs_chmod(dir, 0700)) != HF_OK) {
			undo_init(dir, true);
			return rc;
		}
	} else if ((rc = port_fs_rename(stage, dir)) != HF_OK) {
		/* The rename itself may have happened before the fsync failed. */
		if (is_there(dir) && !is_there(stage))
			undo_init(dir, false);
		goto out_stage;
	}

	/* Once more through the path every verb uses. */
	snprintf(path, sizeof(path), "%s/%s", dir, DD_DB_NAME);
	if ((rc = jlog_open(&j, path, NULL)) != HF_OK) {
		undo_init(dir, exists);
		return rc;
	}
	jlog_close(&j);
	return HF_OK;

out_stage:
	port_fs_remove_tree(stage);
	return rc;
}

int dd_init(const char *dir, bool parents)
{
	return init_dir(dir, parents, true);
}

int dd_init_without_conf(const char *dir, bool parents)
{
	return init_dir(dir, parents, false);
}

/*
** Symbolic links. holdfast's files are found by name from the data
** directory: SQLite puts -wal and -shm next to the name it opened, our locks,
** the spool and the config are named from the directory, and the daemon's
** one-per-directory guard and the writers' turnstile are keyed by the
** directory's inode. A link at one of those names splits what must stay
** together: a linked holdfast.db has its WAL beside the link, not beside the
** database, so another path to the same database sees a different WAL (the
** corruption SQLite's "howtocorrupt" page warns of); a linked spool or lock
** file sends a daemon that may run as root to write wherever the link
** points. So a link is refused, never followed, at the data directory itself
** and at each name in it (the file opens add O_NOFOLLOW, and the job log is
** opened with SQLITE_OPEN_NOFOLLOW, so a link made after this check is
** refused too).
**
** Only the last component. The directories above the data directory belong
** to the system, not to holdfast, and a link among them moves everything
** below it together, so it splits nothing; such links are common on the
** boards holdfast runs on (/var or /var/lib linked into a data partition
** under a read-only root). Refusing them would refuse sound setups and
** protect nothing: whoever can change an ancestor can replace the data
** directory itself. It is the line open(2)'s O_NOFOLLOW draws, too: only
** the last component. (port/linux/vfs.c resolves the ancestors before
** SQLite sees the path, as SQLite's NOFOLLOW alone would refuse a link
** anywhere in it: before this, a linked /var made init fail with
** "permission denied".)
*/
int dd_check_links(const char *dir)
{
	static const char *const names[] = { DD_DB_NAME, DD_DB_NAME "-wal", DD_DB_NAME "-shm",
					     DD_CONF_NAME, "spool", "spool/.upload.lock",
					     "spool/.budget.lock", "spool/state" };
	char path[PATH_MAX + 32];
	enum port_fs_kind kind;
	int rc;

	if ((rc = port_fs_lkind(dir, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_LINK) {
		port_log("data directory %s is a symbolic link; holdfast refuses it (name the "
			 "real directory instead)", dir);
		return HF_ENOTSUP;
	}
	if (kind != PORT_FS_DIR)
		return HF_OK; /* missing: the caller says so in its own words */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((rc = port_fs_lkind(path, &kind)) != HF_OK)
			return rc;
		if (kind == PORT_FS_LINK) {
			port_log("%s is a symbolic link; holdfast refuses links in its data "
				 "directory: put the real %s there", path, names[i]);
			return HF_ENOTSUP;
		}
	}
	return HF_OK;
}

int dd_check_storage(const char *dir, bool allow_volatile)
{
	const char *what;
	int rc;

	if ((rc = port_fs_volatile(dir, &what)) != HF_OK || !what || allow_volatile)
		return rc;
	port_log("%s is on %s, which %s; refusing to keep the job log there. Use a "
		 "directory on local flash or disk, or pass --allow-volatile to accept that",
		 dir, what,
		 !strcmp(what, "tmpfs") || !strcmp(what, "ramfs")
			 ? "is memory: a power cut or reboot empties it"
			 : "is not local storage: its fsync and locks cannot be relied on");
	return HF_ENOTSUP;
}
