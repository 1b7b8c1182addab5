/*
** task.c (linux): port_task_* (see port.h) on a POSIX thread, with an
** eventfd the thread writes when it is done, for the event loop's poll.
*/
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "port.h"

struct port_task {
	pthread_t thread;
	void (*fn)(void *arg);
	void *arg;
	int fd;
};

static void *run(void *p)
{
	struct port_task *t = p;
	uint64_t one = 1;

	t->fn(t->arg);
	/* An eventfd write of 1 cannot fail short of a bug; join waits anyway. */
	while (write(t->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

int port_task_start(void (*fn)(void *arg), void *arg, struct port_task **task, int *fd)
{
	struct port_task *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return HF_ENOMEM;
	t->fn = fn;
	t->arg = arg;
	if ((t->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		port_log("eventfd: %s", strerror(errno));
		free(t);
		return HF_ESYS;
	}
	if ((err = pthread_create(&t->thread, NULL, run, t)) != 0) {
		port_log("cannot start a thread: %s", strerror(err));
		close(t->fd);
		free(t);
		return err == EAGAIN ? HF_ENOMEM : HF_ESYS;
	}
	*task = t;
	*fd = t->fd;
	return HF_OK;
}

void port_task_join(struct port_task *t)
{
	if (!t)
		return;
	pthread_join(t->thread, NULL);
	close(t->fd);
	free(t);
}
