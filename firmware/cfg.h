/*
** cfg.h: holdfast.conf, the per-data-directory configuration.
*/
#ifndef HF_CFG_H
#define HF_CFG_H

/* Longest holdfast.conf we read: a config is a few KiB; more is a mistake. */
#define CFG_MAX_BYTES (64 * 1024)

/* The commented default configuration that `holdfast init` writes. */
const char *cfg_default_text(void);

#endif /* HF_CFG_H */
