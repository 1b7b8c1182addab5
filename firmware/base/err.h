/*
** err.h: holdfast's error codes.
**
** firmware/base/, the lowest layer: error codes, units, crypto, file-name
** lists, suggestions, byte streams. No I/O but through port/; uses nothing
** else of firmware/ (README "Map of the tree", tools/checksrc).
**
** Every action in firmware/ and port/ returns 0 (HF_OK) or one of these
** negative codes; predicates return bool. A code says what kind of failure
** happened so callers can decide what to do (retry, refuse, report); the
** details (function, path, errno) were logged once where the failure
** happened, and callers never log them again.
*/
#ifndef HF_ERR_H
#define HF_ERR_H

enum hf_err {
	HF_OK = 0,
	HF_EBUG = -1,        /* broken invariant: a path that forgot to set rc */
	HF_ENOMEM = -2,      /* allocation failed */
	HF_EIO = -3,         /* the device failed a read, write or sync */
	HF_ENOSPC = -4,      /* no space (or quota) left: a full disk */
	HF_EACCES = -5,      /* permission denied, or a read-only filesystem */
	HF_EEXIST = -6,      /* something is already there */
	HF_ENOENT = -7,      /* something is not there */
	HF_EINVAL = -8,      /* bad input: a usage error, malformed value */
	HF_ECORRUPT = -9,    /* stored data fails its checks */
	HF_ENOTSUP = -10,    /* the platform cannot give what we need */
	HF_EBUSY = -11,      /* locked or in use by someone else */
	HF_ETOOBIG = -12,    /* input over a hard cap */
	HF_ESYS = -13,       /* any other operating-system failure */
	HF_EPROTO = -14,     /* a peer broke its protocol (bad HTTP, bad XML) */
	HF_ETLS = -15,       /* TLS failed: a refused handshake or certificate, a pin */
	HF_ELAST = HF_ETLS   /* the lowest code, for tests */
};

/* A short, constant, human-readable name for an error code. */
const char *hf_strerror(int rc);

#endif /* HF_ERR_H */
