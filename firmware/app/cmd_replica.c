/*
** cmd_replica.c: the replica verbs (replica ls, replica keygen) and what
** restore and sync status share of reading a replica: a name safe to print,
** a generation's manifest, the newest generation, when a file was sealed.
** Nothing read from a replica is trusted: a name that is not ours is not
** made into a path, and an unreadable file is said, never taken as missing.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "base/units.h"
#include "fmt/cfg.h"
#include "fmt/manifest.h"
#include "fmt/rcrypt.h"
#include "fmt/seg.h"
#include "log/datadir.h"
#include "port.h"
#include "ship/replica.h"
#include "ship/restore.h"

/* ---- reading a replica ------------------------------------------------------------ */

/*
** A manifest is a few short lines (manifest_format: a 512-byte buffer today);
** 64 KiB leaves a later format room for more (a key id, a nonce) while a
** hostile replica cannot make us read more than that before refusing it.
*/
#define MANIFEST_MAX (64u * 1024)

/* S from a replica (a name, a header field), safe to print: see
** restore_escape. Each call has its own buffer of the ring, so a message may
** quote up to four. */
const char *cmd_safe(const char *s)
{
	static char ring[4][1600];
	static unsigned next;
	char *out = ring[next++ % 4];

	restore_escape(s, strlen(s), out, sizeof(ring[0]));
	return out;
}
/* Reads generation GEN's manifest, which must be what ship.c writes for it:
** HF_ENOENT if it is missing, HF_ECORRUPT if it is not that. *FOLLOWS and
** WHY: its gap record (0 and "" in the first generation). Says nothing but
** what the read itself logs. */
int cmd_read_manifest(const struct replica *rp, const char *dev, const char *gen,
		      uint64_t *follows, char *why, size_t why_len)
{
	char rel[256];
	char *text;
	size_t len;
	int rc;

	snprintf(rel, sizeof(rel), "%s/%s/manifest", dev, gen);
	if ((rc = replica_read_max(rp, rel, MANIFEST_MAX, &text, &len)) != HF_OK)
		return rc == HF_EINVAL || rc == HF_ETOOBIG ? HF_ECORRUPT : rc;
	rc = manifest_parse(text, len, dev, strtoull(gen, NULL, 16), follows, why, why_len);
	free(text);
	return rc;
}

/* Picks *BEST among GENS of DEV: the generation whose snapshot was taken
** last, by the device's boot counter and monotonic clock (wall time may be
** wrong, and a generation counter restarts if the spool is lost), by name
** if no snapshot header can be read. With AT_MS >= 0 only a snapshot sealed
** at or before AT_MS by a trusted clock counts (a later one cannot give the
** state at AT_MS): HF_ENOENT if there is none. A generation without a
** snapshot is skipped (it cannot be restored), and so is a plaintext one
** when there is a key (from before the key, or forged: said by the replica
** layer; --allow-plaintext counts them); a header that cannot be read
** for any other reason fails the choice, said with VERB and the file's name:
** skipping it could choose an older generation and restore old data as if
** it were the latest. */
int cmd_pick_generation(const struct replica *rp, const char *verb, const char *dev,
			const struct names *gens, int64_t at_ms, size_t *best)
{
	uint64_t best_boot = 0, best_mono = 0;
	bool found = false;
	int rc = HF_OK;

	for (size_t i = 0; i < gens->n && rc == HF_OK; i++) {
		char rel[256];
		char *buf;
		size_t len;
		struct seg_hdr h;

		snprintf(rel, sizeof(rel), "%s/%s/snapshot.zst", dev, gens->v[i]);
		if ((rc = replica_read_head(rp, rel, SEG_HDR_SIZE, &buf, &len)) == HF_ENOENT ||
		    (rc == HF_EACCES && rp->key)) {
			rc = HF_OK;
			continue;
		}
		if (rc != HF_OK) {
			port_log("%s: cannot read %s/%s (%s)", verb, cmd_safe(rp->url), cmd_safe(rel),
				 hf_strerror(rc));
			break;
		}
		if ((rc = seg_peek((const uint8_t *)buf, len, &h)) != HF_OK)
			port_log("%s: %s/%s: not a snapshot header (damaged?); name a generation with "
				 "--generation", verb, cmd_safe(rp->url), cmd_safe(rel));
		else if ((at_ms < 0 || (h.utc_ms >= 0 && h.utc_ms <= at_ms)) &&
			 (!found || h.boot > best_boot || (h.boot == best_boot && h.mono_ms >= best_mono))) {
			*best = i;
			best_boot = h.boot;
			best_mono = h.mono_ms;
			found = true;
		}
		free(buf);
	}
	if (rc != HF_OK || found)
		return rc;
	if (at_ms >= 0)
		return HF_ENOENT;
	*best = gens->n - 1;
	return HF_OK;
}

/* Opens the replica named on the command line (settings for S3 from the
** environment and the defaults), with an optional CA bundle and key file. */
int cmd_open_arg(const char *url, const char *ca, const char *key, struct replica *rp)
{
	static struct cfg c;

	cfg_init(&c);
	if (ca && snprintf(c.s3_ca_file, sizeof(c.s3_ca_file), "%s", ca) >= (int)sizeof(c.s3_ca_file)) {
		port_log("--ca %s: path too long", ca);
		return HF_EINVAL;
	}
	if (key && snprintf(c.replica_key_file, sizeof(c.replica_key_file), "%s", key) >=
			   (int)sizeof(c.replica_key_file)) {
		port_log("--key-file %s: path too long", key);
		return HF_EINVAL;
	}
	return replica_open(url, &c, rp);
}

/* ---- replica ls ------------------------------------------------------------------- */

/* When REL was sealed (its header's wall time, read by a Range GET of the
** header alone; -1: the clock was untrusted): HF_ENOENT if it is not there,
** HF_ECORRUPT if its header is not one, or why it could not be read. */
static int sealed_at(const struct replica *rp, const char *rel, int64_t *utc_ms)
{
	struct seg_hdr h;
	char *buf;
	size_t n;
	int rc;

	if (!rp)
		return HF_ENOENT;
	if ((rc = replica_read_head(rp, rel, SEG_HDR_SIZE, &buf, &n)) != HF_OK)
		return rc;
	if ((rc = seg_peek((const uint8_t *)buf, n, &h)) == HF_OK)
		*utc_ms = h.utc_ms;
	free(buf);
	return rc;
}

/* A sealing time from sealed_at: ISO 8601 UTC, or "clock untrusted". */
static void format_sealed(int64_t utc, char *out, size_t len)
{
	if (utc < 0)
		snprintf(out, len, "clock untrusted");
	else
		units_format_utc(utc, false, out, len);
}

/* When REL was sealed, as format_sealed says it; OUT is left as it is if
** the header cannot be read. */
void cmd_sealed_when(const struct replica *rp, const char *rel, char *out, size_t len)
{
	int64_t utc;

	if (sealed_at(rp, rel, &utc) == HF_OK)
		format_sealed(utc, out, len);
}

/* What replica ls shows of REL, read or listed: "not there" and "damaged"
** are shown as such, but any other failure (a 5xx after the retries, the
** network) fails the listing, said with what could not be read: an
** unreadable replica must never look like an empty or a shorter one. */
static int ls_failed(const struct replica *rep, const char *what, const char *rel, int rc)
{
	port_log("replica ls: cannot %s %s/%s (%s)", what, cmd_safe(rep->url), cmd_safe(rel),
		 hf_strerror(rc));
	return rc;
}

/* The names below REL (an empty list if there is no such directory). */
static int ls_list(const struct replica *rep, const char *rel, size_t want_len, const char *suffix,
		   struct names *out)
{
	int rc = replica_list(rep, rel, want_len, suffix, out);

	if (rc == HF_ENOENT)
		return HF_OK;
	return rc == HF_OK ? HF_OK : ls_failed(rep, "list", rel, rc);
}

/* When REL was sealed, into WHEN (left as it is if REL is missing or
** damaged); *UTC_MS as sealed_at, -2 if unknown. */
static int ls_sealed(const struct replica *rep, const char *rel, int64_t *utc_ms, char *when,
		     size_t len)
{
	int rc = sealed_at(rep, rel, utc_ms);

	if (rc == HF_OK)
		format_sealed(*utc_ms, when, len);
	else
		*utc_ms = -2;
	/* HF_EACCES: plaintext with a key, or encrypted without one (the
	** replica layer said which): shown, as damage is, in the line. */
	if (rc == HF_ENOENT || rc == HF_ECORRUPT || rc == HF_EACCES)
		return HF_OK;
	return rc == HF_OK ? HF_OK : ls_failed(rep, "read", rel, rc);
}

/* replica ls --devices: the line of device DEV: its generations, the newest
** one's last shipped file, when that was sealed and how long ago. */
static int ls_device(const struct replica *rep, const char *dev, FILE *out)
{
	struct names gens, segs;
	char rel[300], when[64] = "-", age[40] = "-";
	uint64_t seq = 0;
	int64_t utc, now;
	bool trusted;
	size_t g = 0;
	int rc;

	if ((rc = ls_list(rep, dev, 16, NULL, &gens)) != HF_OK || !gens.n)
		return rc;
	if ((rc = cmd_pick_generation(rep, "replica ls", dev, &gens, -1, &g)) != HF_OK)
		goto out_gens;
	snprintf(rel, sizeof(rel), "%s/%s/seg", dev, gens.v[g]);
	if ((rc = ls_list(rep, rel, 20, ".zst", &segs)) != HF_OK)
		goto out_gens;
	if (segs.n) {
		seq = strtoull(segs.v[segs.n - 1], NULL, 16);
		snprintf(rel, sizeof(rel), "%s/%s/seg/%s", dev, gens.v[g], segs.v[segs.n - 1]);
	} else {
		snprintf(rel, sizeof(rel), "%s/%s/snapshot.zst", dev, gens.v[g]);
	}
	free(segs.v);
	if ((rc = ls_sealed(rep, rel, &utc, when, sizeof(when))) != HF_OK)
		goto out_gens;
	now = port_clock_utc(&trusted);
	if (utc >= 0 && trusted && now >= utc)
		units_format_duration((uint64_t)(now - utc), age, sizeof(age));
	fprintf(out, "%-20s %5zu %-16s %8" PRIu64 "  %-20s %s\n", cmd_safe(dev), gens.n, cmd_safe(gens.v[g]),
		seq, when, age);
out_gens:
	free(gens.v);
	return rc;
}

/* replica ls: the line of generation GEN of device DEV: its snapshot, seqs
** (and whether any is missing), bytes, when its last file was sealed, and
** the gap its manifest records. */
static int ls_generation(const struct replica *rep, const char *dev, const char *gen, FILE *out)
{
	uint64_t bytes = 0, size, expect = 1, missing = 0, follows = 0;
	char rel[300], last[400], seqs[32], when[64] = "-", why[200] = "", gaps[300];
	struct names segs = { 0 };
	int64_t utc;
	bool snap;
	int rc, n;

	snprintf(rel, sizeof(rel), "%s/%s/snapshot.zst", dev, gen);
	snprintf(last, sizeof(last), "%s", rel);
	if ((rc = replica_size(rep, rel, &size)) != HF_OK && rc != HF_ENOENT)
		return ls_failed(rep, "read", rel, rc);
	snap = rc == HF_OK;
	bytes += snap ? size : 0;
	snprintf(rel, sizeof(rel), "%s/%s/seg", dev, gen);
	if ((rc = ls_list(rep, rel, 20, ".zst", &segs)) != HF_OK)
		return rc;
	for (size_t k = 0; k < segs.n && rc == HF_OK; k++) {
		uint64_t s = strtoull(segs.v[k], NULL, 16);
		missing += s > expect ? s - expect : 0;
		expect = s + 1;
		snprintf(last, sizeof(last), "%s/%s", rel, segs.v[k]);
		/* (One deleted since the listing counts for nothing.) */
		if ((rc = replica_size(rep, last, &size)) == HF_OK)
			bytes += size;
		else if (rc == HF_ENOENT)
			rc = HF_OK;
		else
			ls_failed(rep, "read", last, rc);
	}
	snprintf(seqs, sizeof(seqs), segs.n ? "0-%" PRIu64 : "0", expect - 1);
	free(segs.v);
	/* The last file's header says when it was sealed. */
	if (rc != HF_OK || (rc = ls_sealed(rep, last, &utc, when, sizeof(when))) != HF_OK)
		return rc;
	/* The manifest's gap record: what came before this generation. */
	snprintf(rel, sizeof(rel), "%s/%s/manifest", dev, gen);
	rc = cmd_read_manifest(rep, dev, gen, &follows, why, sizeof(why));
	if (rc == HF_ENOENT || rc == HF_ECORRUPT)
		snprintf(why, sizeof(why), "manifest %s", rc == HF_ECORRUPT ? "damaged" : "missing");
	else if (rc == HF_EACCES)
		snprintf(why, sizeof(why), "%s", rep->key ? "plaintext, not read (--allow-plaintext)" :
							    "encrypted, not read (--key-file)");
	else if (rc != HF_OK)
		return ls_failed(rep, "read", rel, rc);
	n = snprintf(gaps, sizeof(gaps), "%s",
		     missing ? "segments missing (restore stops before the first)" : "");
	if (follows)
		snprintf(gaps + n, sizeof(gaps) - n, "%safter %016" PRIx64 ": %s", n ? "; " : "",
			 follows, why);
	else if (why[0])
		snprintf(gaps + n, sizeof(gaps) - n, "%s%s", n ? "; " : "", why);
	fprintf(out, "%-20s %-16s %9s %-13s %12" PRIu64 "  %-20s %s\n", cmd_safe(dev), cmd_safe(gen),
		snap ? "yes" : "MISSING", seqs, bytes, when, gaps[0] ? cmd_safe(gaps) : "none");
	return HF_OK;
}

/* The replica of this device's own holdfast.conf ([replica] url and its
** settings, credentials included), for replica ls run with none named. */
static int open_conf(const struct args_global *g, const char *ca, const char *key,
		     struct replica *rep)
{
	static struct cfg c;
	char dir[PATH_MAX], conf[PATH_MAX + 32];
	bool def;
	int rc;

	if ((rc = dd_resolve(g->data, dir, sizeof(dir), &def)) != HF_OK ||
	    (rc = dd_check_links(dir)) != HF_OK ||
	    (rc = dd_conf_path(g->config, dir, conf, sizeof(conf), &def)) != HF_OK)
		return rc;
	if ((rc = cfg_load(&c, conf)) != HF_OK)
		return rc;
	if (!c.replica[0]) {
		cfg_wipe(&c);
		port_log("replica ls: which replica? (a directory, file:///DIR or s3://BUCKET/PREFIX; "
			 "%s names none in [replica] url)", conf);
		return HF_EINVAL;
	}
	if (ca && snprintf(c.s3_ca_file, sizeof(c.s3_ca_file), "%s", ca) >= (int)sizeof(c.s3_ca_file)) {
		port_log("--ca %s: path too long", ca);
		cfg_wipe(&c);
		return HF_EINVAL;
	}
	if (key && snprintf(c.replica_key_file, sizeof(c.replica_key_file), "%s", key) >=
			   (int)sizeof(c.replica_key_file)) {
		port_log("--key-file %s: path too long", key);
		cfg_wipe(&c);
		return HF_EINVAL;
	}
	/* The replica keeps its own copy of the keys: wipe this one. */
	rc = replica_open(c.replica, &c, rep);
	cfg_wipe(&c);
	return rc;
}

static int ls(const struct args_global *g, struct args *a, FILE *out, struct replica *rep)
{
	const char *replica = NULL, *ca = NULL, *key = NULL, *val;
	static const struct args_opt opts[] = { { "help", 'h', false }, { "ca", 0, true },
					       { "devices", 0, false }, { "key-file", 0, true },
					       { "allow-plaintext", 0, false }, { NULL, 0, false } };
	struct names devs, gens;
	bool devices = false, allow_plain = false;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION && idx == 0)
			return ARGS_HELP;
		if (r == ARGS_OPTION && idx == 1)
			ca = val;
		else if (r == ARGS_OPTION && idx == 3)
			key = val;
		else if (r == ARGS_OPTION && idx == 4)
			allow_plain = true;
		else if (r == ARGS_OPTION)
			devices = true;
		else
			replica = val;
	}
	rc = replica ? cmd_open_arg(replica, ca, key, rep) : open_conf(g, ca, key, rep);
	if (rc != HF_OK)
		return rc;
	rep->allow_plain = allow_plain;
	if ((rc = replica_list(rep, "", 0, NULL, &devs)) != HF_OK) {
		if (rc == HF_ENOENT)
			port_log("replica %s does not exist or holds nothing", rep->url);
		else
			ls_failed(rep, "list", "", rc);
		return rc;
	}
	if (devices)
		fprintf(out, "%-20s %5s %-16s %8s  %-20s %s\n", "DEVICE", "GENS", "NEWEST",
			"LAST SEQ", "LAST SHIPPED (UTC)", "AGE");
	else
		fprintf(out, "%-20s %-16s %9s %-13s %12s  %-20s %s\n", "DEVICE", "GENERATION",
			"SNAPSHOT", "SEQS", "BYTES", "LAST SEALED (UTC)", "GAPS");
	for (size_t d = 0; d < devs.n && rc == HF_OK; d++) {
		if (devices) {
			rc = ls_device(rep, devs.v[d], out);
			continue;
		}
		if ((rc = ls_list(rep, devs.v[d], 16, NULL, &gens)) != HF_OK)
			break;
		for (size_t i = 0; i < gens.n && rc == HF_OK; i++)
			rc = ls_generation(rep, devs.v[d], gens.v[i], out);
		free(gens.v);
	}
	free(devs.v);
	return rc;
}

static int replica_ls(const struct args_global *g, struct args *a, FILE *out)
{
	struct replica rep = { 0 };
	int rc = ls(g, a, out, &rep);

	replica_close(&rep);
	return rc;
}

/* replica keygen FILE [--id ID]: a new key file with one random key. */
static int replica_keygen(struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "id", 0, true },
					       { NULL, 0, false } };
	const char *file = NULL, *id = NULL, *val;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION && idx == 0)
			return ARGS_HELP;
		if (r == ARGS_OPTION)
			id = val;
		else if (file) {
			port_log("replica keygen: one file only ('%s')", val);
			return HF_EINVAL;
		} else
			file = val;
	}
	if (!file) {
		port_log("replica keygen: usage: holdfast replica keygen FILE [--id ID]");
		return HF_EINVAL;
	}
	if ((rc = rcrypt_keygen(file, id)) == HF_OK)
		fprintf(out, "wrote a new replica key to %s (mode 0600); keep a copy off the "
			"device: without it the replica cannot be restored\n", file);
	return rc;
}

/* replica_keygen as a sub-verb: it reads no data directory. */
static int replica_keygen_sub(const struct args_global *g, struct args *a, FILE *out)
{
	(void)g;
	return replica_keygen(a, out);
}

int cmd_replica(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct cmd_sub subs[] = { { "ls", replica_ls },
					       { "keygen", replica_keygen_sub } };

	return cmd_subverb(g, a, out, subs, sizeof(subs) / sizeof(subs[0]),
			   "ls [REPLICA] | keygen FILE", false);
}
