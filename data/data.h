/* data.h - the store: parties, users, sessions, items and the event log.
 *
 * This is the only module that holds SQL. It owns SQLite and SpatiaLite.
 * Items are kept as versions: every change closes the current version
 * (sets its sys_to) and opens a new one, so "now", "as of time t" and
 * "the history of item n" are the same query over one spatial index.
 *
 * Threads: a struct data_db is one connection and belongs to one thread
 * at a time. Open one per worker thread; SQLite (WAL, busy timeout)
 * serialises the writers. Every function that writes is one transaction,
 * committed before it returns FM_OK.
 *
 * JSON travels as jansson values (json_t) and as compact text. Feature
 * text handed out is RFC 7946 GeoJSON with the property names of
 * DESIGN.md.
 */
#ifndef DATA_H
#define DATA_H

#include "fm.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct data_db;

/* ---- opening ---------------------------------------------------------- */

/* Opens (creating, migrating) the database at path. OUT *out. */
fm_rc data_open(const char *path, struct data_db **out, struct fm_err *err);
/* Takes NULL. */
void data_close(struct data_db *db);
/* The schema version this build writes (PRAGMA user_version). */
int data_schema_version(void);

/* ---- moving a cell (copy.c) ------------------------------------------- */

/* What data_copy did: rows written (events among them), and the copy's
 * own check as data_events_verify_heads makes it (bad_seq 0: it holds). */
struct data_copy_report {
    int64_t rows, events, verified, heads, bad_seq;
};
/* Called as rows go in: the table, and its rows so far. */
typedef void (*data_copy_progress)(void *ctx, const char *table, int64_t rows);
/* Copies the cell at from (a file or a postgresql:// URL) to to, which
 * must hold no cell yet (FM_ECONFLICT): every record, its history and its
 * chain, from one state of the source, in one transaction; then checks
 * the copy's chain and that it ends where the source's did. */
fm_rc data_copy(const char *from, const char *to, struct data_copy_report *report,
                data_copy_progress progress, void *progress_ctx, struct fm_err *err);

/* A thread with its own connection that copies the write-ahead log back
 * into the database file when the log passes 1,000 pages, so that no
 * writer's commit does (checkpoint.c). While it runs, this process's
 * connections to the same file leave that work to it; without one they
 * do it inline, as SQLite does by default. OUT *out. */
struct data_checkpointer;
fm_rc data_checkpointer_start(const char *path, struct data_checkpointer **out,
                              struct fm_err *err);
/* Stops the thread and closes its connection. Takes NULL. */
void data_checkpointer_free(struct data_checkpointer *c);

/* ---- several servers on one database (watch.c) ------------------------ */

/* A thread with its own connection that hears of every commit made to the
 * database at path by any process (several nodes on one PostgreSQL): after
 * each, it bumps data_write_generation (the caches look again) and calls
 * heard(ctx) (the server wakes its event streams). A lost connection is
 * opened again, and heard is called then too. For a SQLite file, *out is
 * NULL: one file is one server's, and readers poll for the command
 * line's writes. */
struct data_watcher;
fm_rc data_watcher_start(const char *path, void (*heard)(void *ctx), void *ctx,
                         struct data_watcher **out, struct fm_err *err);
/* Stops the thread and closes its connection. Takes NULL. */
void data_watcher_stop(struct data_watcher *w);
/* The background duties one server of several does at a time. */
enum data_duty { DATA_DUTY_RECHECK = 1, DATA_DUTY_DEADLINES = 2 };
/* 1 when the process of db's connection is to do duty d now: it holds the
 * duty, taken now or before, until the connection closes; 0 when another
 * server holds it (or the database cannot say: nobody does it twice). */
int data_duty_take(struct data_db *db, enum data_duty d);

/* ---- limits ----------------------------------------------------------- */

struct data_limits {
    long max_vertices;     /* per geometry */
    long max_string_bytes; /* per text property */
};
void data_limits_default(struct data_limits *l);

/* ---- who is asking ---------------------------------------------------- */

enum data_role { DATA_ROLE_NONE, DATA_ROLE_LIAISON, DATA_ROLE_SUPERVISOR, DATA_ROLE_VIEWER,
                 DATA_ROLE_ADMIN };
const char *data_role_name(enum data_role r);
fm_rc data_role_parse(const char *s, enum data_role *out);

struct data_viewer {
    int64_t user_id;
    char user[64];
    char party[16];
    enum data_role role;
};

/* ---- parties and users ------------------------------------------------ */

/* kind is "side" or "supervisor"; colour "#rrggbb". */
fm_rc data_party_add(struct data_db *db, const char *code, const char *name, const char *colour,
                     const char *kind, struct fm_err *err);
/* All parties as a JSON array of {code,name,colour,kind}. OUT *out (json_decref). */
fm_rc data_parties(struct data_db *db, json_t **out, struct fm_err *err);

/* Hashes password with argon2id. FM_ECONFLICT if the name is taken. */
fm_rc data_user_add(struct data_db *db, const char *name, const char *party, enum data_role role,
                    const char *password, struct fm_err *err);
/* FM_EUNAUTH for an unknown user or a wrong password (the same answer, in
 * about the same time). Fills *out on success. */
fm_rc data_user_check(struct data_db *db, const char *name, const char *password,
                      struct data_viewer *out, struct fm_err *err);
fm_rc data_user_count(struct data_db *db, long *out, struct fm_err *err);
/* Every user as a JSON array of {name, party, role, created_at}. OUT *out. */
fm_rc data_users(struct data_db *db, json_t **out, struct fm_err *err);

/* ---- login throttling ------------------------------------------------- */

/* Delays, never lock-outs (README, "Sessions and transport"). Three counts
 * of failed logins; past its free failures each makes the next attempt wait
 * 1, 2, 4, ... policy seconds after the last counted one, up to its cap:
 *   - the attempt's own: of its (account, address) pair, account_failures
 *     free, capped at the larger of window_seconds and delay_max; or, once
 *     that pair has logged in (a "known" address, remembered 30 days),
 *     capped at delay_max / 4; or, from a browser whose device cookie has
 *     logged in to the account, that (account, device) pair's, the same;
 *   - one account, over the addresses it has never logged in from:
 *     2 * account_failures free, capped at delay_max;
 *   - one address, over all accounts: address_failures free, capped at
 *     delay_max.
 * A known address or device waits for its own count only, so that wrong
 * passwords from elsewhere (or, for a device, from the same shared address)
 * cannot keep it out. An address is an IPv4 address or an IPv6 /64; keys
 * are stored only hashed. Counts are forgotten after a day without a
 * failure. */
struct data_login_policy {
    long account_failures; /* free failures of one (account, address) pair */
    long address_failures; /* free failures of one address, all accounts */
    long window_seconds;   /* the longest wait of an unknown pair */
    long delay_max;        /* the longest wait of an account's unknown addresses; 0: 120 */
    long delay_unit_ms;    /* the length of a policy second; 0: 1000 (tests shorten it) */
};
/* Whether user may try a password from addr (with device: the browser's
 * device cookie, or NULL) now. FM_ELIMIT, with *retry_after_ms (> 0) and
 * nothing counted, while a count says wait; else FM_OK, and the attempt is
 * already counted as a failure (so that attempts in parallel cannot pass
 * together): data_login_succeeded takes it back. */
fm_rc data_login_allowed(struct data_db *db, const struct data_login_policy *p, const char *user,
                         const char *addr, const char *device, int64_t *retry_after_ms,
                         struct fm_err *err);
/* The password was wrong: its waits run from now, the end of the check,
 * rather than from its start. */
fm_rc data_login_failed(struct data_db *db, const struct data_login_policy *p, const char *user,
                        const char *addr, const char *device, struct fm_err *err);
/* The password was right: the attempt is no failure, its own count is
 * cleared, and the address (and the device) is known from now on. */
fm_rc data_login_succeeded(struct data_db *db, const struct data_login_policy *p,
                           const char *user, const char *addr, const char *device,
                           struct fm_err *err);

/* ---- sessions and tokens ---------------------------------------------- */

#define DATA_SECRET_LEN 65 /* 64 hex digits + NUL */

struct data_session_policy {
    long idle_seconds;     /* a session unused this long is over */
    long absolute_seconds; /* and any session this old */
};

/* A new random session for v. OUT id (DATA_SECRET_LEN). Only its hash is stored. */
fm_rc data_session_new(struct data_db *db, const struct data_viewer *v, char *id,
                       struct fm_err *err);
/* FM_EUNAUTH when unknown or expired; else fills *out and marks it used. */
fm_rc data_session_get(struct data_db *db, const char *id, const struct data_session_policy *p,
                       struct data_viewer *out, struct fm_err *err);
/* The same check without marking the session used: for what runs on its
 * own (a stream's heartbeat), so that an unattended tab still idles out. */
fm_rc data_session_peek(struct data_db *db, const char *id, const struct data_session_policy *p,
                        struct data_viewer *out, struct fm_err *err);
fm_rc data_session_end(struct data_db *db, const char *id, struct fm_err *err);

/* A new bearer token for user name. OUT token ("fmt_" + 64 hex, 69 bytes). */
#define DATA_TOKEN_LEN 69
fm_rc data_token_new(struct data_db *db, const char *user, char *token, struct fm_err *err);
fm_rc data_token_get(struct data_db *db, const char *token, struct data_viewer *out,
                     struct fm_err *err);

/* ---- items ------------------------------------------------------------ */

enum data_coll { DATA_ZONES, DATA_INCIDENTS, DATA_MOVEMENTS, DATA_COLL_COUNT };
const char *data_coll_name(enum data_coll c);
fm_rc data_coll_parse(const char *s, enum data_coll *out);
/* The JSON array of statuses an item of c may have, in workflow order. */
const char *const *data_coll_statuses(enum data_coll c);

/* A family of geometry types, for clients that type a layer by one
 * (GDAL, QGIS): points are Point and MultiPoint, lines LineString and
 * MultiLineString, areas Polygon and MultiPolygon. */
enum data_geom { DATA_GEOM_ANY, DATA_GEOM_POINTS, DATA_GEOM_LINES, DATA_GEOM_AREAS };

/* What a filter or a sort may name in a collection (OGC API - Features
 * Part 3 queryables): its name, type ('s' string, 'i' integer, 'n'
 * number, 't' date-time, 'g' geometry), title and field: what it stands
 * for, which each backend writes as an expression of its own SQL (a
 * timestamp is seconds since the epoch; NULL when absent, and for
 * valid_from/valid_to an open end). */
enum data_field {
    DATA_FIELD_ID, DATA_FIELD_VERSION, DATA_FIELD_STATUS, DATA_FIELD_PARTY, DATA_FIELD_TYPE,
    DATA_FIELD_TITLE, DATA_FIELD_VALID_FROM, DATA_FIELD_VALID_TO, DATA_FIELD_UPDATED_AT,
    DATA_FIELD_GEOMETRY, DATA_FIELD_ALT_FLOOR, DATA_FIELD_ALT_CEILING, DATA_FIELD_CATEGORY,
    DATA_FIELD_SEVERITY, DATA_FIELD_OCCURRED_AT, DATA_FIELD_CORRIDOR_WIDTH, DATA_FIELD_COUNT
};
struct data_queryable {
    const char *name;
    char type;
    enum data_field field;
    const char *title;
};

/* A compiled filter (CQL2, server/cql2.c): a tree of conditions on the
 * queryables, the same for every backend; each writes it as SQL of its
 * own dialect, every value bound, never written into the SQL
 * (data/sqlfilter.c). Nodes are indexes into n, -1 for none. */
#define DATA_FILTER_MAX_NODES 320
#define DATA_FILTER_MAX_VALUES 64 /* values bound (a BBOX is 4) */
enum data_fkind {
    DATA_F_AND, DATA_F_OR, /* a: the first operand, the others chained by next */
    DATA_F_NOT,            /* a */
    DATA_F_CMP,            /* q op a: op is enum data_cmp */
    DATA_F_LIKE,           /* q [NOT] LIKE a (a DATA_F_TEXT in CQL2's form: % _ \); ci: ILIKE */
    DATA_F_BETWEEN,        /* q [NOT] BETWEEN a AND b */
    DATA_F_IN,             /* q [NOT] IN (a, a->next, ...) */
    DATA_F_ISNULL,         /* q IS [NOT] NULL */
    DATA_F_SPATIAL,        /* op (enum data_spatial) of the geometry q and a (BBOX or GEOM) */
    DATA_F_TEMPORAL,       /* op (enum data_temporal) of a and b (TIME, PROP or INTERVAL) */
    DATA_F_INT, DATA_F_DBL, DATA_F_TEXT, DATA_F_TIME, /* i, d[0], t/tlen, i (seconds) */
    DATA_F_OPEN,     /* '..' in an interval */
    DATA_F_BBOX,     /* d[0..3]: west, south, east, north (CRS84) */
    DATA_F_GEOM,     /* t/tlen: WKT in CRS84 the server wrote from the numbers; neg: a
                      * polygon's ring is not closed (no geometry: the test is unknown) */
    DATA_F_PROP,     /* q: a date-time property as a temporal operand */
    DATA_F_INTERVAL  /* a, b: each TIME, OPEN or PROP */
};
enum data_cmp { DATA_CMP_NE, DATA_CMP_LE, DATA_CMP_GE, DATA_CMP_EQ, DATA_CMP_LT, DATA_CMP_GT };
enum data_spatial { DATA_S_INTERSECTS, DATA_S_WITHIN, DATA_S_DISJOINT };
enum data_temporal { DATA_T_INTERSECTS, DATA_T_BEFORE, DATA_T_AFTER };
struct data_fnode {
    unsigned char kind, op, neg, ci;
    int a, b, next;
    const struct data_queryable *q;
    int64_t i;
    double d[4];
    const char *t; /* into data_filter.text, NUL-terminated */
    size_t tlen;
};
struct data_filter {
    int root; /* -1: none */
    int count;
    struct data_fnode n[DATA_FILTER_MAX_NODES];
    char text[8192]; /* the text literals, NUL-separated */
    size_t text_len;
};

/* A sort (sortby): keys in order, each a queryable that is not the
 * geometry; absent values last whatever the direction, then the id. */
#define DATA_SORT_MAX 8
struct data_sort {
    int n;
    struct {
        const struct data_queryable *q;
        int desc;
    } key[DATA_SORT_MAX];
};

/* The queryables of c, ended by a NULL name. */
const struct data_queryable *data_queryables(enum data_coll c);

struct data_query {
    enum data_coll coll;
    int has_bbox;
    double bbox[4]; /* minlon, minlat, maxlon, maxlat */
    int has_time;   /* validity overlaps [t0, t1]; INT64_MIN/MAX for open ends */
    fm_time t0, t1;
    int has_asof; /* the situation as it stood at asof, not now */
    fm_time asof;
    const char *status; /* NULL: any but withdrawn */
    const char *party;
    const char *type;
    long limit;  /* 1..10000 */
    long offset; /* >= 0 */
    int want_wkb; /* fill data_item_row.wkb */
    int bbox_loose; /* bbox matches bounding boxes only (no exact test) */
    enum data_geom geom; /* only this family of geometries (0: any) */
    const struct data_filter *filter; /* NULL: none */
    const struct data_sort *sort; /* NULL: id order */
};

struct data_item_row {
    int64_t id;
    int64_t version;
    enum data_coll coll;
    const char *party, *status, *type;
    const char *feature; /* compact GeoJSON Feature text */
    const unsigned char *wkb; /* little-endian WKB of the geometry, if asked */
    size_t wkb_len;
};

/* Called once per row, in id order; return nonzero to stop. Borrowed pointers. */
typedef int (*data_item_cb)(void *ctx, const struct data_item_row *row);

/* Runs q for viewer v (drafts of other parties are invisible, and so not
 * counted). *matched is the count without limit/offset. */
fm_rc data_items_query(struct data_db *db, const struct data_viewer *v, const struct data_query *q,
                       data_item_cb cb, void *ctx, long *matched, struct fm_err *err);

/* What v may see now of a collection (or of one family of its
 * geometries): how many, the bounding box, and the validity's earliest
 * start and latest end (has_t0/has_t1 0: some item has an open end). */
struct data_extent {
    long count; /* 0: the rest is unset */
    double bbox[4];
    int has_t0, has_t1;
    fm_time t0, t1;
};
fm_rc data_items_extent(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        enum data_geom g, struct data_extent *out, struct fm_err *err);
/* The same for the conflicts v may see (open and resolved; their interval). */
fm_rc data_conflicts_extent(struct data_db *db, const struct data_viewer *v, enum data_geom g,
                            struct data_extent *out, struct fm_err *err);

/* ---- pictures (map tiles, briefing images) ------------------------------ */

/* What a picture draws of one item or conflict: the style columns and the
 * geometry, no JSON. Borrowed pointers, valid during the callback; NULL
 * when absent. */
struct data_pic_row {
    int64_t id;
    const char *party;    /* owner party (NULL for conflicts) */
    const char *status;   /* conflicts: their state */
    const char *type;     /* zone or movement type, conflict kind */
    const char *title;
    const char *category; /* incidents */
    int severity;         /* incidents and conflicts; 0 when absent */
    double corridor_width_m; /* movements; 0 when absent */
    const unsigned char *wkb; /* little-endian WKB, lon/lat */
    size_t wkb_len;
    int64_t a_id, b_id; /* conflicts: their two items (as the kind orders them); else 0 */
    int late_notice; /* items of the picture of now: the version's late_notice mark (rules.c);
                        0 on pictures of the past and from the SQL picture */
};
typedef int (*data_pic_cb)(void *ctx, const struct data_pic_row *row);

/* Movements' corridors are drawn at most this wide (tiles.h agrees). */
#define DATA_PIC_MAX_CORRIDOR_M 10000.0

/* The items of c that v may see, now or as of asof (has_asof), whose
 * bounding boxes meet bbox (minlon, minlat, maxlon, maxlat), in id order;
 * a movement's box includes half its corridor (capped at
 * DATA_PIC_MAX_CORRIDOR_M). The same rows as data_items_query without its
 * exact intersection test (a picture clips what lies outside anyway), less
 * the withdrawn items, which no picture draws. */
fm_rc data_picture_items(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                         const double bbox[4], int has_asof, fm_time asof, data_pic_cb cb,
                         void *ctx, struct fm_err *err);
/* The open conflicts v may see whose bounding boxes meet bbox, in id order
 * (type = kind, status = state, title as in their Feature). */
fm_rc data_picture_conflicts(struct data_db *db, const struct data_viewer *v,
                             const double bbox[4], data_pic_cb cb, void *ctx,
                             struct fm_err *err);

/* One item as a Feature (current version). OUT *feature (json_decref).
 * FM_ENOTFOUND when absent, withdrawn or not visible to v. */
fm_rc data_item_get(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                    json_t **feature, struct fm_err *err);

/* Creates an item from a GeoJSON Feature (validated here). OUT *created. */
fm_rc data_item_create(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                       const json_t *feature, const struct data_limits *lim, json_t **created,
                       struct fm_err *err);

/* Replaces (PUT) or merge-patches (PATCH, RFC 7396) item id, only if its
 * current version is if_match (FM_ESTALE otherwise). OUT *updated. */
fm_rc data_item_replace(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, int64_t if_match, const json_t *feature,
                        const struct data_limits *lim, json_t **updated, struct fm_err *err);
fm_rc data_item_patch(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                      int64_t id, int64_t if_match, const json_t *patch,
                      const struct data_limits *lim, json_t **updated, struct fm_err *err);
/* Withdraws item id (status "withdrawn"; kept in the history). */
fm_rc data_item_withdraw(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                         int64_t id, int64_t if_match, struct fm_err *err);

/* Every version v may see, oldest first, as a JSON array of
 * {version, at, by, party, action, feature}. OUT *out. */
fm_rc data_item_history(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, json_t **out, struct fm_err *err);

/* ---- acknowledgement -------------------------------------------------- */

/* A signature sent with an answer: the key's fingerprint, the time the
 * statement names, the base64 Ed25519 signature over its JCS text. */
struct data_signature {
    const char *key, *value;
    fm_time at;
};


/* Another party answers version if_match of item id: decision "ack" or
 * "dispute" (a dispute needs a comment). An ack moves a proposed zone to
 * active, a reported incident or a notified movement to acknowledged; a
 * dispute makes the item disputed. FM_ESTALE when if_match is not the
 * current version; FM_ECONFLICT when this party answered it already.
 * OUT *updated: the item after the answer. */
fm_rc data_item_ack(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                    int64_t if_match, const char *decision, const char *comment,
                    json_t **updated, struct fm_err *err);
/* The same with a signature (NULL: unsigned) over the statement
 * data_item_statement gives. Refused: a user who has ever registered a
 * key and does not sign (FM_ECONFLICT); a key not theirs or revoked (FM_EFORBID); a
 * malformed signature, a statement time more than 15 minutes old or 1
 * minute ahead, a signature that does not verify (FM_EINVAL). */
fm_rc data_item_ack_signed(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                           int64_t id, int64_t if_match, const char *decision,
                           const char *comment, const struct data_signature *sig,
                           json_t **updated, struct fm_err *err);
/* Every answer to item id, oldest first. OUT *out. */
fm_rc data_item_acks(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                     int64_t id, json_t **out, struct fm_err *err);
/* Items whose current version `party` (NULL: v's own) has not answered. */
fm_rc data_pending(struct data_db *db, const struct data_viewer *v, const char *party,
                   json_t **out, struct fm_err *err);
/* Items now disputed. */
fm_rc data_disputes(struct data_db *db, const struct data_viewer *v, json_t **out,
                    struct fm_err *err);

/* ---- rulings (rulings.c) ------------------------------------------------ */

/* The supervisor rules on a disputed item (its current version; if_match
 * > 0: only if that is it, FM_ESTALE otherwise) with decision "uphold"
 * (the item must change: it stays disputed and its owner is told through
 * the log) or "overrule" (the item stands: it goes back to the status the
 * workflow gives it, the one it would have had had the answer been an
 * acknowledgement, when the supervisor's steps allow it), and a reason
 * (text as a message's). FM_EFORBID for anyone but a supervisor,
 * FM_ECONFLICT for an item not disputed or a version already ruled on.
 * OUT *updated: the item after; *ruling: the ruling. */
fm_rc data_item_rule(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                     int64_t if_match, const char *decision, const char *reason,
                     json_t **updated, json_t **ruling, struct fm_err *err);
/* The same with the supervisor's signature (NULL: unsigned, refused once
 * the supervisor has registered a key) over the statement
 * data_item_statement gives for decision "uphold"/"overrule" and the
 * reason as comment; refused as data_item_ack_signed refuses. */
fm_rc data_item_rule_signed(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                            int64_t id, int64_t if_match, const char *decision,
                            const char *reason, const struct data_signature *sig,
                            json_t **updated, json_t **ruling, struct fm_err *err);
/* Every ruling on item id, oldest first, as a JSON array of {version,
 * decision, reason, party, by, at, status}. OUT *out. */
fm_rc data_item_rulings(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, json_t **out, struct fm_err *err);

/* The latest dispute of item id (the newest answer "dispute": {version,
 * party, by, at, reason}) and the latest ruling on it ({version, decision,
 * reason, party, by, at}), each null when there is none: {dispute,
 * ruling}. FM_ENOTFOUND as data_item_get. OUT *out. */
fm_rc data_item_dispute(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, json_t **out, struct fm_err *err);

/* ---- messages (messages.c) -------------------------------------------- */

/* The cell's conversation: a thread on every item, and channels (one for
 * all parties, "all"; one between each side and the supervisor,
 * "sup-CODE"). A message is plain UTF-8 text, 1 to DATA_MESSAGE_MAX_CHARS
 * characters, no control character but newline; it may quote a version
 * of an item {collection, id, version}. Each message and each "seen"
 * receipt is a record in the log (actions "message" and "seen"); none is
 * ever edited or deleted. Who reads a message is who may read its thread
 * as it stood when it was written: an item's thread is its owner party's
 * alone while the item's version is owner-only (vis_owner_only), and its
 * messages of then stay so; a channel is its parties'. A thread the
 * viewer may not read answers FM_ENOTFOUND, as a missing item does. */
#define DATA_MESSAGE_MAX_CHARS 4000

struct data_thread {
    const char *channel; /* a channel's name, or NULL: the thread of item (coll, item) */
    enum data_coll coll;
    int64_t item;
};

/* The channels v may read, as a JSON array of {name, title, parties}. */
fm_rc data_channels(struct data_db *db, const struct data_viewer *v, json_t **out,
                    struct fm_err *err);
/* The thread's messages v may read, oldest first, after message id
 * `since` (0: all), and the latest "seen" receipt of each party:
 * {thread, messages: [{id, at, by, party, text, quote}], seen: [{party, by,
 * at, upto}]}. OUT *out. */
fm_rc data_messages(struct data_db *db, const struct data_viewer *v, const struct data_thread *t,
                    int64_t since, json_t **out, struct fm_err *err);
/* Posts text (and quote, a JSON object or NULL) by v (a liaison or the
 * supervisor). FM_ETOOBIG past the length, FM_EINVAL for bad text or a
 * quote it cannot hold, FM_ENOTFOUND for a quoted version v may not see.
 * OUT *out: the message. */
fm_rc data_message_post(struct data_db *db, const struct data_viewer *v,
                        const struct data_thread *t, const char *text, const json_t *quote,
                        json_t **out, struct fm_err *err);
/* v's party has seen the thread up to message `upto` (0: the newest it
 * may read). OUT *out: the receipt {party, by, at, upto}. */
fm_rc data_messages_seen(struct data_db *db, const struct data_viewer *v,
                         const struct data_thread *t, int64_t upto, json_t **out,
                         struct fm_err *err);

/* ---- lead times, deadlines and the inbox (rules.c, inbox.c) ----------- */

/* Rules per collection and item type ("*": every type of the collection),
 * kept in the database and changed by the admin, each change a record in
 * the log (action "rules_set"). Seconds:
 *   notice_s        the least notice before valid_from (0: none asked);
 *   urgent_notice_s the same for an item marked urgent (properties urgent:
 *                   true with an urgent_reason);
 *   answer_s        how long the other side has to answer a version that
 *                   waits for its answer (0: no deadline);
 *   answer_before_s and never later than this before valid_from.
 * A rule of the type wins over the collection's "*"; without either the
 * built-in defaults apply (rules.c). An item notified (its first version
 * that is not a draft) with less notice than its rule asks is accepted and
 * marked late_notice; a version that waits for an answer carries
 * answer_due, and one not answered by then is overdue: a record in the
 * log (action "overdue"), seen as the version is. */

/* Of the n items (ids, a page's), the current versions of c marked
 * overdue (rules.c): each item, version and when (malloc'd array, *nout
 * rows, by item). One query, read in proportion to n, not to every
 * overdue item; items NULL: every overdue version of c (a picture's). Who may see a row is who may see its version (a draft is
 * never overdue). */
struct data_overdue {
    int64_t item, version;
    fm_time at;
};
fm_rc data_overdue_of(struct data_db *db, enum data_coll c, const int64_t *items, size_t n,
                      struct data_overdue **out, size_t *nout, struct fm_err *err);

/* The rules in force for every collection, the defaults included, as a
 * JSON array of {collection, type, notice_s, urgent_notice_s, answer_s,
 * answer_before_s, source: "default"|"set", set_at, set_by}. OUT *out. */
fm_rc data_rules(struct data_db *db, json_t **out, struct fm_err *err);
/* The admin sets rules: body is one rule object {collection, type, and any
 * of the four fields: the others keep their value} or an array of them;
 * all or nothing, one record each. FM_EFORBID for anyone but an admin,
 * FM_EINVAL (pointer) for a bad rule. OUT *out: the rules in force after. */
fm_rc data_rules_set(struct data_db *db, const struct data_viewer *v, const json_t *body,
                     json_t **out, struct fm_err *err);
/* Marks overdue every version whose answer is due by data_clock_now() and
 * has not come: a record each. OUT *marked (may be NULL). */
fm_rc data_deadlines_check(struct data_db *db, long *marked, struct fm_err *err);
/* The deadlines' clock: the time now, moved by a test's offset (seconds,
 * process-wide; only the test hook of server/rules.c moves it). */
fm_time data_clock_now(void);
int64_t data_clock_offset(void);
void data_clock_advance(int64_t seconds);
/* Item id's overdue mark as v sees it: {overdue: true, overdue_at} or
 * NULL (not overdue, or none v may see). OUT *out. */
fm_rc data_item_deadline(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                         int64_t id, json_t **out, struct fm_err *err);

/* Which overdue entries the inbox lists, by how late the answer is on the
 * deadlines' clock (now - answer_due, whole seconds): at least min_s (when
 * has_min), at most max_s (when has_max). */
struct data_inbox_filter {
    int has_min, has_max;
    int64_t min_s, max_s;
};
/* What waits for v (a liaison or the supervisor; FM_EFORBID otherwise):
 * {user, party, now (the deadlines' clock), counts: {to_answer, to_rule,
 * disputed, rulings, conflicts, messages, overdue, total}, and the same
 * keys as lists}, every entry in names people read (titles, parties); an
 * overdue entry says overdue_by_s. With a filter f (NULL: none) only the
 * overdue entries it keeps are listed and counted, and overdue_filter says
 * {min_s, max_s, hidden}. OUT *out. */
fm_rc data_inbox(struct data_db *db, const struct data_viewer *v,
                 const struct data_inbox_filter *f, json_t **out, struct fm_err *err);

/* ---- event log -------------------------------------------------------- */

/* The newest sequence number (0 when empty). */
fm_rc data_events_last(struct data_db *db, int64_t *out, struct fm_err *err);
/* The log's head as v may check it: OUT *head, the newest sequence number
 * (0 when empty), and *seen with hash, the newest record at or before it
 * that v may read (0 and "" when none): a party learns that hidden
 * records exist, never their hashes. */
fm_rc data_events_head(struct data_db *db, const struct data_viewer *v, int64_t *head,
                       int64_t *seen, char hash[65], struct fm_err *err);
/* A number that grows after every commit made by this process (by any
 * connection): a reader that saw it unchanged since its last look at the
 * store knows that this process wrote nothing meanwhile. Other processes'
 * writes do not move it. */
uint64_t data_write_generation(void);
/* Where the calling thread's writes spent their time, in microseconds,
 * added up since the caller last zeroed it (issue 23: writes_bench.sh's
 * split, sent as Server-Timing when FUSIONMAP_SPLIT=1): the geometry's
 * validity checked before the transaction, waiting for the write queue's
 * turn, the rows, the event record, the conflict check, the
 * COMMIT, and waiting for its sync to disk. */
enum data_split_part {
    DATA_SPLIT_GEOMETRY, DATA_SPLIT_QUEUE, DATA_SPLIT_ROWS, DATA_SPLIT_EVENT, DATA_SPLIT_CONFLICTS,
    DATA_SPLIT_COMMIT, DATA_SPLIT_SYNC, DATA_SPLIT_PARTS
};
extern _Thread_local int64_t data_split_us[DATA_SPLIT_PARTS];
/* The events v may see among the (at most) `limit` records after seq
 * `since`, as a JSON array of {seq, at, user, party, action, collection,
 * item, version, hash, before, after}. `limit` counts records read, seen or
 * not: fewer events than limit does not mean the end of the log. OUT *out. */
fm_rc data_events_since(struct data_db *db, const struct data_viewer *v, int64_t since,
                        long limit, json_t **out, struct fm_err *err);
/* The same, and OUT *scanned (may be NULL): the sequence number of the last
 * record read (since when none was): every event v may see in (since,
 * *scanned] is in *out, so a reader continues from *scanned, and *scanned
 * == since means there was nothing after since. */
fm_rc data_events_scan(struct data_db *db, const struct data_viewer *v, int64_t since,
                       long limit, json_t **out, int64_t *scanned, struct fm_err *err);
/* Checks the hash chain, and that every record of an item version holds
 * that version and every version has its record. *bad_seq is 0 when
 * intact, else the first bad record, with the reason in err->msg. *count
 * is the number of records read. FM_OK unless the check itself failed. */
fm_rc data_events_verify(struct data_db *db, int64_t *bad_seq, int64_t *count,
                         struct fm_err *err);
/* Writes the whole log as JSON lines (one record a line, then a closing
 * line with the count and the head hash) for either side to keep and
 * verify offline. Every record, drafts included: an operator's tool. */
fm_rc data_events_export(struct data_db *db, FILE *out, int64_t *count, struct fm_err *err);
/* Checks an export's own chain, with no database. */
fm_rc data_events_verify_file(const char *path, int64_t *bad_seq, int64_t *count,
                              struct fm_err *err);
/* The same, and OUT *heads: the cosigned heads the chain passes through
 * (heads.c), each checked against the record it names. */
fm_rc data_events_verify_heads(struct data_db *db, int64_t *bad_seq, int64_t *count,
                               int64_t *heads, struct fm_err *err);
fm_rc data_events_verify_file_heads(const char *path, int64_t *bad_seq, int64_t *count,
                                    int64_t *heads, struct fm_err *err);
/* A record's digest (chain v2, events.c): hex SHA-256 of its canonical
 * text; FM_EINVAL for a text that is not UTF-8. */
struct store_event;
fm_rc data_event_digest(const struct store_event *r, char out[65]);
/* v2's link: hex SHA-256(prev || digest). */
void data_event_link(const char *prev, const char *digest, char out[65]);
/* Checks a party's own copy of heads it cosigned (a JSON file: POST
 * /heads' answer, or GET /heads' list) against the database's log: each
 * record must be there with the hash signed. For a rewrite that removed
 * the cosign records too. *bad_seq: the first that fails; *checked. */
fm_rc data_events_check_head(struct data_db *db, const char *path, int64_t *bad_seq,
                             int64_t *checked, struct fm_err *err);
/* Checks that an earlier export is still the start of the database's log
 * (nothing cut short or rewritten since). */
fm_rc data_events_verify_against(struct data_db *db, const char *path, int64_t *bad_seq,
                                 int64_t *count, struct fm_err *err);
/* An evidence bundle (evidence.c), checked offline as tests/verify_export.py
 * does: data_bundle_read is 1 and OUT *out when path holds one JSON object
 * of type "fusionmap evidence" (0: not a bundle, perhaps an export). Then
 * data_bundle_verify: the chain from record 1 through every digest to the
 * head, every signature (the bundle's keys checked against their
 * fingerprints), every cosigned head; out->bad the first bad record (the
 * reason in err->msg), 0 when it holds. */
struct data_bundle_check {
    int64_t bad;
    int64_t records, full, given, nsigned, heads;
};
int data_bundle_read(const char *path, json_t **out);
fm_rc data_bundle_verify(const json_t *bundle, struct data_bundle_check *out, struct fm_err *err);

/* ---- conflicts (conflicts.c) ------------------------------------------ */

/* The engine checks every write inside its transaction (see DESIGN.md and
 * conflicts.c for the rules). A conflict is one of two items in a kind;
 * its id is stable per (kind, pair). A conflict with a draft is seen only
 * by the draft's owner party; a viewer sees none of those. Conflicts
 * travel as compact GeoJSON Feature text: id, geometry (where they
 * clash), properties kind, title, items [{collection,id,version}] (two),
 * interval [from, to] (RFC 3339 or null: open), altitude_band [floor,
 * ceiling] (metres or null), severity 1-5, state open|resolved,
 * opened_at, updated_at, resolved_at, resolved_by, comment, revision. */

struct data_conflict_query {
    const char *state; /* "open", "resolved" or NULL: both */
    int has_bbox;
    double bbox[4]; /* minlon, minlat, maxlon, maxlat */
    long limit;     /* 1..10000 */
    long offset;    /* >= 0 */
    enum data_geom geom; /* only this family of geometries (0: any) */
    int has_t;           /* as of t: the conflicts as their records said then */
    fm_time t;
    int has_time;        /* datetime: the clash's interval (open ends: open) meets [t0, t1] */
    fm_time t0, t1;      /* INT64_MIN / INT64_MAX for open ends */
};

/* Called once per conflict in id order with borrowed Feature text;
 * return nonzero to stop. */
typedef int (*data_conflict_cb)(void *ctx, int64_t id, const char *feature);

/* The conflicts v may see; *matched counts them without limit/offset. */
fm_rc data_conflicts_query(struct data_db *db, const struct data_viewer *v,
                           const struct data_conflict_query *q, data_conflict_cb cb, void *ctx,
                           long *matched, struct fm_err *err);
/* One conflict. OUT *out (json_decref). FM_ENOTFOUND if absent or unseen. */
fm_rc data_conflict_get(struct data_db *db, const struct data_viewer *v, int64_t id, json_t **out,
                        struct fm_err *err);
/* The supervisor closes an open conflict with a comment (1-2000 bytes).
 * It stays resolved while neither item changes. FM_EFORBID for anyone
 * else, FM_ECONFLICT if already resolved. OUT *out: the conflict after. */
fm_rc data_conflict_resolve(struct data_db *db, const struct data_viewer *v, int64_t id,
                            const char *comment, json_t **out, struct fm_err *err);

struct data_recheck_stats {
    long items;    /* live items looked at */
    long found;    /* clashes that hold at the time */
    long opened;   /* conflicts opened or re-opened */
    long resolved; /* conflicts resolved because they no longer hold */
};
/* Checks everything against everything as of time `at` (time windows
 * open and close conflicts without a write), in one transaction, and
 * logs each change as an event by user "system". OUT *stats. */
fm_rc data_conflicts_recheck(struct data_db *db, fm_time at, struct data_recheck_stats *stats,
                             struct fm_err *err);
/* How near (metres, > 0) an incident must be to a movement in progress
 * to conflict with it; stored in the database (default 1000). */
fm_rc data_conflicts_set_near(struct data_db *db, double metres, struct fm_err *err);

/* ---- demo ------------------------------------------------------------- */

/* On an empty database: parties A, B, SUP, one user per role (password =
 * the name), and a handful of items in the demo area. FM_OK and nothing
 * done when users exist. *created is 1 when it did the work. */
fm_rc data_demo_seed(struct data_db *db, int *created, struct fm_err *err);

/* ---- keys and signed answers (keys.c, jcs.c) ------------------------- */

/* The RFC 8785 (JCS) text of v. Restricted to objects, arrays, strings,
 * integers within +-(2^53 - 1), true, false, null: a real is FM_EINVAL.
 * OUT *out (free), *len (may be NULL). */
fm_rc data_jcs(const json_t *v, char **out, size_t *len, struct fm_err *err);

/* A key file (README, "Keys and signed answers"): makes a new Ed25519 key
 * pair into path (mode 0600, never over an existing file). OUT the
 * public key in base64 (45 bytes) and its fingerprint (65: hex SHA-256
 * of the 32 raw bytes). */
fm_rc data_keyfile_new(const char *path, char pub_b64[45], char fingerprint[65],
                       struct fm_err *err);
/* Reads a key file's public half. */
fm_rc data_keyfile_public(const char *path, char pub_b64[45], char fingerprint[65],
                          struct fm_err *err);
/* Signs n bytes with the key file's key: OUT the base64 signature (89). */
fm_rc data_keyfile_sign(const char *path, const void *msg, size_t n, char sig_b64[89],
                        struct fm_err *err);

/* Registers public key pub_b64 (32 raw bytes in base64) for v's user, a
 * record in the log; from: where the request came from (address, agent).
 * FM_ECONFLICT when that key is registered already (to anyone, or
 * revoked). OUT *out: {fingerprint, public_key, created, from}. */
fm_rc data_key_add(struct data_db *db, const struct data_viewer *v, const char *pub_b64,
                   const char *from, json_t **out, struct fm_err *err);
/* v's own keys, oldest first, revoked ones included. OUT *out. */
fm_rc data_keys(struct data_db *db, const struct data_viewer *v, json_t **out,
                struct fm_err *err);
/* Every key of v's party, every member's, oldest first (a new-key notice:
 * the page tells its user of one it has not seen). OUT *out. */
fm_rc data_keys_party(struct data_db *db, const struct data_viewer *v, json_t **out,
                      struct fm_err *err);
/* Revokes v's key `fingerprint` (a record): answers signed before stay
 * valid. FM_ENOTFOUND when v has no such key (another user's key too). */
fm_rc data_key_revoke(struct data_db *db, const struct data_viewer *v, const char *fingerprint,
                      struct fm_err *err);

/* The exact statement v signs to answer version `version` of item id
 * with decision and comment at time `at` (JCS text). OUT *out (free). */
fm_rc data_item_statement(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                          int64_t id, int64_t version, const char *decision,
                          const char *comment, fm_time at, char **out, struct fm_err *err);
/* Checks every signed answer of an export (events export) against the
 * keys its records register, with no database; run after the chain
 * verified. OUT *bad_seq (0: all good), *nsigned. */
fm_rc data_signatures_verify_file(const char *path, int64_t *bad_seq, int64_t *nsigned,
                                  struct fm_err *err);

/* ---- cosigned heads (heads.c): a history both sides witness ----------- */

/* The log's record seq (0: the last) as v would cosign it: {seq, hash,
 * statement}, the statement being the JCS text to sign, timed now. Only a
 * liaison or the supervisor cosigns (FM_EFORBID); FM_ENOTFOUND past the
 * head. */
fm_rc data_head(struct data_db *db, const struct data_viewer *v, int64_t seq, json_t **out,
                struct fm_err *err);
/* v cosigns record seq's hash with sig (required): refused when hash is
 * not the server's own record's (FM_ECONFLICT: a fork), when v cosigned
 * that seq already (FM_ECONFLICT), and as a signed answer's signature is
 * refused. A record of the log (action cosign). OUT *out: the head. */
fm_rc data_head_cosign(struct data_db *db, const struct data_viewer *v, int64_t seq,
                       const char *hash, const struct data_signature *sig, json_t **out,
                       struct fm_err *err);
/* Every cosigned head, oldest first: {seq, hash, user, party, signature,
 * recorded}. */
fm_rc data_heads(struct data_db *db, const struct data_viewer *v, json_t **out,
                 struct fm_err *err);

/* ---- evidence bundles (evidence.c) -------------------------------------- */

/* The evidence bundle of item (c, id) for v (evidence.c's head comment):
 * its records in full, every other record as its digest, the cosigned
 * heads, the signers' keys. FM_ENOTFOUND when v may not see the item (a
 * draft of another party). OUT *out. */
fm_rc data_evidence(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                    json_t **out, struct fm_err *err);
/* A slice of the log for a party's own witness pass (the liaison page
 * checks the chain before it cosigns): the records after since (at most
 * limit), each as in a bundle: in full (its hashed fields and hash) when
 * v reads all of it, else {seq, digest, hash} (v2) or {seq, hash} (v1).
 * OUT *out: the array. */
fm_rc data_events_chain(struct data_db *db, const struct data_viewer *v, int64_t since, long limit,
                        json_t **out, struct fm_err *err);
/* The area a bundle's picture shows: the item's extent (its current
 * version, as v sees it) with a margin, at least some 2 km across. */
fm_rc data_evidence_area(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                         int64_t id, double bbox[4], struct fm_err *err);
/* Puts the picture (PNG bytes) into bundle as "picture": {"png": base64,
 * "bbox", "drawn": time, "sha256"}: the server's drawing, outside the
 * chain (the verifiers check that it is a PNG and its digest, not what it
 * shows). */
void data_evidence_picture(json_t *bundle, const unsigned char *png, size_t len,
                           const double bbox[4]);

/* ---- import, export, Cursor-on-Target (import.c, export.c, cot.c) ---- */

/* Files go through GDAL/OGR; the live database is never opened by GDAL.
 * Formats by name: "geojson", "kml", "kmz", "gpx", "gpkg", "shp" (a
 * zipped Shapefile), "csv" (a WKT column, or lon/lat columns). */

/* The format a file name's extension implies (".shp.zip" and ".zip" are
 * "shp"), or NULL. Returns a constant. */
const char *data_format_from_name(const char *name);

struct data_import_opts {
    const char *format;          /* as above; NULL: from the file name */
    int dry_run;                 /* the same report, nothing written */
    int skip_bad;                /* write the good features, list the bad */
    long max_features;           /* more than this: FM_ETOOBIG */
    int64_t max_file_bytes;      /* the file itself */
    int64_t max_unzipped_bytes;  /* a KMZ or zip, every member together */
    double max_zip_ratio;        /* uncompressed/compressed, per member */
    /* called now and then while reading (may be NULL) */
    void (*progress)(void *ctx, long done, long total);
    void *progress_ctx;
};
void data_import_opts_default(struct data_import_opts *o);

/* Imports every feature of the file at path (a real file: the caller
 * writes uploads to a private temporary file) into collection c as drafts
 * of v's party, by v. Attributes are mapped to fields (see import.c);
 * geometries are reprojected to WGS84 from the CRS the file declares.
 * Each feature is validated as a POST is. One transaction: all or
 * nothing, unless skip_bad. OUT *report (json_decref), set whenever the
 * file could be read, even when features were refused:
 *   {collection, format, features, dry_run, skip_bad, committed,
 *    created: [{index, id, title}], refused: [{index, pointer, reason}]}
 * committed is false for a dry run, and when a feature was refused
 * without skip_bad (then nothing was written). Errors of the file as a
 * whole (unreadable, wrong format, unknown CRS, a zip bomb, a path
 * trick, over a limit) return an error, write nothing, and set no
 * report. */
fm_rc data_import(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                  const char *path, const struct data_import_opts *o,
                  const struct data_limits *lim, json_t **report, struct fm_err *err);

/* The importing user of the command line: user `name` if given (it must
 * belong to party), else the party's first liaison (then its first
 * supervisor). OUT *out. */
fm_rc data_import_viewer(struct data_db *db, const char *party, const char *name,
                         struct data_viewer *out, struct fm_err *err);

/* Exports what q matches for v (limit and offset ignored: everything,
 * at most max_features) in format (as above). OUT *bytes (free()),
 * *len; *ctype and *ext are constants (the MIME type, the file
 * extension). FM_EINVAL for a format that cannot hold the items (GPX:
 * zones; Shapefile: mixed geometry types). */
fm_rc data_export(struct data_db *db, const struct data_viewer *v, const struct data_query *q,
                  const char *format, long max_features, char **bytes, size_t *len,
                  const char **ctype, const char **ext, struct fm_err *err);
/* data_export with the geometries in EPSG:srid (0: as stored, CRS84), by
 * GDAL's -t_srs; KML and GPX are WGS 84 by definition: FM_EINVAL naming
 * "crs" for them with an srid (issue 22: crs on exports). */
fm_rc data_export_srs(struct data_db *db, const struct data_viewer *v, const struct data_query *q,
                      const char *format, int srid, long max_features, char **bytes, size_t *len,
                      const char **ctype, const char **ext, struct fm_err *err);

/* Every item v may see (of every collection, as of asof if has_asof) as
 * Cursor-on-Target events in an <events> list: uid
 * "fusionmap-<collection>-<id>", stale from valid_to (see cot.c for the
 * type codes). OUT *xml (free()), *len. */
fm_rc data_cot(struct data_db *db, const struct data_viewer *v, int has_asof, fm_time asof,
               char **xml, size_t *len, struct fm_err *err);
/* One record of the log (an element of data_events_scan's answer, so
 * already what its viewer may see) as CoT, appended to out: the item's
 * events after the change, or a forced delete (t-x-d-d) of each of its
 * uids when it was withdrawn; nothing for a record that is not an item's.
 * parties: data_parties' answer (the colours). */
fm_rc data_cot_record(const json_t *parties, const json_t *event, struct fm_buf *out);

#endif
