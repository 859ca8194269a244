/* http.c - the libmicrohttpd daemon: request lifecycle, bounded bodies,
 * a database connection per worker thread, replies and problem+json. */
#include "params.h"
#include "srv.h"

#include <microhttpd.h>
#include <arpa/inet.h>
#include <strings.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct srv {
    struct srv_config cfg;
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t dbs_lock;
    struct data_db **dbs; /* every worker's connection, closed at stop */
    size_t ndbs;
    struct data_db **spare; /* of those, opened at start and not yet taken */
    size_t nspare;
    struct srv_streams *streams; /* the live event streams (stream.c) */
    struct srv_recheck *recheck; /* conflicts re-checked on time (conflicts.c) */
    struct srv_deadlines *deadlines; /* overdue answers marked on time (rules.c) */
    struct data_checkpointer *checkpointer; /* WAL checkpoints off the write path */
    struct data_watcher *watcher;           /* other servers' commits (PostgreSQL) */
    struct srv_defer *defer;     /* the render threads (defer.c), or NULL */
    int defer_threads;
    struct srv_defer *writes;    /* the write threads (items.c), or NULL */
    int write_threads;
    char *tls_key, *tls_cert;    /* PEM text, when serving HTTPS */
    struct sockaddr_storage bound; /* the address listened on (port: s->port) */
    int bound_any;               /* ... is 0.0.0.0 or :: */
};

/* A whole small file (a PEM) into memory. */
static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct fm_buf b;
    fm_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t got;
    int bad = 0;
    while (!bad && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        bad = fm_buf_add(&b, chunk, got) != FM_OK;
    bad |= ferror(f);
    fclose(f);
    if (bad || b.len == 0) {
        fm_buf_cleanup(&b);
        return NULL;
    }
    return fm_buf_take(&b, NULL);
}

void srv_config_default(struct srv_config *c)
{
    memset(c, 0, sizeof *c);
    c->db_path = "fusionmap.db";
    c->bind = "127.0.0.1";
    c->port = 8080;
    c->web_dir = FM_WEB_DIR;
    /* worker threads: four per core. MHD hands each new connection to
     * whichever worker accepts it first, and a burst of connections can
     * all land on one; with several workers per core every core still
     * finds work (a benchmark's 16 connections on 2 workers ran on one
     * core in about half of its runs) */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = (int)(cores < 1 ? 4 : cores > 16 ? 64 : 4 * cores);
    c->max_body = 8u << 20;
    c->max_connections = 512;
    c->max_per_ip = 128;
    c->timeout_s = 30;
    data_limits_default(&c->limits);
    c->session.idle_seconds = 8 * 3600;
    c->session.absolute_seconds = 7 * 86400;
    c->login.account_failures = 5;
    c->login.address_failures = 50;
    c->login.window_seconds = 900;
}

const struct srv_config *srv_cfg(const struct req *r)
{
    return &r->srv->cfg;
}

/* ---- the worker's database connection -------------------------------- */

static _Thread_local struct data_db *worker_db;

fm_rc srv_thread_db(struct srv *s, struct data_db **out, struct fm_err *err)
{
    *out = NULL;
    if (!worker_db) {
        struct data_db *db = NULL;
        pthread_mutex_lock(&s->dbs_lock);
        if (s->nspare) db = s->spare[--s->nspare];
        pthread_mutex_unlock(&s->dbs_lock);
        if (!db) {
            fm_rc rc = data_open(s->cfg.db_path, &db, err);
            if (rc) return rc;
            pthread_mutex_lock(&s->dbs_lock);
            s->dbs = realloc(s->dbs, (s->ndbs + 1) * sizeof *s->dbs);
            if (!s->dbs) abort();
            s->dbs[s->ndbs++] = db;
            pthread_mutex_unlock(&s->dbs_lock);
        }
        worker_db = db;
    }
    *out = worker_db;
    return FM_OK;
}

/* The write threads (issue 23): a create is made on one of these, with
 * its connection suspended, not on microhttpd's worker. A worker that
 * waited for the write queue and for its commit's sync held up every
 * other connection bound to it: in writes_bench.sh the clients that
 * shared a worker waited 28 ms outside the handler, those alone 8 ms.
 * FUSIONMAP_WRITE_THREADS sets how many (default 8: as many writes in
 * flight as there were workers, for the group sync to share); 0 writes
 * in place, on the worker, as before. */
#define MAX_WRITE_THREADS 64

static int write_threads_wanted(void)
{
    const char *env = getenv("FUSIONMAP_WRITE_THREADS");
    long v;
    if (env && *env && fm_parse_long(env, 0, MAX_WRITE_THREADS, &v) == FM_OK) return (int)v;
    return 8;
}

static int no_row(void *ctx, const struct data_pic_row *row)
{
    (void)ctx, (void)row;
    return 0;
}

/* What the first burst of requests after a start would otherwise wait
 * for (issue 23: every browser of a wall reconnects at once), done before
 * the daemon listens: a connection for each worker thread (SQLite and
 * SpatiaLite set up, the schema checked), the in-memory picture tiles are
 * drawn from (data/picture.c: a second for 22,000 items, which every
 * request of the burst waited for), and the tiles' basemap and cache. */
static fm_rc warm_up(struct srv *s, struct fm_err *err)
{
    /* the workers', the render threads' (defer.c) and the write threads' */
    int n = (s->cfg.threads > 0 ? s->cfg.threads : 1) + s->defer_threads + s->write_threads;
    s->dbs = fm_xcalloc((size_t)n, sizeof *s->dbs);
    s->spare = fm_xcalloc((size_t)n, sizeof *s->spare);
    for (int i = 0; i < n; i++) {
        struct data_db *db;
        fm_rc rc = data_open(s->cfg.db_path, &db, err);
        if (rc) return rc;
        s->dbs[s->ndbs++] = db;
        s->spare[s->nspare++] = db;
    }
    struct data_viewer v;
    memset(&v, 0, sizeof v);
    v.role = DATA_ROLE_VIEWER;
    static const double nowhere[4] = {0, 0, 0, 0};
    fm_rc rc = data_picture_items(s->dbs[0], &v, DATA_ZONES, nowhere, 0, 0, no_row, NULL, err);
    if (rc) return rc;
    srv_tiles_warm();
    return FM_OK;
}

/* ---- headers and arguments -------------------------------------------- */

const char *srv_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *srv_arg(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct unknown_arg {
    const char *const *known;
    char *buf;
    size_t n;
    int found;
};

static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind, (void)value;
    struct unknown_arg *u = cls;
    for (const char *const *k = u->known; *k; k++)
        if (strcmp(*k, key) == 0) return MHD_YES;
    snprintf(u->buf, u->n, "%s", key);
    u->found = 1;
    return MHD_NO;
}

const char *srv_unknown_arg(struct req *r, const char *const *known, char *buf, size_t n)
{
    struct unknown_arg u = {known, buf, n, 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &u);
    return u.found ? buf : NULL;
}

void srv_add_header(struct req *r, const char *name, const char *value)
{
    if (r->nhdr >= SRV_MAX_HEADERS) {
        fm_log(FM_LOG_ERROR, "too many response headers; dropped %s", name);
        return;
    }
    r->hdr_name[r->nhdr] = fm_xstrdup(name);
    r->hdr_value[r->nhdr] = fm_xstrdup(value);
    r->nhdr++;
}

/* An address as it goes in a URL: IPv6 in brackets, an IPv4-mapped IPv6
 * address as plain IPv4 (what a browser puts in Origin). */
static void url_host(const struct sockaddr *sa, char *buf, size_t n)
{
    char addr[INET6_ADDRSTRLEN] = "";
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
        snprintf(buf, n, "%s", addr);
        return;
    }
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
        inet_ntop(AF_INET, &a6->s6_addr[12], addr, sizeof addr);
        snprintf(buf, n, "%s", addr);
        return;
    }
    inet_ntop(AF_INET6, a6, addr, sizeof addr);
    snprintf(buf, n, "[%s]", addr);
}

void srv_base_url(struct req *r, char *buf, size_t n)
{
    /* never from the Host header: a client chooses it, and links, Location
     * and the cross-site check all rest on this */
    if (r->srv->cfg.public_url) {
        snprintf(buf, n, "%s", r->srv->cfg.public_url);
        size_t len = strlen(buf);
        if (len && buf[len - 1] == '/') buf[len - 1] = '\0';
        return;
    }
    const char *scheme = srv_tls(r) ? "https" : "http";
    char host[INET6_ADDRSTRLEN + 2];
    url_host((const struct sockaddr *)&r->srv->bound, host, sizeof host);
    /* bound to every address (0.0.0.0, ::): the one this connection
     * reached, as the kernel says, not as the client says */
    if (r->srv->bound_any) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct sockaddr_storage local;
        socklen_t llen = sizeof local;
        if (ci && getsockname(ci->connect_fd, (struct sockaddr *)&local, &llen) == 0 &&
            (local.ss_family == AF_INET || local.ss_family == AF_INET6))
            url_host((const struct sockaddr *)&local, host, sizeof host);
    }
    snprintf(buf, n, "%s://%s:%d", scheme, host, r->srv->port);
}

int srv_origin_is_self(struct req *r, const char *origin)
{
    char base[256];
    srv_base_url(r, base, sizeof base);
    return strcmp(origin, base) == 0;
}

/* The request's Origin when the admin listed it, else NULL. */
static const char *cors_origin(struct req *r)
{
    const char *origin = srv_header(r, "Origin");
    if (!origin) return NULL;
    for (int i = 0; i < r->srv->cfg.ncors_origins; i++)
        if (strcmp(origin, r->srv->cfg.cors_origins[i]) == 0) return r->srv->cfg.cors_origins[i];
    return NULL;
}

void srv_cors_headers(struct req *r, struct MHD_Response *resp)
{
    /* caches must keep apart the answers to different origins */
    if (r->srv->cfg.ncors_origins) MHD_add_response_header(resp, "Vary", "Origin");
    if (!r->cors_origin) return;
    /* the exact origin, never "*", and no Allow-Credentials: a listed
     * origin's pages send a bearer token; the cookie stays this server's */
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->cors_origin);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                            "ETag, Location, Link, X-Tile-Cache, Retry-After");
}

int srv_tls(const struct req *r)
{
    return r->srv->tls_key != NULL;
}

void srv_client_addr(struct req *r, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, n, "?");
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)n);
}

/* ---- replies ----------------------------------------------------------- */

/* Adds the common and the handler's headers, queues resp and drops our
 * reference to it. */
static int send_reply(struct req *r, unsigned status, const char *ctype,
                      struct MHD_Response *resp)
{
    if (ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    for (int i = 0; i < r->nhdr; i++)
        MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
    srv_cors_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->replied = 1;
    return ret;
}

int srv_reply(struct req *r, unsigned status, const char *ctype, char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                            : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    return send_reply(r, status, ctype, resp);
}

int srv_reply_shared(struct req *r, unsigned status, const char *ctype, void *body,
                     size_t len, void (*release)(void *cls), void *cls)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback_cls(len, body, release, cls);
    if (!resp) {
        release(cls);
        return MHD_NO;
    }
    return send_reply(r, status, ctype, resp);
}

int srv_reply_json(struct req *r, unsigned status, const char *ctype, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (!text) return srv_problem_status(r, 500, "could not encode the answer", NULL);
    return srv_reply(r, status, ctype ? ctype : "application/json", text, strlen(text));
}

int srv_reply_empty(struct req *r, unsigned status)
{
    return srv_reply(r, status, NULL, NULL, 0);
}

/* The one table from result to HTTP status. */
static unsigned rc_status(fm_rc rc)
{
    switch (rc) {
    case FM_OK: return 200;
    case FM_EINVAL: return 400;
    case FM_ENOTFOUND: return 404;
    case FM_ECONFLICT: return 409;
    case FM_ESTALE: return 412;
    case FM_ENEEDVER: return 428;
    case FM_ETOOBIG: return 413;
    case FM_EUNAUTH: return 401;
    case FM_EFORBID: return 403;
    case FM_EBUSY: return 503;
    case FM_ELIMIT: return 429;
    case FM_EIO:
    case FM_EDB:
    case FM_EINTERNAL: return 500;
    }
    return 500;
}

static const char *status_title(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

int srv_problem_status(struct req *r, unsigned status, const char *detail, const char *pointer)
{
    char type[64];
    snprintf(type, sizeof type, "urn:fusionmap:problem:%u", status);
    json_t *p = json_pack("{s:s,s:s,s:I,s:s}", "type", type, "title", status_title(status),
                          "status", (json_int_t)status, "detail", detail ? detail : "");
    if (pointer && *pointer) {
        json_object_set_new(p, pointer[0] == '/' || pointer[0] == '\0' ? "pointer" : "parameter",
                            json_string(pointer));
    }
    if (status == 401) {
        srv_add_header(r, "WWW-Authenticate", "Bearer realm=\"fusionmap\"");
        if (r->offer_basic) /* routes.c says when */
            srv_add_header(r, "WWW-Authenticate", "Basic realm=\"fusionmap\", charset=\"UTF-8\"");
    }
    if (status == 503) srv_add_header(r, "Retry-After", "1");
    if (status >= 500) fm_log(FM_LOG_ERROR, "%s %s: %u %s", r->method, r->url, status, detail);
    return srv_reply_json(r, status, "application/problem+json", p);
}

int srv_problem(struct req *r, fm_rc rc, const struct fm_err *err)
{
    unsigned status = rc_status(rc);
    /* internals stay in the log; the client learns only that it failed */
    const char *detail = status >= 500 ? "the server failed; the request changed nothing"
                                       : (err ? err->msg : fm_rc_str(rc));
    if (status >= 500 && err) fm_log(FM_LOG_ERROR, "%s %s: %s", r->method, r->url, err->msg);
    return srv_problem_status(r, status, detail, err ? err->pointer : NULL);
}

static int ctype_is(const char *ctype, const char *want)
{
    size_t n = strlen(want);
    return ctype && strncasecmp(ctype, want, n) == 0 && (ctype[n] == '\0' || ctype[n] == ';' ||
                                                         ctype[n] == ' ');
}

json_t *srv_body_json(struct req *r, const char *const *ctypes)
{
    const char *ctype = srv_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    int ok = 0;
    for (const char *const *c = ctypes; *c; c++) ok |= ctype_is(ctype, *c);
    if (!ok) {
        char detail[200];
        snprintf(detail, sizeof detail, "send the body as %s (got %s)", ctypes[0],
                 ctype ? ctype : "no Content-Type");
        srv_problem_status(r, 415, detail, NULL);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES,
                           &jerr);
    if (!j) {
        char detail[256];
        snprintf(detail, sizeof detail, "malformed JSON at line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        srv_problem_status(r, 400, detail, "");
    }
    return j;
}

/* ---- request lifecycle ------------------------------------------------- */

static void req_free(struct req *r)
{
    if (!r) return;
    if (r->defer_release) r->defer_release(r->defer_arg);
    fm_buf_cleanup(&r->body);
    for (int i = 0; i < r->nhdr; i++) {
        free(r->hdr_name[i]);
        free(r->hdr_value[i]);
    }
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    req_free(*con_cls);
    *con_cls = NULL;
}

/* A new request's object, made as soon as its request line is read and
 * before microhttpd splits the query into arguments: the target is checked
 * here, as sent. microhttpd 0.9.75 keeps every argument in the
 * connection's 32 KiB memory pool; when they do not fit it queues a 431
 * and then loses it, and the client hears nothing until the idle timeout
 * (about 480 short parameters did that). So a refused target's query is
 * cut off here, in microhttpd's own buffer, before it is split, and the
 * access handler answers for it (414, or 400 for a NUL). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct srv *s = cls;
    struct req *r = fm_xcalloc(1, sizeof *r);
    r->srv = s;
    r->conn = conn;
    fm_buf_init(&r->body, s->cfg.max_body);
    r->target_at = (uintptr_t)uri;
    r->target_len = strlen(uri);
    struct fm_err err;
    fm_err_clear(&err);
    r->target_rc = srv_check_target(uri, &err);
    if (r->target_rc) {
        snprintf(r->target_why, sizeof r->target_why, "%s", err.msg);
        char *q = strchr(uri, '?'); /* the request line, which microhttpd owns and edits */
        if (q) q[1] = '\0';
    }
    return r;
}

/* A raw NUL byte in the request target. microhttpd hands the target on
 * as a C string, so whatever follows a NUL is silently dropped
 * ("/items/1<NUL>abc" read as "/items/1"). It keeps the request line in
 * one buffer, "METHOD TARGET VERSION" with the spaces made NULs, and the
 * target given to on_uri is the url given to the handler: so a target
 * without a NUL ends exactly one byte before the version. */
static int target_has_nul(const struct req *r, const char *url, const char *version)
{
    uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
    if (u != r->target_at || v <= u) return 0; /* not that layout: cannot tell */
    return v - u > r->target_len + 1 && v - u - r->target_len - 1 < 65536;
}

struct framing {
    int content_length, transfer_encoding, te_not_chunked;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) f->content_length++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        if (!value || strcasecmp(value, "chunked") != 0) f->te_not_chunked = 1;
    }
    return MHD_YES;
}

/* The checks made once the headers are in and before any body is read.
 * An answer queued now makes microhttpd close the connection after it
 * without reading further, so nothing after a refused request is ever
 * taken as another request. Returns 0 to go on, else the reply's result. */
static int refuse_early(struct req *r, const char *url, const char *version, int *refused)
{
    *refused = 1;
    if (r->target_rc == FM_ETOOBIG) return srv_problem_status(r, 414, r->target_why, NULL);
    if (r->target_rc) return srv_problem_status(r, 400, r->target_why, NULL);
    if (target_has_nul(r, url, version))
        return srv_problem_status(r, 400, "the request target holds a NUL byte", NULL);
    /* RFC 9112 6.3: a body's length must be unambiguous */
    struct framing f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_framing, &f);
    const char *why = NULL;
    if (f.content_length && f.transfer_encoding)
        why = "both Content-Length and Transfer-Encoding: the body's length is ambiguous";
    else if (f.content_length > 1)
        why = "more than one Content-Length: the body's length is ambiguous";
    else if (f.transfer_encoding > 1 || f.te_not_chunked)
        why = "the only transfer coding accepted is one Transfer-Encoding: chunked";
    else if (f.transfer_encoding && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
        why = "Transfer-Encoding in an HTTP/1.0 request";
    if (why) {
        srv_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        return srv_problem_status(r, 400, why, NULL);
    }
    const char *cl = srv_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    long len;
    if (cl && (fm_parse_long(cl, 0, (long)r->srv->cfg.max_body, &len) != FM_OK)) {
        char detail[128];
        snprintf(detail, sizeof detail, "the body is larger than the limit of %zu bytes",
                 r->srv->cfg.max_body);
        return srv_problem_status(r, 413, detail, NULL);
    }
    *refused = 0;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct srv *s = cls;
    struct req *r = *con_cls;
    if (!r) { /* on_uri makes it; this is only in case it did not */
        r = on_uri(s, "", conn);
        *con_cls = r;
    }
    if (!r->started) {
        r->started = 1;
        r->method = method;
        r->url = url;
        int refused;
        int ret = refuse_early(r, url, version, &refused);
        return refused ? (enum MHD_Result)ret : MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!r->body_too_big && fm_buf_add(&r->body, upload_data, *upload_data_size) != FM_OK)
            r->body_too_big = 1;
        *upload_data_size = 0;
        /* a chunked body past the limit: stop reading it at once */
        return r->body_too_big ? MHD_NO : MHD_YES;
    }
    if (r->replied) return MHD_YES;
    /* called again after a job of the render threads, or a write's sync
     * (items.c): its reply; a write's streams are woken once it is on disk */
    if (r->deferred) {
        int ret = srv_defer_finish(r);
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            srv_streams_notify(s->streams);
        return (enum MHD_Result)ret;
    }

    struct fm_err err;
    fm_err_clear(&err);
    fm_rc rc = srv_thread_db(s, &r->db, &err);
    if (rc) return (enum MHD_Result)srv_problem(r, rc, &err);
    r->cors_origin = cors_origin(r);
    srv_authenticate(r);
    int ret = srv_route(r);
    if (!r->replied && !r->deferred) {
        fm_log(FM_LOG_ERROR, "%s %s: handler gave no reply", method, url);
        ret = srv_problem_status(r, 500, "no reply", NULL);
    }
    /* a write may have logged events: wake the streams (a spare wake is cheap) */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && !r->deferred)
        srv_streams_notify(s->streams);
    return (enum MHD_Result)ret;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') line[n - 1] = '\0';
    fm_log(FM_LOG_DEBUG, "microhttpd: %s", line);
}

/* Another server committed to the database: the streams look at the log
 * now, not at their next poll. */
static void heard_elsewhere(void *streams)
{
    srv_streams_notify(streams);
}

fm_rc srv_start(const struct srv_config *c, struct srv **out, struct fm_err *err)
{
    *out = NULL;
    struct srv *s = fm_xcalloc(1, sizeof *s);
    s->cfg = *c;
    pthread_mutex_init(&s->dbs_lock, NULL);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, c->bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)c->port);
        sslen = sizeof *v4;
    } else if (inet_pton(AF_INET6, c->bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)c->port);
        sslen = sizeof *v6;
        flags |= MHD_USE_IPv6;
    } else {
        free(s);
        return fm_fail(err, FM_EINVAL, "bind", "--bind takes an IPv4 or IPv6 address, not %s",
                       c->bind);
    }
    (void)sslen;
    s->bound = ss;
    s->bound_any = (ss.ss_family == AF_INET && v4->sin_addr.s_addr == htonl(INADDR_ANY)) ||
                   (ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr));
    struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};
    if (c->tls_cert || c->tls_key) {
        s->tls_cert = c->tls_cert ? read_small_file(c->tls_cert) : NULL;
        s->tls_key = c->tls_key ? read_small_file(c->tls_key) : NULL;
        if (!s->tls_cert || !s->tls_key) {
            free(s->tls_cert);
            free(s->tls_key);
            pthread_mutex_destroy(&s->dbs_lock);
            free(s);
            return fm_fail(err, FM_EINVAL, "tls",
                           "HTTPS needs both --tls-cert and --tls-key, readable PEM files");
        }
        flags |= MHD_USE_TLS;
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
        tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
    }
    fm_rc src = srv_streams_new(c, &s->streams, err);
    if (src) {
        pthread_mutex_destroy(&s->dbs_lock);
        free(s);
        return src;
    }
    s->defer_threads = srv_defer_threads_wanted();
    s->write_threads = write_threads_wanted();
    fm_rc wrc = warm_up(s, err);
    if (!wrc) wrc = srv_defer_new(s, s->defer_threads, &s->defer, err);
    if (!wrc) wrc = srv_defer_new(s, s->write_threads, &s->writes, err);
    if (wrc) {
        srv_defer_free(s->defer);
        for (size_t i = 0; i < s->ndbs; i++) data_close(s->dbs[i]);
        free(s->dbs);
        free(s->spare);
        srv_streams_free(s->streams);
        free(s->tls_cert);
        free(s->tls_key);
        pthread_mutex_destroy(&s->dbs_lock);
        free(s);
        return wrc;
    }
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)c->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads, MHD_OPTION_CONNECTION_LIMIT,
        c->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, c->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)32 * 1024, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_EXTERNAL_LOGGER,
        on_log, NULL, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!s->daemon) {
        srv_defer_free(s->writes);
        srv_defer_free(s->defer);
        for (size_t i = 0; i < s->ndbs; i++) data_close(s->dbs[i]);
        free(s->dbs);
        free(s->spare);
        srv_streams_free(s->streams);
        free(s->tls_cert);
        free(s->tls_key);
        pthread_mutex_destroy(&s->dbs_lock);
        free(s);
        return fm_fail(err, FM_EIO, "port", "cannot listen on %s port %d (in use?)", c->bind,
                       c->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : c->port;
    fm_rc rrc = data_checkpointer_start(c->db_path, &s->checkpointer, err);
    if (!rrc) rrc = data_watcher_start(c->db_path, heard_elsewhere, s->streams, &s->watcher, err);
    if (!rrc) rrc = srv_recheck_start(c, s->streams, &s->recheck, err);
    if (!rrc) rrc = srv_deadlines_start(c, s->streams, &s->deadlines, err);
    if (rrc) {
        srv_stop(s);
        return rrc;
    }
    *out = s;
    return FM_OK;
}

struct srv_defer *srv_defer_of(struct req *r)
{
    return r->srv->defer;
}

struct srv_defer *srv_writes_of(struct req *r)
{
    return r->srv->writes;
}

struct srv_streams *srv_streams_of(struct req *r)
{
    return r->srv->streams;
}

int srv_port(const struct srv *s)
{
    return s->port;
}

void srv_stop(struct srv *s)
{
    if (!s) return;
    data_watcher_stop(s->watcher);
    srv_recheck_stop(s->recheck);
    srv_deadlines_stop(s->deadlines);
    srv_streams_shutdown(s->streams); /* resumes every suspended stream */
    srv_defer_shutdown(s->defer);     /* and every connection waiting for a render */
    srv_defer_shutdown(s->writes);    /* or for a write */
    MHD_stop_daemon(s->daemon);
    srv_defer_free(s->writes);
    srv_defer_free(s->defer);
    srv_streams_free(s->streams);
    for (size_t i = 0; i < s->ndbs; i++) data_close(s->dbs[i]);
    data_checkpointer_free(s->checkpointer);
    free(s->tls_cert);
    free(s->tls_key);
    free(s->dbs);
    free(s->spare);
    pthread_mutex_destroy(&s->dbs_lock);
    free(s);
}
