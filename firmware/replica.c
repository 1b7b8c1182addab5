/*
** replica.c: directory and S3 replicas behind one interface (replica.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "port.h"
#include "replica.h"


/* "access_key = ..." and "secret_key = ..." from a file only we may read. */
static int read_credentials(const char *path, struct replica *r)
{
	char *text, *line, *save = NULL;
	size_t len;
	int rc;

	mode_t mode;

	/* A secret others can read is no secret: refuse, and say how to fix it. */
	if ((rc = port_fs_mode(path, &mode)) != HF_OK)
		return rc;
	if (mode & 077) {
		port_log("replica: the credentials file %s is readable by others (mode %04o); "
			 "chmod 600 it", path, (unsigned)mode);
		return HF_EACCES;
	}
	if ((rc = port_fs_read_file(path, 16 * 1024, &text, &len)) != HF_OK) {
		port_log("replica: cannot read the credentials file %s", path);
		return rc;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[32], val[256];
		if (sscanf(line, " %31[a-z_] = %255s", key, val) != 2)
			continue;
		if (!strcmp(key, "access_key"))
			snprintf(r->access_key, sizeof(r->access_key), "%s", val);
		else if (!strcmp(key, "secret_key"))
			snprintf(r->secret_key, sizeof(r->secret_key), "%s", val);
		crypto_wipe(val, sizeof(val));
	}
	crypto_wipe(text, len);
	free(text);
	return HF_OK;
}

int replica_open(const char *url, const struct cfg *cfg, struct replica *r)
{
	const char *ep, *rg, *pin, *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->url, sizeof(r->url), "%s", url);
	if (!strncmp(url, "file://", 7) || url[0] == '/') {
		snprintf(r->root, sizeof(r->root), "%s", url[0] == '/' ? url : url + 7);
		return HF_OK;
	}
	if (strncmp(url, "s3://", 5) != 0) {
		port_log("replica %s: use file:///DIR or s3://BUCKET/PREFIX", url);
		return HF_EINVAL;
	}
	r->s3 = true;
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t bl = slash ? (size_t)(slash - b) : strlen(b);
	if (!bl || bl >= sizeof(r->bucket)) {
		port_log("replica %s: no bucket", url);
		return HF_EINVAL;
	}
	memcpy(r->bucket, b, bl);
	if (slash && slash[1]) {
		snprintf(r->prefix, sizeof(r->prefix), "%s", slash + 1);
		size_t pl = strlen(r->prefix);
		while (pl && r->prefix[pl - 1] == '/')
			r->prefix[--pl] = '\0';
	}
	ep = getenv("HOLDFAST_S3_ENDPOINT");
	if (!ep && cfg && cfg->s3_endpoint[0])
		ep = cfg->s3_endpoint;
	rg = getenv("HOLDFAST_S3_REGION");
	if (!rg)
		rg = cfg && cfg->s3_region[0] ? cfg->s3_region : "us-east-1";
	snprintf(r->region, sizeof(r->region), "%s", rg);
	if (cfg && cfg->s3_ca_file[0])
		snprintf(r->ca, sizeof(r->ca), "%s", cfg->s3_ca_file);
	if (!ep) {
		port_log("replica %s: no S3 endpoint ([replica] endpoint = https://HOST[:PORT], or "
			 "$HOLDFAST_S3_ENDPOINT)", url);
		return HF_EINVAL;
	}
	if ((rc = httpc_parse_url(ep, &r->c.endpoint)) != HF_OK)
		return rc;
	if (ak && sk) {
		snprintf(r->access_key, sizeof(r->access_key), "%s", ak);
		snprintf(r->secret_key, sizeof(r->secret_key), "%s", sk);
	} else if (cfg && cfg->s3_credentials_file[0] &&
		   (rc = read_credentials(cfg->s3_credentials_file, r)) != HF_OK) {
		return rc;
	} else if (cfg && !cfg->s3_credentials_file[0] && cfg->s3_secret_key[0]) {
		snprintf(r->access_key, sizeof(r->access_key), "%s", cfg->s3_access_key);
		snprintf(r->secret_key, sizeof(r->secret_key), "%s", cfg->s3_secret_key);
	}
	if (!r->access_key[0] || !r->secret_key[0]) {
		port_log("replica %s: no credentials ($AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, "
			 "[replica] credentials_file, or access_key and secret_key in a 0600 "
			 "holdfast.conf)", url);
		return HF_EINVAL;
	}
	r->c.bucket = r->bucket;
	r->c.region = r->region;
	r->c.access_key = r->access_key;
	r->c.secret_key = r->secret_key;
	r->c.ca_file = r->ca[0] ? r->ca : NULL;
	r->c.timeout_ms = cfg ? (unsigned)cfg->s3_timeout_ms : 30000;
	r->c.retries = cfg ? cfg->s3_retries : 4;
	r->c.part_size = cfg ? cfg->s3_part_size : 0;
	r->c.virtual_host = cfg && cfg->s3_virtual_host;
	r->c.unsigned_payload = cfg && cfg->s3_unsigned_payload;
	r->c.bandwidth = cfg ? cfg->bandwidth : 0;
	if (cfg && cfg->s3_pin[0])
		snprintf(r->pin, sizeof(r->pin), "%s", cfg->s3_pin);
	if ((pin = getenv("HOLDFAST_S3_PIN")) && snprintf(r->pin, sizeof(r->pin), "%s", pin) >= (int)sizeof(r->pin))
		r->pin[0] = '\0';
	r->c.pin = r->pin[0] ? r->pin : NULL;
	if (!(r->s3c = malloc(sizeof(*r->s3c))))
		return HF_ENOMEM;
	return s3_open(r->s3c, &r->c);
}

void replica_stats(const struct replica *r, struct replica_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!r->s3c)
		return;
	st->requests = r->s3c->http.requests;
	st->sent = r->s3c->http.sent;
	st->received = r->s3c->http.received;
	st->failed_retry = r->s3c->failed[S3_FAIL_RETRY];
	st->failed_access = r->s3c->failed[S3_FAIL_ACCESS];
	st->failed_config = r->s3c->failed[S3_FAIL_CONFIG];
	st->failed_tls = r->s3c->failed[S3_FAIL_TLS];
}

void replica_close(struct replica *r)
{
	if (r->s3c) {
		s3_close(r->s3c);
		free(r->s3c);
	}
	crypto_wipe(r, sizeof(*r)); /* the credentials */
}

bool replica_reachable(const struct replica *r)
{
	enum port_fs_kind kind;

	if (r->s3)
		return true;
	return r->root[0] && port_fs_kind(r->root, &kind) == HF_OK && kind == PORT_FS_DIR &&
	       port_fs_is_writable(r->root);
}

bool replica_needs_network(const struct replica *r)
{
	return r && r->s3 && r->s3c && !httpc_is_loopback(r->s3c->http.server.host);
}

bool replica_resumable(const struct replica *r, uint64_t len)
{
	return r->s3 && r->s3c && len > r->s3c->c.part_size;
}

static void key_of(const struct replica *r, const char *rel, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s", r->prefix, r->prefix[0] ? "/" : "", rel);
}

/* mkdir -p of REL's directories below the root, each new name made durable. */
static int mkdirs(const struct replica *r, const char *rel)
{
	char p[2200];
	enum port_fs_kind kind;
	int rc;

	snprintf(p, sizeof(p), "%s/%s", r->root, rel);
	for (char *c = p + strlen(r->root) + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if ((rc = port_fs_kind(p, &kind)) != HF_OK)
			return rc;
		if (kind == PORT_FS_NONE && (rc = port_fs_mkdir(p, 0700)) != HF_OK && rc != HF_EEXIST)
			return rc;
		*c = '/';
	}
	return HF_OK;
}

int replica_write(const struct replica *r, const char *rel, const void *buf, size_t len)
{
	char path[2200];
	int rc;

	if (r->s3) {
		key_of(r, rel, path, sizeof(path));
		return s3_put(r->s3c, path, buf, len);
	}
	if (!replica_reachable(r))
		return HF_ENOENT;
	if ((rc = mkdirs(r, rel)) != HF_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", r->root, rel);
	/* Create-only, as S3's If-None-Match: * (a 412 there): the same
	** bytes already there are a retry that is done; other bytes are
	** another writer's (a cloned data directory), never overwritten. */
	return port_fs_publish(path, buf, len, 0600);
}

int replica_write_file(const struct replica *r, const char *rel, const char *from)
{
	char path[2200], state[4400];
	char *buf;
	size_t len;
	int rc;

	if (r->s3) {
		key_of(r, rel, path, sizeof(path));
		snprintf(state, sizeof(state), "%s.upload", from);
		return s3_put_file(r->s3c, path, from, state);
	}
	if ((rc = port_fs_read_file(from, REPLICA_FILE_MAX, &buf, &len)) != HF_OK)
		return rc;
	rc = replica_write(r, rel, buf, len);
	free(buf);
	return rc;
}

/* An object gathered in memory, refused past its cap. */
struct bounded {
	struct httpc_buf b;
	size_t cap;
};

static int gather_bounded(void *arg, const uint8_t *data, size_t len)
{
	struct bounded *g = arg;

	if (g->b.len + len > g->cap) {
		port_log("replica: an object over %zu bytes; not read", g->cap);
		return 1;
	}
	return httpc_gather(&g->b, data, len);
}

void replica_forget_upload(const struct replica *r, const char *state)
{
	if (r->s3)
		s3_forget_upload(r->s3c, state);
	else
		port_fs_unlink(state);
}

int replica_read(const struct replica *r, const char *rel, char **buf, size_t *len)
{
	char path[2200];
	struct bounded g = { { 0 }, REPLICA_FILE_MAX };
	int rc;

	if (!r->s3) {
		snprintf(path, sizeof(path), "%s/%s", r->root, rel);
		return port_fs_read_file(path, REPLICA_FILE_MAX, buf, len);
	}
	key_of(r, rel, path, sizeof(path));
	if ((rc = s3_get(r->s3c, path, gather_bounded, &g)) != HF_OK) {
		free(g.b.p);
		return rc;
	}
	if (!g.b.p && !(g.b.p = calloc(1, 1)))
		return HF_ENOMEM;
	*buf = g.b.p;
	*len = g.b.len;
	return HF_OK;
}

/* Gathers up to its cap and drops the rest (a server that ignored a range). */
static int gather_head(void *arg, const uint8_t *data, size_t len)
{
	struct bounded *g = arg;
	size_t take = g->b.len + len > g->cap ? g->cap - g->b.len : len;

	return take ? httpc_gather(&g->b, data, take) : 0;
}

int replica_read_head(const struct replica *r, const char *rel, size_t cap, char **buf,
		      size_t *len)
{
	char path[2200];
	struct bounded g = { { 0 }, cap };
	int rc;

	if (!r->s3) {
		int fd;
		uint64_t size;
		snprintf(path, sizeof(path), "%s/%s", r->root, rel);
		if ((rc = port_fs_open_read(path, &fd, &size)) != HF_OK)
			return rc;
		if (!(*buf = malloc(cap ? cap : 1))) {
			port_close(fd);
			return HF_ENOMEM;
		}
		rc = port_fs_pread(fd, *buf, cap, 0, len);
		port_close(fd);
		if (rc != HF_OK) {
			free(*buf);
			*buf = NULL;
		}
		return rc;
	}
	key_of(r, rel, path, sizeof(path));
	if ((rc = s3_get_head(r->s3c, path, cap, gather_head, &g)) != HF_OK) {
		free(g.b.p);
		return rc;
	}
	if (!g.b.p && !(g.b.p = calloc(1, 1)))
		return HF_ENOMEM;
	*buf = g.b.p;
	*len = g.b.len;
	return HF_OK;
}

int replica_size(const struct replica *r, const char *rel, uint64_t *size)
{
	char path[2200];
	int64_t mtime;

	if (r->s3) {
		key_of(r, rel, path, sizeof(path));
		return s3_head(r->s3c, path, size);
	}
	snprintf(path, sizeof(path), "%s/%s", r->root, rel);
	return port_fs_stamp(path, size, &mtime);
}

struct lister {
	struct ship_names *out;    /* its filters apply (ship_names_add) */
	const char *base;          /* key prefix of the directory, with its '/' */
};

static int list_key(void *arg, const struct s3_object *o)
{
	struct lister *l = arg;
	const char *rest = o->key + strlen(l->base), *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	char name[80];

	if (strncmp(o->key, l->base, strlen(l->base)) || !n || n >= sizeof(name))
		return 0;
	memcpy(name, rest, n);
	name[n] = '\0';
	/* Keys come sorted: a directory's many keys give one name. */
	if (l->out->n && !strcmp(l->out->v[l->out->n - 1], name))
		return 0;
	return ship_names_add(l->out, name);
}

int replica_list(const struct replica *r, const char *rel_dir, size_t want_len,
		 const char *suffix, struct ship_names *out)
{
	char path[2200], base[2200];
	struct lister l;
	int rc;

	if (!r->s3) {
		snprintf(path, sizeof(path), "%s%s%s", r->root, rel_dir[0] ? "/" : "", rel_dir);
		return ship_list(path, want_len, suffix, out);
	}
	memset(out, 0, sizeof(*out));
	out->want_len = want_len;
	out->suffix = suffix;
	/* The key prefix of the directory, ending in '/' (or empty: the bucket). */
	if (rel_dir[0])
		snprintf(base, sizeof(base), "%s%s%s/", r->prefix, r->prefix[0] ? "/" : "", rel_dir);
	else
		snprintf(base, sizeof(base), "%s%s", r->prefix, r->prefix[0] ? "/" : "");
	l = (struct lister){ out, base };
	if ((rc = s3_list(r->s3c, base, 0, list_key, &l)) != HF_OK) {
		free(out->v);
		memset(out, 0, sizeof(*out));
		return rc;
	}
	ship_names_sort(out);
	return out->n ? HF_OK : HF_ENOENT;
}
