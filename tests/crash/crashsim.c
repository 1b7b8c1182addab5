/*
** crashsim: replays a crash-model trace (port/sim/crash_trace.h) and cuts
** the power at a chosen sync, leaving on disk what a device could hold after
** that cut. In the style of SQLite's test6.c, driven by a trace so one
** recorded workload gives every crash point.
**
**   crashsim ack TRACE TEXT         append an acknowledgement record
**   crashsim mkdir TRACE DIR        record a top-level directory made durably
**   crashsim count TRACE            print "syncs N acks N records N"
**   crashsim cut TRACE OUTDIR [--seed S] [--at K|--end] [--drop-all]
**                                   materialise the state after a cut
**
** The model. Files and directories are inodes. A file is its content as of
** its last successful fsync (the base) plus the writes and truncates since,
** each "pending"; an fsync makes them durable, a failed fsync makes them
** "limbo" (the kernel may have dropped the pages and cleared the error, so
** no later fsync saves them). A directory change (create, rename, unlink,
** mkdir, rmdir) is pending until an fsync of the directory it changed.
**
** The cut happens during the Kth sync record (the Kth fsync of a file or a
** directory; K seed-chosen when --at is not given), before it takes effect.
** Then, in order, each pending or limbo write is kept, dropped, or torn: its
** sectors (512 B or 4 KiB, seed-chosen) are each kept, dropped or filled with
** garbage, garbage only inside the bytes the write covered (SQLite's default
** powersafe-overwrite assumption). Each pending directory change is kept or
** lost whole. --drop-all loses everything not durable: the harshest cut.
**
** stdout lists "ack TEXT" for each acknowledgement recorded before the cut;
** stderr says what was cut.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash_trace.h"

#define MAX_NAME 256

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "crashsim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n ? n : 1)))
		die("%s", "out of memory");
	return p;
}

/* ---- randomness: splitmix64, so a seed always gives the same cut -------- */

static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- the trace -------------------------------------------------------------- */

struct rec {
	struct crash_rec h;
	char *path;
	unsigned char *data;
};

static struct rec *recs;
static size_t nrecs;

static void load(const char *file)
{
	FILE *f = fopen(file, "rb");
	struct crash_rec h;
	size_t cap = 0;

	if (!f)
		die("cannot open trace %s", file);
	while (fread(&h, sizeof(h), 1, f) == 1) {
		struct rec *r;

		if (h.magic != CRASH_MAGIC)
			die("%s: bad record magic (a torn trace?)", file);
		if (nrecs == cap)
			recs = xrealloc(recs, (cap = cap ? cap * 2 : 1024) * sizeof(*recs));
		r = &recs[nrecs++];
		r->h = h;
		r->path = xrealloc(NULL, h.path_len + 1);
		r->data = xrealloc(NULL, h.data_len + 1);
		if (fread(r->path, 1, h.path_len, f) != h.path_len ||
		    fread(r->data, 1, h.data_len, f) != h.data_len)
			die("%s: truncated record", file);
		r->path[h.path_len] = '\0';
		r->data[h.data_len] = '\0';
	}
	fclose(f);
}

static int is_sync(const struct rec *r)
{
	return r->h.op == CRASH_SYNC || r->h.op == CRASH_DIRSYNC;
}

/* ---- inodes ------------------------------------------------------------------- */

enum { OP_PENDING, OP_DURABLE, OP_LIMBO };

struct fop {
	int state;
	int truncate;
	uint64_t off; /* write offset, or the new size of a truncate */
	const unsigned char *data;
	size_t len;
};

struct inode {
	int dir;
	unsigned char *base;
	size_t size;
	struct fop *ops;
	size_t nops;
};

static struct inode *inodes;
static size_t ninodes;

static int new_inode(int dir)
{
	inodes = xrealloc(inodes, (ninodes + 1) * sizeof(*inodes));
	memset(&inodes[ninodes], 0, sizeof(*inodes));
	inodes[ninodes].dir = dir;
	return (int)ninodes++;
}

static void buf_write(unsigned char **buf, size_t *size, uint64_t off, const unsigned char *d,
		      size_t len)
{
	if (off + len > *size) {
		*buf = xrealloc(*buf, off + len);
		memset(*buf + *size, 0, off + len - *size);
		*size = off + len;
	}
	memcpy(*buf + off, d, len);
}

static void buf_truncate(unsigned char **buf, size_t *size, uint64_t to)
{
	if (to > *size) {
		*buf = xrealloc(*buf, to);
		memset(*buf + *size, 0, to - *size);
	}
	*size = to;
}

static void apply_op(struct inode *ino, const struct fop *op)
{
	if (op->truncate)
		buf_truncate(&ino->base, &ino->size, op->off);
	else
		buf_write(&ino->base, &ino->size, op->off, op->data, op->len);
}

static void add_op(int i, const struct fop *op)
{
	struct inode *ino = &inodes[i];

	ino->ops = xrealloc(ino->ops, (ino->nops + 1) * sizeof(*ino->ops));
	ino->ops[ino->nops++] = *op;
}

static void file_sync(int i, int failed)
{
	struct inode *ino = &inodes[i];
	size_t k, done = 0;

	for (k = 0; k < ino->nops; k++)
		if (ino->ops[k].state == OP_PENDING)
			ino->ops[k].state = failed ? OP_LIMBO : OP_DURABLE;
	/* Fold the durable prefix into the base. */
	while (done < ino->nops && ino->ops[done].state == OP_DURABLE)
		apply_op(ino, &ino->ops[done++]);
	memmove(ino->ops, ino->ops + done, (ino->nops - done) * sizeof(*ino->ops));
	ino->nops -= done;
}

/* ---- namespaces: (directory inode, name) -> inode --------------------------- */

struct dent {
	int parent;
	char name[MAX_NAME];
	int ino;
};

struct ns {
	struct dent *d;
	size_t n;
};

static struct ns live, durable; /* what processes saw; what a cut keeps */

static int ns_find(const struct ns *s, int parent, const char *name)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->d[k].parent == parent && strcmp(s->d[k].name, name) == 0)
			return (int)k;
	return -1;
}

static int ns_get(const struct ns *s, int parent, const char *name)
{
	int k = ns_find(s, parent, name);

	return k < 0 ? -1 : s->d[k].ino;
}

static void ns_set(struct ns *s, int parent, const char *name, int ino)
{
	int k = ns_find(s, parent, name);

	if (k < 0) {
		s->d = xrealloc(s->d, (s->n + 1) * sizeof(*s->d));
		k = (int)s->n++;
		s->d[k].parent = parent;
		snprintf(s->d[k].name, MAX_NAME, "%s", name);
	}
	s->d[k].ino = ino;
}

static void ns_del(struct ns *s, int parent, const char *name)
{
	int k = ns_find(s, parent, name);

	if (k >= 0)
		s->d[k] = s->d[--s->n];
}

/* Splits PATH into its parent directory's inode (live) and its last name. */
static int resolve_parent(const char *path, char *name)
{
	char buf[4096];
	char *p, *slash;
	int dir = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	p = buf;
	while ((slash = strchr(p, '/'))) {
		*slash = '\0';
		if (*p && (dir = ns_get(&live, dir, p)) < 0)
			die("trace names a path under a missing directory: %s", path);
		p = slash + 1;
	}
	if (strlen(p) >= MAX_NAME)
		die("name too long in trace: %s", path);
	memcpy(name, p, strlen(p) + 1);
	return dir;
}

static int resolve(const char *path)
{
	char name[MAX_NAME];
	int dir = resolve_parent(path, name);

	return *name ? ns_get(&live, dir, name) : dir;
}

/* A directory change waiting for an fsync of DIR (the directory it changed;
** for a rename, the target's). A rename is kept or lost whole. */
struct dop {
	int dir;
	int from_dir, to_dir; /* -1 where the change has no such half */
	char from[MAX_NAME], to[MAX_NAME];
	int ino;
};

static struct dop *dops;
static size_t ndops;

static void add_dop(int dir, int from_dir, const char *from, int to_dir, const char *to, int ino)
{
	struct dop *d;

	dops = xrealloc(dops, (ndops + 1) * sizeof(*dops));
	d = &dops[ndops++];
	d->dir = dir;
	d->from_dir = from_dir;
	d->to_dir = to_dir;
	snprintf(d->from, MAX_NAME, "%s", from ? from : "");
	snprintf(d->to, MAX_NAME, "%s", to ? to : "");
	d->ino = ino;
}

static void apply_dop(const struct dop *d)
{
	if (d->from_dir >= 0)
		ns_del(&durable, d->from_dir, d->from);
	if (d->to_dir >= 0)
		ns_set(&durable, d->to_dir, d->to, d->ino);
}

static void dir_sync(int dir)
{
	size_t k, kept = 0;

	for (k = 0; k < ndops; k++) {
		if (dops[k].dir == dir)
			apply_dop(&dops[k]);
		else
			dops[kept++] = dops[k];
	}
	ndops = kept;
}

/* ---- replay --------------------------------------------------------------------- */

static void replay(const struct rec *r)
{
	char name[MAX_NAME], name2[MAX_NAME];
	struct fop op = {0};
	int dir, dir2, i;

	switch (r->h.op) {
	case CRASH_WRITE:
	case CRASH_TRUNCATE:
		if ((i = resolve(r->path)) < 0)
			die("trace writes a file it never created: %s", r->path);
		op.state = OP_PENDING;
		op.truncate = r->h.op == CRASH_TRUNCATE;
		op.off = r->h.off;
		op.data = r->data;
		op.len = r->h.data_len;
		add_op(i, &op);
		break;
	case CRASH_SYNC:
		if ((i = resolve(r->path)) >= 0)
			file_sync(i, r->h.failed);
		break;
	case CRASH_DIRSYNC:
		if ((i = resolve(r->path)) >= 0)
			dir_sync(i);
		break;
	case CRASH_CREATE:
	case CRASH_MKDIR:
		dir = resolve_parent(r->path, name);
		i = new_inode(r->h.op == CRASH_MKDIR);
		ns_set(&live, dir, name, i);
		add_dop(dir, -1, NULL, dir, name, i);
		break;
	case CRASH_UNLINK:
	case CRASH_RMDIR:
		dir = resolve_parent(r->path, name);
		ns_del(&live, dir, name);
		add_dop(dir, dir, name, -1, NULL, -1);
		break;
	case CRASH_RENAME:
		dir = resolve_parent(r->path, name);
		if ((i = ns_get(&live, dir, name)) < 0)
			die("trace renames a missing file: %s", r->path);
		dir2 = resolve_parent((const char *)r->data, name2);
		ns_del(&live, dir, name);
		ns_set(&live, dir2, name2, i);
		add_dop(dir2, dir, name, dir2, name2, i);
		break;
	case CRASH_ACK:
		break;
	default:
		die("unknown record in trace (%s)", r->path);
	}
}

/* ---- the cut -------------------------------------------------------------------- */

static struct {
	unsigned kept, dropped, torn, garbage_sectors, dir_kept, dir_lost;
} st;

static void cut_file(struct inode *ino, size_t sector, int drop_all)
{
	for (size_t k = 0; k < ino->nops; k++) {
		const struct fop *op = &ino->ops[k];
		unsigned r = drop_all ? 1 : (unsigned)(rnd() % 3);

		if (op->state == OP_DURABLE) {
			apply_op(ino, op);
			continue;
		}
		if (r == 0 || (r == 2 && op->truncate)) {
			st.kept++;
			apply_op(ino, op);
			continue;
		}
		if (r == 1) {
			st.dropped++;
			continue;
		}
		/* Torn: sector by sector, within the bytes the write covered. */
		st.torn++;
		for (uint64_t s = op->off; s < op->off + op->len;) {
			uint64_t end = (s / sector + 1) * sector;
			unsigned char junk[4096];
			unsigned how = (unsigned)(rnd() % 5);

			if (end > op->off + op->len)
				end = op->off + op->len;
			if (how < 2) {
				buf_write(&ino->base, &ino->size, s, op->data + (s - op->off),
					  end - s);
			} else if (how == 4) {
				for (size_t b = 0; b < end - s; b++)
					junk[b] = (unsigned char)rnd();
				buf_write(&ino->base, &ino->size, s, junk, end - s);
				st.garbage_sectors++;
			}
			s = end;
		}
	}
}

static void materialise(const char *out, int dir)
{
	char path[4096];

	for (size_t k = 0; k < durable.n; k++) {
		const struct dent *d = &durable.d[k];
		const struct inode *ino;

		if (d->parent != dir)
			continue;
		ino = &inodes[d->ino];
		snprintf(path, sizeof(path), "%s/%s", out, d->name);
		if (ino->dir) {
			if (mkdir(path, 0700) != 0 && errno != EEXIST)
				die("cannot make %s", path);
			materialise(path, d->ino);
		} else {
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			if (fd < 0 || (ino->size && write(fd, ino->base, ino->size) !=
							 (ssize_t)ino->size) ||
			    close(fd) != 0)
				die("cannot write %s", path);
		}
	}
}

static int cut(int argc, char **argv)
{
	const char *trace = argv[2], *out = argv[3];
	size_t syncs = 0, total, at = 0, k, sector;
	int end = 0, drop_all = 0;
	uint64_t seed = 1;

	for (int a = 4; a < argc; a++) {
		if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--at") == 0 && a + 1 < argc)
			at = strtoull(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--end") == 0)
			end = 1;
		else if (strcmp(argv[a], "--drop-all") == 0)
			drop_all = 1;
		else
			die("unknown option %s", argv[a]);
	}
	rng = seed;
	load(trace);
	for (k = 0; k < nrecs; k++)
		syncs += is_sync(&recs[k]);
	total = syncs;
	if (!end && !at)
		at = syncs ? 1 + (size_t)(rnd() % syncs) : 0;
	if (!end && (at == 0 || at > syncs))
		die("no such sync point in the trace (%s)", trace);
	sector = rnd() % 2 ? 4096 : 512;
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		die("cannot make %s", out);

	ninodes = 0;
	new_inode(1); /* the root: exists and is durable before the trace */
	for (k = 0, syncs = 0; k < nrecs; k++) {
		if (is_sync(&recs[k]) && !end && ++syncs == at)
			break; /* the power fails during this sync */
		if (recs[k].h.op == CRASH_ACK)
			printf("ack %s\n", (const char *)recs[k].data);
		replay(&recs[k]);
	}
	for (size_t d = 0; d < ndops; d++) {
		if (!drop_all && rnd() % 2) {
			st.dir_kept++;
			apply_dop(&dops[d]);
		} else {
			st.dir_lost++;
		}
	}
	for (size_t i = 0; i < ninodes; i++)
		if (!inodes[i].dir)
			cut_file(&inodes[i], sector, drop_all);
	materialise(out, 0);
	fprintf(stderr,
		"crashsim: cut %s %zu of %zu syncs (%zu-byte sectors): unsynced writes "
		"%u kept, %u dropped, %u torn (%u garbage sectors); directory changes %u kept, "
		"%u lost\n",
		end ? "after sync" : "during sync", end ? total : at, total, sector, st.kept, st.dropped,
		st.torn, st.garbage_sectors, st.dir_kept, st.dir_lost);
	return 0;
}

static int count(const char *trace)
{
	size_t syncs = 0, acks = 0;

	load(trace);
	for (size_t k = 0; k < nrecs; k++) {
		syncs += is_sync(&recs[k]);
		acks += recs[k].h.op == CRASH_ACK;
	}
	printf("syncs %zu acks %zu records %zu\n", syncs, acks, nrecs);
	return 0;
}

static int ack(const char *trace, const char *text)
{
	struct crash_rec h;
	size_t len = strlen(text);
	char *buf = xrealloc(NULL, sizeof(h) + len);
	int fd = open(trace, O_WRONLY | O_APPEND | O_CREAT, 0600);

	memset(&h, 0, sizeof(h));
	h.magic = CRASH_MAGIC;
	h.op = CRASH_ACK;
	h.pid = (uint32_t)getpid();
	h.data_len = (uint32_t)len;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), text, len);
	if (fd < 0 || write(fd, buf, sizeof(h) + len) != (ssize_t)(sizeof(h) + len) ||
	    close(fd) != 0)
		die("cannot append to %s", trace);
	free(buf);
	return 0;
}

/* A directory the test made itself (a replica's mount point), recorded as
** made and durable: the trace must know every directory it names. */
static int record_mkdir(const char *trace, const char *path)
{
	struct crash_rec h;
	size_t len = strlen(path);
	int fd = open(trace, O_WRONLY | O_APPEND | O_CREAT, 0600);

	if (fd < 0)
		die("cannot append to %s", trace);
	for (int op = 0; op < 2; op++) {
		char *buf = xrealloc(NULL, sizeof(h) + len);
		const char *p = op == 0 ? path : "";
		size_t plen = strlen(p);

		memset(&h, 0, sizeof(h));
		h.magic = CRASH_MAGIC;
		h.op = op == 0 ? CRASH_MKDIR : CRASH_DIRSYNC;
		h.pid = (uint32_t)getpid();
		h.path_len = (uint32_t)plen;
		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), p, plen);
		if (write(fd, buf, sizeof(h) + plen) != (ssize_t)(sizeof(h) + plen))
			die("cannot append to %s", trace);
		free(buf);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "ack") == 0)
		return ack(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "mkdir") == 0)
		return record_mkdir(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "count") == 0)
		return count(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "cut") == 0)
		return cut(argc, argv);
	fprintf(stderr, "usage: crashsim ack TRACE TEXT | mkdir TRACE DIR | count TRACE |\n"
			"       cut TRACE OUTDIR [--seed S] [--at K|--end] [--drop-all]\n");
	return 2;
}
