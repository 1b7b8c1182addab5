/*
** net.c (linux): TCP connections with bounded waits, and TLS over them with
** mbedTLS 3.6 (see port.h).
**
** The socket is non-blocking and every wait is a poll() with the caller's
** timeout, so a stalled peer never hangs the daemon. mbedTLS reads and writes
** through our callbacks (its own net_sockets module is not built). Entropy
** is mbedTLS's platform source (getrandom) feeding CTR-DRBG.
*/
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mbedtls/base64.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"

#include "port.h"

#define DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* What the connections to one server share: the CA chain is parsed and the
** random generator seeded once, not per connection, and the last session
** is kept so the next handshake resumes it (one round trip and no
** certificate chain on a metered link). */
struct port_tls {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_session session;
	bool have_session;
	bool pinned;
	uint8_t pin[32];       /* SHA-256 of the server's SubjectPublicKeyInfo */
};

struct port_conn {
	int fd;
	struct port_tls *tls;  /* NULL: plain TCP */
	bool io_logged;        /* the socket's failure was already said */
	bool broken;           /* a read or write failed or timed out */
	bool session_saved;    /* this connection's session is in tls->session */
	bool resumed;
	unsigned timeout_ms;   /* for the callbacks of the current call */
	char peer[264];        /* "host:port", for the messages */
	mbedtls_ssl_context ssl;
};

/* Waits until FD is ready for EVENTS: HF_OK, or HF_EIO on timeout. */
static int wait_fd(int fd, short events, unsigned timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, (int)timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return port_syserr("poll", NULL, errno);
	if (n == 0) {
		port_log("network: no answer within %u ms", timeout_ms);
		return HF_EIO;
	}
	return HF_OK;
}

static int tcp_connect(const char *host, unsigned port, unsigned timeout_ms, int *out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char service[16];
	int e, fd = -1, rc = HF_EIO;

	snprintf(service, sizeof(service), "%u", port);
	/* RFC 6761: every name under .localhost is loopback, whatever the
	** resolver knows (virtual-hosted S3 names of a loopback test server). */
	size_t hl = strlen(host);
	if (hl > 10 && !strcmp(host + hl - 10, ".localhost"))
		host = "localhost";
	if ((e = getaddrinfo(host, service, &hints, &res)) != 0) {
		port_log("network: cannot resolve %s: %s", host, gai_strerror(e));
		return HF_EIO;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1, err = 0;
		socklen_t len = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(fd, POLLOUT, timeout_ms) == HF_OK &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)) {
			rc = HF_OK;
			break;
		}
		port_log("network: cannot connect to %s port %u: %s", host, port,
			 strerror(err ? err : errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	*out = fd;
	return rc;
}

/* ---- mbedTLS's I/O callbacks --------------------------------------------- */

/* A socket error below TLS: said here, in words, once; the TLS layer's
** "internal error" that follows is not said again. */
static int io_fail(struct port_conn *c, const char *what, int e)
{
	if (!c->io_logged)
		port_log("network: %s: %s", what,
			 e == ECONNRESET || e == EPIPE ? "the server closed the connection" : strerror(e));
	c->io_logged = true;
	return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct port_conn *c = ctx;
	ssize_t n;

	for (;;) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return io_fail(c, "send", errno);
		if (wait_fd(c->fd, POLLOUT, c->timeout_ms) != HF_OK) {
			c->io_logged = true;
			return MBEDTLS_ERR_SSL_TIMEOUT;
		}
	}
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct port_conn *c = ctx;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, len, 0);
		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return io_fail(c, "receive", errno);
		if (wait_fd(c->fd, POLLIN, c->timeout_ms) != HF_OK) {
			c->io_logged = true;
			return MBEDTLS_ERR_SSL_TIMEOUT;
		}
	}
}

/* The alerts a TLS peer ends a connection with (RFC 8446 6, RFC 5246 7.2),
** by the names the standards and servers' logs use, and for the common
** ones what they mostly mean for a client like us. */
static const struct {
	uint8_t code;
	const char *name, *hint;
} alerts[] = {
	{ 10, "unexpected_message", NULL },
	{ 20, "bad_record_mac", NULL },
	{ 40, "handshake_failure",
	  "no cipher suite, key exchange group or signature algorithm in common" },
	{ 42, "bad_certificate", NULL },
	{ 43, "unsupported_certificate", NULL },
	{ 46, "certificate_unknown", NULL },
	{ 47, "illegal_parameter", NULL },
	{ 48, "unknown_ca", NULL },
	{ 49, "access_denied", NULL },
	{ 50, "decode_error", NULL },
	{ 51, "decrypt_error", NULL },
	{ 70, "protocol_version", "no TLS version in common (holdfast speaks TLS 1.2 and 1.3)" },
	{ 71, "insufficient_security", "the server wants ciphers stronger than offered" },
	{ 80, "internal_error", NULL },
	{ 109, "missing_extension", NULL },
	{ 110, "unsupported_extension", NULL },
	{ 112, "unrecognized_name", "the server does not serve this host name (SNI)" },
	{ 116, "certificate_required", "the server wants a client certificate" },
};

/* Why mbedTLS failed, in words into BUF: a fatal alert from the server by
** its name (mbedtls_strerror only says that one came), else
** mbedtls_strerror's text and the code. */
static void tls_reason(const struct port_conn *c, int ret, char *buf, size_t cap)
{
	char e[128];

	/* mbedTLS 3.6 keeps the alert only in its record buffer, with no
	** getter: private fields, checked again when the pin moves. A fatal
	** alert returns at once from ssl_msg.c's handle_message_type, which
	** checked that the record is an alert of two bytes. */
	if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && c &&
	    c->ssl.MBEDTLS_PRIVATE(in_msgtype) == MBEDTLS_SSL_MSG_ALERT &&
	    c->ssl.MBEDTLS_PRIVATE(in_msglen) == 2) {
		unsigned a = c->ssl.MBEDTLS_PRIVATE(in_msg)[1];
		for (size_t i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
			if (alerts[i].code == a) {
				snprintf(buf, cap, "the server sent the fatal alert %s (%u)%s%s",
					 alerts[i].name, a, alerts[i].hint ? ": " : "",
					 alerts[i].hint ? alerts[i].hint : "");
				return;
			}
		snprintf(buf, cap, "the server sent the fatal alert %u", a);
		return;
	}
	mbedtls_strerror(ret, e, sizeof(e));
	snprintf(buf, cap, "%s (-0x%04x)", e, (unsigned)-ret);
}

/* A failure of mbedTLS on C: said once, as WHAT C->peer failed and why,
** and mapped. The network below TLS (said by the callbacks, or a timeout)
** is HF_EIO, tried again like any network failure; the rest is HF_ETLS,
** which the shipping log shows as a TLS failure, not as the credentials'. */
static int tls_err(struct port_conn *c, const char *what, int ret)
{
	char why[200];

	if ((ret == MBEDTLS_ERR_SSL_TIMEOUT || ret == MBEDTLS_ERR_SSL_INTERNAL_ERROR) && c->io_logged)
		return HF_EIO;
	tls_reason(c, ret, why, sizeof(why));
	port_log("tls: %s %s failed: %s", what, c->peer, why);
	if (ret == MBEDTLS_ERR_SSL_TIMEOUT || ret == MBEDTLS_ERR_SSL_INTERNAL_ERROR)
		return HF_EIO;
	return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? HF_ENOMEM : HF_ETLS;
}

/* A failure while setting up what the connections share. */
static int tls_fail(const char *what, int ret)
{
	char why[200];

	tls_reason(NULL, ret, why, sizeof(why));
	port_log("tls: %s: %s", what, why);
	return HF_ETLS;
}

/* "sha256//BASE64" (curl's form): the SHA-256 of the server's public key
** (SubjectPublicKeyInfo, DER). */
static int parse_pin(const char *pin, uint8_t out[32])
{
	size_t n = 0;

	if (strncmp(pin, "sha256//", 8) != 0 ||
	    mbedtls_base64_decode(out, 32, &n, (const unsigned char *)pin + 8, strlen(pin + 8)) != 0 ||
	    n != 32) {
		port_log("tls: public key pin '%s': want sha256//BASE64 of the key's SHA-256 (32 bytes)",
			 pin);
		return HF_EINVAL;
	}
	return HF_OK;
}

/* Whether the CPU has AES (and carry-less multiply, for GCM) instructions,
** which mbedTLS uses when it finds them (hf_mbedtls_config.h). */
static bool aes_in_hardware(void)
{
#if defined(__x86_64__)
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
	return (getauxval(AT_HWCAP) & HWCAP_AES) && (getauxval(AT_HWCAP) & HWCAP_PMULL);
#else
	return false;
#endif
}

/* Cipher suites in our order of preference (servers mostly follow the
** client's): AES-GCM where the CPU does AES, several times faster there;
** ChaCha20-Poly1305 first where it must be done in software (armhf,
** riscv64), where it is the faster one. Only AEAD suites, forward secret. */
#define HF_AES_SUITES                                                                           \
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256, MBEDTLS_TLS1_3_AES_256_GCM_SHA384,                    \
		MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,                                 \
		MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,                                   \
		MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,                                 \
		MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
#define HF_CHACHA_SUITES                                                                        \
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256, MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, \
		MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
static const int suites_aes_first[] = { HF_AES_SUITES, HF_CHACHA_SUITES, 0 };
static const int suites_chacha_first[] = { HF_CHACHA_SUITES, HF_AES_SUITES, 0 };

int port_tls_new(const char *ca_file, const char *pin, struct port_tls **out)
{
	static bool psa_ready;
	const char *ca = ca_file ? ca_file : DEFAULT_CA_FILE;
	struct port_tls *t;
	int ret, rc;

	if (!psa_ready) {
		if (psa_crypto_init() != PSA_SUCCESS) {
			port_log("tls: cannot initialise PSA crypto");
			return HF_EBUG;
		}
		psa_ready = true;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return HF_ENOMEM;
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_x509_crt_init(&t->ca);
	mbedtls_entropy_init(&t->entropy);
	mbedtls_ctr_drbg_init(&t->drbg);
	mbedtls_ssl_session_init(&t->session);
	*out = t;
	if (pin && pin[0]) {
		if ((rc = parse_pin(pin, t->pin)) != HF_OK)
			return rc;
		t->pinned = true;
	}
	if ((ret = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
					 (const unsigned char *)"holdfast", 8)) != 0)
		return tls_fail("seeding the random generator", ret);
	if ((ret = mbedtls_x509_crt_parse_file(&t->ca, ca)) < 0) {
		port_log("tls: cannot load the CA bundle %s", ca);
		return tls_fail("CA bundle", ret);
	}
	if ((ret = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
					       MBEDTLS_SSL_TRANSPORT_STREAM,
					       MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
		return tls_fail("configuration", ret);
	mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
	mbedtls_ssl_conf_min_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_ciphersuites(&t->conf,
				      aes_in_hardware() ? suites_aes_first : suites_chacha_first);
	/* TLS 1.3 tickets come after the handshake; we want to hear of them
	** to keep the session. */
	mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
		&t->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
	return HF_OK;
}

void port_tls_free(struct port_tls *t)
{
	if (!t)
		return;
	mbedtls_ssl_session_free(&t->session);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_entropy_free(&t->entropy);
	free(t);
}

/* Keeps C's session for the next connection (once per connection: for TLS
** 1.2 after the handshake, for 1.3 when the server's ticket arrives). */
static void save_session(struct port_conn *c)
{
	struct port_tls *t = c->tls;

	if (c->session_saved)
		return;
	mbedtls_ssl_session_free(&t->session);
	mbedtls_ssl_session_init(&t->session);
	t->have_session = mbedtls_ssl_get_session(&c->ssl, &t->session) == 0;
	c->session_saved = t->have_session;
}

static int check_pin(struct port_conn *c)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&c->ssl);
	uint8_t h[32];

	if (!c->tls->pinned)
		return HF_OK;
	if (!peer || mbedtls_sha256(peer->pk_raw.p, peer->pk_raw.len, h, 0) != 0 ||
	    memcmp(h, c->tls->pin, 32) != 0) {
		char b64[48] = "";
		size_t n;
		if (peer)
			mbedtls_base64_encode((unsigned char *)b64, sizeof(b64), &n, h, 32);
		port_log("tls: the public key of %s is not the pinned one (it is sha256//%s)",
			 c->peer, b64);
		return HF_ETLS;
	}
	return HF_OK;
}

static int tls_start(struct port_conn *c, const char *host)
{
	struct port_tls *t = c->tls;
	uint32_t flags;
	int ret, rc;

	mbedtls_ssl_init(&c->ssl);
	if ((ret = mbedtls_ssl_setup(&c->ssl, &t->conf)) != 0)
		return tls_err(c, "setting up the connection to", ret);
	if ((ret = mbedtls_ssl_set_hostname(&c->ssl, host)) != 0)
		return tls_err(c, "setting the host name of", ret);
	/* A stale or refused session only costs a full handshake. */
	if (t->have_session && mbedtls_ssl_set_session(&c->ssl, &t->session) != 0)
		t->have_session = false;
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	while ((ret = mbedtls_ssl_handshake(&c->ssl)) != 0) {
		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if ((flags = mbedtls_ssl_get_verify_result(&c->ssl)) != 0 &&
		    ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
			char info[256] = "";
			/* Which checks failed (expired, not trusted, another
			** host name...): one line each, "; " before each. */
			mbedtls_x509_crt_verify_info(info, sizeof(info), "; ", flags);
			for (char *nl; (nl = strchr(info, '\n'));)
				memmove(nl, nl + 1, strlen(nl));
			port_log("tls: handshake with %s failed: its certificate is not acceptable: %s",
				 c->peer, info + strspn(info, "; "));
			return HF_ETLS;
		}
		return tls_err(c, "handshake with", ret);
	}
	if ((rc = check_pin(c)) != HF_OK)
		return rc;
	if (mbedtls_ssl_get_version_number(&c->ssl) == MBEDTLS_SSL_VERSION_TLS1_2)
		save_session(c);
	return HF_OK;
}

int port_conn_open(const char *host, unsigned port, struct port_tls *tls, unsigned timeout_ms,
		   struct port_conn **out)
{
	struct port_conn *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return HF_ENOMEM;
	c->timeout_ms = timeout_ms;
	snprintf(c->peer, sizeof(c->peer), "%s:%u", host, port);
	if ((rc = tcp_connect(host, port, timeout_ms, &c->fd)) != HF_OK) {
		free(c);
		return rc;
	}
	c->tls = tls;
	if (tls && (rc = tls_start(c, host)) != HF_OK) {
		port_conn_close(c);
		return rc;
	}
	*out = c;
	return HF_OK;
}

int port_conn_write(struct port_conn *c, const void *buf, size_t len, unsigned timeout_ms)
{
	const unsigned char *p = buf;

	c->timeout_ms = timeout_ms;
	while (len) {
		int n;
		if (c->tls) {
			n = mbedtls_ssl_write(&c->ssl, p, len);
			if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
				continue;
			if (n < 0) {
				c->broken = true;
				return tls_err(c, "writing to", n);
			}
		} else {
			n = bio_send(c, p, len);
			if (n < 0) {
				c->broken = true;
				return HF_EIO; /* said by bio_send */
			}
		}
		p += n;
		len -= (size_t)n;
	}
	return HF_OK;
}

int port_conn_read(struct port_conn *c, void *buf, size_t cap, size_t *got, unsigned timeout_ms)
{
	int n;

	c->timeout_ms = timeout_ms;
	*got = 0;
	if (!c->tls) {
		n = bio_recv(c, buf, cap);
		if (n < 0) {
			c->broken = true;
			return HF_EIO; /* said by bio_recv */
		}
		*got = (size_t)n;
		return HF_OK;
	}
	for (;;) {
		n = mbedtls_ssl_read(&c->ssl, buf, cap);
		if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (n == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			save_session(c);
			continue;
		}
		if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
			return HF_OK; /* the end, said properly */
		if (n < 0) {
			c->broken = true;
			return tls_err(c, "reading from", n);
		}
		*got = (size_t)n;
		return HF_OK;
	}
}

const char *port_conn_protocol(const struct port_conn *c)
{
	return c->tls ? mbedtls_ssl_get_version(&c->ssl) : "plain";
}

bool port_conn_idle_ok(const struct port_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	/* Nothing is due on an idle connection: readable means the server
	** closed it (or broke the protocol); either way it cannot be reused. */
	return poll(&p, 1, 0) == 0;
}

void port_conn_close(struct port_conn *c)
{
	if (!c)
		return;
	if (c->tls) {
		c->timeout_ms = 1000;
		c->io_logged = true; /* a peer already gone is no news at close */
		if (!c->broken)
			mbedtls_ssl_close_notify(&c->ssl);
		mbedtls_ssl_free(&c->ssl);
	}
	/* After a failure, an abortive close (RST): a plain close would leave
	** the kernel retransmitting the unsent rest of a request we gave up on,
	** to reach the server once a dead link comes back, long after we sent
	** the request again on a new connection. */
	if (c->fd >= 0 && c->broken) {
		struct linger l = { 1, 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
