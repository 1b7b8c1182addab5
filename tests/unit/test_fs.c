/*
** test_fs.c: the port's durable filesystem primitives, with injected faults.
*/
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

TEST(fs_replace_creates_with_exact_mode)
{
	umask(077);
	CHECK_INT(port_fs_replace("a.conf", "hello\n", 6, 0640), HF_OK);
	CHECK_STR(test_read_file("a.conf"), "hello\n");
	CHECK_INT(mode_of("a.conf"), 0640);
	CHECK(!exists("a.conf.tmp"));
}

TEST(fs_replace_overwrites_whole_file)
{
	test_write_file("f", "old content that is longer\n");
	CHECK_INT(port_fs_replace("f", "new\n", 4, 0600), HF_OK);
	CHECK_STR(test_read_file("f"), "new\n");
}

TEST(fs_replace_syncs_file_then_directory)
{
	fault_arm(FAULT_WRITE, 1000, EIO, false); /* count only */
	CHECK_INT(port_fs_replace("f", "x", 1, 0600), HF_OK);
	CHECK_INT(fault_calls(FAULT_FSYNC), 2);   /* the file and its directory */
	CHECK_INT(fault_calls(FAULT_RENAME), 1);
	fault_disarm();
}

/* Every way a replace can fail leaves the old file intact and no .tmp. */
static void replace_fails_cleanly(enum fault_call call, int nth, int err, int want)
{
	test_write_file("f", "old\n");
	fault_arm(call, nth, err, false);
	CHECK_INT(port_fs_replace("f", "new\n", 4, 0600), want);
	CHECK_INT(fault_disarm(), 1);
	CHECK_STR(test_read_file("f"), "old\n");
	CHECK(!exists("f.tmp"));
}

TEST(fs_replace_write_eio)      { replace_fails_cleanly(FAULT_WRITE, 1, EIO, HF_EIO); }
TEST(fs_replace_write_enospc)   { replace_fails_cleanly(FAULT_WRITE, 1, ENOSPC, HF_ENOSPC); }
TEST(fs_replace_write_edquot)   { replace_fails_cleanly(FAULT_WRITE, 1, EDQUOT, HF_ENOSPC); }
TEST(fs_replace_fsync_eio)      { replace_fails_cleanly(FAULT_FSYNC, 1, EIO, HF_EIO); }
TEST(fs_replace_fsync_enospc)   { replace_fails_cleanly(FAULT_FSYNC, 1, ENOSPC, HF_ENOSPC); }
TEST(fs_replace_open_eacces)    { replace_fails_cleanly(FAULT_OPEN, 1, EACCES, HF_EACCES); }
TEST(fs_replace_close_eio)      { replace_fails_cleanly(FAULT_CLOSE, 1, EIO, HF_EIO); }
TEST(fs_replace_rename_eio)     { replace_fails_cleanly(FAULT_RENAME, 1, EIO, HF_EIO); }

TEST(fs_replace_dir_fsync_failure_is_an_error)
{
	/* The second fsync is the directory's: the rename happened but is not
	** known to be durable, so the caller must not treat it as done. */
	fault_arm(FAULT_FSYNC, 2, EIO, false);
	CHECK_INT(port_fs_replace("f", "new\n", 4, 0600), HF_EIO);
	CHECK_INT(fault_disarm(), 1);
	CHECK(test_log_has("fsync(.)"));
}

TEST(fs_replace_errors_logged_once_with_path)
{
	char want[128];

	fault_arm(FAULT_FSYNC, 1, EIO, false);
	CHECK_INT(port_fs_replace("f", "x", 1, 0600), HF_EIO);
	fault_disarm();
	/* The C library's words for EIO: musl's "I/O error", glibc's (the
	** sanitizer build) "Input/output error". */
	snprintf(want, sizeof(want), "fsync(f.tmp): %s", strerror(EIO));
	CHECK_STR(test_log(), want);
}

/* Fault loop: fail the 1st, 2nd, ... Nth syscall of any kind, transient and
** persistent, until a replace completes untouched. Each run ends either in
** success with the new content or an error with the old content. */
static void replace_fault_loop(int err, bool persistent)
{
	int n;

	for (n = 1; n < 100; n++) {
		int rc, fired;
		const char *got;

		test_write_file("f", "old\n");
		unlink("f.tmp");
		fault_arm(FAULT_NCALLS, n, err, persistent);
		rc = port_fs_replace("f", "new\n", 4, 0600);
		fired = fault_disarm();
		got = test_read_file("f");
		if (fired == 0) {
			CHECK_INT(rc, HF_OK);
			CHECK_STR(got, "new\n");
			break;
		}
		/* Under a persistent fault the cleanup fails too; the next
		** replace truncates a stale .tmp, recovery deletes it. */
		if (!persistent)
			CHECK(!exists("f.tmp"));
		/* Only the close of the read-only directory descriptor, after
		** its fsync succeeded, may fail without consequence. */
		if (rc == HF_OK && !(fault_last() == FAULT_CLOSE && !strcmp(got, "new\n")))
			test_fail(__FILE__, __LINE__, "call %d failed but replace said ok", n);
		/* A failed directory fsync comes after the rename: new content,
		** but an error. Anything else: the old content. */
		CHECK(strcmp(got, "old\n") == 0 || strcmp(got, "new\n") == 0);
	}
	CHECK(n > 5 && n < 100);
}

TEST(fs_replace_fault_loop_eio)              { replace_fault_loop(EIO, false); }
TEST(fs_replace_fault_loop_enospc)           { replace_fault_loop(ENOSPC, false); }
TEST(fs_replace_fault_loop_eio_persistent)   { replace_fault_loop(EIO, true); }
TEST(fs_replace_fault_loop_enospc_persistent){ replace_fault_loop(ENOSPC, true); }

static ssize_t (*real_write)(int, const void *, size_t);
static int eintr_left;

/* Writes at most 3 bytes per call, after a few EINTRs. */
static ssize_t short_write(int fd, const void *buf, size_t len)
{
	if (eintr_left > 0) {
		eintr_left--;
		errno = EINTR;
		return -1;
	}
	return real_write(fd, buf, len > 3 ? 3 : len);
}

TEST(fs_replace_handles_short_writes_and_eintr)
{
	real_write = port_sys.write;
	port_sys.write = short_write;
	eintr_left = 2;
	CHECK_INT(port_fs_replace("f", "0123456789abcdef\n", 17, 0600), HF_OK);
	port_sys_reset();
	CHECK_STR(test_read_file("f"), "0123456789abcdef\n");
}

/* ---- port_fs_publish: create-only ---- */

/* Whether any of publish's hidden temporary files is in the cwd; with
** REMOVE, removes them. */
static bool publish_tmp(bool remove)
{
	DIR *d = opendir(".");
	struct dirent *de;
	bool left = false;

	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || !strstr(de->d_name, ".tmp"))
			continue;
		left = true;
		if (remove)
			unlink(de->d_name);
	}
	if (d)
		closedir(d);
	return left;
}

static bool publish_tmp_left(void)
{
	return publish_tmp(false);
}

TEST(fs_publish_creates_with_exact_mode)
{
	umask(077);
	CHECK_INT(port_fs_publish("p", "hello\n", 6, 0640), HF_OK);
	CHECK_STR(test_read_file("p"), "hello\n");
	CHECK_INT(mode_of("p"), 0640);
	CHECK(!publish_tmp_left());
}

TEST(fs_publish_syncs_file_then_directory)
{
	fault_arm(FAULT_WRITE, 1000, EIO, false); /* count only */
	CHECK_INT(port_fs_publish("p", "x", 1, 0600), HF_OK);
	CHECK_INT(fault_calls(FAULT_FSYNC), 2);   /* the file and its directory */
	CHECK_INT(fault_calls(FAULT_RENAME_NOREPLACE), 1);
	CHECK_INT(fault_calls(FAULT_RENAME), 0);  /* never the replacing rename */
	fault_disarm();
}

TEST(fs_publish_same_bytes_there_is_done)
{
	test_write_file("p", "same\n");
	fault_arm(FAULT_WRITE, 1000, EIO, false); /* count only */
	CHECK_INT(port_fs_publish("p", "same\n", 5, 0600), HF_OK);
	/* The name is made durable even so: its writer may have died first. */
	CHECK_INT(fault_calls(FAULT_FSYNC), 2);
	fault_disarm();
	CHECK_STR(test_read_file("p"), "same\n");
	CHECK(!publish_tmp_left());
}

/* Other bytes there, longer, shorter or the same length: refused, the file
** untouched, nothing left behind. */
static void publish_refused(const char *there, const char *ours)
{
	test_write_file("p", there);
	CHECK_INT(port_fs_publish("p", ours, strlen(ours), 0600), HF_EEXIST);
	CHECK_STR(test_read_file("p"), there);
	CHECK(test_log_has("not replaced"));
	CHECK(!publish_tmp_left());
}

TEST(fs_publish_other_bytes_refused)     { publish_refused("theirs\n", "ours!\n"); }
TEST(fs_publish_longer_there_refused)    { publish_refused("ours\nand more\n", "ours\n"); }
TEST(fs_publish_shorter_there_refused)   { publish_refused("our", "ours\n"); }
TEST(fs_publish_empty_there_refused)     { publish_refused("", "ours\n"); }

/* A filesystem without RENAME_NOREPLACE (NFS): link(2) and unlink, as
** create-only. */
static int (*real_noreplace)(const char *, const char *);
static int no_noreplace(const char *a, const char *b)
{
	(void)a, (void)b;
	errno = EINVAL;
	return -1;
}

TEST(fs_publish_without_noreplace_links)
{
	real_noreplace = port_sys.rename_noreplace;
	port_sys.rename_noreplace = no_noreplace;
	CHECK_INT(port_fs_publish("p", "first\n", 6, 0600), HF_OK);
	CHECK_INT(port_fs_publish("p", "first\n", 6, 0600), HF_OK);
	CHECK_INT(port_fs_publish("p", "second\n", 7, 0600), HF_EEXIST);
	port_sys.rename_noreplace = real_noreplace;
	CHECK_STR(test_read_file("p"), "first\n");
	CHECK(!publish_tmp_left());
}

/* Fault loop: fail the 1st, 2nd, ... Nth syscall, transient and persistent,
** with nothing there and with another file there. Every run ends in the
** new file whole (success, or an error after the move: its directory fsync
** failed) or nothing; another file there is never touched. */
static void publish_fault_loop(int err, bool persistent, const char *there)
{
	int n;

	for (n = 1; n < 100; n++) {
		int rc, fired;
		const char *got;

		unlink("p");
		if (there)
			test_write_file("p", there);
		fault_arm(FAULT_NCALLS, n, err, persistent);
		rc = port_fs_publish("p", "new\n", 4, 0600);
		fired = fault_disarm();
		got = test_read_file("p");
		if (there) {
			CHECK_STR(got, there);
			CHECK(rc != HF_OK);
		} else if (rc == HF_OK) {
			CHECK_STR(got, "new\n");
		} else {
			CHECK(!got || !strcmp(got, "new\n"));
		}
		/* Only a failed removal of the hidden file itself may leave it. */
		if (!persistent && !(fired && fault_last() == FAULT_UNLINK))
			CHECK(!publish_tmp_left());
		/* After a persistent fault the cleanup failed too: start bare. */
		publish_tmp(true);
		if (fired == 0) {
			CHECK_INT(rc, there ? HF_EEXIST : HF_OK);
			break;
		}
	}
	CHECK(n > 5 && n < 100);
}

TEST(fs_publish_fault_loop_eio)            { publish_fault_loop(EIO, false, NULL); }
TEST(fs_publish_fault_loop_enospc)         { publish_fault_loop(ENOSPC, false, NULL); }
TEST(fs_publish_fault_loop_eio_persistent) { publish_fault_loop(EIO, true, NULL); }
TEST(fs_publish_fault_loop_other_there)    { publish_fault_loop(EIO, false, "theirs\n"); }
TEST(fs_publish_fault_loop_other_there_persistent) { publish_fault_loop(EIO, true, "theirs\n"); }

static int count_name(void *arg, const char *name)
{
	(void)name;
	(*(int *)arg)++;
	return 0;
}

/* Only a missing directory is "nothing there"; a file in its place is an
** error, so a listing that fails is never taken for an empty one. */
TEST(fs_list_missing_vs_not_a_directory)
{
	int n = 0;

	CHECK_INT(port_fs_list("nodir", count_name, &n), HF_ENOENT);
	test_write_file("afile", "x");
	CHECK(port_fs_list("afile", count_name, &n) < 0);
	CHECK(port_fs_list("afile", count_name, &n) != HF_ENOENT);
	CHECK(test_log_has("opendir(afile)"));
	CHECK(port_fs_list("afile/below", count_name, &n) != HF_ENOENT);
	CHECK_INT(mkdir("d", 0700), 0);
	test_write_file("d/one", "1");
	CHECK_INT(port_fs_list("d", count_name, &n), HF_OK);
	CHECK_INT(n, 1);
}

TEST(fs_mkdir_exact_mode_and_eexist)
{
	umask(022);
	CHECK_INT(port_fs_mkdir("d", 0700), HF_OK);
	CHECK_INT(mode_of("d"), 0700);
	CHECK_INT(port_fs_mkdir("d", 0700), HF_EEXIST);
	CHECK_STR(test_log(), "");  /* EEXIST is an answer, not a failure */
	fault_arm(FAULT_MKDIR, 1, ENOSPC, false);
	CHECK_INT(port_fs_mkdir("e", 0700), HF_ENOSPC);
	fault_disarm();
	CHECK(!exists("e"));
}

TEST(fs_rename_syncs_both_directories)
{
	mkdir("a", 0700);
	mkdir("b", 0700);
	test_write_file("a/f", "x");
	fault_arm(FAULT_WRITE, 1000, EIO, false); /* count only */
	CHECK_INT(port_fs_rename("a/f", "b/f"), HF_OK);
	CHECK_INT(fault_calls(FAULT_FSYNC), 2);
	fault_disarm();
	CHECK(exists("b/f") && !exists("a/f"));
	fault_arm(FAULT_FSYNC, 1, EIO, false);
	CHECK_INT(port_fs_rename("b/f", "b/g"), HF_EIO);
	fault_disarm();
}

TEST(fs_read_file_caps_and_errors)
{
	char *buf = NULL;
	size_t len = 0;

	test_write_file("f", "0123456789");
	CHECK_INT(port_fs_read_file("f", 10, &buf, &len), HF_OK);
	CHECK_INT(len, 10);
	CHECK_STR(buf, "0123456789");
	free(buf);
	CHECK_INT(port_fs_read_file("f", 9, &buf, &len), HF_ETOOBIG);
	CHECK(test_log_has("over the 9 byte limit"));
	CHECK_INT(port_fs_read_file("missing", 10, &buf, &len), HF_ENOENT);
	mkdir("d", 0700);
	CHECK_INT(port_fs_read_file("d", 10, &buf, &len), HF_EINVAL);
	fault_arm(FAULT_READ, 1, EIO, false);
	CHECK_INT(port_fs_read_file("f", 10, &buf, &len), HF_EIO);
	fault_disarm();
}

TEST(fs_kind_and_empty_and_remove_tree)
{
	enum port_fs_kind k;
	bool empty;

	CHECK_INT(port_fs_kind("none", &k), HF_OK);
	CHECK_INT(k, PORT_FS_NONE);
	mkdir("d", 0700);
	CHECK_INT(port_fs_kind("d", &k), HF_OK);
	CHECK_INT(k, PORT_FS_DIR);
	CHECK_INT(port_fs_dir_is_empty("d", &empty), HF_OK);
	CHECK(empty);
	mkdir("d/e", 0700);
	test_write_file("d/e/f", "x");
	CHECK_INT(port_fs_kind("d/e/f", &k), HF_OK);
	CHECK_INT(k, PORT_FS_FILE);
	CHECK_INT(port_fs_dir_is_empty("d", &empty), HF_OK);
	CHECK(!empty);
	CHECK_INT(port_fs_remove_tree("d"), HF_OK);
	CHECK(!exists("d"));
	CHECK_INT(port_fs_remove_tree("d"), HF_OK); /* already gone is fine */
	CHECK_INT(port_fs_dir_is_empty("d", &empty), HF_ENOENT);
}

TEST(fs_fsync_dir_errors)
{
	CHECK_INT(port_fs_fsync_dir("missing"), HF_ENOENT);
	CHECK(test_log_has("open(missing)"));
	CHECK_INT(port_fs_fsync_parent("/top-level-name"), HF_OK); /* parent is "/" */
	CHECK_INT(port_fs_unlink("missing"), HF_ENOENT);
	CHECK_INT(port_fs_rmdir("missing"), HF_ENOENT);
}

TEST(errno_mapping)
{
	CHECK_INT(port_errno_to_hf(EIO), HF_EIO);
	CHECK_INT(port_errno_to_hf(ENOSPC), HF_ENOSPC);
	CHECK_INT(port_errno_to_hf(EDQUOT), HF_ENOSPC);
	CHECK_INT(port_errno_to_hf(EROFS), HF_EACCES);
	CHECK_INT(port_errno_to_hf(EEXIST), HF_EEXIST);
	CHECK_INT(port_errno_to_hf(ENOENT), HF_ENOENT);
	CHECK_INT(port_errno_to_hf(EXDEV), HF_ENOTSUP);
	CHECK_INT(port_errno_to_hf(E2BIG), HF_ESYS);
}

TEST(error_names_are_distinct)
{
	for (int a = HF_ELAST; a <= HF_OK; a++) {
		CHECK(strcmp(hf_strerror(a), "unknown error") != 0);
		for (int b = a + 1; b <= HF_OK; b++)
			CHECK(strcmp(hf_strerror(a), hf_strerror(b)) != 0);
	}
	CHECK_STR(hf_strerror(-999), "unknown error");
}

TEST(fs_volatile_names_memory_storage)
{
	const char *what = "unset";

	/* procfs is neither memory nor network storage in this sense. */
	CHECK_INT(port_fs_volatile("/proc", &what), HF_OK);
	CHECK(what == NULL);
	/* A missing path is judged by its nearest existing ancestor. */
	what = "unset";
	CHECK_INT(port_fs_volatile("/proc/no/such/dir", &what), HF_OK);
	CHECK(what == NULL);
	if (port_fs_volatile("/dev/shm", &what) == HF_OK && what) {
		CHECK_STR(what, "tmpfs");
		CHECK_INT(port_fs_volatile("/dev/shm/no/such/dir", &what), HF_OK);
		CHECK_STR(what, "tmpfs");
	}
}

TEST(fs_lkind_and_lock_do_not_follow_links)
{
	enum port_fs_kind kind;
	int fd;

	CHECK_INT(symlink("target", "l"), 0);
	CHECK_INT(port_fs_lkind("l", &kind), HF_OK);
	CHECK_INT(kind, PORT_FS_LINK);
	CHECK_INT(port_fs_kind("l", &kind), HF_OK); /* dangling, followed: nothing */
	CHECK_INT(kind, PORT_FS_NONE);
	CHECK_INT(port_fs_lkind("missing", &kind), HF_OK);
	CHECK_INT(kind, PORT_FS_NONE);
	CHECK_INT(mkdir("d", 0700), 0);
	CHECK_INT(port_fs_lkind("d", &kind), HF_OK);
	CHECK_INT(kind, PORT_FS_DIR);
	/* A lock planted as a link creates nothing where it points. */
	CHECK(port_fs_lock("l", &fd) != HF_OK);
	CHECK(access("target", F_OK) != 0);
	CHECK_INT(port_fs_lock("real.lock", &fd), HF_OK); /* the control */
	port_close(fd);
}
