/*
** crypto.h: holdfast's window on mbedTLS.
**
** crypto.c is the only file that includes mbedTLS headers; hashes, HMAC and
** TLS reach the rest of the firmware through this module.
*/
#ifndef HF_CRYPTO_H
#define HF_CRYPTO_H

/* mbedTLS's version, e.g. "3.6.6", for --version. */
const char *crypto_version(void);

#endif /* HF_CRYPTO_H */
