/*
** linux_int.h: internals shared by files of the Linux port (not part of the
** port contract).
*/
#ifndef HF_LINUX_INT_H
#define HF_LINUX_INT_H

#include <stdbool.h>
#include <stddef.h>

/* Reads a /proc file (whose stat size is 0) into BUF[LEN], NUL-terminated;
** *N is its length. HF_ENOENT (not logged) if it does not exist. */
int linux_read_proc(const char *path, char *buf, size_t len, size_t *n);

/* Registers (once) and names the job log's VFS (vfs.c): SQLite's VFS
** UNDER_NAME (NULL: the default) with the WAL's directory fsync made once
** per WAL file. NEVER_DIRSYNC is the sim port's negative control only.
** NULL if it cannot be registered (logged). */
const char *linux_vfs(const char *under_name, bool never_dirsync);

#endif /* HF_LINUX_INT_H */
