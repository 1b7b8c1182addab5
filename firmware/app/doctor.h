/*
** doctor.h: `holdfast doctor [--json]`: whether this device can keep
** holdfast's promise (acknowledged means durable) and reach its replica.
**
** Each check gives a verdict (ok, warn, fail, or skip when it cannot run),
** what it found, and what to do. The verdicts are decided by the pure
** functions below, from what the port measured, so the unit tests give
** them an SD card, a lying cache or a clock at 1970; cmd_doctor measures
** and prints. Nothing of the data directory is changed: the fsync probe
** and the replica's probe object are removed again.
*/
#ifndef HF_DOCTOR_H
#define HF_DOCTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "app/args.h"
#include "port.h"

enum { DR_OK, DR_WARN, DR_FAIL, DR_SKIP };

/* An fsync this fast on removable media is no flush (a flush to flash
** takes milliseconds: the card or stick acknowledged from its cache). */
#define DR_FSYNC_LYING_US 50
/* An fsync slower than this makes every commit wait as long. */
#define DR_FSYNC_SLOW_US 100000
#define DR_FSYNC_PROBES 5

struct dr_check {
	const char *name;
	int status;                /* DR_* */
	char what[640];            /* what was found */
	char todo[384];            /* what to do ("" if nothing) */
	char json[256];            /* extra members for --json: "\"k\":v,..." or "" */
};

/* "ok", "warn", "fail", "skip". */
const char *dr_status_name(int status);

/* The file system (FI): memory or network storage fails (run refuses it),
** a file system without a journal (vfat, exfat, ntfs) warns. */
void dr_storage(const struct port_storage *fi, struct dr_check *c);

/* Room for the history budget: AVAIL bytes free on the file system, USED
** held by the data directory, BUDGET and FLOOR from cfg_max_bytes and
** cfg_max_bytes_floor. Under the floor fails; under the budget warns. */
void dr_space(uint64_t avail, uint64_t used, uint64_t budget, uint64_t floor, bool budget_set,
	      struct dr_check *c);

/* Whether FI is removable media by the kernel's or the bus's word (an SD
** card in a slot says removable=0). */
bool dr_is_removable(const struct port_storage *fi);

/* N fsync times US (in any order; sorted here) on FI's storage. */
void dr_fsync(uint64_t *us, unsigned n, const struct port_storage *fi, struct dr_check *c);

/* The clock; an S3 replica (whose requests are signed with the time) makes
** a clock before the build fail rather than warn. */
void dr_clock(const struct port_clock_state *st, bool s3, struct dr_check *c);

/* The data directory's MODE (and whether it is MINE, and WRITABLE). */
void dr_datadir(mode_t mode, bool mine, bool writable, struct dr_check *c);

/* A secret's file (WHAT: "[replica] credentials_file") at PATH with MODE. */
void dr_secret_file(const char *what, const char *path, mode_t mode, bool mine,
		    struct dr_check *c);

/* Writes S as a JSON string (quoted, escaped) to OUT. */
void dr_json_string(FILE *out, const char *s);

int cmd_doctor(const struct args_global *g, struct args *a, FILE *out);

#endif /* HF_DOCTOR_H */
