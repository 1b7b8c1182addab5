/*
** svc.h: what the daemon tells the service manager that started it
** (systemd, Type=notify; board/init/holdfast.service).
**
** READY=1 once boot recovery is done (runner.c: recover_start), with a
** STATUS= line saying what recovery found; STATUS= again whenever the line
** changes (jobs running and queued, a full disk, a failing replica, the
** log's check), at most once per SVC_STATUS_MS; WATCHDOG=1 every half of the
** interval the service manager asked for, sent from the daemon's loop, so
** that a loop that stops turning stops the pings and systemd's WatchdogSec=
** restarts the daemon; STOPPING=1 on SIGTERM, with EXTEND_TIMEOUT_USEC= so
** that TimeoutStopSec= never runs out before shutdown_grace has (the unit's
** comment says why both). Without a service manager every call does nothing
** (port_notify).
*/
#ifndef HF_SVC_H
#define HF_SVC_H

#include <stdbool.h>
#include <stdint.h>

#define SVC_STATUS_MAX 200      /* one STATUS= line (systemctl status shows it) */
#define SVC_STATUS_MS 1000      /* between two STATUS= refreshes at most */
/* A stop takes shutdown_grace and then this, at most, to record the jobs'
** ends and checkpoint (the last shipping try may be cut: the spool keeps
** what it did not send). */
#define SVC_STOP_MARGIN_MS 30000

struct svc {
	bool on;                   /* a service manager listens */
	bool ready;                /* READY=1 sent */
	uint64_t watchdog_ms;      /* the interval asked for; 0: no watchdog */
	uint64_t next_ping_ms;     /* mono ms of the next WATCHDOG=1 */
	bool stale;                /* the status may have changed since sent */
	uint64_t next_status_ms;   /* no refresh before this */
	char status[SVC_STATUS_MAX];
};

/* Reads what the service manager asked for (port_notify_open). */
void svc_init(struct svc *s);

/* READY=1 and STATUS (the daemon runs jobs from now on); the watchdog's
** pings start. */
void svc_ready(struct svc *s, const char *status, uint64_t now_ms);

/* Something the status line shows may have changed. */
void svc_touch(struct svc *s);

/* Whether a new status line is wanted now (the caller then builds it). */
bool svc_status_due(const struct svc *s, uint64_t now_ms);

/* STATUS=LINE, if it differs from the last one sent. */
void svc_status(struct svc *s, const char *line, uint64_t now_ms);

/* WATCHDOG=1, if one is due: called once per turn of the daemon's loop. */
void svc_tick(struct svc *s, uint64_t now_ms);

/* The mono ms by which the loop must turn again (a ping, or a status
** refresh waiting): UINT64_MAX if nothing is due. */
uint64_t svc_next_ms(const struct svc *s);

/* STOPPING=1 and STATUS=LINE, and EXTEND_TIMEOUT_USEC= for EXTEND_MS: the
** stop may take that long. */
void svc_stopping(struct svc *s, const char *line, uint64_t extend_ms);

#endif /* HF_SVC_H */
