/*
** metrics.h: the daemon's Prometheus textfile, for node_exporter's textfile
** collector: replication lag, spool, the replica client's requests, bytes
** and failures by class, jobs by state. Written atomically (tmp + rename),
** and only when something in it changed, so idle flash is not worn.
*/
#ifndef HF_METRICS_H
#define HF_METRICS_H

#include <stdint.h>

#include "log/jlog.h"
#include "ship/replica.h"

struct metrics {
	double lag_seconds;        /* since the replica last had everything */
	unsigned spool_files;
	uint64_t spool_bytes, unsealed_bytes;
	uint64_t sealed_seq, gaps;
	struct replica_stats rep;
	uint64_t ship_failures;    /* shipping rounds that failed */
	bool metered_held;         /* a snapshot waits for an unmetered link */
	struct jlog_counts jobs;
	struct jlog_history history; /* finished jobs kept, the log, last prune */
	uint64_t data_bytes;       /* the data directory, last measured (0: not yet) */
	uint64_t max_bytes;        /* its budget */
	bool disk_full;            /* the disk holding the data directory is full */
	int64_t disk_full_since_utc_ms; /* since when (< 0: untrusted clock) */
	uint64_t disk_full_episodes;
};

/* Writes M to PATH if it differs from what was written last. */
int metrics_write(const char *path, const struct metrics *m);

#endif /* HF_METRICS_H */
