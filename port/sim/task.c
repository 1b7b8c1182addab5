/*
** task.c (sim): port_task_* (see port.h) without a thread: FN runs to its
** end inside port_task_start, and the fd is readable at once. The crash
** simulation replays every write and sync of a run in the order it recorded
** them; a second thread reading the log through the recording VFS would make
** that order depend on scheduling (and the recorder has no locks). The
** behaviour the tests see is the one before tasks existed: the check ends
** before the first job starts. Built only into the test binaries.
*/
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "port.h"

struct port_task {
	int fd;
};

int port_task_start(void (*fn)(void *arg), void *arg, struct port_task **task, int *fd)
{
	struct port_task *t = calloc(1, sizeof(*t));

	if (!t)
		return HF_ENOMEM;
	if ((t->fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		port_log("eventfd: %s", strerror(errno));
		free(t);
		return HF_ESYS;
	}
	fn(arg);
	*task = t;
	*fd = t->fd;
	return HF_OK;
}

void port_task_join(struct port_task *t)
{
	if (!t)
		return;
	close(t->fd);
	free(t);
}
