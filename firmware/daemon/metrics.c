/*
** metrics.c: the Prometheus textfile (see metrics.h).
*/
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/metrics.h"
#include "port.h"

struct text {
	char buf[8192];
	size_t len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = t->len + (size_t)n < sizeof(t->buf) ? t->len + (size_t)n : sizeof(t->buf) - 1;
}

/* One metric with its HELP and TYPE lines. */
static void metric(struct text *t, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	add(t, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name, v);
}

int metrics_write(const char *path, const struct metrics *m)
{
	static struct text last;
	struct text t = { "", 0 };
	int rc;

	add(&t, "# HELP holdfast_replica_lag_seconds Seconds since the replica last had every "
		"commit (0: caught up).\n# TYPE holdfast_replica_lag_seconds gauge\n"
		"holdfast_replica_lag_seconds %.0f\n", m->lag_seconds);
	metric(&t, "holdfast_spool_files", "gauge", "Sealed files waiting for the replica.",
	       m->spool_files);
	metric(&t, "holdfast_spool_bytes", "gauge", "Bytes of sealed files waiting for the replica.",
	       m->spool_bytes);
	metric(&t, "holdfast_wal_unsealed_bytes", "gauge", "Committed WAL bytes not sealed yet.",
	       m->unsealed_bytes);
	metric(&t, "holdfast_sealed_seq", "gauge", "Last sealed segment of the generation.",
	       m->sealed_seq);
	metric(&t, "holdfast_generation_gaps_total", "counter",
	       "Generations started because the history broke.", m->gaps);
	metric(&t, "holdfast_metered_held", "gauge",
	       "1 while a snapshot waits for an unmetered link (metered mode).", m->metered_held);
	metric(&t, "holdfast_disk_full", "gauge", "1 while the disk holding the data directory is "
	       "full: nothing new starts, job ends wait in memory.", m->disk_full);
	metric(&t, "holdfast_disk_full_since_seconds", "gauge", "When the disk filled (UTC "
	       "seconds; 0: not full, or the wall clock was untrusted then).",
	       m->disk_full && m->disk_full_since_utc_ms > 0 ?
		       (uint64_t)m->disk_full_since_utc_ms / 1000 : 0);
	metric(&t, "holdfast_disk_full_total", "counter", "Times the disk filled since the daemon "
	       "started.", m->disk_full_episodes);
	metric(&t, "holdfast_replica_requests_total", "counter", "Requests sent to the replica.",
	       m->rep.requests);
	metric(&t, "holdfast_replica_sent_bytes_total", "counter", "Bytes sent to the replica.",
	       m->rep.sent);
	metric(&t, "holdfast_replica_received_bytes_total", "counter",
	       "Bytes received from the replica.", m->rep.received);
	metric(&t, "holdfast_ship_failures_total", "counter", "Shipping rounds that failed.",
	       m->ship_failures);
	add(&t, "# HELP holdfast_replica_failed_requests_total Failed requests by class: retry "
		"(network, 5xx, 429), access (401/403), config (other 4xx), tls (handshake, "
		"certificate, pin).\n"
		"# TYPE holdfast_replica_failed_requests_total counter\n"
		"holdfast_replica_failed_requests_total{class=\"retry\"} %" PRIu64 "\n"
		"holdfast_replica_failed_requests_total{class=\"access\"} %" PRIu64 "\n"
		"holdfast_replica_failed_requests_total{class=\"config\"} %" PRIu64 "\n"
		"holdfast_replica_failed_requests_total{class=\"tls\"} %" PRIu64 "\n",
	    m->rep.failed_retry, m->rep.failed_access, m->rep.failed_config, m->rep.failed_tls);
	add(&t, "# HELP holdfast_jobs Jobs by state.\n# TYPE holdfast_jobs gauge\n"
		"holdfast_jobs{state=\"queued\"} %" PRId64 "\nholdfast_jobs{state=\"running\"} %" PRId64
		"\nholdfast_jobs{state=\"succeeded\"} %" PRId64 "\nholdfast_jobs{state=\"failed\"} %" PRId64
		"\nholdfast_jobs{state=\"dead\"} %" PRId64 "\nholdfast_jobs{state=\"cancelled\"} %" PRId64
		"\nholdfast_jobs{state=\"quarantined\"} %" PRId64
		"\nholdfast_jobs{state=\"parked\"} %" PRId64 "\n",
	    m->jobs.queued, m->jobs.running, m->jobs.succeeded, m->jobs.failed, m->jobs.dead,
	    m->jobs.cancelled, m->jobs.quarantined, m->jobs.parked);
	metric(&t, "holdfast_history_jobs", "gauge", "Finished jobs kept in the job log.",
	       (uint64_t)m->history.finished);
	metric(&t, "holdfast_log_bytes", "gauge", "Bytes of the job log file (pages x page size).",
	       (uint64_t)m->history.db_bytes);
	metric(&t, "holdfast_log_free_bytes", "gauge", "Of which free pages.",
	       (uint64_t)m->history.free_bytes);
	metric(&t, "holdfast_data_bytes", "gauge",
	       "Bytes the data directory takes (log, WAL, spool), at the last prune pass.",
	       m->data_bytes);
	metric(&t, "holdfast_data_budget_bytes", "gauge",
	       "The data directory's budget ([history] max_bytes).", m->max_bytes);
	metric(&t, "holdfast_pruned_jobs_total", "counter", "Finished jobs pruned, ever.",
	       (uint64_t)m->history.total_jobs);
	metric(&t, "holdfast_prune_last_jobs", "gauge",
	       "Jobs removed by the last prune that removed any.", (uint64_t)m->history.last_jobs);
	metric(&t, "holdfast_prune_last_timestamp_seconds", "gauge",
	       "When pruning last ran (Unix time; 0: never, or the wall clock was not trusted).",
	       m->history.last_utc_ms > 0 ? (uint64_t)m->history.last_utc_ms / 1000 : 0);
	if (t.len == last.len && !memcmp(t.buf, last.buf, t.len))
		return HF_OK;
	/* node_exporter reads *.prom: the file appears whole or not at all. */
	if ((rc = port_fs_replace(path, t.buf, t.len, 0644)) == HF_OK)
		last = t;
	return rc;
}
