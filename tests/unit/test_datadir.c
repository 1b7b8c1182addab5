/*
** test_datadir.c: resolving and initialising data directories.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt/cfg.h"
#include "log/datadir.h"
#include "log/jlog.h"
#include "port.h"
#include "test.h"

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (st.st_mode & 07777) : (mode_t)-1;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

TEST(dd_init_creates_private_directory)
{
	CHECK_INT(dd_init("data", false), HF_OK);
	CHECK_INT(mode_of("data"), 0700);
	CHECK_INT(mode_of("data/holdfast.db"), 0600);
	CHECK_INT(mode_of("data/holdfast.conf"), 0600);
	CHECK_STR(test_read_file("data/holdfast.conf"), cfg_init_text(port_user_is_root()));
	CHECK(!exists(".data.holdfast-init.tmp"));
}

TEST(dd_init_twice_changes_nothing)
{
	char *before, *after;

	CHECK_INT(dd_init("data", false), HF_OK);
	before = test_tree_digest(".");
	test_log_clear();
	CHECK_INT(dd_init("data", false), HF_EEXIST);
	CHECK(test_log_has("already a holdfast data directory"));
	after = test_tree_digest(".");
	CHECK_STR(after, before);
	free(before);
	free(after);
}

TEST(dd_init_refuses_non_empty_directory)
{
	char *before, *after;

	mkdir("data", 0755);
	test_write_file("data/mine.txt", "user data");
	before = test_tree_digest(".");
	CHECK_INT(dd_init("data", false), HF_EEXIST);
	CHECK(test_log_has("is not empty"));
	after = test_tree_digest(".");
	CHECK_STR(after, before);
	free(before);
	free(after);
}

TEST(dd_init_into_empty_directory)
{
	mkdir("data", 0755);
	CHECK_INT(dd_init("data", false), HF_OK);
	CHECK_INT(mode_of("data"), 0700);
	CHECK(exists("data/holdfast.db") && exists("data/holdfast.conf"));
	CHECK(!exists("data/.holdfast-init.tmp"));
}

TEST(dd_init_refuses_file_and_missing_parent)
{
	test_write_file("file", "x");
	CHECK_INT(dd_init("file", false), HF_EEXIST);
	CHECK(test_log_has("not a directory"));
	CHECK_INT(dd_init("no/such/data", false), HF_ENOENT);
	CHECK(test_log_has("parent directory no/such does not exist"));
	CHECK(!exists("no"));
	CHECK_STR(test_read_file("file"), "x");
}

TEST(dd_init_makes_default_parents)
{
	char cwd[4096], path[4200];

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(path, sizeof(path), "%s/state/deep/holdfast", cwd);
	CHECK_INT(dd_init(path, true), HF_OK);
	CHECK_INT(mode_of("state"), 0700);
	CHECK(exists("state/deep/holdfast/holdfast.db"));
}

TEST(dd_init_removes_stale_staging)
{
	/* Left by an init cut short by a power loss. */
	mkdir(".data.holdfast-init.tmp", 0700);
	test_write_file(".data.holdfast-init.tmp/holdfast.db", "half");
	CHECK_INT(dd_init("data", false), HF_OK);
	CHECK(!exists(".data.holdfast-init.tmp"));
	mkdir("empty", 0700);
	mkdir("empty/.holdfast-init.tmp", 0700);
	CHECK_INT(dd_init("empty", false), HF_OK);
	CHECK(!exists("empty/.holdfast-init.tmp"));
}

/* DIR holds a job log that the normal open path accepts. The database is
** what makes a data directory (it is moved in first); a config, if present,
** must be whole. */
static bool complete(const char *dir)
{
	char db[256], conf[256];
	const char *text;
	struct jlog j = { 0 };
	bool ok;

	snprintf(db, sizeof(db), "%s/holdfast.db", dir);
	snprintf(conf, sizeof(conf), "%s/holdfast.conf", dir);
	text = test_read_file(conf);
	ok = exists(db) && (!text || !strcmp(text, cfg_init_text(port_user_is_root()))) &&
	     jlog_open(&j, db, NULL) == HF_OK;
	jlog_close(&j);
	return ok;
}

/* Fail the Nth port syscall of init, transient or persistent, with EIO and
** ENOSPC until an init runs untouched. Each run ends either with a complete,
** verifiable data directory or with nothing at all left behind. */
static void init_fault_loop(int err, bool persistent, bool preexisting)
{
	int n;

	for (n = 1; n < 200; n++) {
		char *before, *after;
		int rc, fired;

		port_fs_remove_tree("data");
		if (preexisting)
			mkdir("data", 0755);
		before = test_tree_digest(".");
		fault_arm(FAULT_NCALLS, n, err, persistent);
		rc = dd_init("data", false);
		fired = fault_disarm();
		if (rc == HF_OK) {
			CHECK(exists("data/holdfast.db") && exists("data/holdfast.conf"));
			CHECK(!exists(".data.holdfast-init.tmp") &&
			      !exists("data/.holdfast-init.tmp"));
			if (fired == 0) {
				free(before);
				break;
			}
		} else {
			/* Under a persistent fault even the cleanup fails: only
			** our staging directory may remain (the next init removes
			** it); the target itself must be as it was. */
			if (persistent) {
				port_fs_remove_tree(".data.holdfast-init.tmp");
				port_fs_remove_tree("data/.holdfast-init.tmp");
			}
			after = test_tree_digest(".");
			/* ... unless the cleanup could not run at all: then a
			** valid job log may stay (what failed was a directory
			** fsync or a rename after it). Never a half-made one. */
			if (persistent && strcmp(before, after) != 0 && complete("data")) {
				free(after);
				free(before);
				continue;
			}
			if (strcmp(before, after) != 0)
				test_fail(__FILE__, __LINE__,
					  "fault at call %d (rc %d) left changes:\nbefore:\n%safter:\n%s",
					  n, rc, before, after);
			free(after);
			/* A directory fsync failing after the final rename makes
			** init fail; the undo must then remove what it made. */
			CHECK(fired > 0);
		}
		free(before);
	}
	CHECK(n > 3 && n < 200);
}

TEST(dd_init_fault_loop_eio)                { init_fault_loop(EIO, false, false); }
TEST(dd_init_fault_loop_enospc_persistent)  { init_fault_loop(ENOSPC, true, false); }
TEST(dd_init_fault_loop_existing_dir_eio)   { init_fault_loop(EIO, false, true); }
TEST(dd_init_fault_loop_existing_enospc)    { init_fault_loop(ENOSPC, true, true); }

TEST(dd_resolve_order)
{
	char out[256];
	bool def;

	setenv("HOLDFAST_DATA", "/env/dir", 1);
	CHECK_INT(dd_resolve("/opt/dir/", out, sizeof(out), &def), HF_OK);
	CHECK_STR(out, "/opt/dir");
	CHECK(!def);
	CHECK_INT(dd_resolve(NULL, out, sizeof(out), &def), HF_OK);
	CHECK_STR(out, "/env/dir");
	CHECK(!def);
	unsetenv("HOLDFAST_DATA");
	setenv("XDG_STATE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	CHECK_INT(dd_resolve(NULL, out, sizeof(out), &def), HF_OK);
	CHECK(def);
	CHECK_STR(out, port_user_is_root() ? "/var/lib/holdfast" : "/xdg/holdfast");
	if (!port_user_is_root()) {
		setenv("XDG_STATE_HOME", "relative", 1); /* invalid per XDG */
		CHECK_INT(dd_resolve(NULL, out, sizeof(out), &def), HF_OK);
		CHECK_STR(out, "/home/u/.local/state/holdfast");
	}
	char longp[600];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK_INT(dd_resolve(longp, out, sizeof(out), &def), HF_EINVAL);
}

/* A link at the data directory or at a name in it is refused, naming it;
** a link above the data directory is followed. */
TEST(dd_refuses_symlinks_at_its_own_names)
{
	static const char *const names[] = { "holdfast.db", "holdfast.db-wal", "holdfast.db-shm",
					     "holdfast.conf", "spool", "spool/.upload.lock" };
	char path[64], want[160];

	CHECK_INT(dd_init("data", false), HF_OK);
	CHECK_INT(mkdir("data/spool", 0700), 0);
	CHECK_INT(dd_check_links("data"), HF_OK); /* the control */
	CHECK_INT(symlink("data", "link"), 0);
	test_log_clear();
	CHECK_INT(dd_check_links("link"), HF_ENOTSUP);
	CHECK(test_log_has("data directory link is a symbolic link; holdfast refuses it"));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "data/%s", names[i]);
		/* Moved aside and linked back: the same bytes, through a link. */
		if (exists(path))
			CHECK_INT(rename(path, "aside"), 0);
		CHECK_INT(symlink("../aside", path), 0);
		test_log_clear();
		CHECK_INT(dd_check_links("data"), HF_ENOTSUP);
		snprintf(want, sizeof(want), "%s is a symbolic link; holdfast refuses links in "
			 "its data directory", path);
		if (!test_log_has(want))
			test_fail(__FILE__, __LINE__, "want '%s', got '%s'", want, test_log());
		CHECK_INT(unlink(path), 0);
		if (exists("aside"))
			CHECK_INT(rename("aside", path), 0);
		CHECK_INT(dd_check_links("data"), HF_OK);
	}
	/* init into an empty directory through a link: refused, nothing made. */
	CHECK_INT(mkdir("empty", 0700), 0);
	CHECK_INT(symlink("empty", "elink"), 0);
	test_log_clear();
	CHECK_INT(dd_init("elink", false), HF_ENOTSUP);
	CHECK(test_log_has("data directory elink is a symbolic link"));
	bool empty = false;
	CHECK_INT(port_fs_dir_is_empty("empty", &empty), HF_OK);
	CHECK(empty);
}

TEST(dd_follows_links_above_the_data_directory)
{
	struct jlog j = { 0 };
	char cwd[4096], path[4200];

	/* Absolute, as SQLite's NOFOLLOW check looks at every component of
	** an absolute name (a relative one starts from getcwd, link-free). */
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_INT(mkdir("real", 0700), 0);
	CHECK_INT(symlink("real", "var"), 0);
	snprintf(path, sizeof(path), "%s/var/data", cwd);
	CHECK_INT(dd_init(path, false), HF_OK);
	CHECK(exists("real/data/holdfast.db"));
	CHECK_INT(dd_check_links(path), HF_OK);
	snprintf(path, sizeof(path), "%s/var/data/holdfast.db", cwd);
	CHECK_INT(jlog_open(&j, path, NULL), HF_OK);
	jlog_close(&j);
	/* The WAL is beside the real database, where every path finds it. */
	CHECK(exists("real/data/holdfast.db-wal"));
}
