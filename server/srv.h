/* srv.h - the HTTP server: the only module that knows HTTP.
 *
 * libmicrohttpd runs a pool of worker threads; each worker holds its own
 * database connection (srv_db). A request is read whole into a bounded
 * buffer, then routed to a handler that parses and validates, calls data/,
 * and replies. Errors leave as application/problem+json (RFC 9457).
 */
#ifndef SRV_H
#define SRV_H

#include "data.h"
#include "fm.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_MAX_CORS_ORIGINS 16

struct srv_config {
    const char *db_path;
    const char *bind;     /* address to listen on; loopback unless told */
    int port;             /* 0: any free port */
    const char *web_dir;  /* the viewer's files */
    const char *public_url; /* base of absolute links; NULL: the bound address */
    int threads;
    size_t max_body;      /* bytes */
    unsigned max_connections;
    unsigned max_per_ip;
    unsigned timeout_s;   /* idle connection timeout */
    struct data_limits limits;
    struct data_session_policy session;
    struct data_login_policy login;
    const char *tls_cert, *tls_key; /* PEM files: HTTPS when both are set */
    long import_max_features; /* per POST /import; 0: data/'s default */
    /* origins (scheme://host[:port]) whose pages may call the API with a
     * bearer token (CORS); none: no CORS headers at all */
    const char *cors_origins[SRV_MAX_CORS_ORIGINS];
    int ncors_origins;
    long conflict_recheck_s; /* seconds between re-checks of all conflicts; 0: 60 */
    double incident_near_m;  /* an incident this near a movement under way; 0: data/'s */
};

void srv_config_default(struct srv_config *c);

struct srv;

/* Starts listening. OUT *out. The database must already be migrated. */
fm_rc srv_start(const struct srv_config *c, struct srv **out, struct fm_err *err);
/* The port actually bound (useful with port 0). */
int srv_port(const struct srv *s);
/* Stops, waits for the workers, closes their connections. Takes NULL. */
void srv_stop(struct srv *s);

/* ---- what handlers see ------------------------------------------------ */

#define SRV_MAX_HEADERS 8

struct req {
    struct srv *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    struct fm_buf body;
    int body_too_big;
    int authed;       /* viewer holds a logged-in user */
    int by_cookie;    /* authenticated by the session cookie (CSRF rules apply) */
    int by_basic;     /* authenticated by HTTP Basic (user name + token) */
    int sent_credentials; /* Authorization, the session cookie or a stream ticket was sent */
    const char *auth_refused; /* why the credentials sent were refused, or NULL */
    int auth_unavailable;     /* the database could not say whether they are good */
    int offer_basic;  /* a 401 also says WWW-Authenticate: Basic (routes.c) */
    char token[DATA_TOKEN_LEN + 8]; /* the bearer token it was authenticated with
                                       (Bearer, Basic or a stream ticket), or "" */
    const char *cors_origin; /* its Origin, when the admin listed it (--cors-origin) */
    struct data_viewer viewer;
    struct data_db *db;
    /* response headers gathered before the reply */
    int nhdr;
    char *hdr_name[SRV_MAX_HEADERS];
    char *hdr_value[SRV_MAX_HEADERS];
    int replied;
    int started;        /* the access handler has seen the request (http.c) */
    fm_rc target_rc;    /* the request target as sent was refused (http.c) */
    char target_why[256];
    uintptr_t target_at; /* where the target was, and its length up to any NUL */
    size_t target_len;
    /* work handed to the render threads (defer.c) */
    int deferred;   /* a job is out: the connection is suspended */
    int defer_done; /* its work ran (written by the pool thread before the resume) */
    int (*defer_finish)(struct req *r, void *arg);
    void (*defer_release)(void *arg);
    void *defer_arg;
};

const struct srv_config *srv_cfg(const struct req *r);

/* A request header or query argument, or NULL. Borrowed. */
const char *srv_header(struct req *r, const char *name);
const char *srv_arg(struct req *r, const char *name);
/* The name of a query argument that is not in `known` (NULL-terminated),
 * copied into buf; NULL when every argument is known. */
const char *srv_unknown_arg(struct req *r, const char *const *known, char *buf, size_t n);

/* Adds a response header (copied). */
void srv_add_header(struct req *r, const char *name, const char *value);
/* The absolute base URL ("http://host:port") for links. OUT into buf. */
void srv_base_url(struct req *r, char *buf, size_t n);
/* The client's address as text ("127.0.0.1"). OUT into buf. */
void srv_client_addr(struct req *r, char *buf, size_t n);
/* The CORS headers of an actual (not preflight) response, when the
 * request's Origin is listed; nothing otherwise. */
struct MHD_Response;
void srv_cors_headers(struct req *r, struct MHD_Response *resp);
/* Is origin this server's own (its base URL)? */
int srv_origin_is_self(struct req *r, const char *origin);
/* Is the server speaking HTTPS? */
int srv_tls(const struct req *r);

/* Replies; each takes ownership of its body. Return value for MHD. */
int srv_reply(struct req *r, unsigned status, const char *ctype, char *body, size_t len);
int srv_reply_json(struct req *r, unsigned status, const char *ctype, json_t *j);
int srv_reply_empty(struct req *r, unsigned status);
/* A body that others own too: sent in place, then release(cls) once the
 * reply is done with it (and on failure). */
int srv_reply_shared(struct req *r, unsigned status, const char *ctype, void *body,
                     size_t len, void (*release)(void *cls), void *cls);
/* application/problem+json from a result and its error buffer. */
int srv_problem(struct req *r, fm_rc rc, const struct fm_err *err);
int srv_problem_status(struct req *r, unsigned status, const char *detail, const char *pointer);
/* Parses the body as JSON (duplicate keys refused) or replies 400/415. */
json_t *srv_body_json(struct req *r, const char *const *ctypes);

/* ---- work off the connection's thread (defer.c) ------------------------ */

/* A job's work, on a pool thread with that thread's own database
 * connection (db; NULL when it could not be opened), and its finish, back
 * on the connection's worker, which replies (and returns the MHD result). */
typedef void (*srv_work_fn)(struct req *r, struct data_db *db, void *arg);
typedef int (*srv_finish_fn)(struct req *r, void *arg);
struct srv_defer;
/* The pool threads wanted: FUSIONMAP_RENDER_THREADS, or one per core. */
int srv_defer_threads_wanted(void);
/* Starts nthreads pool threads; 0: none (*out NULL: work in place). */
fm_rc srv_defer_new(struct srv *s, int nthreads, struct srv_defer **out, struct fm_err *err);
/* Runs work off this connection's thread, first come first served, then
 * finish on it; with d NULL (or no work) both at once, in place. release(arg) when the
 * request is done with (req_free), finished or not. Returns the MHD
 * result for the access handler. */
int srv_defer(struct req *r, struct srv_defer *d, srv_work_fn work, srv_finish_fn finish,
              void (*release)(void *arg), void *arg);
/* The access handler called again after the resume (http.c): replies
 * through the job's finish, or 503 when the job never ran (stopping). */
int srv_defer_finish(struct req *r);
/* The server's pool (http.c), or NULL. Borrowed. */
struct srv_defer *srv_defer_of(struct req *r);
/* The server's write threads (http.c: FUSIONMAP_WRITE_THREADS), or NULL. */
struct srv_defer *srv_writes_of(struct req *r);
/* The calling thread's database connection, opened on first use (http.c). */
fm_rc srv_thread_db(struct srv *s, struct data_db **out, struct fm_err *err);
/* Stops taking jobs: resumes the queued ones undone, joins the threads.
 * Before MHD_stop_daemon. */
void srv_defer_shutdown(struct srv_defer *d);
/* After MHD_stop_daemon. Takes NULL. */
void srv_defer_free(struct srv_defer *d);

/* ---- handlers (one file each) ------------------------------------------ */

/* Returns the MHD result of the reply. */
typedef int (*srv_handler)(struct req *r, const char *const *parts, int nparts);

int srv_route(struct req *r);

/* pages.c: a page of Features as an OGC API FeatureCollection */
struct srv_page {
    struct fm_buf features; /* the Features' text, comma-separated, bounded */
    long returned;
    int too_big;
};
void srv_page_init(struct srv_page *pg);
/* Adds one Feature's text; nonzero (stop) once the page is too big. */
int srv_page_add(struct srv_page *pg, const char *feature);
void srv_page_cleanup(struct srv_page *pg);
/* Replies 200 with the collection (413 if it grew too big), links to path
 * keeping the request's params; frees pg. */
int srv_reply_page(struct req *r, struct srv_page *pg, const char *path,
                   const char *const *params, long offset, long limit, long matched);

/* auth.c */
void srv_authenticate(struct req *r);
int srv_csrf_ok(struct req *r);
int h_login(struct req *r, const char *const *p, int n);
int h_logout(struct req *r, const char *const *p, int n);
int h_me(struct req *r, const char *const *p, int n);
int h_me_tokens(struct req *r, const char *const *p, int n);

/* ogc.c */
int h_landing(struct req *r, const char *const *p, int n);
int h_conformance(struct req *r, const char *const *p, int n);
int h_api(struct req *r, const char *const *p, int n);
int h_collections(struct req *r, const char *const *p, int n);
int h_collection(struct req *r, const char *const *p, int n);
int h_parties(struct req *r, const char *const *p, int n);

/* items.c */
int h_items_get(struct req *r, const char *const *p, int n);
int h_items_post(struct req *r, const char *const *p, int n);
int h_item_get(struct req *r, const char *const *p, int n);
int h_item_put(struct req *r, const char *const *p, int n);
int h_item_patch(struct req *r, const char *const *p, int n);
int h_item_delete(struct req *r, const char *const *p, int n);
int h_item_history(struct req *r, const char *const *p, int n);
int h_item_ack(struct req *r, const char *const *p, int n);
int h_item_acks(struct req *r, const char *const *p, int n);
int h_item_statement(struct req *r, const char *const *p, int n);

/* keys.c: a user's own public signing keys */
int h_keys_get(struct req *r, const char *const *p, int n);
int h_keys_post(struct req *r, const char *const *p, int n);
int h_key_revoke(struct req *r, const char *const *p, int n);
/* heads.c: cosigned heads of the log */
int h_head_get(struct req *r, const char *const *p, int n);
int h_heads_get(struct req *r, const char *const *p, int n);
int h_heads_post(struct req *r, const char *const *p, int n);
int h_item_evidence(struct req *r, const char *const *p, int n);
int h_events_chain(struct req *r, const char *const *p, int n);
int h_pending(struct req *r, const char *const *p, int n);
int h_disputes(struct req *r, const char *const *p, int n);

/* messages.c: item threads, channels, receipts (data.h, "messages") */
int h_channels(struct req *r, const char *const *p, int n);
int h_messages_get(struct req *r, const char *const *p, int n);
int h_messages_post(struct req *r, const char *const *p, int n);
int h_messages_seen(struct req *r, const char *const *p, int n);
int h_item_ruling(struct req *r, const char *const *p, int n);
/* admin.c */
int h_users_get(struct req *r, const char *const *p, int n);
int h_users_post(struct req *r, const char *const *p, int n);
int h_parties_post(struct req *r, const char *const *p, int n);

/* events.c */
int h_events_log(struct req *r, const char *const *p, int n);
int h_events_verify(struct req *r, const char *const *p, int n);

/* tiles.c: raster tiles, TileJSON and briefing images (tiles/ draws).
 * The tile cache follows the event log by itself; call
 * srv_tiles_configure before srv_start to pick the basemap (any vector
 * file GDAL opens; NULL: $FUSIONMAP_BASEMAP or the built one) and the
 * cache size in bytes (0: 64 MiB). */
void srv_tiles_configure(const char *basemap_path, size_t cache_bytes);
/* The classification or release line printed at the top and bottom of
 * every briefing sheet (/map.pdf); the server adds to whom the page may
 * go. NULL or "": "FOR THE DECONFLICTION CELL". Before srv_start. */
void srv_tiles_set_marking(const char *marking);
/* Loads the basemap and makes the tile cache now (srv_start, before the
 * first request) rather than in the first tile request. */
void srv_tiles_warm(void);
/* After a write (routes.c): drops the cached tiles the writer's events
 * touch, class by class, in the writer's request, not the next reader's. */
void srv_tiles_after_write(struct req *r);
int h_tile(struct req *r, const char *const *p, int n);
int h_tilejson(struct req *r, const char *const *p, int n);
int h_map_png(struct req *r, const char *const *p, int n);
/* ogc_tiles.c: OGC API - Tiles over h_tile */
int h_tile_matrix_sets(struct req *r, const char *const *p, int n);
int h_tile_matrix_set(struct req *r, const char *const *p, int n);
int h_tilesets(struct req *r, const char *const *p, int n);
int h_tileset(struct req *r, const char *const *p, int n);
int h_ogc_tile(struct req *r, const char *const *p, int n);
/* A picture of bbox (minlon, minlat, maxlon, maxlat) as r's viewer may see
 * it now, drawn as GET /map.png draws it. OUT *png, *len (free()). */
fm_rc srv_map_picture(struct req *r, const double bbox[4], int width, int height,
                      const char *title, unsigned char **png, size_t *len, struct fm_err *err);
int h_map_pdf(struct req *r, const char *const *p, int n);
int h_vocabulary(struct req *r, const char *const *p, int n);
/* The vocabulary's enums as JSON Schema (Status, ZoneType, ...,
 * ZoneProperties, Feature), added to /api's components.schemas. */
void srv_vocabulary_schemas(json_t *schemas);
/* The symbol frame of items the viewer's party does not own: unknown,
 * friend, neutral (the default), suspect or hostile. -1 for another word.
 * Before srv_start. */
int srv_vocabulary_set_frame_other(const char *name);
/* Its 2525D standard identity digit ('4' neutral by default), for tiles. */
char srv_vocabulary_frame_other(void);

/* stream.c: GET /events (Server-Sent Events) and the hub that feeds it */
struct srv_streams;
/* Starts the hub thread (its own database connection). OUT *out. */
fm_rc srv_streams_new(const struct srv_config *c, struct srv_streams **out, struct fm_err *err);
/* Something was written: wake the streams. Any thread; takes NULL. */
void srv_streams_notify(struct srv_streams *h);
/* The cookie session `session` has ended (logout): its streams get nothing
 * more from now on and end at once. Any thread; takes NULL. */
void srv_streams_end_session(struct srv_streams *h, const char *session);
/* Stops the hub and resumes every suspended stream so that it ends; call
 * before MHD_stop_daemon. */
void srv_streams_shutdown(struct srv_streams *h);
/* After MHD_stop_daemon. Takes NULL. */
void srv_streams_free(struct srv_streams *h);
/* The server's hub (http.c). Borrowed. */
struct srv_streams *srv_streams_of(struct req *r);
int h_events(struct req *r, const char *const *p, int n);
/* GET /cot/stream: the same stream as CoT events for TAK */
int h_cot_stream(struct req *r, const char *const *p, int n);
/* cot_tcp.c: the same CoT stream on a raw TCP port (serve --cot-port):
 * a client sends its token on the first line. Listens on bind_addr:port
 * (0: any free port) and reaches this server's HTTP at http_addr:http_port.
 * tls (NULL: plain TCP, plain HTTP): cert and key, PEM files, make the
 * listener TLS; ca (with them) requires a client certificate it signed;
 * http_tls says the HTTP server is HTTPS (--tls-*). FM_EINVAL naming the
 * option for a file GnuTLS cannot read. OUT *out; srv_cot_tcp_stop
 * (before srv_stop) joins its threads, takes NULL. */
struct srv_cot_tcp;
struct srv_cot_tls {
    const char *cert, *key, *ca;
    int http_tls;
};
fm_rc srv_cot_tcp_start(const char *bind_addr, int port, const char *http_addr, int http_port,
                        const struct srv_cot_tls *tls, struct srv_cot_tcp **out,
                        struct fm_err *err);
int srv_cot_tcp_port(const struct srv_cot_tcp *t);
/* 1 when the listener speaks TLS */
int srv_cot_tcp_tls(const struct srv_cot_tcp *t);
void srv_cot_tcp_stop(struct srv_cot_tcp *t);
/* POST /events/ticket: a single-use ticket, good for 60 s
 * (FM_EVENTS_TICKET_MS), that opens GET /events?ticket=T as the token's
 * user: EventSource sends no headers, and the token never goes in a URL. */
int h_events_ticket(struct req *r, const char *const *p, int n);
/* Takes (uses up) a ticket: OUT the token it was issued for (n bytes).
 * Zero when unknown, used or expired. Any thread. */
int srv_streams_ticket_take(struct srv_streams *h, const char *ticket, char *token, size_t n);

/* wall.c */
int h_login_token(struct req *r, const char *const *p, int n);

/* static.c */
int h_static(struct req *r, const char *const *p, int n);
int h_viewer(struct req *r, const char *const *p, int n);
int h_wall(struct req *r, const char *const *p, int n);

/* conflicts.c: the conflicts collection (read only; the supervisor
 * resolves) and the re-check on time */
int h_queryables(struct req *r, const char *const *p, int n); /* ogc.c */
int h_conflicts_meta(struct req *r, const char *const *p, int n);
int h_conflicts_items(struct req *r, const char *const *p, int n);
int h_conflict_get(struct req *r, const char *const *p, int n);
int h_conflict_resolve(struct req *r, const char *const *p, int n);
int h_conflicts_read_only(struct req *r, const char *const *p, int n);
/* The collection's metadata (new reference), and its OpenAPI paths added to paths. */
json_t *srv_conflicts_collection(const char *base);
void srv_conflicts_openapi(json_t *paths);
/* A thread (timer.c) with its own connection that re-checks every conflict every
 * FM_CONFLICT_RECHECK_S seconds (default 60) and wakes the streams when
 * something changed. FM_INCIDENT_NEAR_M, if set, is stored as the engine's
 * incident distance. OUT *out. Stop takes NULL. */
struct srv_recheck;
fm_rc srv_recheck_start(const struct srv_config *c, struct srv_streams *streams,
                        struct srv_recheck **out, struct fm_err *err);
void srv_recheck_stop(struct srv_recheck *h);

/* rules.c: GET/PUT /rules, the test clock POST /rules/clock
 * (FUSIONMAP_TEST_CLOCK=1 only), and a thread (timer.c) with its own connection that
 * marks unanswered versions overdue every FM_DEADLINE_CHECK_S seconds
 * (default 30) and wakes the streams when it did. inbox.c: GET /inbox. */
int h_rules_get(struct req *r, const char *const *p, int n);
int h_rules_put(struct req *r, const char *const *p, int n);
int h_rules_clock(struct req *r, const char *const *p, int n);
int h_inbox(struct req *r, const char *const *p, int n);
struct srv_deadlines;
fm_rc srv_deadlines_start(const struct srv_config *c, struct srv_streams *streams,
                          struct srv_deadlines **out, struct fm_err *err);
void srv_deadlines_stop(struct srv_deadlines *h);

/* interop.c: POST /import, GET /cot, and the f= exports of the items */
int h_import(struct req *r, const char *const *p, int n);
int h_cot(struct req *r, const char *const *p, int n);
/* Is f one of the export formats (kml, gpx, gpkg, shp, csv)? */
int srv_export_format(const char *f);
/* Replies with everything q matches (limit and offset ignored) in format,
 * in EPSG:srid (0: CRS84, as stored). */
int srv_items_export(struct req *r, enum data_coll c, const struct data_query *q,
                     const char *format, int srid);
/* Adds POST /import and GET /cot to an OpenAPI paths object. */
void srv_interop_openapi(json_t *paths);

#endif
