/*
** stream.h: a pull reader of a file's bytes, for restore: a file (or a
** buffer) at the bottom, the envelope (rcrypt.c) and the segment decoder
** (seg.c) above it, each holding one piece at a time, so that reading a
** replica file of any size takes bounded memory.
*/
#ifndef HF_STREAM_H
#define HF_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct stream;

/* Gives up to LEN bytes at BUF (*GOT of them; 0 only at the end), or an
** error with WHY filled in. */
typedef int (*stream_fill_fn)(struct stream *s, uint8_t *buf, size_t len, size_t *got,
			      char *why, size_t why_len);

struct stream {
	stream_fill_fn fill;
	uint64_t size;             /* the bytes it yields in all, known up front */
	uint64_t pos;              /* yielded so far */
	int fd;                    /* stream_fd */
	const uint8_t *mem;        /* stream_mem */
	void *ctx;                 /* a filter's state (rcrypt_stream) */
};

/* A stream of FD's SIZE bytes from offset 0 (FD stays the caller's). */
void stream_fd(struct stream *s, int fd, uint64_t size);

/* A stream of LEN bytes at BUF (fuzzers, tests, small files). */
void stream_mem(struct stream *s, const void *buf, size_t len);

/* Exactly LEN bytes into BUF: HF_ECORRUPT ("cut short") if the stream
** ends first (a file that shrank while read), or the fill's error. */
int stream_read(struct stream *s, void *buf, size_t len, char *why, size_t why_len);

#endif /* HF_STREAM_H */
