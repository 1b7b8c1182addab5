/*
** hf_mbedtls_config.h: the mbedTLS 3.6 features holdfast uses, and no more.
**
** holdfast is a TLS client of S3 endpoints: TLS 1.3 preferred, TLS 1.2 as the
** floor, certificate and hostname verification always on. Everything here is
** either needed for that handshake with the servers users actually meet
** (AWS, Ceph radosgw, MinIO: RSA and ECDSA certificates, P-256/P-384/X25519
** key exchange, AES-GCM and ChaCha20-Poly1305) or for the hashes the S3
** protocol needs (SHA-256 and HMAC for SigV4, MD5 for Content-MD5, base64).
** Left out on purpose: the server side, renegotiation (a known attack
** surface), CBC suites, DHE, SHA-1 signatures, PSA key storage, and
** mbedTLS's own sockets and timing (the port layer owns those).
*/
#ifndef HF_MBEDTLS_CONFIG_H
#define HF_MBEDTLS_CONFIG_H

/* Platform */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_FS_IO                 /* CA bundle from a file */
#define MBEDTLS_ERROR_C               /* mbedtls_strerror for clear messages */
#define MBEDTLS_VERSION_C

/* Randomness: getrandom(2) through the platform entropy source. */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* Hashes and MACs */
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C                 /* S3 Content-MD5 */
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C              /* SigV4, segment trailers */
/* SHA-256 instructions of ARMv8 (Raspberry Pi 5 has them, the Pi 4 not),
** chosen at run time: the payload hash of every S3 upload. (mbedTLS has no
** x86 SHA-NI code.) */
#if defined(__aarch64__)
#define MBEDTLS_SHA256_USE_ARMV8_A_CRYPTO_IF_PRESENT
#endif
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C              /* SHA-384 suites and certificates */
#define MBEDTLS_HKDF_C
#define MBEDTLS_BASE64_C

/* Ciphers */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
/* The CPU's AES instructions where there are some (AES-NI on x86-64, the
** ARMv8 crypto extension on aarch64), chosen at run time: AES-GCM at several
** times the speed of the table code, which stays as the fallback. */
#if defined(__x86_64__)
#define MBEDTLS_AESNI_C
#elif defined(__aarch64__)
#define MBEDTLS_AESCE_C
#endif
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C

/* Public key */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21             /* RSA-PSS, required by TLS 1.3 */
/* Despite its name, the switch that puts rsa_pss_rsae_* in the client's
** signature_algorithms and lets TLS 1.3 check an RSA-PSS CertificateVerify
** (ssl_tls.c, ssl_tls13_generic.c). Without it an RSA server has no
** signature it may use in TLS 1.3 (RFC 8446 4.2.3: RSA there is PSS only)
** and ends the handshake with a fatal alert. It also parses certificates
** signed with RSA-PSS, a few hundred bytes of code. */
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM

/* X.509 */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* PSA Crypto: TLS 1.3 in mbedTLS 3.6 runs on it. No key storage. */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_USE_PSA_CRYPTO

/* TLS client, 1.2 and 1.3 */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_SESSION_TICKETS   /* resumption on flaky links */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
/* MBEDTLS_SSL_RENEGOTIATION and MBEDTLS_SSL_SRV_C stay undefined. */

#endif /* HF_MBEDTLS_CONFIG_H */
