/*
** port.h: the contract between holdfast's portable firmware and the OS.
**
** Only code under port/ touches the operating system. port/linux/ is the
** shipped implementation; port/sim/ replaces files of the same name in test
** builds (crash-model filesystem, settable clock, scripted network). The
** Makefile picks a directory, never an #ifdef.
**
** Durability lives here. The rules every implementation keeps:
**   - A file is durable only after fsync of the file AND of the directory that
**     names it. port_fs_replace() is the only way firmware writes a whole file:
**     tmp + fsync + close + rename + fsync(dir). A failed directory fsync is an
**     error like any other.
**   - After an fsync error the unsynced data is treated as lost (the kernel may
**     already have dropped the dirty pages and cleared the error: the
**     "fsyncgate" lesson). Callers must not acknowledge anything on top of it.
**   - errno is read once, where a call fails, logged once with the function,
**     path and errno by port_syserr(), and mapped to an HF_ code. Callers
**     never log it again.
**
** Syscalls go through the port_sys table, which tests override to fail the
** Nth write, fsync, rename... with EIO or ENOSPC (SQLite's aSyscall[] idea):
** the binary we test is the binary we ship.
*/
#ifndef HF_PORT_H
#define HF_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h> /* SIGTERM, SIGKILL...: the numbers port_kill_group and port_signals_read use */
#include <sys/types.h>

#include "base/err.h"

/* ---- start-up and the job log's storage ------------------------------------ */

/* Called first in main, before anything touches a file. Nothing on linux; the
** sim port installs its crash-model recorder and fault injector here. */
void port_init(void);

/* The SQLite VFS the job log is opened with: SQLite's unix VFS, with the
** directory fsync that makes the WAL's name durable done (and checked) once
** per WAL file rather than once per connection (port/linux/vfs.c); in tests,
** the same over the sim port's recording and fault-injecting wrapper. NULL
** (SQLite's default, which still syncs the directory) if it cannot be set up. */
const char *port_db_vfs(void);

/* The job log's PRAGMA synchronous: "FULL" in every binary that ships. Only
** the sim port can answer "NORMAL", for the crash test's negative control. */
const char *port_db_synchronous(void);

/*
** LEN bytes of zeroed memory, reserved but backed only as it is touched,
** that a forked child does not inherit (Linux: MADV_DONTFORK). A gated child
** (port_spawn_gated) shares every page of its parent's until it execs, which
** is after the parent's commit: each page the parent writes meanwhile is
** copied on write, a page fault and a TLB flush. Memory the children never
** need (the job log's) kept here is not copied. Held for the process's life.
** HF_ENOMEM if the platform cannot give it (no overcommit, say).
*/
int port_mem_unshared(size_t len, void **out);

/* ---- logging ------------------------------------------------------------ */

/* Levels: syslog(3)'s numbers, which the journal's "<N>" prefix uses too. */
enum {
	PORT_LOG_ERR = 3,      /* failed: work refused or lost, the daemon stops */
	PORT_LOG_WARNING = 4,  /* wrong but handled: retried, waited out, dropped */
	PORT_LOG_NOTICE = 5,   /* normal but significant: a stop, a recovery */
	PORT_LOG_INFO = 6,     /* routine: a pass of pruning, shipping works again */
	PORT_LOG_DEBUG = 7,
};

/*
** Logs a message (one line, no newline) at LEVEL: to the sink if one is
** set; else to syslog once port_log_syslog() was called; else to stderr as
** "holdfast: <message>\n", or as "<LEVEL><message>\n" when stderr is the
** journal's stream (sd-daemon(3)). See port/linux/log.c.
*/
void port_logl(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* port_logl at PORT_LOG_ERR: most messages say what failed. */
void port_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define port_warn(...) port_logl(PORT_LOG_WARNING, __VA_ARGS__)
#define port_notice(...) port_logl(PORT_LOG_NOTICE, __VA_ARGS__)
#define port_info(...) port_logl(PORT_LOG_INFO, __VA_ARGS__)
#define port_debug(...) port_logl(PORT_LOG_DEBUG, __VA_ARGS__)

/* Replaces the log sink (NULL restores the default); tests capture messages,
** the daemon keeps them in memory while the disk is full. */
void port_log_set_sink(void (*sink)(int level, const char *line, void *arg), void *arg);

/* Whether stderr is the journal's stream: $JOURNAL_STREAM holds the device
** and inode of our stderr. */
bool port_log_journal_stream(void);

/* From now on messages go to syslog(3) (LOG_DAEMON, "holdfast[PID]").
** HF_ENOENT, said on stderr, if nothing listens at /dev/log: messages stay
** on stderr then. */
int port_log_syslog(void);

/* At most BURST lines of one text per INTERVAL_MS, then one line saying how
** many were suppressed (loglimit.h); BURST 0: off, the default. The sink
** sees every line. */
void port_log_ratelimit(unsigned burst, uint64_t interval_ms);

/* Says the suppressed counts of windows that have ended (the daemon's loop,
** so that a burst followed by quiet is still summed up). */
void port_log_flush(void);

/* Logs "<fn>(<path>): <strerror(e)>" once and returns the mapped HF_ code. */
int port_syserr(const char *fn, const char *path, int e);

/* Maps an errno value to an HF_ code. */
int port_errno_to_hf(int e);

/* ---- syscall table -------------------------------------------------------- */

struct port_syscalls {
	int (*open)(const char *path, int flags, mode_t mode);
	int (*close)(int fd);
	ssize_t (*read)(int fd, void *buf, size_t len);
	ssize_t (*write)(int fd, const void *buf, size_t len);
	int (*fsync)(int fd);
	int (*rename)(const char *from, const char *to);
	int (*unlink)(const char *path);
	int (*mkdir)(const char *path, mode_t mode);
	int (*rmdir)(const char *path);
	/* rename that fails with EEXIST rather than replace TO (renameat2's
	** RENAME_NOREPLACE), and link(2), its stand-in where a filesystem
	** has no such rename. */
	int (*rename_noreplace)(const char *from, const char *to);
	int (*link)(const char *from, const char *to);
	/* Writes at an offset and cuts to a size: restore rebuilds a database
	** page by page with them, so its fault loops need them here too. */
	ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
	int (*ftruncate)(int fd, off_t size);
};

/* The table every port/ call goes through. Tests may assign members. */
extern struct port_syscalls port_sys;

/* Puts the real system calls back in every slot of port_sys. */
void port_sys_reset(void);

/* ---- filesystem ----------------------------------------------------------- */

/*
** Atomically replaces (or creates) PATH with LEN bytes of DATA and mode MODE:
** write PATH.tmp, fsync it, close, rename over PATH, fsync the directory. On
** failure PATH is unchanged and PATH.tmp is removed; on success PATH is
** durable.
*/
int port_fs_replace(const char *path, const void *data, size_t len, mode_t mode);

/*
** Creates PATH with LEN bytes of DATA and mode MODE, never replacing
** anything: writes a hidden temporary file beside it (".NAME.RANDOM.tmp",
** unique, so two writers never share one), fsyncs and closes it, moves it
** to PATH only if PATH does not exist (renameat2 RENAME_NOREPLACE; link(2)
** and unlink where the filesystem lacks that rename), then fsyncs the
** directory. The local twin of S3's If-None-Match: *. If PATH exists:
** HF_OK if it holds DATA byte for byte (a retry after a cut, or another
** writer of the very same bytes; its directory is fsynced all the same),
** else HF_EEXIST, logged, and PATH untouched. The temporary file is gone
** in every case but a persistent fault.
*/
int port_fs_publish(const char *path, const void *data, size_t len, mode_t mode);

/* fsync(2) of directory DIR, so the names in it are durable. */
int port_fs_fsync_dir(const char *dir);

/* fsync of the directory that contains PATH. */
int port_fs_fsync_parent(const char *path);

/* mkdir PATH with MODE (exactly: the umask is not applied), then fsync its
** parent so the new name survives a power cut. HF_EEXIST if PATH exists. */
int port_fs_mkdir(const char *path, mode_t mode);

/* rename FROM to TO, then fsync the parent directory (both, if they differ). */
int port_fs_rename(const char *from, const char *to);

/* unlink / rmdir; HF_ENOENT (not logged) when PATH is already gone. */
int port_fs_unlink(const char *path);
int port_fs_rmdir(const char *path);

/* Reads a whole regular file of at most CAP bytes into a NUL-terminated heap
** buffer *OUT (caller frees) of length *LEN. HF_ETOOBIG past CAP. Anything
** but a regular file (a FIFO, a device) is refused without blocking. */
int port_fs_read_file(const char *path, size_t cap, char **out, size_t *len);

/* Opens regular file PATH read-only, with its size in *SIZE. HF_ENOENT (not
** logged) if it does not exist. Close with port_close(). */
int port_fs_open_read(const char *path, int *fd, uint64_t *size);

/* Opens regular file REL below directory ROOT read-only, as
** port_fs_open_read, but following no symbolic link below ROOT (each
** component opened with O_NOFOLLOW from the one before), refusing "." and
** ".." components, and never blocking on a FIFO: HF_ENOENT (not logged) if
** it is not there, HF_EINVAL (logged, naming it) for a link, a FIFO or any
** other file that is not regular. For replicas: input from outside. */
int port_fs_open_beneath(const char *root, const char *rel, int *fd, uint64_t *size);

/* Creates (or empties) PATH, mode MODE, for reading and writing; a symbolic
** link at PATH is refused. Close with port_close(). */
int port_fs_create(const char *path, mode_t mode, int *fd);

/* Writes all LEN bytes at offset OFF of FD. */
int port_fs_pwrite(int fd, const void *buf, size_t len, uint64_t off);

/* ftruncate(2): FD's length becomes SIZE. */
int port_fs_truncate(int fd, uint64_t size);

/* fsync(2) of FD. */
int port_fs_sync(int fd);

/* The bytes an unprivileged user may still write on DIR's filesystem. */
int port_fs_free_space(const char *dir, uint64_t *bytes);

/* The size of DIR's file system (statvfs: blocks x fragment size). */
int port_fs_total_size(const char *dir, uint64_t *bytes);

/* What the files below DIR take on the disk (allocated blocks, so a WAL
** or spool file counts as the space it holds), a few levels deep, links
** not followed: for a data directory, the log, its WAL and the spool. One
** stat per file: cheap for a directory of a few dozen. */
int port_fs_usage(const char *dir, uint64_t *bytes);

/* Reads LEN bytes at offset OFF of FD; *GOT < LEN only at the end of file. */
int port_fs_pread(int fd, void *buf, size_t len, uint64_t off, size_t *got);

/* Calls FN with each name in DIR (not "." or ".."), in no order; FN
** returning non-zero stops with that code. HF_ENOENT (not logged) if DIR is
** missing, and only then: DIR (or a parent) a file is HF_ESYS, logged. */
int port_fs_list(const char *dir, int (*fn)(void *arg, const char *name), void *arg);

/* The permission bits of PATH (symlinks followed). */
int port_fs_mode(const char *path, mode_t *mode);

/* As port_fs_mode, and *MINE: whether our effective uid owns PATH (a
** secret's file must be ours alone). */
int port_fs_mode_owner(const char *path, mode_t *mode, bool *mine);

/* Size and modification time (ns) of PATH; HF_ENOENT (not logged) if none. */
int port_fs_stamp(const char *path, uint64_t *size, int64_t *mtime_ns);

/* Takes an exclusive advisory lock on PATH (created 0600 if missing) without
** waiting: HF_EBUSY if another process holds it. A symbolic link at PATH is
** not followed (an error). Released by port_close(*FD) or by our death. */
int port_fs_lock(const char *path, int *fd);

enum port_fs_kind { PORT_FS_NONE, PORT_FS_FILE, PORT_FS_DIR, PORT_FS_OTHER, PORT_FS_LINK };

/* What is at PATH (symlinks followed: never PORT_FS_LINK). Errors other than
** ENOENT are logged and returned; a missing PATH is PORT_FS_NONE and HF_OK. */
int port_fs_kind(const char *path, enum port_fs_kind *kind);

/* The same, but a symbolic link at PATH's last component is PORT_FS_LINK,
** whatever it points to (lstat(2)); links before it are followed. */
int port_fs_lkind(const char *path, enum port_fs_kind *kind);

/* *EMPTY is true if directory DIR has no entries but "." and "..". */
int port_fs_dir_is_empty(const char *dir, bool *empty);

/* Removes DIR and everything below it (for our own staging directories). */
int port_fs_remove_tree(const char *dir);

/* The current working directory (getcwd). */
int port_cwd(char *buf, size_t len);

/* chmod(2). */
int port_fs_chmod(const char *path, mode_t mode);

/* Whether the calling user may write into DIR (access(2) W_OK|X_OK). */
bool port_fs_is_writable(const char *dir);

/*
** Whether DIR (or, if it does not exist yet, its nearest existing ancestor)
** is on storage that cannot keep the promise "acknowledged means durable":
** memory (tmpfs, ramfs), which a power cut empties, or a network or FUSE
** filesystem, whose fsync and locking SQLite cannot rely on. *WHAT is then
** the filesystem's name, else NULL.
*/
int port_fs_volatile(const char *dir, const char **what);

/*
** What the storage under DIR is, for `holdfast doctor`: the file system's
** type (statfs) and class, its size and what an unprivileged user may still
** write, and the disk below it (sysfs): its name, whether the kernel calls
** it removable or rotational (-1: not known), and its bus ("usb", "sd" for
** an SD card, "mmc" for eMMC, "nvme", "virtio", "loop", "dm"; "" unknown).
** dev is "" when no block device backs it (tmpfs, NFS, overlayfs).
*/
enum { PORT_FS_LOCAL, PORT_FS_MEMORY, PORT_FS_NETWORK };
struct port_storage {
	char type[24];            /* "ext2/3/4", "vfat", "tmpfs", "NFS"..., or "0xMAGIC" */
	int fs_class;             /* PORT_FS_LOCAL, _MEMORY, _NETWORK */
	uint64_t total, avail;    /* bytes */
	char dev[32];
	int removable, rotational;
	char bus[8];
};
int port_fs_info(const char *dir, struct port_storage *fi);

/* Times N (at most PORT_FSYNC_PROBE_MAX) fsyncs of a hidden file made in
** DIR, each after a 4 KiB write at a new offset: US[i] microseconds. The
** file is removed. */
#define PORT_FSYNC_PROBE_MAX 16
int port_fs_fsync_probe(const char *dir, unsigned n, uint64_t *us);

/* ---- clocks --------------------------------------------------------------- */

/*
** Two clocks, two uses. The monotonic clock orders events and runs timers; it
** never jumps, but restarts at every boot. Wall time is for signing,
** certificates and display only: boards without an RTC boot at 1970 or at a
** stale time, so it is "trusted" only when the kernel says it is synchronised
** (adjtimex) and it is not earlier than the build of this binary.
*/
uint64_t port_clock_mono_ms(void);

/* Milliseconds since the Unix epoch; *TRUSTED (if not NULL) says whether the
** value may be relied on. */
int64_t port_clock_utc(bool *trusted);

/* The wall clock as the job log keeps it: milliseconds, or -1 while it is
** not trusted. */
static inline int64_t port_clock_utc_or_none(void)
{
	bool trusted;
	int64_t utc = port_clock_utc(&trusted);

	return trusted ? utc : -1;
}

/* How the wall clock stands, for `holdfast doctor`: the kernel's word
** (adjtimex: synchronised, i.e. no STA_UNSYNC, and its bound on the error),
** the time of this binary's build, and trust by the rule above. */
struct port_clock_state {
	int64_t utc_ms;
	bool synchronised;
	int64_t max_error_us;      /* timex.maxerror; -1: not known */
	int64_t build_utc_s;       /* wall time is not trusted before this */
	bool trusted;
};
void port_clock_state(struct port_clock_state *st);

/* ---- process -------------------------------------------------------------- */

/* The process environment (environ). */
char **port_environ(void);
/* The value of environment variable NAME (getenv), or NULL. */
const char *port_env(const char *name);

/* 32 random bits from the kernel (getrandom), for jitter; never blocks. */
uint32_t port_random_u32(void);

/* The kernel's id of this boot (/proc/sys/kernel/random/boot_id): a power
** cut or reboot changes it, a daemon restart does not. */
int port_boot_id(char *buf, size_t len);

/*
** A child process in its own process group (pgid == pid) whose stdin is
** /dev/null and whose stdout and stderr are the non-blocking pipes out_fd and
** err_fd. It is "gated": it waits before exec until port_child_release(), so
** that the caller can durably record its pid first (write-ahead intent). If
** the gate is closed without release (port_child_abort, or our death), the
** child exits without running anything.
*/
struct port_child {
	pid_t pid;
	int out_fd, err_fd, gate_fd;
	int64_t start_time;        /* /proc/<pid>/stat starttime: tells PID reuse */
};

/* How a job's process is set up after its gate opens (port_spawn_init
** gives: no directory change, our own ids, umask 022, limits inherited).
** Always: only descriptors 0-2 reach it, and no_new_privs is set. */
enum { PORT_RLIM_NOFILE, PORT_RLIM_AS, PORT_RLIM_CORE, PORT_RLIM_N };
#define PORT_RLIM_UNLIMITED UINT64_MAX
struct port_spawn {
	const char *cwd;           /* chdir here (as the job's user); NULL: stay */
	const char *user;          /* NULL: keep our ids; else initgroups(user, gid),
				    * setgid(gid), setuid(uid), in that order */
	uid_t uid;
	gid_t gid;
	mode_t umask;
	const char *refuse;        /* not NULL: once released, the child writes
				    * "holdfast: REFUSE" to its stderr and exits
				    * 127, running nothing (a job the daemon may
				    * not run, recorded as an attempt that says so) */
	struct {
		bool set;          /* else inherited from the daemon */
		uint64_t value;    /* soft = hard limit; PORT_RLIM_UNLIMITED */
	} limit[PORT_RLIM_N];
};
void port_spawn_init(struct port_spawn *sp);

/* Forks ARGV (PATH searched) with environment ENVP, set up as SP says.
** The child reads ARGV, ENVP and SP's strings after fork: none of them may
** be in port_mem_unshared memory (the job log's).
** A failure in the child after its release (a drop of privileges, chdir,
** exec) is written to its stderr and it exits 127. */
int port_spawn_gated(char *const argv[], char *const envp[], const struct port_spawn *sp,
		     struct port_child *c);
int port_child_release(struct port_child *c);
void port_child_abort(struct port_child *c);

/*
** A command run on our behalf (a job's step): ARGV (PATH searched) with
** environment ENVP, in our process group (a job's timeout or cancel ends it
** with us), with our stdin and stderr, its stdout a pipe *OUT_FD (blocking,
** read with port_read_nb). If it cannot be run, says why (logged) and
** returns HF_ENOENT (not found) or HF_EACCES (found, not runnable), and
** there is no child. port_wait waits for it: *EXIT_CODE and *SIG as
** port_reap.
*/
int port_run_piped(char *const argv[], char *const envp[], pid_t *pid, int *out_fd);
int port_wait(pid_t pid, int *exit_code, int *sig);

/* The starttime of process PID, or HF_ENOENT if there is none. */
int port_proc_start_time(pid_t pid, int64_t *t);

/* The process that holds the write lock of the SQLite database DB_PATH (in
** WAL mode), with its command line (printable, cut to LEN) in CMD: HF_OK, or
** HF_ENOENT if no other process holds it now. For messages only. */
int port_db_writer(const char *db_path, int *pid, char *cmd, size_t len);

/* The writers' turnstile of a data directory DIR (see port/linux/dblock.c):
** every holdfast writer holds it for its write transaction, so that writers
** queue in the kernel instead of polling SQLite's lock. Enter waits at most
** TIMEOUT_MS (HF_EBUSY after). The descriptor is closed with port_close. */
int port_turnstile_open(const char *dir, int *fd);
int port_turnstile_enter(int fd, uint64_t timeout_ms);
void port_turnstile_leave(int fd);
/* Whether another process waits at the turnstile FD now (for politeness). */
bool port_turnstile_waited(int fd);

/* kill(-PGID, SIG); a group already gone is not an error. */
int port_kill_group(pid_t pgid, int sig);

/*
** A dead daemon's job: sends SIG to process group PGID if it still is the
** group that job's leader (pid PGID, started at START_TIME) made, whatever
** became of the leader. The kernel hands out no pid that a live group still
** uses, so a live PGID with another start time is a stranger and nothing of
** ours is left. With the leader gone (or a zombie), the group is ours only if
** none of its processes started before the leader and one of them still
** carries every "NAME=VALUE" of MARKS (NULL-terminated, at most 8) in its
** environment: a stranger's group that took the number is left alone.
** *FOUND: PORT_ORPHAN_NONE (nothing signalled), PORT_ORPHAN_LEADER (the
** leader was still running), PORT_ORPHAN_MEMBERS (only members were left).
*/
enum port_orphan { PORT_ORPHAN_NONE, PORT_ORPHAN_LEADER, PORT_ORPHAN_MEMBERS };
int port_kill_orphan_group(pid_t pgid, int64_t start_time, const char *const marks[], int sig,
			   enum port_orphan *found);

/* Reaps one exited child: HF_OK with *PID, *EXIT_CODE (its exit status, -1
** if a signal ended it) and *SIG (that signal, else -1); HF_ENOENT if none. */
int port_reap(pid_t *pid, int *exit_code, int *sig);

/* Reads what is available from a non-blocking FD: HF_OK with *GOT bytes
** (0 at end of file), HF_EBUSY if nothing is there yet. */
int port_read_nb(int fd, void *buf, size_t len, size_t *got);

void port_close(int fd);

/* ---- event loop ------------------------------------------------------------- */

/* Blocks SIGCHLD, SIGTERM, SIGINT and SIGHUP and returns a signalfd for them. */
int port_signals_open(int *fd);
/* Reads one pending signal number into *SIG; HF_EBUSY if none. */
int port_signals_read(int fd, int *sig);

/* poll(2), EINTR retried with the remaining time. */
int port_poll(struct pollfd *fds, unsigned n, int timeout_ms);

/*
** A task: FN(ARG) run beside the event loop, for work that must not hold the
** loop up (the job log's check after an unclean stop reads the whole file).
** *FD becomes readable once FN has returned; port_task_join then waits for
** it (at once, when the fd said so) and frees the task, and must be called
** exactly once. FN must not touch what the loop uses: it gets its own data
** through ARG (port_log is one write(2) a line, safe from FN). Linux runs FN on a thread; the sim port
** runs it inside port_task_start, so the crash simulation's traces stay in
** one deterministic order (its VFS recorder is not made for threads).
*/
struct port_task;
int port_task_start(void (*fn)(void *arg), void *arg, struct port_task **task, int *fd);
void port_task_join(struct port_task *task);

/*
** Wake-ups: the daemon of data directory DIR listens on an abstract unix
** datagram socket named after DIR's device and inode (no file on disk; it
** vanishes with the process). Binding it doubles as the one-daemon lock:
** HF_EBUSY if another daemon has it. port_wake_send pokes the daemon after a
** commit: HF_OK if one is listening, HF_ENOENT if none.
*/
int port_wake_listen(const char *dir, int *fd);
int port_wake_send(const char *dir);
/* Whether DIR's daemon is listening, without waking it: HF_OK or HF_ENOENT. */
int port_wake_probe(const char *dir);
/*
** A question to DIR's daemon (QUESTION, a short text), and its answer in
** REPLY[LEN], NUL-terminated: HF_OK; HF_ENOENT if no daemon listens;
** HF_EBUSY if it did not answer within TIMEOUT_MS (busy, or too old to
** answer). The asker's socket is autobound in the abstract namespace, so
** the daemon can answer it; nothing is made on disk.
*/
int port_wake_ask(const char *dir, const char *question, char *reply, size_t len,
		  int timeout_ms);
/*
** Reads every datagram waiting on the daemon's FD. A question ('?' first)
** is answered with what ANSWER (if not NULL) writes into its buffer; any
** other datagram is a poke. Returns whether a poke came.
*/
bool port_wake_drain(int fd, void (*answer)(const char *question, char *reply, size_t len,
					    void *arg), void *arg);

/* ---- the service manager --------------------------------------------------- */

/*
** systemd's notify protocol (Type=notify; sd_notify(3)): port_notify_open
** reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID once, and removes
** them from the environment (jobs must not inherit them). It returns
** whether a service manager listens, and sets *WATCHDOG_MS to the watchdog
** interval it asked of this process (0: none; WATCHDOG_PID, when set, must
** be ours). port_notify sends MSG, "KEY=VALUE" lines ("READY=1",
** "STATUS=...", "WATCHDOG=1", "STOPPING=1", "EXTEND_TIMEOUT_USEC=..."), as
** one datagram: HF_OK, also when no service manager listens. A failed send
** is logged once. The sim port notifies nothing.
*/
bool port_notify_open(uint64_t *watchdog_ms);
int port_notify(const char *msg);

/* ---- network ---------------------------------------------------------------- */

/*
** A TCP connection, optionally TLS (mbedTLS 3.6, in the port because it
** drives the socket). TLS: 1.2 at least, 1.3 preferred; the server's
** certificate must chain to the CA bundle and name HOST
** (mbedtls_ssl_set_hostname), always; with a pin, its public key must also
** be the pinned one; renegotiation is off. Every wait is bounded by the
** TIMEOUT_MS given. Errors are logged with what failed, naming HOST:PORT
** (the certificate's failed checks, the server's TLS alert by name, the
** refused connection) and mapped: HF_ETLS for a TLS failure (handshake,
** certificate, pin, CA bundle), HF_EIO for the network. Names under
** .localhost are loopback (RFC 6761).
**
** A port_tls is what the connections to one server share: the parsed CA
** bundle, the random generator and the last session, which the next
** handshake resumes.
*/
struct port_conn;
struct port_tls;
/* CA_FILE NULL: /etc/ssl/certs/ca-certificates.crt. PIN NULL, or
** "sha256//BASE64": the SHA-256 of the server's SubjectPublicKeyInfo (DER).
** On failure *T is still set, for port_tls_free. */
int port_tls_new(const char *ca_file, const char *pin, struct port_tls **t);
void port_tls_free(struct port_tls *t);
int port_conn_open(const char *host, unsigned port, struct port_tls *tls, unsigned timeout_ms,
		   struct port_conn **c);
int port_conn_write(struct port_conn *c, const void *buf, size_t len, unsigned timeout_ms);
/* *GOT bytes read, 0 at the end of the stream. */
int port_conn_read(struct port_conn *c, void *buf, size_t cap, size_t *got, unsigned timeout_ms);
/* The TLS version in use ("TLSv1.3"), or "plain". */
const char *port_conn_protocol(const struct port_conn *c);
/* An idle kept-alive connection the server has not closed. */
bool port_conn_idle_ok(const struct port_conn *c);
void port_conn_close(struct port_conn *c);

/*
** Network changes: a socket (rtnetlink) that becomes readable when a link,
** an address or a route changes. HF_ENOTSUP where the kernel has none.
** port_netwatch_read drains it: true if something came up (a link up and
** running, a new address or route), the moment to try the network again.
*/
int port_netwatch_open(int *fd);
bool port_netwatch_read(int fd);

/* The name of the link the default route goes by (the lowest metric; IPv4
** first, then IPv6). HF_ENOENT if there is no default route. */
int port_net_default_link(char *name, size_t cap);

/* Whether any route leads off this machine (a link up with an address):
** without one, no request can reach a replica that is not on loopback. */
bool port_net_online(void);

/* This process's id. */
pid_t port_pid(void);

/* Whether standard error is a terminal (progress lines are only for people). */
bool port_stderr_is_tty(void);

/* This machine's host name, the default device name for the replica. */
int port_hostname(char *buf, size_t len);

/* Whether we run with an effective uid of 0 (root picks /var/lib defaults). */
bool port_user_is_root(void);

/* The user's home directory ($HOME, else the password database), or NULL. */
const char *port_user_home(void);

/* Our effective user id. */
uid_t port_uid(void);

/* User NAME from the password database (getpwnam_r): its ids and home
** directory. HF_ENOENT (not logged) if there is no such user. */
struct port_user {
	uid_t uid;
	gid_t gid;
	char home[256];
};
int port_user_lookup(const char *name, struct port_user *u);

#endif /* HF_PORT_H */
