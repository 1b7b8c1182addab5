/*
** replica.c: directory and S3 replicas behind one interface (replica.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "fmt/rcrypt.h"
#include "port.h"
#include "ship/replica.h"


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

/* s3://BUCKET[/PREFIX] (URL) into R's bucket and prefix (no trailing '/'). */
static int bucket_of(struct replica *r, const char *url)
{
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
	return HF_OK;
}

/* R's S3 credentials, from the first that has them: the environment, the
** credentials file, the (0600) config itself. */
static int credentials(struct replica *r, const struct cfg *cfg)
{
	const char *ak = port_env("AWS_ACCESS_KEY_ID"), *sk = port_env("AWS_SECRET_ACCESS_KEY");
	int rc;

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
			 "holdfast.conf)", r->url);
		return HF_EINVAL;
	}
	return HF_OK;
}

int replica_open(const char *url, const struct cfg *cfg, struct replica *r)
{
	const char *ep, *rg, *pin;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->url, sizeof(r->url), "%s", url);
	if (cfg && cfg->replica_key_file[0]) {
		if (!(r->key = malloc(sizeof(*r->key))))
			return HF_ENOMEM;
		if ((rc = rcrypt_load(r->key, cfg->replica_key_file)) != HF_OK)
			return rc;
	}
	if (!strncmp(url, "file://", 7) || url[0] == '/') {
		snprintf(r->root, sizeof(r->root), "%s", url[0] == '/' ? url : url + 7);
		return HF_OK;
	}
	if (strncmp(url, "s3://", 5) != 0) {
		port_log("replica %s: use file:///DIR or s3://BUCKET/PREFIX", url);
		return HF_EINVAL;
	}
	r->s3 = true;
	if ((rc = bucket_of(r, url)) != HF_OK)
		return rc;
	ep = port_env("HOLDFAST_S3_ENDPOINT");
	if (!ep && cfg && cfg->s3_endpoint[0])
		ep = cfg->s3_endpoint;
	rg = port_env("HOLDFAST_S3_REGION");
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
	if ((rc = credentials(r, cfg)) != HF_OK)
		return rc;
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
	if ((pin = port_env("HOLDFAST_S3_PIN")) && snprintf(r->pin, sizeof(r->pin), "%s", pin) >= (int)sizeof(r->pin))
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
	if (r->key) {
		rcrypt_free(r->key);
		free(r->key);
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

/* ---- the envelope: thin hooks around the plain reads and writes ---- */

/* Whether REL goes in the envelope when there is a key: the history
** (segments, snapshots, manifests); not DEVICE/owner, which says only
** which install ships under the name. */
static bool enveloped(const struct replica *r, const char *rel)
{
	const char *base = strrchr(rel, '/');

	return r->key && strcmp(base ? base + 1 : rel, "owner") != 0;
}

/* Seals REL's LEN bytes at BUF into *OUT (malloc'd), or says why not. */
static int seal(const struct replica *r, const char *rel, const void *buf, size_t len,
		uint8_t **out, size_t *out_len)
{
	int rc = rcrypt_seal(r->key, rel, buf, len, out, out_len);

	if (rc != HF_OK)
		port_log("replica %s/%s: cannot encrypt it (%s)", r->url, rel, hf_strerror(rc));
	return rc;
}

/* Whether REL, SEALED or not, may be read as it is: a sealed file needs a
** key; a plaintext one is refused when there is a key (unless plaintext is
** allowed, or REL is never sealed). Said, naming it, if not. */
static int admit(const struct replica *r, const char *rel, bool sealed)
{
	if (!sealed) {
		if (!enveloped(r, rel) || r->allow_plain)
			return HF_OK;
		port_log("replica %s/%s: not encrypted but [replica] key_file is set (a file from "
			 "before the key, or one forged; --allow-plaintext reads old replicas)", r->url,
			 rel);
		return HF_EACCES;
	}
	if (!r->key) {
		port_log("replica %s/%s: encrypted; set [replica] key_file (restore and replica ls: "
			 "--key-file FILE) to read it", r->url, rel);
		return HF_EACCES;
	}
	return HF_OK;
}

/* What was read of REL (BUF, LEN bytes; HEAD: only its start) as it must
** be: opened in place if it is in an envelope and there is a key, refused
** if it is in one and there is none, or if it is not and there is one
** (unless plaintext is allowed). *LEN becomes the plaintext's length. */
static int unseal(const struct replica *r, const char *rel, char *buf, size_t *len, bool head)
{
	bool sealed = rcrypt_is_sealed(buf, *len);
	char why[300];
	size_t plain;
	int rc;

	if ((rc = admit(r, rel, sealed)) != HF_OK || !sealed)
		return rc;
	rc = head ? rcrypt_open_head(r->key, rel, (uint8_t *)buf, *len, &plain, why, sizeof(why)) :
		    rcrypt_open(r->key, rel, (uint8_t *)buf, *len, &plain, why, sizeof(why));
	if (rc != HF_OK) {
		port_log("replica %s/%s: %s", r->url, rel, why);
		return rc;
	}
	buf[plain] = '\0'; /* as read: NUL-terminated */
	*len = plain;
	return HF_OK;
}

static int write_plain(const struct replica *r, const char *rel, const void *buf, size_t len);

int replica_write(const struct replica *r, const char *rel, const void *buf, size_t len)
{
	uint8_t *sealed;
	size_t slen;
	int rc;

	if (!enveloped(r, rel))
		return write_plain(r, rel, buf, len);
	if ((rc = seal(r, rel, buf, len, &sealed, &slen)) != HF_OK)
		return rc;
	rc = write_plain(r, rel, sealed, slen);
	free(sealed);
	return rc;
}

int replica_remove(const struct replica *r, const char *rel)
{
	char path[2200];
	int rc;

	if (r->s3) {
		key_of(r, rel, path, sizeof(path));
		rc = s3_delete(r->s3c, path);
	} else {
		snprintf(path, sizeof(path), "%s/%s", r->root, rel);
		if ((rc = port_fs_unlink(path)) == HF_OK)
			rc = port_fs_fsync_parent(path);
	}
	return rc == HF_ENOENT ? HF_OK : rc;
}

static int write_plain(const struct replica *r, const char *rel, const void *buf, size_t len)
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

	if (r->s3 && !enveloped(r, rel)) {
		key_of(r, rel, path, sizeof(path));
		snprintf(state, sizeof(state), "%s.upload", from);
		return s3_put_file(r->s3c, path, from, state);
	}
	if ((rc = port_fs_read_file(from, REPLICA_FILE_MAX, &buf, &len)) != HF_OK)
		return rc;
	if (r->s3) {
		/* Streamed from a sealed copy beside FROM, kept until the upload
		** is done: its mtime and size name the multipart upload a later
		** call resumes (s3.c), and it is the same bytes if made again
		** (rcrypt.c's salt), so a copy of the right size is that copy. */
		char sealed_path[4400];
		uint8_t *sealed;
		uint64_t have;
		int64_t mtime;
		size_t slen;
		snprintf(sealed_path, sizeof(sealed_path), "%s.sealed", from);
		if (port_fs_stamp(sealed_path, &have, &mtime) != HF_OK ||
		    have != rcrypt_sealed_len(len)) {
			rc = seal(r, rel, buf, len, &sealed, &slen);
			if (rc == HF_OK) {
				rc = port_fs_replace(sealed_path, sealed, slen, 0600);
				free(sealed);
			}
		}
		free(buf);
		if (rc == HF_OK) {
			key_of(r, rel, path, sizeof(path));
			snprintf(state, sizeof(state), "%s.upload", from);
			rc = s3_put_file(r->s3c, path, sealed_path, state);
		}
		if (rc == HF_OK || rc == HF_EEXIST)
			port_fs_unlink(sealed_path);
		return rc;
	}
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

/* Opens REL of directory replica R: below its root, no symbolic link
** followed, nothing but a regular file (port_fs_open_beneath). A link or a
** FIFO where a replica file should be is damage (HF_ECORRUPT), as a file
** that fails its checksum. */
static int open_rel(const struct replica *r, const char *rel, int *fd, uint64_t *size)
{
	int rc = port_fs_open_beneath(r->root, rel, fd, size);

	return rc == HF_EINVAL ? HF_ECORRUPT : rc;
}

int replica_read_max(const struct replica *r, const char *rel, size_t cap, char **buf,
		     size_t *len)
{
	char path[2200];
	struct bounded g = { { 0 }, cap };
	uint64_t size;
	int rc, fd;

	if (!r->s3) {
		if ((rc = open_rel(r, rel, &fd, &size)) != HF_OK)
			return rc;
		if (size > cap) {
			port_log("%s/%s: %llu bytes, over the %zu byte limit", r->root, rel,
				 (unsigned long long)size, cap);
			port_close(fd);
			return HF_ETOOBIG;
		}
		/* +1: a file that grew since fstat shows as longer than its size. */
		if (!(*buf = malloc((size_t)size + 2))) {
			port_close(fd);
			return HF_ENOMEM;
		}
		rc = port_fs_pread(fd, *buf, (size_t)size + 1, 0, len);
		port_close(fd);
		if (rc == HF_OK && *len != size) {
			port_log("%s/%s: changed while being read", r->root, rel);
			rc = HF_EIO;
		}
		if (rc != HF_OK) {
			free(*buf);
			*buf = NULL;
			return rc;
		}
		(*buf)[*len] = '\0';
	} else {
		key_of(r, rel, path, sizeof(path));
		if ((rc = s3_get(r->s3c, path, gather_bounded, &g)) != HF_OK) {
			free(g.b.p);
			return rc;
		}
		if (!g.b.p && !(g.b.p = calloc(1, 1)))
			return HF_ENOMEM;
		*buf = g.b.p;
		*len = g.b.len;
	}
	if (rc == HF_OK && (rc = unseal(r, rel, *buf, len, false)) != HF_OK) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* An S3 object spilled to a file, refused past its cap. */
struct spill {
	int fd;
	uint64_t len, cap;
	bool over;
};

static int spill_body(void *arg, const uint8_t *data, size_t len)
{
	struct spill *sp = arg;

	if (sp->len + len > sp->cap) {
		sp->over = true;
		return 1;
	}
	if (port_fs_pwrite(sp->fd, data, len, sp->len) != HF_OK)
		return 1;
	sp->len += len;
	return 0;
}

/* Fetches S3 object REL into TMP, unlinked at once: F->fd and F->raw. */
static int fetch_to(const struct replica *r, const char *rel, const char *tmp,
		    struct replica_file *f)
{
	char path[2200], dir[4400];
	struct spill sp = { -1, 0, REPLICA_FILE_MAX, false };
	const char *slash = strrchr(tmp, '/');
	uint64_t room;
	int rc;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - tmp + (slash == tmp)) : 1,
		 slash ? tmp : ".");
	if ((rc = port_fs_free_space(dir, &room)) != HF_OK)
		return rc;
	if (room < sp.cap)
		sp.cap = room;
	if ((rc = port_fs_create(tmp, 0600, &f->fd)) != HF_OK)
		return rc;
	/* Gone from the directory while it is read: nothing to clean up on
	** any path out, a kill included. */
	port_fs_unlink(tmp);
	sp.fd = f->fd;
	key_of(r, rel, path, sizeof(path));
	rc = s3_get(r->s3c, path, spill_body, &sp);
	if (sp.over) {
		port_log("replica %s/%s: an object over %llu bytes (the limit, or the free space in "
			 "%s); not read", r->url, rel, (unsigned long long)sp.cap, dir);
		rc = HF_ETOOBIG;
	}
	if (rc == HF_OK)
		stream_fd(&f->raw, f->fd, sp.len);
	return rc;
}

int replica_file_open(const struct replica *r, const char *rel, const char *tmp,
		      struct replica_file *f)
{
	char why[300];
	uint8_t magic[8];
	size_t got;
	uint64_t size;
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (r->s3) {
		if ((rc = fetch_to(r, rel, tmp, f)) != HF_OK)
			return rc;
	} else {
		if ((rc = open_rel(r, rel, &f->fd, &size)) != HF_OK)
			return rc;
		if (size > REPLICA_FILE_MAX) {
			port_log("%s/%s: %llu bytes, over the %u byte limit", r->root, rel,
				 (unsigned long long)size, REPLICA_FILE_MAX);
			return HF_ETOOBIG;
		}
		stream_fd(&f->raw, f->fd, size);
	}
	f->s = &f->raw;
	if ((rc = port_fs_pread(f->fd, magic, sizeof(magic), 0, &got)) != HF_OK)
		return rc;
	if ((rc = admit(r, rel, rcrypt_is_sealed(magic, got))) != HF_OK ||
	    !rcrypt_is_sealed(magic, got))
		return rc;
	if ((rc = rcrypt_stream_open(&f->env, r->key, rel, &f->raw, &f->s, why, sizeof(why))) !=
	    HF_OK)
		port_log("replica %s/%s: %s", r->url, rel, why);
	return rc;
}

void replica_file_close(struct replica_file *f)
{
	rcrypt_stream_close(f->env);
	f->env = NULL;
	if (f->fd >= 0)
		port_close(f->fd);
	f->fd = -1;
}

/* Gathers up to its cap and drops the rest (a server that ignored a range). */
static int gather_head(void *arg, const uint8_t *data, size_t len)
{
	struct bounded *g = arg;
	size_t take = g->b.len + len > g->cap ? g->cap - g->b.len : len;

	return take ? httpc_gather(&g->b, data, take) : 0;
}

static int read_head_plain(const struct replica *r, const char *rel, size_t cap, char **buf,
			   size_t *len);

int replica_read_head(const struct replica *r, const char *rel, size_t cap, char **buf,
		      size_t *len)
{
	/* An envelope's first chunk is read whole to be checked. */
	size_t want = r->key && cap < RCRYPT_HEAD_LEN ? RCRYPT_HEAD_LEN : cap;
	int rc;

	if (want < 6)
		want = 6; /* enough to see the envelope's magic */
	if ((rc = read_head_plain(r, rel, want, buf, len)) != HF_OK)
		return rc;
	if ((rc = unseal(r, rel, *buf, len, true)) != HF_OK) {
		free(*buf);
		*buf = NULL;
		return rc;
	}
	if (*len > cap)
		*len = cap;
	return HF_OK;
}

static int read_head_plain(const struct replica *r, const char *rel, size_t cap, char **buf,
			   size_t *len)
{
	char path[2200];
	struct bounded g = { { 0 }, cap };
	int rc;

	if (!r->s3) {
		int fd;
		uint64_t size;
		if ((rc = open_rel(r, rel, &fd, &size)) != HF_OK)
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
	int rc, fd;

	if (r->s3) {
		key_of(r, rel, path, sizeof(path));
		return s3_head(r->s3c, path, size);
	}
	if ((rc = open_rel(r, rel, &fd, size)) == HF_OK)
		port_close(fd);
	return rc;
}

struct lister {
	struct names *out;         /* its filters apply (names_add) */
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
	return names_add(l->out, name);
}

int replica_list(const struct replica *r, const char *rel_dir, size_t want_len,
		 const char *suffix, struct names *out)
{
	char path[2200], base[2200];
	struct lister l;
	int rc;

	if (!r->s3) {
		snprintf(path, sizeof(path), "%s%s%s", r->root, rel_dir[0] ? "/" : "", rel_dir);
		return names_list(path, want_len, suffix, out);
	}
	names_init(out, want_len, suffix);
	/* The key prefix of the directory, ending in '/' (or empty: the bucket). */
	if (rel_dir[0])
		snprintf(base, sizeof(base), "%s%s%s/", r->prefix, r->prefix[0] ? "/" : "", rel_dir);
	else
		snprintf(base, sizeof(base), "%s%s", r->prefix, r->prefix[0] ? "/" : "");
	l = (struct lister){ out, base };
	if ((rc = s3_list(r->s3c, base, 0, list_key, &l)) != HF_OK) {
		free(out->v);
		names_init(out, want_len, suffix);
		return rc;
	}
	names_sort(out);
	return out->n ? HF_OK : HF_ENOENT;
}
