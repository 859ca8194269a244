/* cot_tcp.c - Cursor-on-Target over a raw TCP port for TAK clients
 * (serve --cot-port N, loopback by default: --cot-bind ADDR).
 *
 * A client connects and sends one line, its bearer token (a TAK client's
 * "stream" connection sends nothing else first). It then receives what
 * GET /cot/stream sends that token: the events of the items it may see,
 * then each change live, a t-x-c-t ping as the heartbeat. The stream is
 * that very one: each client's thread opens GET /cot/stream on this
 * server over loopback with the token and relays the body, so visibility
 * (a draft reaches its own party only), the token's checks while it runs
 * (revoked, role changed), heartbeats and stall limits are the HTTP
 * stream's, not a copy of them. A refused token gets one line saying so
 * and the connection closes. What the client sends after its token (TAK
 * pings) is read and dropped.
 *
 * Plain TCP carries the token in clear, hence loopback by default. With
 * --cot-tls-cert/--cot-tls-key the listener speaks TLS (GnuTLS, as
 * libmicrohttpd does: TAK's "ssl" streaming), and with --cot-tls-ca a
 * client must first present a certificate that CA signed, or the
 * handshake fails and it reads nothing. The certificate admits a device;
 * the token line still says who it is and so what it sees, as on plain
 * TCP. When the HTTP server itself is HTTPS (--tls-*), the relay speaks
 * TLS to it too (its own loopback server: not verified). Threads: one
 * listener, one per client (at most COT_MAX_CLIENTS), all joined by
 * srv_cot_tcp_stop. */
#include "srv.h"

#include <gnutls/gnutls.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define COT_MAX_CLIENTS 32
#define COT_TOKEN_MS 10000   /* the token line within this */
#define COT_SEND_TIMEOUT_S 10 /* a client taking nothing this long is dropped */

/* one end of the relay: a socket, with a TLS session over it or not */
struct conn {
    int fd;
    gnutls_session_t tls; /* NULL: plain TCP */
};

struct client {
    struct srv_cot_tcp *t;
    int fd, up; /* the TAK client; the upstream HTTP connection (-1 none) */
    pthread_t thread;
    int used, done;
};

struct srv_cot_tcp {
    int lfd, port, http_port;
    char http_addr[64];
    gnutls_certificate_credentials_t cred; /* the listener's TLS; NULL: plain TCP */
    int require_cert;                       /* --cot-tls-ca: clients present one it signed */
    gnutls_certificate_credentials_t up_cred; /* to the HTTP server when it is HTTPS */
    int wake[2]; /* the listener's stop pipe */
    pthread_t thread;
    pthread_mutex_t lock;
    int stopping;
    struct client clients[COT_MAX_CLIENTS];
};

static int write_all(struct conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = c->tls ? gnutls_record_send(c->tls, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
        /* GNUTLS_E_AGAIN is SO_SNDTIMEO's timeout: the client is dropped */
        if (c->tls ? w == GNUTLS_E_INTERRUPTED : (w < 0 && errno == EINTR)) continue;
        if (w <= 0) return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static void say(struct conn *c, const char *line)
{
    write_all(c, line, strlen(line));
}

/* Up to cap bytes: how many, 0 at the end, -1 on an error (a timeout) */
static ssize_t conn_recv(struct conn *c, void *buf, size_t cap)
{
    for (;;) {
        ssize_t r = c->tls ? gnutls_record_recv(c->tls, buf, cap) : recv(c->fd, buf, cap, 0);
        if (c->tls ? r == GNUTLS_E_INTERRUPTED : (r < 0 && errno == EINTR)) continue;
        return r < 0 ? -1 : r;
    }
}

/* Bytes TLS has decrypted but not handed out: poll() cannot see them */
static int conn_pending(const struct conn *c)
{
    return c->tls && gnutls_record_check_pending(c->tls) > 0;
}

/* Waits up to ms (-1: no limit) for c to have bytes to read: 1, 0 on
 * timeout, -1 on error */
static int conn_wait(const struct conn *c, int ms)
{
    if (conn_pending(c)) return 1;
    struct pollfd p = {c->fd, POLLIN, 0};
    int r;
    while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR) {}
    return r;
}

/* The token line: at most 200 bytes, within COT_TOKEN_MS; only the
 * characters tokens are made of (no header can be smuggled upstream). */
static int read_token(struct conn *cn, char *tok, size_t cap)
{
    size_t n = 0;
    int64_t until = fm_monotonic_ms() + COT_TOKEN_MS;
    for (;;) {
        int64_t left = until - fm_monotonic_ms();
        if (left <= 0) return -1;
        if (conn_wait(cn, (int)left) <= 0) return -1;
        char c;
        if (conn_recv(cn, &c, 1) <= 0) return -1;
        if (c == '\n') break;
        if (c == '\r') continue;
        if (n + 1 >= cap) return -1;
        tok[n++] = c;
    }
    tok[n] = '\0';
    const char *t = tok;
    if (!strncmp(t, "Bearer ", 7)) memmove(tok, tok + 7, strlen(tok + 7) + 1);
    if (!tok[0] || strspn(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                       strlen(tok))
        return -1;
    return 0;
}

static int connect_upstream(struct srv_cot_tcp *t)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, t->http_addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET, v4->sin_port = htons((uint16_t)t->http_port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, t->http_addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6, v6->sin6_port = htons((uint16_t)t->http_port);
        len = sizeof *v6;
    } else {
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A TLS session over fd, as the server (the TAK client's end) or as the
 * client (to this server's HTTPS); NULL when its handshake fails within
 * COT_TOKEN_MS (no certificate, one the CA did not sign, not TLS). */
static gnutls_session_t tls_open(struct srv_cot_tcp *t, int fd, int server)
{
    gnutls_session_t s;
    if (gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_SIGNAL) < 0)
        return NULL;
    int rc = gnutls_set_default_priority(s);
    if (rc >= 0)
        rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, server ? t->cred : t->up_cred);
    if (rc >= 0 && server && t->require_cert) {
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_cert(s, NULL, 0); /* the handshake checks it against the CA */
    }
    if (rc >= 0) {
        gnutls_transport_set_int(s, fd);
        gnutls_handshake_set_timeout(s, COT_TOKEN_MS);
        do
            rc = gnutls_handshake(s);
        while (rc < 0 && !gnutls_error_is_fatal(rc));
    }
    if (rc < 0) {
        gnutls_deinit(s);
        return NULL;
    }
    return s;
}

static void tls_close(gnutls_session_t s)
{
    if (!s) return;
    gnutls_bye(s, GNUTLS_SHUT_WR);
    gnutls_deinit(s);
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct srv_cot_tcp *t = c->t;
    char tok[256], buf[16384];
    struct conn cl = {c->fd, NULL}, upc = {-1, NULL};
    struct timeval tv = {COT_SEND_TIMEOUT_S, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (t->cred && !(cl.tls = tls_open(t, c->fd, 1))) goto done; /* nothing said in clear */
    if (read_token(&cl, tok, sizeof tok)) {
        say(&cl, "fusionmap: send your token on the first line\n");
        goto done;
    }
    int up = connect_upstream(t);
    pthread_mutex_lock(&t->lock);
    c->up = up;
    int stopping = t->stopping;
    pthread_mutex_unlock(&t->lock);
    upc.fd = up;
    if (up < 0 || stopping || (t->up_cred && !(upc.tls = tls_open(t, up, 0)))) {
        say(&cl, "fusionmap: the stream is not available\n");
        goto done;
    }
    /* HTTP/1.0: the body is the stream itself, not chunked, until the end */
    int n = snprintf(buf, sizeof buf,
                     "GET /cot/stream HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
                     "Accept: application/xml\r\nUser-Agent: fusionmap-cot-tcp\r\n\r\n",
                     tok);
    if (n < 0 || (size_t)n >= sizeof buf || write_all(&upc, buf, (size_t)n)) goto done;
    /* the head: the status line, then up to the blank line */
    size_t have = 0;
    char *body = NULL;
    while (!body) {
        if (have + 1 >= sizeof buf) goto done;
        ssize_t r = conn_recv(&upc, buf + have, sizeof buf - 1 - have);
        if (r <= 0) goto done;
        have += (size_t)r;
        buf[have] = '\0';
        body = strstr(buf, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1 || status != 200) {
        char line[96];
        snprintf(line, sizeof line, "fusionmap: the token was refused (HTTP %d)\n", status);
        say(&cl, line);
        goto done;
    }
    body += 4;
    if (write_all(&cl, body, have - (size_t)(body - buf))) goto done;
    for (;;) {
        struct pollfd p[2] = {{up, POLLIN, 0}, {c->fd, POLLIN, 0}};
        /* what TLS holds decrypted already is read without waiting */
        int pend_up = conn_pending(&upc), pend_cl = conn_pending(&cl);
        int r = poll(p, 2, pend_up || pend_cl ? 0 : -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        if (p[1].revents || pend_cl) { /* the client's pings are dropped; its end ends us */
            ssize_t got = conn_recv(&cl, buf, sizeof buf);
            if (got <= 0) break;
        }
        if (p[0].revents || pend_up) {
            ssize_t got = conn_recv(&upc, buf, sizeof buf);
            if (got <= 0 || write_all(&cl, buf, (size_t)got)) break;
        }
    }
done:
    tls_close(upc.tls);
    tls_close(cl.tls);
    pthread_mutex_lock(&t->lock);
    if (c->up >= 0) close(c->up);
    c->up = -1;
    close(c->fd);
    c->fd = -1;
    c->done = 1;
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Joins the threads of clients that ended; with all, every thread. */
static void reap(struct srv_cot_tcp *t, int all)
{
    for (int i = 0; i < COT_MAX_CLIENTS; i++) {
        struct client *c = &t->clients[i];
        pthread_mutex_lock(&t->lock);
        int join = c->used && (c->done || all);
        pthread_mutex_unlock(&t->lock);
        if (!join) continue;
        pthread_join(c->thread, NULL);
        c->used = 0;
    }
}

static void *listener_main(void *arg)
{
    struct srv_cot_tcp *t = arg;
    for (;;) {
        struct pollfd p[2] = {{t->lfd, POLLIN, 0}, {t->wake[0], POLLIN, 0}};
        int r = poll(p, 2, 1000);
        if (r < 0 && errno != EINTR) break;
        if (p[1].revents) break;
        reap(t, 0);
        if (r <= 0 || !(p[0].revents & POLLIN)) continue;
        int fd = accept(t->lfd, NULL, NULL);
        if (fd < 0) continue;
        struct client *c = NULL;
        for (int i = 0; i < COT_MAX_CLIENTS && !c; i++)
            if (!t->clients[i].used) c = &t->clients[i];
        if (!c) {
            struct conn plain = {fd, NULL};
            if (!t->cred) say(&plain, "fusionmap: too many CoT clients\n");
            close(fd);
            continue;
        }
        memset(c, 0, sizeof *c);
        c->t = t, c->fd = fd, c->up = -1, c->used = 1;
        if (pthread_create(&c->thread, NULL, client_main, c) != 0) {
            close(fd);
            c->used = 0;
        }
    }
    return NULL;
}

/* The listener's certificate and key, the CA of its clients, and the
 * credentials to reach this server's HTTPS. */
static fm_rc tls_setup(struct srv_cot_tcp *t, const struct srv_cot_tls *tls, struct fm_err *err)
{
    if (tls->http_tls) {
        if (gnutls_certificate_allocate_credentials(&t->up_cred) < 0)
            return fm_fail(err, FM_EINTERNAL, "cot-port", "cannot make TLS credentials");
    }
    if (!tls->cert && !tls->key && !tls->ca) return FM_OK;
    if (!tls->cert || !tls->key)
        return fm_fail(err, FM_EINVAL, "cot-tls-cert",
                       "--cot-tls-cert and --cot-tls-key go together (--cot-tls-ca with them)");
    if (gnutls_certificate_allocate_credentials(&t->cred) < 0)
        return fm_fail(err, FM_EINTERNAL, "cot-port", "cannot make TLS credentials");
    int rc = gnutls_certificate_set_x509_key_file(t->cred, tls->cert, tls->key,
                                                  GNUTLS_X509_FMT_PEM);
    if (rc < 0)
        return fm_fail(err, FM_EINVAL, "cot-tls-cert", "--cot-tls-cert %s, --cot-tls-key %s: %s",
                       tls->cert, tls->key, gnutls_strerror(rc));
    if (tls->ca) {
        rc = gnutls_certificate_set_x509_trust_file(t->cred, tls->ca, GNUTLS_X509_FMT_PEM);
        if (rc <= 0)
            return fm_fail(err, FM_EINVAL, "cot-tls-ca", "--cot-tls-ca %s: %s", tls->ca,
                           rc < 0 ? gnutls_strerror(rc) : "no certificate in it");
        t->require_cert = 1;
    }
    return FM_OK;
}

static void tls_cleanup(struct srv_cot_tcp *t)
{
    if (t->cred) gnutls_certificate_free_credentials(t->cred);
    if (t->up_cred) gnutls_certificate_free_credentials(t->up_cred);
}

fm_rc srv_cot_tcp_start(const char *bind_addr, int port, const char *http_addr, int http_port,
                        const struct srv_cot_tls *tls, struct srv_cot_tcp **out,
                        struct fm_err *err)
{
    *out = NULL;
    struct srv_cot_tcp *t = fm_xcalloc(1, sizeof *t);
    t->lfd = -1, t->wake[0] = t->wake[1] = -1;
    fm_rc rc = tls ? tls_setup(t, tls, err) : FM_OK;
    if (rc) {
        tls_cleanup(t);
        free(t);
        return rc;
    }
    t->http_port = http_port;
    /* the HTTP server on every address is reached on loopback */
    snprintf(t->http_addr, sizeof t->http_addr, "%s",
             !strcmp(http_addr, "0.0.0.0") ? "127.0.0.1" : !strcmp(http_addr, "::") ? "::1" : http_addr);
    pthread_mutex_init(&t->lock, NULL);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, bind_addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET, v4->sin_port = htons((uint16_t)port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, bind_addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6, v6->sin6_port = htons((uint16_t)port);
        len = sizeof *v6;
    } else {
        rc = fm_fail(err, FM_EINVAL, "cot-bind", "--cot-bind takes an IPv4 or IPv6 address, not %s",
                     bind_addr);
        goto fail;
    }
    t->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (t->lfd < 0 || setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(t->lfd, (struct sockaddr *)&ss, len) || listen(t->lfd, 16)) {
        rc = fm_fail(err, FM_EIO, "cot-port", "cannot listen for CoT on %s port %d (in use?)",
                     bind_addr, port);
        goto fail;
    }
    len = sizeof ss;
    getsockname(t->lfd, (struct sockaddr *)&ss, &len);
    t->port = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
    if (pipe(t->wake) != 0 || pthread_create(&t->thread, NULL, listener_main, t) != 0) {
        rc = fm_fail(err, FM_EINTERNAL, "cot-port", "cannot start the CoT listener");
        goto fail;
    }
    *out = t;
    return FM_OK;
fail:
    if (t->lfd >= 0) close(t->lfd);
    if (t->wake[0] >= 0) close(t->wake[0]), close(t->wake[1]);
    pthread_mutex_destroy(&t->lock);
    tls_cleanup(t);
    free(t);
    return rc;
}

int srv_cot_tcp_port(const struct srv_cot_tcp *t)
{
    return t->port;
}

int srv_cot_tcp_tls(const struct srv_cot_tcp *t)
{
    return t->cred != NULL;
}

void srv_cot_tcp_stop(struct srv_cot_tcp *t)
{
    if (!t) return;
    ssize_t w = write(t->wake[1], "x", 1);
    (void)w;
    pthread_join(t->thread, NULL);
    /* wake every client thread out of its poll: both its sockets shut */
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    for (int i = 0; i < COT_MAX_CLIENTS; i++) {
        struct client *c = &t->clients[i];
        if (!c->used || c->done) continue;
        if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);
        if (c->up >= 0) shutdown(c->up, SHUT_RDWR);
    }
    pthread_mutex_unlock(&t->lock);
    reap(t, 1);
    close(t->lfd);
    close(t->wake[0]), close(t->wake[1]);
    pthread_mutex_destroy(&t->lock);
    tls_cleanup(t);
    free(t);
}
