/*
** notify.c (linux): the service manager's notify protocol (systemd's
** Type=notify, sd_notify(3)), without libsystemd.
**
** The protocol is one datagram per message, "KEY=VALUE" lines, sent to the
** AF_UNIX datagram socket named by $NOTIFY_SOCKET: a file system path, or an
** abstract name when it starts with '@' (the '@' stands for the leading NUL
** byte, and the name's length is the address's length: no trailing NUL).
** systemd's own sd_notify() does the same in src/libsystemd/sd-daemon; the
** protocol is documented as stable ("Interface Portability and Stability").
** $WATCHDOG_USEC asks for "WATCHDOG=1" at least that often, but only of the
** process $WATCHDOG_PID names when that is set (sd_watchdog_enabled()).
**
** port_notify_open reads the three variables once and removes them from our
** environment, as sd_notify(unset_environment=1) does: a job inherits the
** daemon's environment, and one that speaks the protocol would otherwise
** report to our service manager (which, NotifyAccess=main, ignores it, with
** a warning in the journal for every message).
**
** A message that cannot be sent is logged once, not at every watchdog ping:
** a service manager that went away is no reason to stop running jobs.
*/
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "port.h"

static struct sockaddr_un notify_sa;
static socklen_t notify_len;     /* 0: no service manager */
static int notify_fd = -1;
static bool notify_said;         /* a failed send was logged */

/* Parses $NOTIFY_SOCKET's value into notify_sa/notify_len. */
static int notify_addr(const char *v)
{
	size_t n = strlen(v);

	if ((v[0] != '/' && v[0] != '@') || n < 2 || n >= sizeof(notify_sa.sun_path)) {
		/* Another transport (systemd 253's "vsock:") or garbage. */
		port_log("NOTIFY_SOCKET '%.80s' is not a unix socket path or an abstract name "
			 "('@'...); not notifying the service manager", v);
		return HF_EINVAL;
	}
	memset(&notify_sa, 0, sizeof(notify_sa));
	notify_sa.sun_family = AF_UNIX;
	memcpy(notify_sa.sun_path, v, n);
	if (v[0] == '@') {
		notify_sa.sun_path[0] = '\0';
		notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return HF_OK;
}

bool port_notify_open(uint64_t *watchdog_ms)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long us = 0;

	*watchdog_ms = 0;
	notify_len = 0;
	if (sock && *sock && notify_addr(sock) == HF_OK) {
		notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (notify_fd < 0) {
			port_syserr("socket", "NOTIFY_SOCKET", errno);
			notify_len = 0;
		}
	}
	if (notify_len && usec && *usec) {
		errno = 0;
		us = strtoull(usec, &end, 10);
		if (errno || *end || us == 0)
			us = 0;
		/* The watchdog is ours only if no other process was named. */
		if (pid && *pid && strtoll(pid, &end, 10) != (long long)getpid())
			us = 0;
		*watchdog_ms = (us + 999) / 1000;
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return notify_len != 0;
}

int port_notify(const char *msg)
{
	size_t n = strlen(msg);
	ssize_t w;

	if (!notify_len)
		return HF_OK;
	/* A datagram is sent whole or not at all; MSG_NOSIGNAL for a path
	** socket whose reader went away. */
	do
		w = sendto(notify_fd, msg, n, MSG_NOSIGNAL, (struct sockaddr *)&notify_sa, notify_len);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)n)
		return HF_OK;
	if (notify_said)
		return port_errno_to_hf(w < 0 ? errno : EIO);
	notify_said = true;
	return port_syserr("sendto", "NOTIFY_SOCKET", w < 0 ? errno : EIO);
}
