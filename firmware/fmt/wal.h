/*
** wal.h: reading committed frames from SQLite's -wal file, as SQLite's own
** recovery does (the file format is documented at the top of SQLite's
** src/wal.c).
**
** A position is where a reader stopped: the WAL header's salts it belongs
** to, the number of frames consumed, and the running checksum after them, so
** that reading resumes without rereading the WAL from its start. Frames are
** valid while their salts match and the checksum chain holds; only frames up
** to the last valid commit frame are reported: frames past it belong to a
** transaction in progress or are debris of an earlier WAL.
*/
#ifndef HF_WAL_H
#define HF_WAL_H

#include <stdbool.h>
#include <stdint.h>

#define WAL_HDR_SIZE 32
#define WAL_FRAME_HDR_SIZE 24

struct wal_pos {
	uint32_t salt[2];
	uint32_t cksum[2];   /* running checksum after FRAME frames */
	uint32_t frame;      /* frames consumed */
	uint32_t page_size;
	uint32_t ckpt_seq;
	bool big_endian;     /* checksum byte order (magic 0x377f0683) */
};

/* Byte offset of frame N (0-based) in a WAL of PAGE_SIZE pages. */
uint64_t wal_frame_offset(uint32_t page_size, uint32_t n);

/*
** Reads the WAL header of PATH into *START (a position before the first
** frame). HF_ENOENT if there is no WAL or it is shorter than a header (no
** frames yet); HF_ECORRUPT if the header is not a valid WAL header (bad
** magic, version, page size or checksum: SQLite would ignore the file).
*/
int wal_header(const char *path, struct wal_pos *start);

/*
** Reads the frames after FROM (whose salts must be the header's) up to the
** last valid commit frame, calling FN for each frame in order with its page
** number, its index and its page data. On success *END is the position after
** that commit frame (FROM itself if there is none) and *DB_PAGES the database
** size in pages it recorded (0 if none). FN returning non-zero stops the
** read with that code.
*/
typedef int (*wal_frame_fn)(void *arg, uint32_t pgno, uint32_t frame, const uint8_t *page);
int wal_read(const char *path, const struct wal_pos *from, wal_frame_fn fn, void *arg,
	     struct wal_pos *end, uint32_t *db_pages);

/* wal_read that looks at no frame at or past frame LIMIT. */
int wal_read_to(const char *path, const struct wal_pos *from, uint32_t limit, wal_frame_fn fn,
		void *arg, struct wal_pos *end, uint32_t *db_pages);

/*
** Whether the WAL no longer continues from POS: the last frame read is gone
** or carries another checksum, or the next frame carries POS's salts (it is
** of the current WAL, not debris of an earlier one) but does not follow.
** That happens only if frames we read were later overwritten: a writer died
** between syncing its frames and publishing them, and the next writer wrote
** over them.
*/
int wal_chain_broken(const char *path, const struct wal_pos *pos, bool *broken);

/* Reads the page of frame N into PAGE (page_size bytes). */
int wal_read_page(const char *path, uint32_t page_size, uint32_t n, uint8_t *page);

#endif /* HF_WAL_H */
