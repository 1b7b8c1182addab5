/*
** cli.c: argument parsing, verb dispatch and help texts (see cli.h).
**
** Parsing is strict: an unknown verb or option, a missing value or a stray
** argument is a usage error (exit 2) that names the offending word, and
** nothing is touched. Options may be given as --name VALUE or --name=VALUE.
*/
#include <limits.h>
#include <string.h>

#include "app/args.h"
#include "app/cli.h"
#include "app/cmd.h"
#include "app/doctor.h"
#include "app/version.h"
#include "base/err.h"
#include "base/suggest.h"
#include "fmt/cfg.h"
#include "log/datadir.h"
#include "port.h"

struct verb {
	const char *name;
	const char *summary;
	const char *help;      /* full help: usage line first */
	int (*run)(const struct args_global *g, struct args *a, FILE *out);
};

static const struct verb *find_verb(const char *name);
static void unknown_verb(const char *prefix, const char *name);
static void print_help(FILE *out);

static const char exit_help[] =
	"Exit status: 0 ok, 1 runtime failure, 2 usage or input error.\n";

static int exit_code(int rc)
{
	if (rc >= ARGS_EXIT(0) && rc <= ARGS_EXIT(255))
		return rc - ARGS_EXIT(0);
	if (rc == HF_OK)
		return CLI_EXIT_OK;
	return rc == HF_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

/* ---- verbs ---------------------------------------------------------------- */

/* init's usual case: the config is DIR/holdfast.conf, made with the log. */
static int init_with_conf(const char *dir, bool is_default, FILE *out)
{
	int rc;

	if ((rc = dd_init(dir, is_default)) != HF_OK) {
		port_log("init failed (%s); nothing was changed", hf_strerror(rc));
		return rc;
	}
	fprintf(out, "initialised %s\n", dir);
	/* Said where it is seen, not only in the file: a root daemon's jobs
	** would run as root, and the config now allows it. */
	if (port_user_is_root())
		port_log("init: run as root, so %s/%s says allow_root = yes (jobs run as root); "
			 "better: [jobs] user = NAME and no allow_root", dir, DD_CONF_NAME);
	return HF_OK;
}

static int run_init(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false },
					       { "allow-volatile", 0, false },
					       { NULL, 0, false } };
	const char *dir_arg = NULL, *val;
	char dir[PATH_MAX], conf[PATH_MAX + 32];
	bool is_default, allow_volatile = false, named, wrote = false;
	enum port_fs_kind kind;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION && idx == 1) {
			allow_volatile = true;
			continue;
		}
		if (r == ARGS_OPTION) {
			fputs(find_verb("init")->help, out);
			return HF_OK;
		}
		if (dir_arg) {
			port_log("init: unexpected argument '%s' (one directory at most)", val);
			return HF_EINVAL;
		}
		if (val[0] == '\0') {
			port_log("init: the directory name is empty");
			return HF_EINVAL;
		}
		dir_arg = val;
	}
	if (dir_arg && g->data && strcmp(dir_arg, g->data) != 0) {
		port_log("init: --data %s and directory %s disagree; give one", g->data, dir_arg);
		return HF_EINVAL;
	}
	if ((rc = dd_resolve(dir_arg ? dir_arg : g->data, dir, sizeof(dir), &is_default)))
		return rc;
	if ((rc = dd_check_storage(dir, allow_volatile)) != HF_OK)
		return rc;
	if ((rc = dd_conf_path(g->config, dir, conf, sizeof(conf), &named)) != HF_OK)
		return rc;
	if (!named)
		return init_with_conf(dir, is_default, out);
	/* The config is elsewhere (--config, $HOLDFAST_CONFIG, or the system's
	** in /etc): one that exists is kept as it is; a missing one gets the
	** default, written first so a failure changes nothing. */
	if ((rc = port_fs_kind(conf, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_NONE) {
		const char *text = cfg_init_text(port_user_is_root());

		if ((rc = port_fs_replace(conf, text, strlen(text), 0600)) != HF_OK) {
			port_log("init: cannot write the config %s (%s); nothing was changed", conf,
				 hf_strerror(rc));
			return rc;
		}
		wrote = true;
	}
	if ((rc = dd_init_without_conf(dir, is_default)) != HF_OK) {
		if (wrote)
			port_fs_unlink(conf);
		port_log("init failed (%s); nothing was changed", hf_strerror(rc));
		return rc;
	}
	fprintf(out, "initialised %s (config: %s%s)\n", dir, conf, wrote ? ", new" : "");
	if (wrote && port_user_is_root())
		port_log("init: run as root, so %s says allow_root = yes (jobs run as root); "
			 "better: [jobs] user = NAME and no allow_root", conf);
	return HF_OK;
}

static int run_version(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { NULL, 0, false } };
	const char *val;
	int r, idx;

	(void)g;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			port_log("version: unexpected argument '%s'", val);
			return HF_EINVAL;
		}
		fputs(find_verb("version")->help, out);
		return HF_OK;
	}
	version_print(out);
	return HF_OK;
}

static int run_help(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { NULL, 0, false } };
	const struct verb *v;
	const char *val;
	int r, idx;

	(void)g;
	r = args_next(a, opts, &idx, &val);
	if (r < 0)
		return r;
	if (r == ARGS_END) {
		print_help(out);
		return HF_OK;
	}
	if (r == ARGS_OPTION) {
		fputs(find_verb("help")->help, out);
		return HF_OK;
	}
	if (!(v = find_verb(val))) {
		unknown_verb("help: ", val);
		return HF_EINVAL;
	}
	if (a->i < a->argc) {
		port_log("help: one verb at a time");
		return HF_EINVAL;
	}
	fputs(v->help, out);
	return HF_OK;
}

static const struct verb verbs[] = {
	{ "init", "create a data directory: an empty job log and a default config",
	  "usage: holdfast [--data DIR] init [DIR]\n"
	  "\n"
	  "Creates a data directory (mode 0700) holding a new job log, holdfast.db\n"
	  "(SQLite, WAL mode, synchronous=FULL; both are read back and verified),\n"
	  "and a commented default configuration, holdfast.conf (mode 0600).\n"
	  "\n"
	  "DIR (or --data DIR) must not exist yet, or be an empty directory. Without\n"
	  "either, the default data directory is used: $HOLDFAST_DATA, else\n"
	  "/var/lib/holdfast for root, else $XDG_STATE_HOME/holdfast (by default\n"
	  "~/.local/state/holdfast). init never overwrites: on an existing data\n"
	  "directory, a non-empty directory, or any failure it changes nothing.\n"
	  "\n"
	  "With --config FILE or $HOLDFAST_CONFIG, and for /var/lib/holdfast when\n"
	  "/etc/holdfast/holdfast.conf exists (the packages' config), the config is\n"
	  "that file: init writes none in the data directory, and writes the\n"
	  "default to FILE only if FILE does not exist.\n"
	  "\n"
	  "A directory on memory (tmpfs, ramfs) or network storage (NFS, CIFS, 9p,\n"
	  "FUSE...) is refused: a power cut empties the first, and fsync and locks\n"
	  "on the others cannot be relied on.\n"
	  "\n"
	  "Options:\n"
	  "  --allow-volatile   accept such a directory anyway (tests, demos)\n"
	  "  -h, --help         this help\n"
	  "\n"
	  "Exit status: 0 created, 1 refused or failed (nothing changed),\n"
	  "2 usage error.\n",
	  run_init },
	{ "submit", "queue a job; prints its id once it is durable",
	  "usage: holdfast submit [options] [--] CMD [ARGS...]\n"
	  "\n"
	  "Queues CMD with ARGS (run directly, no shell: write sh -c '...' for one)\n"
	  "and prints the job's id only after it is committed to the log with\n"
	  "synchronous=FULL: a printed id survives a power cut. Works whether or not\n"
	  "the daemon runs; a running daemon is woken at once.\n"
	  "\n"
	  "The job's environment: the daemon's own (holdfast run's, not this\n"
	  "shell's), each --env over it, then HOLDFAST_JOB_ID (the job's id) and\n"
	  "HOLDFAST_ATTEMPT (1, then 2 on the first retry, ...) over both.\n"
	  "\n"
	  "Options:\n"
	  "  --name NAME          a name, usable in --after, show, logs (the newest\n"
	  "                       job of that name)\n"
	  "  --after ID|NAME      start only after that job succeeded (repeatable);\n"
	  "                       if it dies or is cancelled, this job dies too\n"
	  "  --retries N          re-run up to N times after a failure (default 0)\n"
	  "  --backoff MIN..MAX   delay before retry k: MIN*2^(k-1), at most MAX,\n"
	  "                       with jitter (default 1s..5m)\n"
	  "  --timeout DUR        SIGTERM the job's process group after DUR, SIGKILL\n"
	  "                       after [jobs] kill_grace (default: no timeout)\n"
	  "  --priority P         -1000..1000, higher first (default 0); FIFO within\n"
	  "  --group G            at most the [groups] G limit of these run at once\n"
	  "                       (default limit 1)\n"
	  "  --key KEY            idempotency key: if a job has it already, print that\n"
	  "                       job's id and queue nothing\n"
	  "  --env NAME=VALUE     set in the job's environment (repeatable)\n"
	  "  --cwd DIR            run in DIR (default: the current directory)\n"
	  "  --user NAME          run as NAME with its groups (default: [jobs] user);\n"
	  "                       the daemon must be root, and NAME root needs\n"
	  "                       [jobs] allow_root = yes\n"
	  "  --limit-nofile N     open files at most (default: [jobs] limit_nofile)\n"
	  "  --limit-as SIZE      address space at most, or unlimited\n"
	  "  --limit-core SIZE    core file size at most (0: none), or unlimited\n"
	  "  --not-before DUR     do not start before DUR from now\n"
	  "  --json               print {\"id\":N,\"existed\":BOOL}\n"
	  "  --wait-remote        return (and print the id) only once the replica\n"
	  "                       holds the segment with this job: for jobs that must\n"
	  "                       survive the device itself\n"
	  "  --remote-timeout DUR give up waiting for the replica after DUR (default\n"
	  "                       1m): exit 1, the job stays queued here; at once\n"
	  "                       outside [replica] upload_window or with the\n"
	  "                       daily_budget spent\n"
	  "  -h, --help           this help\n"
	  "\n"
	  "Durations: 250ms, 30s, 5m, 2h, 1d, 1h30m. Limits: 256 arguments, 64 KiB per\n"
	  "argument, 256 KiB in all; arguments must be UTF-8.\n"
	  "Exit status: 0 queued (id printed), 1 failure (nothing queued; with\n"
	  "--wait-remote: or queued here but not in the replica, as said), 2 usage or\n"
	  "input error (nothing queued).\n",
	  cmd_submit },
	{ "ls", "list jobs, newest first",
	  "usage: holdfast ls [--state STATE] [--limit N] [--json]\n"
	  "\n"
	  "Lists jobs newest first: id, state, attempts, when submitted, name,\n"
	  "command, and why a job ended badly. STATE is queued, running, succeeded,\n"
	  "failed (waiting to retry), dead, cancelled, quarantined or parked (a\n"
	  "step sleeps or waits for a message; no process). --limit defaults to 50\n"
	  "(0: all). --json prints one JSON array.\n"
	  "\n"
	  "Times are UTC (2024-05-01T12:00:00Z) when the wall clock was trusted; else\n"
	  "an age within this boot (3m12s ago), or for an earlier boot the time\n"
	  "since that boot began (boot 3 +12.5s).\n"
	  "Exit status: 0 ok, 1 failure, 2 usage error.\n",
	  cmd_ls },
	{ "show", "show a job and every attempt",
	  "usage: holdfast show [--json] ID|NAME\n"
	  "\n"
	  "Shows a job's settings, state, when it was submitted and ended, and each\n"
	  "attempt: process, boot, when it started, how it ended (exit, signal,\n"
	  "timeout, power-loss, daemon-crash, cancelled, shutdown), how long it ran\n"
	  "and how much output it wrote; then its recorded steps (holdfast step\n"
	  "--help): name, the attempt that ran it, how it ended, how long it took,\n"
	  "its output's bytes and how often it was replayed. Times read as in\n"
	  "holdfast ls --help. --json: {\"job\",\"attempts\",\"steps\"}.\n"
	  "Exit status: 0 ok, 1 failure, 2 usage error or no such job.\n",
	  cmd_show },
	{ "logs", "print a job's captured output",
	  "usage: holdfast logs [--attempt N] [--follow] ID|NAME\n"
	  "       holdfast logs --step NAME [--json] ID|NAME\n"
	  "\n"
	  "Prints the captured output of the last attempt (or attempt N): the job's\n"
	  "stdout to stdout, its stderr to stderr. --follow keeps printing until the\n"
	  "attempt ends. --step prints a recorded step's stdout as it was handed on;\n"
	  "with --json, {\"job\",\"step\",\"output\"} (\"output_base64\" for output that\n"
	  "is not UTF-8 text).\n"
	  "Exit status: 0 ok, 1 failure, 2 usage error or no such job.\n",
	  cmd_logs },
	{ "cancel", "cancel a job (and its dependents)",
	  "usage: holdfast cancel ID|NAME\n"
	  "\n"
	  "A queued or retry-waiting job is cancelled at once; a running one is\n"
	  "stopped by the daemon (SIGTERM to its process group, SIGKILL after\n"
	  "[jobs] kill_grace). Jobs waiting on it die with the reason.\n"
	  "Exit status: 0 ok, 1 failure, 2 usage error, no such job or nothing to\n"
	  "cancel.\n",
	  cmd_cancel },
	{ "retry", "run a dead, failed, cancelled or quarantined job again",
	  "usage: holdfast retry ID|NAME\n"
	  "\n"
	  "Queues the job again with a fresh retry budget; jobs that died because\n"
	  "it did come back too. Its earlier attempts stay in the log.\n"
	  "Exit status: 0 ok, 1 failure, 2 usage error or a job that cannot be\n"
	  "retried.\n",
	  cmd_retry },
	{ "step", "run a durable step of a job: recorded once, replayed after",
	  "usage: holdfast step [--record-failure] [--max-output SIZE] NAME -- CMD [ARGS...]\n"
	  "       holdfast step sleep NAME DURATION\n"
	  "       holdfast step wait NAME --event TOPIC [--timeout DURATION] [--record-failure]\n"
	  "\n"
	  "Inside a job the daemon runs: the first call of NAME runs CMD (no shell),\n"
	  "records its exit status and stdout in the job log (durably), then prints\n"
	  "that stdout and exits with CMD's status. Every later call of NAME in the\n"
	  "same job, on any attempt (a retry, after a power cut or a crash), runs\n"
	  "nothing: it prints the recorded stdout and exits with the recorded status.\n"
	  "CMD's stderr is not recorded: it goes to the job's, as it comes.\n"
	  "\n"
	  "The record is made once; CMD runs at least once (a cut between its end\n"
	  "and the record runs it again). CMD gets HOLDFAST_STEP (NAME) and\n"
	  "HOLDFAST_STEP_KEY, the same on every attempt: an idempotency key for\n"
	  "services that dedupe. Names identify steps: give each loop iteration its\n"
	  "own (\"upload-$f\").\n"
	  "\n"
	  "  --record-failure   record a failed CMD too (default: only exit 0 is\n"
	  "                     recorded, a failed step runs again next attempt)\n"
	  "  --max-output SIZE  stdout kept, at most 1MiB (default 64KiB); more is\n"
	  "                     passed on, not recorded, and the step fails (2)\n"
	  "\n"
	  "step sleep is a durable sleep: its first call records when it began, and\n"
	  "every call of NAME sleeps until DURATION after that, on any attempt: one\n"
	  "cut mid-sleep sleeps only the rest. Across a reboot the wall clock counts\n"
	  "if it was trusted both times, else the uptime known since (time powered\n"
	  "off does not count: late, never early).\n"
	  "\n"
	  "step wait takes the oldest message sent to TOPIC (holdfast send) that no\n"
	  "step has taken: it leaves the log and becomes NAME's record in one commit,\n"
	  "so one step gets it, once; its data is the step's stdout, then and on\n"
	  "every later call. Until one comes the process waits, looking every 50ms.\n"
	  "--timeout DURATION: exit 124 if none came by then (counted from this\n"
	  "call; not recorded, so the next attempt waits again, unless\n"
	  "--record-failure).\n"
	  "\n"
	  "Parking: a sleep with more than [jobs] park_after (30s) left, or a wait\n"
	  "without --timeout that waited that long, ends the job's process instead:\n"
	  "the job is parked (ls, status), no retry is spent, and the daemon runs it\n"
	  "again at the wake time or when a message for TOPIC is sent; the steps\n"
	  "replay.\n"
	  "\n"
	  "Exit status: CMD's (128+N if signal N ended it); 126 or 127 if CMD could\n"
	  "not be run; 124 a wait that timed out; 2 outside a job, for bad usage, or\n"
	  "output over the cap; 1 if the log could not be written.\n",
	  cmd_step },
	{ "send", "send a message to the job steps that wait for its topic",
	  "usage: holdfast send [--json] TOPIC [DATA | -]\n"
	  "\n"
	  "Keeps DATA (or stdin, with -; none: an empty message) as a message for\n"
	  "TOPIC, durably, and prints its id. A job's `holdfast step wait NAME\n"
	  "--event TOPIC` takes it: the oldest first, each by one step only, once.\n"
	  "A message nobody waits for yet is kept until a step takes it; at most\n"
	  "10000 messages (16MiB) are kept untaken, and a message is at most 64KiB.\n"
	  "holdfast status counts them.\n"
	  "\n"
	  "  --json  {\"message\":ID}\n"
	  "\n"
	  "Exit status: 0 kept; 1 the log could not be written; 2 bad usage, a bad\n"
	  "topic, a message over 64KiB, or too many kept untaken.\n",
	  cmd_send },
	{ "status", "jobs by state, daemon, clock",
	  "usage: holdfast status [--json]\n"
	  "\n"
	  "Counts jobs by state, says whether the daemon runs, how long the oldest\n"
	  "queued job has waited, and whether wall time is trusted; the history kept\n"
	  "(finished jobs, the log's size), the data directory against its budget\n"
	  "([history] max_bytes), and when pruning last ran and what it removed.\n"
	  "Exit status: 0 ok, 1 failure, 2 usage error.\n",
	  cmd_status },
	{ "prune", "remove finished jobs past the [history] limits now",
	  "usage: holdfast prune [--dry-run] [--older-than DUR] [--keep N] [--json]\n"
	  "\n"
	  "Prunes finished jobs (succeeded, cancelled, dead, quarantined) now, by the\n"
	  "limits of holdfast.conf's [history] (keep, keep_failed, keep_jobs), with\n"
	  "their attempts, output and steps: a pipeline run only whole, never a job an\n"
	  "unfinished job depends on. The daemon does the same on its own, in small\n"
	  "steps; this works with it running or not. Then, with no daemon running,\n"
	  "freed pages go back to the file system, and if the data directory is over\n"
	  "[history] max_bytes the oldest finished jobs go whatever their age, down to\n"
	  "the 20 newest (with a daemon running, it does that).\n"
	  "\n"
	  "Options:\n"
	  "  --dry-run          say what would be pruned by the age and count limits;\n"
	  "                     change nothing\n"
	  "  --older-than DUR   the age limit for every finished job, instead of keep\n"
	  "                     and keep_failed (0: every age)\n"
	  "  --keep N           keep at most the N newest finished jobs, instead of\n"
	  "                     keep_jobs (0: none)\n"
	  "  --json             print {\"dry_run\",\"jobs\",\"runs\",\"attempts\",...}\n"
	  "  -h, --help         this help\n"
	  "\n"
	  "A flag given twice is refused. Exit status: 0 ok, 1 failure, 2 usage or\n"
	  "input error (nothing pruned).\n",
	  cmd_prune },
	{ "pipeline", "add, run, list and show pipelines (DAGs of jobs)",
	  "usage: holdfast pipeline add FILE.json\n"
	  "       holdfast pipeline run NAME [--param NAME=VALUE]... [--json]\n"
	  "                             [--wait-remote [--remote-timeout DUR]]\n"
	  "       holdfast pipeline ls [--json]\n"
	  "       holdfast pipeline show NAME\n"
	  "\n"
	  "A pipeline is a JSON file: a name, optional \"params\" (defaults for\n"
	  "{{name}} in argv, env and cwd), an optional schedule (\"every\": \"15m\",\n"
	  "a monotonic interval, or \"cron\": \"0 3 * * *\", 5 fields in UTC, which\n"
	  "fires only while wall time is trusted), and \"jobs\": objects with name,\n"
	  "argv, and optionally after (names in this pipeline), env, cwd, group,\n"
	  "priority, retries, backoff (\"1s..5m\"), timeout and wait_remote (true: a\n"
	  "run returns only once the replica holds it, as with --wait-remote; for\n"
	  "jobs that must survive the device itself), user (run as this user, as\n"
	  "submit --user) and limit_nofile, limit_as, limit_core (a number, or a\n"
	  "string such as \"512MiB\" or \"unlimited\", as in holdfast.conf).\n"
	  "\n"
	  "add checks everything (JSON syntax with its position, every key with its\n"
	  "JSON path, dependency cycles with the cycle named) and stores nothing if\n"
	  "anything is wrong; adding a name again replaces it. run queues one run:\n"
	  "all its jobs in one transaction. After downtime a missed schedule runs\n"
	  "once, not once per missed slot. See tools/examples/ for pipelines.\n"
	  "Exit status: 0 ok, 1 failure (with --wait-remote or wait_remote: or queued\n"
	  "here but not in the replica within --remote-timeout, default 1m, or at\n"
	  "once outside the upload window or over the daily budget), 2 usage or\n"
	  "input error (nothing stored).\n",
	  cmd_pipeline },
	{ "run", "the daemon: run queued jobs",
	  "usage: holdfast run [--until-idle] [--allow-volatile] [--pidfile FILE]\n"
	  "                     [--syslog]\n"
	  "\n"
	  "Runs jobs from the log: one process, one event loop. Recovers attempts an\n"
	  "earlier run left open (power-loss or daemon-crash: queued again without\n"
	  "spending a retry), then starts jobs by priority as concurrency limits\n"
	  "allow. SIGTERM or SIGINT: start nothing new, send SIGTERM to each running\n"
	  "job's process group, SIGKILL to what still runs after [jobs]\n"
	  "shutdown_grace, record what happened (a job that exited 0 succeeded; any\n"
	  "other is queued again without spending a retry), exit 0. A second signal\n"
	  "sends SIGKILL at once. One daemon per data directory.\n"
	  "\n"
	  "  --until-idle       exit once nothing is queued, waiting to retry or running\n"
	  "  --allow-volatile   run on a data directory on memory or network storage\n"
	  "                     (refused otherwise, as by init)\n"
	  "  --pidfile FILE     write the daemon's pid to FILE once it holds the data\n"
	  "                     directory and recovery is done; removed at exit\n"
	  "                     (for sysvinit and OpenRC scripts: board/init/)\n"
	  "  --syslog           log to syslog (facility daemon) instead of standard\n"
	  "                     error (errors go to both): for inits without a journal\n"
	  "\n"
	  "The daemon stays in the foreground and logs to stderr (--syslog: to syslog).\n"
	  "\n"
	  "Messages carry a level: under systemd, when standard error is the\n"
	  "journal's stream ($JOURNAL_STREAM), each line starts with the syslog\n"
	  "level (\"<3>\" error ... \"<6>\" info) that journald keeps as its\n"
	  "priority. The same message is logged at most 10 times a minute; then one\n"
	  "line says how many repeats were suppressed.\n"
	  "\n"
	  "A full disk (no space, or over quota) is waited out: nothing new starts,\n"
	  "running jobs go on and their ends wait in memory, the daemon makes room\n"
	  "(unshipped replica files dropped with a recorded gap, a checkpoint) and\n"
	  "tries again every 2 s; status says FULL. It goes on by itself once there\n"
	  "is room (--until-idle tries once, then stops with exit 1). If a write to\n"
	  "the job log fails otherwise (an I/O error, a failed fsync) the daemon\n"
	  "stops at once with exit 1: nothing is built on storage that lost a write,\n"
	  "and the next start recovers.\n"
	  "\n"
	  "Exit status: 0 clean stop, 1 failure (another daemon runs, the log cannot\n"
	  "be opened, verified or written, the storage is refused), 2 usage error.\n",
	  cmd_run },
	{ "sync", "ship the job log to the replica now, or show how shipping stands",
	  "usage: holdfast sync now [--checkpoint] [--force]\n"
	  "       holdfast sync status\n"
	  "\n"
	  "The job log is shipped to the replica in [replica] url of holdfast.conf\n"
	  "(file:///DIR: a USB stick, a NAS mount; or s3://BUCKET/PREFIX). A\n"
	  "generation starts with a snapshot; then the committed WAL frames are\n"
	  "sealed into segments (the latest version of each page, zstd-compressed,\n"
	  "with a SHA-256 trailer) in the spool (DATA/spool) and copied to the\n"
	  "replica whenever it is there. A spool file is removed only once its copy\n"
	  "is durable. The daemon does this on its own ([replica] seal_interval,\n"
	  "seal_bytes, and before each checkpoint); `sync now` seals and copies at\n"
	  "once, daemon running or not; with --checkpoint it also checkpoints the\n"
	  "WAL (sealed first). A checkpoint made by something else breaks the\n"
	  "history: a new generation starts with a snapshot, and the gap is\n"
	  "recorded (sync status, and the new generation's manifest in the replica).\n"
	  "With no daemon running, the writing commands (submit, cancel, retry,\n"
	  "pipeline) do that checkpoint themselves once the WAL passes 4x [log]\n"
	  "wal_max, sealing into the spool only.\n"
	  "\n"
	  "`sync now` keeps the daemon's limits: outside [replica] upload_window or\n"
	  "with the day's daily_budget spent it seals, sends nothing and exits 1\n"
	  "saying which; with a budget partly spent it sends the files that fit.\n"
	  "--force sends anyway; what it sends counts against the day's budget.\n"
	  "\n"
	  "status: the replica, the generation, what is sealed and shipped, the\n"
	  "spool, the lag, the link (none, metered or not: on a metered link\n"
	  "snapshots over [replica] metered_snapshot_max wait), the day's budget\n"
	  "and whether a limit holds shipping back now, unsealed WAL, gaps.\n"
	  "\n"
	  "Exit status: 0 ok, 1 failure (also when the replica is not reachable,\n"
	  "copying fails or a limit holds files back: the spool keeps everything,\n"
	  "and stderr says what waits and why),\n"
	  "2 usage error or no replica configured.\n",
	  cmd_sync },
	{ "replica", "list what a replica holds, or make a key for one",
	  "usage: holdfast replica ls [REPLICA] [--devices] [--ca FILE] [--key-file K]\n"
	  "                           [--allow-plaintext]\n"
	  "       holdfast replica keygen FILE [--id ID]\n"
	  "\n"
	  "REPLICA is a directory, file:///DIR or s3://BUCKET/PREFIX (endpoint from\n"
	  "$HOLDFAST_S3_ENDPOINT, credentials from $AWS_ACCESS_KEY_ID and\n"
	  "$AWS_SECRET_ACCESS_KEY); none named: the [replica] of this data\n"
	  "directory's holdfast.conf, with its settings and credentials. Lists each\n"
	  "device's generations: snapshot present, segments, bytes, whether\n"
	  "segments are missing, and the gap before the generation (the one it\n"
	  "follows, and why history broke). With\n"
	  "--devices, a line per device: its newest generation's last shipped file,\n"
	  "when that was sealed and how long ago (the fleet's lag at a glance).\n"
	  "--key-file K reads a replica shipped with [replica] key_file (none named:\n"
	  "holdfast.conf's key_file); --allow-plaintext also reads its plaintext files.\n"
	  "keygen writes a new key file (one random 32-byte key, mode 0600) and never\n"
	  "replaces one; keep a copy off the device.\n"
	  "\n"
	  "Exit status: 0 ok, 1 failure (the replica or a part of it cannot be\n"
	  "listed or read: never shown as empty), 2 usage error.\n",
	  cmd_replica },
	{ "restore", "rebuild a database from a replica",
	  "usage: holdfast restore REPLICA -o OUT.db [--seq N | --time T]\n"
	  "                        [--generation G] [--device D] [--force]\n"
	  "                        [--key-file K [--allow-plaintext]]\n"
	  "\n"
	  "Rebuilds the job log as it was at segment N (default: the last one that\n"
	  "follows without a gap) of generation G (default: the newest) of device D\n"
	  "(default: the only one in REPLICA). --time T (YYYY-MM-DDTHH:MM:SSZ or\n"
	  "@SECONDS, UTC) takes the newest generation whose snapshot was sealed at\n"
	  "or before T and stops at its last segment sealed at or before T;\n"
	  "snapshots and segments sealed while wall time was untrusted have no time\n"
	  "and end such a restore. A replica that cannot be listed or read (a 5xx\n"
	  "after the retries, the network) fails the restore; only a missing\n"
	  "segment directory means no segments. Every file is checked (SHA-256,\n"
	  "seq, generation, device, WAL frames continuing without a gap); a damaged or\n"
	  "missing file is named and nothing is written. The result is written under\n"
	  "OUT.db.restoring, must pass integrity_check, and is then renamed to OUT.db.\n"
	  "An existing OUT.db is replaced only with --force. A replica shipped with\n"
	  "[replica] key_file needs --key-file K (that file, or one with its keys):\n"
	  "every file must then authenticate under it, bound to its name; plaintext\n"
	  "files are refused (a plaintext generation is skipped when choosing the\n"
	  "newest) unless --allow-plaintext.\n"
	  "\n"
	  "Exit status: 0 restored, 1 failure (damaged replica, integrity), 2 usage.\n",
	  cmd_restore },
	{ "debug", "inspect a segment file, or fetch a URL through holdfast's TLS",
	  "usage: holdfast debug segment FILE [--key-file K] [--as DEV/GEN/seg/SEQ.zst]\n"
	  "       holdfast debug fetch URL [--ca FILE]\n"
	  "       holdfast debug s3 put KEY FILE | get KEY | head KEY | rm KEY | ls [PREFIX]\n"
	  "                         [--max-keys N] [--ca FILE] [--timeout DURATION]\n"
	  "\n"
	  "segment checks a segment or snapshot file (spool or replica) and prints its\n"
	  "header; an encrypted one is opened with --key-file, bound to its name in\n"
	  "the replica (its path's last components, or --as). fetch GETs URL (https://, or http:// to loopback) with holdfast's\n"
	  "HTTP client and TLS (1.2 at least, certificate and host name always\n"
	  "verified against FILE or the system CA bundle), writes the body to standard\n"
	  "output and says the status and TLS version on standard error. s3 makes one\n"
	  "S3 call: endpoint, bucket and region from $HOLDFAST_S3_ENDPOINT,\n"
	  "$HOLDFAST_S3_BUCKET and $HOLDFAST_S3_REGION (us-east-1), credentials from\n"
	  "$AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY (never from the command line).\n",
	  cmd_debug },
	{ "doctor", "check that this device can keep holdfast's promise",
	  "usage: holdfast [--data DIR] doctor [--json]\n"
	  "\n"
	  "Checks, one line each: ok, warn, fail (or skip, when a check cannot run),\n"
	  "what was found, and after \"->\" what to do:\n"
	  "  config   holdfast.conf parses (else the error, with its line and key)\n"
	  "  datadir  the data directory is there, ours, not writable (warn: not\n"
	  "           readable) by others\n"
	  "  storage  its file system (statfs): memory (tmpfs, ramfs) or network\n"
	  "           storage (NFS, CIFS, FUSE...) fails; no journal (vfat, exfat)\n"
	  "           warns\n"
	  "  space    free space against the [history] max_bytes budget\n"
	  "  fsync    5 real fsyncs of a small file in the data directory, timed,\n"
	  "           and how the device was classified (removable, rotational,\n"
	  "           bus); under 50 us on removable media (an SD card, a USB\n"
	  "           stick) warns: that is a cache acknowledging, not a flush\n"
	  "  clock    synchronised (adjtimex), and not before this build\n"
	  "  secrets  [replica] credentials_file and key_file are 0600 and ours;\n"
	  "           readable by others fails\n"
	  "  replica  reachable, credentials accepted, writable: one small object\n"
	  "           written under the device's name and removed again\n"
	  "A failed check never stops the others. Nothing else is written.\n"
	  "\n"
	  "  --json   one JSON object: {\"data\", \"checks\": [{\"name\", \"status\",\n"
	  "           \"detail\", \"action\", measured values...}], \"ok\", \"warn\",\n"
	  "           \"fail\", \"skip\"}\n"
	  "\n"
	  "Exit status: 0 nothing failed (warnings allowed), 1 a check failed,\n"
	  "2 usage error.\n",
	  cmd_doctor },
	{ "version", "print the versions of holdfast and its components",
	  "usage: holdfast version\n"
	  "\n"
	  "Prints holdfast's version and git revision, the board it was built for,\n"
	  "and the versions of SQLite, mbedTLS, zstd and musl linked into it.\n"
	  "Same as holdfast --version.\n",
	  run_version },
	{ "help", "show help for holdfast or for one verb",
	  "usage: holdfast help [VERB]\n"
	  "\n"
	  "Without VERB, lists the verbs; with one, shows its help (same as\n"
	  "holdfast VERB --help).\n",
	  run_help },
	{ NULL, NULL, NULL, NULL }
};

static const struct verb *find_verb(const char *name)
{
	for (const struct verb *v = verbs; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* Says that NAME is no verb (after PREFIX), naming the verb it is likely a
** slip for, if there is one. */
static void unknown_verb(const char *prefix, const char *name)
{
	struct sug sg;

	sug_init(&sg, name);
	for (const struct verb *v = verbs; v->name; v++)
		sug_add(&sg, v->name);
	if (sug_best(&sg))
		port_log("%sunknown verb '%s' (did you mean '%s'?)", prefix, name, sug_best(&sg));
	else
		port_log("%sunknown verb '%s' (see holdfast --help)", prefix, name);
}

static void print_help(FILE *out)
{
	fputs("usage: holdfast [--data DIR] [--config FILE] VERB [options]\n"
	      "       holdfast --version | --help | VERB --help\n"
	      "\n"
	      "holdfast runs job pipelines from a durable SQLite log on small Linux\n"
	      "devices, and survives power cuts.\n"
	      "\n"
	      "Verbs:\n", out);
	for (const struct verb *v = verbs; v->name; v++)
		fprintf(out, "  %-9s %s\n", v->name, v->summary);
	fputs("\n"
	      "Global options:\n"
	      "  --data DIR  data directory (default: $HOLDFAST_DATA, else\n"
	      "              /var/lib/holdfast for root, else $XDG_STATE_HOME/holdfast\n"
	      "              or ~/.local/state/holdfast)\n"
	      "  --config FILE  the config (default: $HOLDFAST_CONFIG, else\n"
	      "              DIR/holdfast.conf, else for /var/lib/holdfast\n"
	      "              /etc/holdfast/holdfast.conf, as the packages install it)\n"
	      "  --version   print versions of holdfast and its components\n"
	      "  -h, --help  this help\n"
	      "\n", out);
	fputs(exit_help, out);
}

int cli_main(int argc, char **argv, FILE *out)
{
	struct args_global g;
	struct args a;
	const struct verb *v;
	int rc;

	if ((rc = args_parse_global(argc, argv, &g)) != HF_OK)
		return exit_code(rc);
	if (g.version && g.verb == argc) {
		version_print(out);
		return CLI_EXIT_OK;
	}
	if (g.help && g.verb == argc) {
		print_help(out);
		return CLI_EXIT_OK;
	}
	if (g.verb == argc) {
		port_log("no verb given (see holdfast --help)");
		return CLI_EXIT_USAGE;
	}
	if (!(v = find_verb(argv[g.verb]))) {
		unknown_verb("", argv[g.verb]);
		return CLI_EXIT_USAGE;
	}
	if (g.version) {
		port_log("--version takes no verb (see holdfast %s --help)", v->name);
		return CLI_EXIT_USAGE;
	}
	if (g.help) { /* "holdfast --help init" reads as "help on init" */
		fputs(v->help, out);
		return CLI_EXIT_OK;
	}
	a = (struct args){ argc, argv, g.verb + 1, false, v->name };
	rc = v->run(&g, &a, out);
	if (rc == ARGS_HELP) {
		fputs(v->help, out);
		rc = HF_OK;
	}
	if (fflush(out) != 0 && (rc == HF_OK || rc >= ARGS_EXIT(0))) {
		port_log("cannot write output");
		rc = HF_EIO;
	}
	return exit_code(rc);
}
