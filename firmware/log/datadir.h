/*
** datadir.h: where holdfast keeps its state, and how a data directory is made.
**
** A data directory holds holdfast.db (+ -wal, -shm), holdfast.conf and
** spool/, and nothing else of ours. It is private to its user (0700).
*/
#ifndef HF_DATADIR_H
#define HF_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

#define DD_DB_NAME   "holdfast.db"
#define DD_CONF_NAME "holdfast.conf"

/* The system's data directory (root's default) and its config as the
** packages install it (a dpkg conffile must live under /etc). */
#define DD_SYSTEM_DATA "/var/lib/holdfast"
#ifndef HF_SYSCONFDIR
#define HF_SYSCONFDIR "/etc/holdfast"
#endif
#define DD_SYSTEM_CONF HF_SYSCONFDIR "/" DD_CONF_NAME

/*
** Picks the data directory: OPT (from --data) if given, else $HOLDFAST_DATA,
** else /var/lib/holdfast for root, else $XDG_STATE_HOME/holdfast, else
** ~/.local/state/holdfast. Writes it to OUT[CAP]; *IS_DEFAULT says whether it
** came from the last two (whose missing parents init may create).
*/
int dd_resolve(const char *opt, char *out, size_t cap, bool *is_default);

/*
** The config file of data directory DIR, to OUT[CAP]: OPT (--config) if
** given, else $HOLDFAST_CONFIG, else DIR/holdfast.conf if it exists, else,
** for the system's data directory (DD_SYSTEM_DATA) only, DD_SYSTEM_CONF if
** it exists, else DIR/holdfast.conf. So a data directory made by `init`
** keeps its own config, and the packaged one, which has none, reads the
** config in /etc, whoever asks: the daemon and `holdfast prune` by hand
** read the same limits. *NAMED says whether the result is not
** DIR/holdfast.conf (init writes no config in DIR then).
*/
int dd_conf_path(const char *opt, const char *dir, char *out, size_t cap, bool *named);

/*
** Creates data directory DIR: a new, verified job log and the default
** config. DIR must not exist, or be an empty directory. The directory is
** built under a staging name and moved into place, so on any failure
** nothing is left behind and an existing directory is unchanged. With
** MAKE_PARENTS, missing parent directories are created (mode 0700).
*/
int dd_init(const char *dir, bool make_parents);

/* The same without a config in DIR: its config is elsewhere (dd_conf_path). */
int dd_init_without_conf(const char *dir, bool make_parents);

/*
** Refuses (HF_ENOTSUP, with a message) a data directory DIR that is a symbolic
** link, or that holds one where holdfast keeps its own files (holdfast.db and
** its -wal and -shm, holdfast.conf, spool/ and the locks in it). Only each
** name's last component is looked at; see datadir.c for why. Every verb
** that opens a data directory, init, and the daemon call it first.
*/
int dd_check_links(const char *dir);

/*
** Refuses (HF_ENOTSUP, with a message) a data directory on memory or network
** storage (port_fs_volatile) unless ALLOW_VOLATILE: `init` and `run` call it.
*/
int dd_check_storage(const char *dir, bool allow_volatile);

#endif /* HF_DATADIR_H */
