/*
** stream.c: pull readers (stream.h).
*/
#include <stdio.h>
#include <string.h>

#include "base/stream.h"
#include "port.h"

static int fill_fd(struct stream *s, uint8_t *buf, size_t len, size_t *got, char *why,
		   size_t why_len)
{
	int rc;

	if (len > s->size - s->pos)
		len = (size_t)(s->size - s->pos);
	if ((rc = port_fs_pread(s->fd, buf, len, s->pos, got)) != HF_OK)
		snprintf(why, why_len, "reading it at offset %llu failed (%s)",
			 (unsigned long long)s->pos, hf_strerror(rc));
	return rc;
}

void stream_fd(struct stream *s, int fd, uint64_t size)
{
	memset(s, 0, sizeof(*s));
	s->fill = fill_fd;
	s->size = size;
	s->fd = fd;
}

static int fill_mem(struct stream *s, uint8_t *buf, size_t len, size_t *got, char *why,
		    size_t why_len)
{
	(void)why;
	(void)why_len;
	if (len > s->size - s->pos)
		len = (size_t)(s->size - s->pos);
	memcpy(buf, s->mem + s->pos, len);
	*got = len;
	return HF_OK;
}

void stream_mem(struct stream *s, const void *buf, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->fill = fill_mem;
	s->size = len;
	s->fd = -1;
	s->mem = buf;
}

int stream_read(struct stream *s, void *buf, size_t len, char *why, size_t why_len)
{
	uint8_t *p = buf;
	size_t got;
	int rc;

	while (len) {
		if ((rc = s->fill(s, p, len, &got, why, why_len)) != HF_OK)
			return rc;
		if (!got) {
			snprintf(why, why_len, "cut short at %llu of its %llu bytes (changed while "
				 "being read?)", (unsigned long long)s->pos,
				 (unsigned long long)s->size);
			return HF_ECORRUPT;
		}
		s->pos += got;
		p += got;
		len -= got;
	}
	return HF_OK;
}
