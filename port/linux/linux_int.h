/*
** linux_int.h: internals shared by files of the Linux port (not part of the
** port contract).
*/
#ifndef HF_LINUX_INT_H
#define HF_LINUX_INT_H

#include <stddef.h>

/* Reads a /proc file (whose stat size is 0) into BUF[LEN], NUL-terminated;
** *N is its length. HF_ENOENT (not logged) if it does not exist. */
int linux_read_proc(const char *path, char *buf, size_t len, size_t *n);

#endif /* HF_LINUX_INT_H */
