/*
** svc.c: the daemon's messages to its service manager (see svc.h). Each
** message is one datagram (port_notify); a status line is cut at
** SVC_STATUS_MAX bytes and has no newline (a newline would start another
** KEY=VALUE pair of the protocol).
*/
#include <stdio.h>
#include <string.h>

#include "daemon/svc.h"
#include "port.h"

void svc_init(struct svc *s)
{
	memset(s, 0, sizeof(*s));
	s->on = port_notify_open(&s->watchdog_ms);
}

/* Copies LINE into the status, newlines made spaces. */
static void set_status(struct svc *s, const char *line)
{
	snprintf(s->status, sizeof(s->status), "%s", line);
	for (char *p = s->status; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

void svc_ready(struct svc *s, const char *status, uint64_t now_ms)
{
	char msg[SVC_STATUS_MAX + 32];

	if (!s->on)
		return;
	set_status(s, status);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", s->status);
	port_notify(msg);
	s->ready = true;
	s->next_status_ms = now_ms + SVC_STATUS_MS;
	if (s->watchdog_ms) {
		port_notify("WATCHDOG=1");
		s->next_ping_ms = now_ms + (s->watchdog_ms / 2 ? s->watchdog_ms / 2 : 1);
	}
}

void svc_touch(struct svc *s)
{
	s->stale = s->on && s->ready;
}

bool svc_status_due(const struct svc *s, uint64_t now_ms)
{
	return s->stale && now_ms >= s->next_status_ms;
}

void svc_status(struct svc *s, const char *line, uint64_t now_ms)
{
	char msg[SVC_STATUS_MAX + 16];
	char old[SVC_STATUS_MAX];

	if (!s->on)
		return;
	s->stale = false;
	s->next_status_ms = now_ms + SVC_STATUS_MS;
	memcpy(old, s->status, sizeof(old));
	set_status(s, line);
	if (strcmp(old, s->status) == 0)
		return;
	snprintf(msg, sizeof(msg), "STATUS=%s", s->status);
	port_notify(msg);
}

void svc_tick(struct svc *s, uint64_t now_ms)
{
	if (!s->on || !s->ready || !s->watchdog_ms || now_ms < s->next_ping_ms)
		return;
	port_notify("WATCHDOG=1");
	s->next_ping_ms = now_ms + (s->watchdog_ms / 2 ? s->watchdog_ms / 2 : 1);
}

uint64_t svc_next_ms(const struct svc *s)
{
	uint64_t t = UINT64_MAX;

	if (!s->on || !s->ready)
		return t;
	if (s->watchdog_ms)
		t = s->next_ping_ms;
	if (s->stale && s->next_status_ms < t)
		t = s->next_status_ms;
	return t;
}

void svc_stopping(struct svc *s, const char *line, uint64_t extend_ms)
{
	char msg[SVC_STATUS_MAX + 64];

	if (!s->on)
		return;
	set_status(s, line);
	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s\nEXTEND_TIMEOUT_USEC=%llu", s->status,
		 (unsigned long long)extend_ms * 1000);
	port_notify(msg);
	s->stale = false;
}
