/*
** wal.c: the WAL reader (see wal.h).
**
** Validation is SQLite's (src/wal.c, walIndexRecover and walDecodeFrame):
** the header's magic, version 3007000, a power-of-two page size of 512 to
** 65536 and its checksum; then for each frame the salts, a non-zero page
** number and the cumulative checksum over the header, each frame's first 8
** header bytes and its page. The checksum reads the input as 32-bit words,
** big-endian if the magic is 0x377f0683, little-endian if 0x377f0682.
*/
#include <stdlib.h>
#include <string.h>

#include "fmt/wal.h"
#include "port.h"

#define WAL_MAGIC 0x377f0682u
#define WAL_VERSION 3007000u

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t word(const uint8_t *p, bool big_endian)
{
	return big_endian ? get32(p)
			  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* SQLite's walChecksumBytes: N is a multiple of 8. */
static void checksum(const uint8_t *a, size_t n, bool big_endian, uint32_t s[2])
{
	uint32_t s1 = s[0], s2 = s[1];

	for (size_t i = 0; i < n; i += 8) {
		s1 += word(a + i, big_endian) + s2;
		s2 += word(a + i + 4, big_endian) + s1;
	}
	s[0] = s1;
	s[1] = s2;
}

uint64_t wal_frame_offset(uint32_t page_size, uint32_t n)
{
	return WAL_HDR_SIZE + (uint64_t)n * (WAL_FRAME_HDR_SIZE + page_size);
}

int wal_header(const char *path, struct wal_pos *start)
{
	uint8_t h[WAL_HDR_SIZE];
	uint64_t size;
	size_t got;
	uint32_t magic, s[2] = { 0, 0 };
	int fd, rc;

	if ((rc = port_fs_open_read(path, &fd, &size)) != HF_OK)
		return rc;
	rc = port_fs_pread(fd, h, sizeof(h), 0, &got);
	port_close(fd);
	if (rc != HF_OK)
		return rc;
	if (got < sizeof(h))
		return HF_ENOENT;
	memset(start, 0, sizeof(*start));
	magic = get32(h);
	if ((magic & ~1u) != WAL_MAGIC || get32(h + 4) != WAL_VERSION)
		return HF_ECORRUPT;
	start->big_endian = magic & 1;
	start->page_size = get32(h + 8);
	if (start->page_size < 512 || start->page_size > 65536 ||
	    (start->page_size & (start->page_size - 1)))
		return HF_ECORRUPT;
	checksum(h, 24, start->big_endian, s);
	if (s[0] != get32(h + 24) || s[1] != get32(h + 28))
		return HF_ECORRUPT;
	start->ckpt_seq = get32(h + 12);
	start->salt[0] = get32(h + 16);
	start->salt[1] = get32(h + 20);
	start->cksum[0] = s[0];
	start->cksum[1] = s[1];
	start->frame = 0;
	return HF_OK;
}

int wal_read(const char *path, const struct wal_pos *from, wal_frame_fn fn, void *arg,
	     struct wal_pos *end, uint32_t *db_pages)
{
	return wal_read_to(path, from, UINT32_MAX, fn, arg, end, db_pages);
}

int wal_read_to(const char *path, const struct wal_pos *from, uint32_t limit, wal_frame_fn fn,
		void *arg, struct wal_pos *end, uint32_t *db_pages)
{
	size_t fsz = WAL_FRAME_HDR_SIZE + from->page_size, got;
	struct wal_pos cur = *from;
	uint8_t *buf;
	uint64_t size;
	uint32_t n;
	int fd, rc;

	*end = *from;
	*db_pages = 0;
	if ((rc = port_fs_open_read(path, &fd, &size)) != HF_OK)
		return rc;
	if (!(buf = malloc(fsz))) {
		port_close(fd);
		return HF_ENOMEM;
	}
	/* Two passes: find the last commit, then report the frames up to it,
	** so that a caller never sees frames of an unfinished transaction. */
	for (n = from->frame; n < limit; n++) {
		uint32_t s[2] = { cur.cksum[0], cur.cksum[1] };

		if ((rc = port_fs_pread(fd, buf, fsz, wal_frame_offset(from->page_size, n), &got)))
			goto out;
		if (got < fsz || get32(buf + 8) != from->salt[0] || get32(buf + 12) != from->salt[1] ||
		    get32(buf) == 0)
			break;
		checksum(buf, 8, from->big_endian, s);
		checksum(buf + WAL_FRAME_HDR_SIZE, from->page_size, from->big_endian, s);
		if (s[0] != get32(buf + 16) || s[1] != get32(buf + 20))
			break;
		cur.cksum[0] = s[0];
		cur.cksum[1] = s[1];
		cur.frame = n + 1;
		if (get32(buf + 4) != 0) {
			*end = cur;
			*db_pages = get32(buf + 4);
		}
	}
	for (n = from->frame; fn && n < end->frame; n++) {
		if ((rc = port_fs_pread(fd, buf, fsz, wal_frame_offset(from->page_size, n), &got)))
			goto out;
		if (got < fsz) { /* truncated under us: a checkpoint we did not make */
			rc = HF_EBUSY;
			goto out;
		}
		if ((rc = fn(arg, get32(buf), n, buf + WAL_FRAME_HDR_SIZE)) != 0)
			goto out;
	}
	rc = HF_OK;
out:
	free(buf);
	port_close(fd);
	return rc;
}

int wal_read_page(const char *path, uint32_t page_size, uint32_t n, uint8_t *page)
{
	uint64_t size;
	size_t got;
	int fd, rc;

	if ((rc = port_fs_open_read(path, &fd, &size)) != HF_OK)
		return rc;
	rc = port_fs_pread(fd, page, page_size,
			   wal_frame_offset(page_size, n) + WAL_FRAME_HDR_SIZE, &got);
	port_close(fd);
	return rc == HF_OK && got < page_size ? HF_EBUSY : rc;
}

int wal_chain_broken(const char *path, const struct wal_pos *pos, bool *broken)
{
	size_t fsz = WAL_FRAME_HDR_SIZE + pos->page_size, got;
	uint32_t sum[2] = { pos->cksum[0], pos->cksum[1] };
	uint64_t size;
	uint8_t *buf;
	int fd, rc;

	*broken = false;
	if ((rc = port_fs_open_read(path, &fd, &size)) != HF_OK)
		return rc == HF_ENOENT ? HF_OK : rc;
	if (!(buf = malloc(fsz))) {
		port_close(fd);
		return HF_ENOMEM;
	}
	/* The last frame read must still be there, ending with our checksum:
	** overwritten, it carries another one. */
	if (pos->frame > 0) {
		rc = port_fs_pread(fd, buf, WAL_FRAME_HDR_SIZE,
				   wal_frame_offset(pos->page_size, pos->frame - 1), &got);
		if (rc == HF_OK && (got < WAL_FRAME_HDR_SIZE || get32(buf + 8) != pos->salt[0] ||
				    get32(buf + 12) != pos->salt[1] || get32(buf + 16) != pos->cksum[0] ||
				    get32(buf + 20) != pos->cksum[1]))
			*broken = true;
	}
	/* And the frame after it must follow it, if it is of this WAL. */
	if (rc == HF_OK && !*broken)
		rc = port_fs_pread(fd, buf, fsz, wal_frame_offset(pos->page_size, pos->frame), &got);
	port_close(fd);
	if (rc == HF_OK && !*broken && got == fsz && get32(buf + 8) == pos->salt[0] &&
	    get32(buf + 12) == pos->salt[1]) {
		checksum(buf, 8, pos->big_endian, sum);
		checksum(buf + WAL_FRAME_HDR_SIZE, pos->page_size, pos->big_endian, sum);
		*broken = sum[0] != get32(buf + 16) || sum[1] != get32(buf + 20);
	}
	free(buf);
	return rc;
}
