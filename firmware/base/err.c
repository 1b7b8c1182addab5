/*
** err.c: names for holdfast's error codes (see err.h).
*/
#include "base/err.h"

const char *hf_strerror(int rc)
{
	switch (rc) {
	case HF_OK: return "success";
	case HF_EBUG: return "internal error (a bug in holdfast)";
	case HF_ENOMEM: return "out of memory";
	case HF_EIO: return "input/output error";
	case HF_ENOSPC: return "no space left on device (the disk is full, or over quota)";
	case HF_EACCES: return "permission denied";
	case HF_EEXIST: return "already exists";
	case HF_ENOENT: return "does not exist";
	case HF_EINVAL: return "invalid argument";
	case HF_ECORRUPT: return "stored data is corrupt";
	case HF_ENOTSUP: return "not supported here";
	case HF_EBUSY: return "busy";
	case HF_ETOOBIG: return "too big";
	case HF_ESYS: return "system error";
	case HF_EPROTO: return "protocol error";
	case HF_ETLS: return "TLS failure";
	}
	return "unknown error";
}
