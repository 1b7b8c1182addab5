/*
** ship.c: WAL shipping (see ship.h): the shipper's state in the spool, set
** up and loaded. The shipper is one module of four files sharing
** ship_int.h: this one, ship_seal.c (WAL frames and snapshots into the
** spool), ship_spool.c (the spool's files, its cap and gaps) and
** ship_upload.c (the spool to the replica, within the link, window and
** budget limits).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/cfg.h"
#include "fmt/seg.h"
#include "port.h"
#include "ship/replica.h"
#include "ship/ship_int.h"

/* ---- state ------------------------------------------------------------------ */

int ship_load(struct ship *s)
{
	char path[4200], *text, *line, *save = NULL;
	struct ship_state *st = &s->st;
	size_t len;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/state", s->spool);
	if ((rc = port_fs_read_file(path, 64 * 1024, &text, &len)) != HF_OK)
		return rc == HF_ENOENT ? HF_OK : rc;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned a, b, c, d, e, f, g, h;

		if (sscanf(line, "generation %" SCNx64 " %" SCNu64, &st->generation,
			   &st->gen_counter) == 2)
			st->have_gen = true;
		else if (!st->have_gen && sscanf(line, "counter %" SCNu64, &st->gen_counter) == 1)
			;
		else if (sscanf(line, "seq %" SCNu64, &st->seq) == 1)
			;
		else if (sscanf(line, "pos %x %x %u %x %x %u %u %u", &a, &b, &c, &d, &e, &f, &g,
				&h) == 8) {
			st->pos = (struct wal_pos){ { a, b }, { d, e }, c, f, g, h != 0 };
			st->pos_valid = true;
		} else if (sscanf(line, "restart_ok %" SCNu64 " %" SCNd64, &st->db_size,
				  &st->db_mtime_ns) == 2)
			st->restart_ok = true;
		else if (sscanf(line, "gaps %" SCNu64, &st->gaps) == 1)
			;
		else if (!strcmp(line, "encrypted"))
			st->encrypted = true;
		else if (!strncmp(line, "last_gap ", 9))
			snprintf(st->last_gap, sizeof(st->last_gap), "%s", line + 9);
	}
	free(text);
	return HF_OK;
}

int ship_save(struct ship *s)
{
	const struct ship_state *st = &s->st;
	char path[4200], text[1024];
	int n = 0, rc;

	if ((rc = ship_ensure_spool(s)) != HF_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/state", s->spool);
	n += snprintf(text + n, sizeof(text) - n, "# holdfast shipping state; do not edit\n");
	if (st->have_gen)
		n += snprintf(text + n, sizeof(text) - n, "generation %016" PRIx64 " %" PRIu64 "\n",
			      st->generation, st->gen_counter);
	else if (st->gen_counter) /* reserved by a snapshot under way (ship_seal.c) */
		n += snprintf(text + n, sizeof(text) - n, "counter %" PRIu64 "\n", st->gen_counter);
	n += snprintf(text + n, sizeof(text) - n, "seq %" PRIu64 "\n", st->seq);
	if (st->pos_valid)
		n += snprintf(text + n, sizeof(text) - n, "pos %x %x %u %x %x %u %u %u\n",
			      st->pos.salt[0], st->pos.salt[1], st->pos.frame, st->pos.cksum[0],
			      st->pos.cksum[1], st->pos.page_size, st->pos.ckpt_seq,
			      st->pos.big_endian);
	if (st->restart_ok)
		n += snprintf(text + n, sizeof(text) - n, "restart_ok %" PRIu64 " %" PRId64 "\n",
			      st->db_size, st->db_mtime_ns);
	n += snprintf(text + n, sizeof(text) - n, "gaps %" PRIu64 "\n", st->gaps);
	if (st->last_gap[0])
		n += snprintf(text + n, sizeof(text) - n, "last_gap %s\n", st->last_gap);
	if (st->encrypted)
		n += snprintf(text + n, sizeof(text) - n, "encrypted\n");
	return port_fs_replace(path, text, (size_t)n, 0600);
}

/* DATA/install-id: 128 random bits, made the first time this data
** directory ships, so that two devices shipping under one device name
** (the same default host name across a fleet) are told apart. */
static int install_id(struct ship *s, const char *data)
{
	char path[4200], *text;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/install-id", data);
	if ((rc = port_fs_read_file(path, 64, &text, &len)) == HF_OK) {
		if (len >= 32) {
			memcpy(s->install_id, text, 32);
			s->install_id[32] = '\0';
		}
		free(text);
		if (len >= 32 && strspn(s->install_id, "0123456789abcdef") == 32)
			return HF_OK;
		port_log("%s: not an install id (32 hex digits); remove it to make a new one", path);
		return HF_ECORRUPT;
	}
	if (rc != HF_ENOENT)
		return rc;
	snprintf(s->install_id, sizeof(s->install_id), "%08x%08x%08x%08x", port_random_u32(),
		 port_random_u32(), port_random_u32(), port_random_u32());
	return port_fs_replace(path, s->install_id, 32, 0600);
}

int ship_init(struct ship *s, const char *data, const struct cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->allowance = UINT64_MAX;
	snprintf(s->spool, sizeof(s->spool), "%s/spool", data);
	snprintf(s->wal, sizeof(s->wal), "%s/holdfast.db-wal", data);
	if (cfg->replica[0]) {
		int rc;
		if (!(s->rep = malloc(sizeof(*s->rep))))
			return HF_ENOMEM;
		if ((rc = replica_open(cfg->replica, cfg, s->rep)) != HF_OK) {
			ship_free(s);
			return rc;
		}
	}
	ship_device_name(cfg, s->device, sizeof(s->device));
	return cfg->replica[0] ? install_id(s, data) : HF_OK;
}

void ship_device_name(const struct cfg *cfg, char *out, size_t cap)
{
	if (cfg->device[0]) {
		snprintf(out, cap, "%.32s", cfg->device);
	} else {
		char host[256];
		if (port_hostname(host, sizeof(host)) != HF_OK || !host[0])
			snprintf(host, sizeof(host), "device");
		/* Host names may hold what a path must not. */
		for (char *p = host; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
				*p = '_';
		snprintf(out, cap, "%.*s", SEG_DEVICE_MAX, host);
	}
}

/* The replica is there, and we may use it (not in the daemon's backoff:
** sealing then goes to the spool alone, and no generation starts). */
bool ship_reachable(const struct ship *s)
{
	return s->rep && !s->hold && replica_reachable(s->rep);
}

void ship_free(struct ship *s)
{
	ship_snap_dropped(s); /* ended, not taken in */
	ship_snap_done(s);
	if (s->rep) {
		replica_close(s->rep);
		free(s->rep);
		s->rep = NULL;
	}
}

int ship_ensure_spool(struct ship *s)
{
	enum port_fs_kind kind;
	int rc;

	if ((rc = port_fs_lkind(s->spool, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_DIR)
		return HF_OK;
	if (kind == PORT_FS_LINK) { /* made since start-up: see dd_check_links */
		port_log("%s is a symbolic link; holdfast refuses links in its data directory: "
			 "put the real spool there", s->spool);
		return HF_ENOTSUP;
	}
	rc = port_fs_mkdir(s->spool, 0700);
	return rc == HF_EEXIST ? HF_OK : rc;
}
