/*
** cfg.c: the default holdfast.conf.
**
** The file is "key = value" lines in [sections]; '#' starts a comment. It is
** written by `holdfast init` with mode 0600 because it will hold replica
** credentials. Settings are added here as the features that read them land;
** a setting is never listed before something honours it.
*/
#include "cfg.h"

const char *cfg_default_text(void)
{
	return
	"# holdfast.conf: configuration of this holdfast data directory.\n"
	"#\n"
	"# Format: \"key = value\" lines grouped under [section] headers; '#' starts\n"
	"# a comment. Durations are written like 250ms, 30s, 5m, 2h, 1d and sizes\n"
	"# like 64KiB or 10MB. This file is private (mode 0600): replica\n"
	"# credentials will live here.\n"
	"#\n"
	"# The data directory holds holdfast.db (the job log, SQLite in WAL mode\n"
	"# with synchronous=FULL), its -wal and -shm files, this file and spool/.\n"
	"# Do not checkpoint or VACUUM holdfast.db with other tools while the\n"
	"# daemon ships its WAL: holdfast detects it and starts a new replica\n"
	"# generation, but history in between is then only in the snapshot.\n"
	"#\n"
	"# This version has no settings yet; each release that adds one lists it\n"
	"# here, commented out, with its default.\n";
}
