/* store.h - the storage under data/'s rules (DESIGN.md, "Beyond one
 * machine").
 *
 * The rules of data/ are C above this interface: who sees what, the
 * workflow, the conflict rules, the canonical event text, passwords,
 * tokens and the login policy. A backend only keeps rows and finds them
 * again. One implementation per backend, each in its folder of data/
 * (data/sqlite/, data/pg/), chosen by data_open from the
 * --db argument, in the manner of SQLite's VFS.
 *
 * The interface grows a slice at a time, as the files of data/ move their
 * SQL under it: the accounts (parties, users, sessions, tokens and the
 * login counts of users.c), the event log (events.c: the canonical text
 * and the chain are its, the rows are the store's), items and their
 * versions (items.c), imports (import.c), answers (acks.c), users'
 * signing keys (keys.c), messages, receipts and rulings (messages.c,
 * rulings.c), the picture of now's rows (picture.c), queries (query.c),
 * the conflicts' rows and the items they are found among (conflicts.c:
 * the rules and the geometry are C above, geom.c). replay.c, whose SQL
 * has not moved yet, still includes data/sqlite/sqlite.h.
 *
 * Rules for every operation: it runs on the caller's connection, inside
 * the caller's transaction when one is open (begin .. commit/rollback), and
 * is one statement's worth of work; it returns FM_OK, FM_ENOTFOUND where
 * said, or the backend's failure translated once (FM_EDB, FM_EBUSY) with
 * the reason in err. Rows handed to a callback are borrowed for the call;
 * a callback returns nonzero to stop. Times are fm_time seconds unless the
 * name says milliseconds (_ms).
 */
#ifndef DATA_STORE_H
#define DATA_STORE_H

#include "data.h"

struct store_party {
    const char *code, *name, *colour, *kind; /* kind: "side" or "supervisor" */
};
struct store_user {
    int64_t id;
    const char *name, *party, *role;
    const char *pwhash; /* argon2id, encoded */
    fm_time created_at;
};
/* A session's or token's row: its user, when it was made and last used. */
struct store_secret {
    struct store_user user;
    const char *hash; /* hex SHA-256 of the secret, as stored */
    fm_time created_at, used_at;
};
enum store_secret_kind { STORE_SESSION, STORE_TOKEN };

/* An event record as kept: the fields the chain hashes (events.c writes
 * their canonical text), the visibility of its two sides (vis_owner_only)
 * and the chain's two hashes (hex). */
struct store_event {
    int64_t seq;
    fm_time at;
    const char *user, *party, *action;
    const char *collection, *owner; /* may be NULL */
    int64_t item, version;
    const char *before, *after; /* may be NULL */
    int before_owner_only, after_owner_only;
    const char *prev_hash, *hash;
};

/* A version of an item as kept. On insert: every field but vid, sys_from
 * is `at`, and geometry is the GeoJSON text of the feature's geometry.
 * Read back (version_current, versions_each): created_at and created_by
 * are the item's, geometry is NULL. */
struct store_version {
    int64_t vid, item, version;
    const char *collection, *party, *status;
    const char *type, *title; /* may be NULL */
    int has_from, has_to, has_floor, has_ceiling;
    fm_time valid_from, valid_to;
    double alt_floor, alt_ceiling;
    fm_time sys_from;
    const char *action, *by;
    const char *feature; /* the Feature's JSON text */
    const char *geometry;
    int owner_only; /* vis_owner_only */
    fm_time created_at;
    const char *created_by;
};

/* A user's public signing key (keys.c). */
struct store_key {
    const char *fingerprint; /* hex SHA-256 of the raw key */
    const char *user, *party;
    const char *public_key; /* base64 of the 32 raw bytes */
    const char *created_from;
    fm_time created_at;
    fm_time revoked_at; /* 0: current */
};

/* An answer (acknowledgement or dispute) of one party to one version. */
struct store_ack {
    int64_t item, version;
    const char *party, *user;
    fm_time at;
    const char *decision; /* "ack" or "dispute" */
    const char *comment;  /* may be NULL */
};

/* A message of a thread, or a "seen" receipt (text NULL, upto set). */
struct store_message {
    int64_t id;
    const char *thread;  /* "zones/12", "channel/all" */
    const char *readers; /* NULL: everyone who reads the thread; else "A" or "A,SUP" */
    const char *party, *user;
    fm_time at;
    const char *text;                 /* messages */
    const char *quote_coll;           /* NULL: no quote */
    int64_t quote_id, quote_version;
    int64_t upto;                     /* receipts: seen up to this message id */
};
/* A ruling of the supervisor on one version of an item. */
struct store_ruling {
    int64_t id, item, version;
    const char *party, *user, *decision, *reason;
    fm_time at;
};
/* A cosigned head (heads.c): user of party signed that the log's record
 * seq has hash `hash`, with key at `at` (the statement's time). */
struct store_head {
    int64_t id, seq;
    const char *hash, *user, *party, *key, *signature;
    fm_time at, recorded_at;
};
/* The newest version of an item, withdrawn or not. */
struct store_item_head {
    char coll[16], party[16], status[24];
    int64_t version;
    int owner_only;
};

/* A rule of lead time and answer for the items of (collection, type)
 * (rules.c); type "*": every type of the collection. Seconds. */
struct store_rule {
    const char *collection, *type;
    int64_t notice_s, urgent_notice_s, answer_s, answer_before_s;
    fm_time at;
    const char *by;
};
/* A version that waits for the other side's answer, and its deadline
 * (rules.c). overdue_at 0: not (yet) overdue. */
struct store_deadline {
    int64_t item, version;
    const char *collection, *party;
    fm_time notified_at, due_at, overdue_at;
};

/* An item's current version as the conflict rules read it (conflicts.c):
 * its attributes, its bounding box and its geometry as WKB (borrowed). */
struct store_citem {
    int64_t vid, id, version;
    const char *collection, *party, *status, *type; /* type "" when none */
    int has_from, has_to, has_floor, has_ceil;
    fm_time from, to;
    double floor, ceil;
    double corridor_m; /* movements: corridor_width_m (0 when none); else 0 */
    int severity;      /* incidents: the severity (3 when none); else 3 */
    double box[4];     /* minx, miny, maxx, maxy */
    const unsigned char *wkb;
    size_t wkb_len;
};
/* The live current items of collection coll that may pair with one item
 * (conflicts.c check_against): box meets box; not item self, id >=
 * min_id; not over by now; valid windows meet (from, to) where given;
 * and the filters that follow from that item alone, each off when 0 or
 * NULL: ztypes 1, zones of type restricted or protected_site (2: or
 * no_fly); aironly, movements of type air; otherparty, items of another
 * party; draftparty, drafts of that party only; floor/ceil, altitude bands
 * that meet (floor, ceil). A superset: the rules decide. */
struct store_cand_query {
    enum data_coll coll;
    double box[4];
    int64_t self, min_id;
    fm_time now;
    int has_from, has_to, has_floor, has_ceil;
    fm_time from, to;
    double floor, ceil;
    int ztypes, aironly;
    const char *otherparty, *draftparty;
};
/* A conflict's row: kind and pair, the versions that clash, where and
 * when, its state, and who sees it (vis: the one party, NULL: everyone).
 * geojson is the clash geometry's GeoJSON text as kept (the Feature's
 * geometry, byte for byte); wkb the same geometry, given on insert and
 * update only. */
struct store_conflict {
    int64_t id;
    const char *kind, *a_coll, *b_coll;
    int64_t a_id, a_version, b_id, b_version;
    int has_tf, has_tt, has_af, has_ac, has_resolved_at;
    fm_time t_from, t_to, opened_at, updated_at, resolved_at;
    double alt_floor, alt_ceiling;
    int64_t severity, revision;
    const char *state, *resolved_by, *comment, *vis;
    const char *geojson;
    const unsigned char *wkb;
    size_t wkb_len;
};
/* The conflicts a query asks for (data_conflicts_query of now). */
struct store_conflict_query {
    const char *vparty; /* the party whose owner-only conflicts are seen */
    const char *state;  /* NULL: any */
    enum data_geom geom;
    int has_bbox;
    double bbox[4];
    long limit, offset;
    int64_t id; /* > 0: that conflict only */
    int has_time; /* the interval t_from..t_to (NULL: open) meets [t0, t1] */
    fm_time t0, t1;
};

typedef int (*store_citem_cb)(void *ctx, const struct store_citem *x);
typedef int (*store_conflict_cb)(void *ctx, const struct store_conflict *c);
typedef int (*store_id_cb)(void *ctx, int64_t id);
typedef int (*store_party_cb)(void *ctx, const struct store_party *p);
typedef int (*store_user_cb)(void *ctx, const struct store_user *u);
typedef int (*store_secret_cb)(void *ctx, const struct store_secret *s);
typedef int (*store_event_cb)(void *ctx, const struct store_event *e);
typedef int (*store_version_cb)(void *ctx, const struct store_version *r);
typedef int (*store_ack_cb)(void *ctx, const struct store_ack *a);
typedef int (*store_key_cb)(void *ctx, const struct store_key *k);
typedef int (*store_message_cb)(void *ctx, const struct store_message *m);
typedef int (*store_ruling_cb)(void *ctx, const struct store_ruling *r);
typedef int (*store_head_cb)(void *ctx, const struct store_head *h);
typedef int (*store_rule_cb)(void *ctx, const struct store_rule *r);
typedef int (*store_deadline_cb)(void *ctx, const struct store_deadline *d);

/* A row of the picture of now (picture.c): what a tile draws of an item
 * or an open conflict (data_pic_row, borrowed), its box as the picture
 * tests it (xmin, xmax, ymin, ymax: a movement's widened by half its
 * corridor, capped at DATA_PIC_MAX_CORRIDOR_M, as migration 6's R*Trees
 * keep it), and for a conflict the only party that sees it (NULL: every
 * party). */
struct store_pic_row {
    struct data_pic_row row;
    double box[4];
    const char *vis;
};
typedef int (*store_pic_cb)(void *ctx, const struct store_pic_row *r);
/* An item or conflict a log record names: its collection and id. */
typedef int (*store_named_cb)(void *ctx, const char *collection, int64_t id);

/* A cell's rows, table by table, as `fusionmap copy` moves them between
 * backends (copy.c): a column's value typed as every backend can keep it;
 * a geometry travels as WKB (2D, EPSG:4326). */
enum store_vtype { STORE_V_NULL, STORE_V_INT, STORE_V_REAL, STORE_V_TEXT, STORE_V_WKB };
struct store_value {
    enum store_vtype type;
    int64_t i;
    double r;
    const char *s;          /* TEXT */
    const unsigned char *b; /* WKB, n bytes */
    size_t n;
};
/* A column of a table as kept: its name, and whether it holds geometries. */
typedef int (*store_column_cb)(void *ctx, const char *name, int geometry);
/* A row: n values, in the order of the columns asked for. */
typedef int (*store_row_cb)(void *ctx, const struct store_value *v, int n);

struct store_ops {
    const char *name; /* "sqlite", "postgresql" */
    /* Closes the connection and frees it (data_close). */
    void (*close)(struct data_db *db);

    /* ---- transactions: one writer at a time, from begin on ---- */
    fm_rc (*begin)(struct data_db *db, struct fm_err *err);
    fm_rc (*commit)(struct data_db *db, struct fm_err *err);
    void (*rollback)(struct data_db *db);
    /* Savepoints inside a transaction: a part that may be undone alone
     * (an imported feature refused). One name at a time. */
    fm_rc (*savepoint)(struct data_db *db, struct fm_err *err);
    fm_rc (*savepoint_release)(struct data_db *db, struct fm_err *err);
    /* Undoes the writes since the savepoint, and releases it. */
    fm_rc (*savepoint_undo)(struct data_db *db, struct fm_err *err);
    /* A read of one state, for reads that must not see half of a write
     * committed meanwhile (verify); no write inside. */
    fm_rc (*snapshot_begin)(struct data_db *db, struct fm_err *err);
    void (*snapshot_end)(struct data_db *db);

    /* ---- parties ---- */
    /* Every party, by code. */
    fm_rc (*parties_each)(struct data_db *db, store_party_cb cb, void *ctx, struct fm_err *err);
    /* The party `code`; FM_ENOTFOUND when there is none. */
    fm_rc (*party_get)(struct data_db *db, const char *code, store_party_cb cb, void *ctx,
                       struct fm_err *err);
    /* Adds the party, or changes the one of its code. FM_EINVAL for a kind
     * the store refuses. */
    fm_rc (*party_put)(struct data_db *db, const struct store_party *p, struct fm_err *err);

    /* ---- users ---- */
    /* Every user, by name (order_by_id: by id, the order they were made). */
    fm_rc (*users_each)(struct data_db *db, int order_by_id, store_user_cb cb, void *ctx,
                        struct fm_err *err);
    /* The user `name`; FM_ENOTFOUND when there is none. */
    fm_rc (*user_get)(struct data_db *db, const char *name, store_user_cb cb, void *ctx,
                      struct fm_err *err);
    /* Adds u (its id is ignored). OUT *id. FM_ECONFLICT when the name is
     * taken, FM_ENOTFOUND when its party does not exist. */
    fm_rc (*user_insert)(struct data_db *db, const struct store_user *u, int64_t *id,
                         struct fm_err *err);
    fm_rc (*user_count)(struct data_db *db, long *out, struct fm_err *err);

    /* ---- sessions and bearer tokens, by the hash of the secret ---- */
    fm_rc (*secret_insert)(struct data_db *db, enum store_secret_kind kind, const char *hash,
                           int64_t user_id, fm_time at, struct fm_err *err);
    /* The row and its user; FM_ENOTFOUND when there is none. */
    fm_rc (*secret_get)(struct data_db *db, enum store_secret_kind kind, const char *hash,
                        store_secret_cb cb, void *ctx, struct fm_err *err);
    /* A session used at `at`; a session ended. Unknown hashes: FM_OK. */
    fm_rc (*session_touch)(struct data_db *db, const char *hash, fm_time at, struct fm_err *err);
    fm_rc (*session_delete)(struct data_db *db, const char *hash, struct fm_err *err);

    /* ---- login throttling: counts and known pairs, by key ---- */
    /* The count of key: *failures and *last_ms, both 0 when absent. */
    fm_rc (*count_get)(struct data_db *db, const char *key, long *failures, int64_t *last_ms,
                       struct fm_err *err);
    /* Sets (adds) the count of key. */
    fm_rc (*count_put)(struct data_db *db, const char *key, long failures, int64_t last_ms,
                       struct fm_err *err);
    fm_rc (*count_delete)(struct data_db *db, const char *key, struct fm_err *err);
    /* Is key known since since_ms? OUT *known (0 or 1). */
    fm_rc (*known_get)(struct data_db *db, const char *key, int64_t since_ms, int *known,
                       struct fm_err *err);
    /* Marks key known at at_ms. */
    fm_rc (*known_put)(struct data_db *db, const char *key, int64_t at_ms, struct fm_err *err);
    /* Forgets the counts last moved before counts_ms and the keys known
     * last before known_ms. */
    fm_rc (*login_forget)(struct data_db *db, int64_t counts_ms, int64_t known_ms,
                          struct fm_err *err);

    /* ---- the event log: append-only, by seq from 1 ---- */
    /* The last record's seq and hash: 0 and "" when the log is empty. */
    fm_rc (*event_head)(struct data_db *db, int64_t *seq, char hash[65], struct fm_err *err);
    /* Keeps e as it is (the caller made its seq and hashes). */
    fm_rc (*event_insert)(struct data_db *db, const struct store_event *e, struct fm_err *err);
    /* The records after since, in order of seq; at most limit (< 0: all). */
    fm_rc (*events_each)(struct data_db *db, int64_t since, long limit, store_event_cb cb,
                         void *ctx, struct fm_err *err);
    /* For each item of collection with a record at or before `until`, its
     * latest such record, by item id (the conflicts as of a time). */
    fm_rc (*events_latest)(struct data_db *db, const char *collection, fm_time until,
                           store_event_cb cb, void *ctx, struct fm_err *err);
    /* The hash of record seq; FM_ENOTFOUND when there is none. */
    fm_rc (*event_hash)(struct data_db *db, int64_t seq, char hash[65], struct fm_err *err);
    /* The collection and item id of each record in (from, to] that names
     * one, in order of seq (the picture's updates). */
    fm_rc (*events_named)(struct data_db *db, int64_t from, int64_t to, store_named_cb cb,
                          void *ctx, struct fm_err *err);
    /* verify's cross-check of the log and the item versions: the first
     * record of a version (EVENT_VERSION_ACTIONS) whose after is not the
     * kept version's text (*seq, 0 when none); and the first kept version
     * with no such record (*item and *version, 0 when none). */
    fm_rc (*event_version_mismatch)(struct data_db *db, int64_t *seq, struct fm_err *err);
    fm_rc (*version_unrecorded)(struct data_db *db, int64_t *item, int64_t *version,
                                struct fm_err *err);

    /* ---- items and their versions: a version is never changed but closed ---- */
    /* Is the GeoJSON geometry readable (*readable) and valid by GEOS's rules
     * (*valid; reason: why not, with where)? */
    fm_rc (*geometry_check)(struct data_db *db, const char *geojson, int *readable, int *valid,
                            char reason[200], struct fm_err *err);
    /* A new item of collection, owned by party. OUT *id. */
    fm_rc (*item_insert)(struct data_db *db, const char *collection, const char *party, fm_time at,
                         const char *by, int64_t *id, struct fm_err *err);
    fm_rc (*version_insert)(struct data_db *db, const struct store_version *r, struct fm_err *err);
    /* Closes version vid at `at` (its sys_to). */
    fm_rc (*version_close)(struct data_db *db, int64_t vid, fm_time at, struct fm_err *err);
    /* The open version of item id of collection; FM_ENOTFOUND when none. */
    fm_rc (*version_current)(struct data_db *db, const char *collection, int64_t id,
                             store_version_cb cb, void *ctx, struct fm_err *err);
    /* Every version of item id of collection, by version. */
    fm_rc (*versions_each)(struct data_db *db, const char *collection, int64_t id,
                           store_version_cb cb, void *ctx, struct fm_err *err);

    /* Version `version` of item id, whatever its state; FM_ENOTFOUND when
     * there is none. */
    fm_rc (*version_get)(struct data_db *db, int64_t id, int64_t version, store_version_cb cb,
                         void *ctx, struct fm_err *err);
    /* The open versions of every item, by item id: of status `status`
     * only (NULL: any); with unanswered_by, only other parties' items
     * that party has not answered (NULL: all). */
    fm_rc (*current_each)(struct data_db *db, const char *status, const char *unanswered_by,
                          store_version_cb cb, void *ctx, struct fm_err *err);

    /* ---- answers (acknowledgements, disputes) ---- */
    /* Keeps a; FM_ECONFLICT when that party has answered that version. */
    fm_rc (*ack_insert)(struct data_db *db, const struct store_ack *a, struct fm_err *err);
    /* The answers to item id, in the order they were given. */
    fm_rc (*acks_each)(struct data_db *db, int64_t id, store_ack_cb cb, void *ctx,
                       struct fm_err *err);
    /* Has a party other than `except` acknowledged version of item id? */
    fm_rc (*ack_exists)(struct data_db *db, int64_t id, int64_t version, const char *except,
                        int *yes, struct fm_err *err);
    /* ---- users' public signing keys (data/sqlite/keys.c) ---- */
    /* Adds k (revoked_at ignored). FM_ECONFLICT when its fingerprint is
     * there already. */
    fm_rc (*key_insert)(struct data_db *db, const struct store_key *k, struct fm_err *err);
    /* The key `fingerprint`; FM_ENOTFOUND when there is none. */
    fm_rc (*key_get)(struct data_db *db, const char *fingerprint, store_key_cb cb, void *ctx,
                     struct fm_err *err);
    /* The keys of user (NULL: everyone's), in the order they were added. */
    fm_rc (*keys_each)(struct data_db *db, const char *user, store_key_cb cb, void *ctx,
                       struct fm_err *err);
    /* Marks a current key revoked at `at`; FM_ENOTFOUND when there is no
     * current key of that fingerprint. */
    fm_rc (*key_revoke)(struct data_db *db, const char *fingerprint, fm_time at,
                        struct fm_err *err);
    /* ---- messages and "seen" receipts (sqlite/messages.c) ---- */
    /* The newest version of item id (any status); version > 0: that
     * version instead. FM_ENOTFOUND when there is none. */
    fm_rc (*item_head)(struct data_db *db, int64_t id, int64_t version,
                       struct store_item_head *out, struct fm_err *err);
    /* Adds m (its id is ignored). OUT *id. */
    fm_rc (*message_insert)(struct data_db *db, const struct store_message *m, int64_t *id,
                            struct fm_err *err);
    fm_rc (*receipt_insert)(struct data_db *db, const struct store_message *m, int64_t *id,
                            struct fm_err *err);
    /* The messages (receipts) of thread (NULL: every thread) with an id
     * above since, by id. */
    fm_rc (*messages_each)(struct data_db *db, const char *thread, int64_t since,
                           store_message_cb cb, void *ctx, struct fm_err *err);
    fm_rc (*receipts_each)(struct data_db *db, const char *thread, store_message_cb cb,
                           void *ctx, struct fm_err *err);

    /* ---- rulings (sqlite/messages.c) ---- */
    /* Adds r (its id is ignored). OUT *id. FM_ECONFLICT when that version
     * has its ruling already. */
    fm_rc (*ruling_insert)(struct data_db *db, const struct store_ruling *r, int64_t *id,
                           struct fm_err *err);
    /* The rulings on item (0: every item), by id. */
    fm_rc (*rulings_each)(struct data_db *db, int64_t item, store_ruling_cb cb, void *ctx,
                          struct fm_err *err);

    /* ---- queries (sqlite/query.c) ----
     * vparty: the party whose drafts the viewer sees (NULL: no drafts);
     * every other rule (checks, the picture of now, reach) is query.c's. */
    /* The versions q asks for (data_query; its filter and sort, trees
     * from server/cql2.c, written as the backend's SQL by sqlfilter.c),
     * in its sort then by id, limit/offset applied; *matched (if not NULL): how many without
     * them; cb may be NULL (the count only). */
    fm_rc (*items_query)(struct data_db *db, const struct data_query *q, const char *vparty,
                         data_item_cb cb, void *ctx, long *matched, struct fm_err *err);
    /* The extent of the current versions of collection c (one family g,
     * or DATA_GEOM_ANY) that a query with no filter would match. */
    fm_rc (*items_extent)(struct data_db *db, enum data_coll c, enum data_geom g,
                          const char *vparty, struct data_extent *out, struct fm_err *err);
    /* The same for the conflicts (open and resolved). */
    fm_rc (*conflicts_extent)(struct data_db *db, enum data_geom g, const char *vparty,
                              struct data_extent *out, struct fm_err *err);
    /* The rows of collection c whose boxes meet bbox, now or as of asof,
     * by id (data_picture_items without the picture of now). */
    fm_rc (*pic_items_box)(struct data_db *db, enum data_coll c, const double bbox[4],
                           int has_asof, fm_time asof, const char *vparty, data_pic_cb cb,
                           void *ctx, struct fm_err *err);
    /* The open conflicts whose boxes meet bbox, by id. */
    fm_rc (*pic_conflicts_box)(struct data_db *db, const double bbox[4], const char *vparty,
                               data_pic_cb cb, void *ctx, struct fm_err *err);

    /* ---- the picture of now (sqlite/picture.c) ---- */
    /* A name of the database behind db, the same on every connection to
     * it for as long as it exists (SQLite: the file's path), into buf of
     * size bytes; "" when there is none to share (a database in memory,
     * or a name longer than buf). */
    void (*database_name)(struct data_db *db, char *buf, size_t size);
    /* The current, not withdrawn versions of collection c as the picture
     * draws them: every item's (id 0) or item id's, in id order. */
    fm_rc (*pic_items)(struct data_db *db, enum data_coll c, int64_t id, store_pic_cb cb,
                       void *ctx, struct fm_err *err);
    /* The open conflicts as the picture draws them: every one (id and
     * of_item 0), conflict id's, or those of item of_item; no order. */
    fm_rc (*pic_conflicts)(struct data_db *db, int64_t id, int64_t of_item, store_pic_cb cb,
                           void *ctx, struct fm_err *err);

    /* ---- cosigned heads of the log (sqlite/heads.c) ---- */
    /* Keeps h (its id is ignored). OUT *id. FM_ECONFLICT when that user
     * has cosigned that seq already. */
    fm_rc (*head_insert)(struct data_db *db, const struct store_head *h, int64_t *id,
                         struct fm_err *err);
    /* The cosigned heads with an id above since, by id. */
    fm_rc (*heads_each)(struct data_db *db, int64_t since, store_head_cb cb, void *ctx,
                        struct fm_err *err);

    /* ---- lead times and deadlines (sqlite/rules.c) ---- */
    /* Sets the rule of (r->collection, r->type), adding or replacing it. */
    fm_rc (*rule_put)(struct data_db *db, const struct store_rule *r, struct fm_err *err);
    /* The rules set, by collection and type. */
    fm_rc (*rules_each)(struct data_db *db, store_rule_cb cb, void *ctx, struct fm_err *err);
    /* Keeps d (overdue_at ignored); FM_ECONFLICT when that version has one. */
    fm_rc (*deadline_insert)(struct data_db *db, const struct store_deadline *d,
                             struct fm_err *err);
    /* Deadlines of versions still open (current): which = 0, those not
     * overdue whose due_at is at or before `now`; 1, those overdue; 2,
     * every deadline, open or not (verify). By item and version. */
    fm_rc (*deadlines_each)(struct data_db *db, int which, fm_time now, store_deadline_cb cb,
                            void *ctx, struct fm_err *err);
    /* The overdue deadlines of the current versions of the n items
     * (ids; any order, repeats allowed), by item: a page's marks, read
     * in proportion to the page (n at most 10000). */
    fm_rc (*deadlines_overdue_of)(struct data_db *db, const int64_t *items, size_t n,
                                  store_deadline_cb cb, void *ctx, struct fm_err *err);
    /* Marks the deadline of (item, version) overdue at `at`. */
    fm_rc (*deadline_overdue)(struct data_db *db, int64_t item, int64_t version, fm_time at,
                              struct fm_err *err);

    /* ---- conflicts (sqlite/conflicts.c): the rules are conflicts.c's ---- */
    /* The current version of item id, live or not; FM_ENOTFOUND. */
    fm_rc (*citem_get)(struct data_db *db, int64_t id, store_citem_cb cb, void *ctx,
                       struct fm_err *err);
    /* The candidates of q, in no order. cb may run other operations of
     * this slice (the candidates are read first, or kept stable). */
    fm_rc (*citems_find)(struct data_db *db, const struct store_cand_query *q, store_citem_cb cb,
                         void *ctx, struct fm_err *err);
    /* The ids of the live current items, in id order (the re-check). */
    fm_rc (*citems_live)(struct data_db *db, store_id_cb cb, void *ctx, struct fm_err *err);
    /* The conflict of (kind, a, b), whatever its state; FM_ENOTFOUND. */
    fm_rc (*conflict_find)(struct data_db *db, const char *kind, int64_t a, int64_t b,
                           store_conflict_cb cb, void *ctx, struct fm_err *err);
    /* Conflict id as kept; FM_ENOTFOUND. */
    fm_rc (*conflict_get)(struct data_db *db, int64_t id, store_conflict_cb cb, void *ctx,
                          struct fm_err *err);
    /* Adds n new open conflicts (revision 1, opened and updated at
     * rows' opened_at). OUT ids[0..n), in rows' order. */
    fm_rc (*conflicts_insert)(struct data_db *db, const struct store_conflict *rows, int n,
                              int64_t *ids, struct fm_err *err);
    /* Conflict c->id still clashes: its versions, severity, interval,
     * band, vis and geometry from c, state open (reopened: opened_at
     * c->updated_at, no resolution), updated at c->updated_at, its
     * revision one up. */
    fm_rc (*conflict_refresh)(struct data_db *db, const struct store_conflict *c, int reopened,
                              struct fm_err *err);
    /* Resolves conflict id at `at` (by NULL: the system), its revision
     * one up. */
    fm_rc (*conflict_resolve)(struct data_db *db, int64_t id, fm_time at, const char *by,
                              const char *comment, struct fm_err *err);
    /* The open conflicts of item, by id: which 0, those it is in (a or
     * b); 1, those it drives (a, but b of an incident_near_movement); 2
     * (item 0), those whose driver is no longer a live current item. */
    fm_rc (*conflicts_open_of)(struct data_db *db, int64_t item, int which, store_id_cb cb,
                               void *ctx, struct fm_err *err);
    /* The conflicts q asks for, by id, limit/offset applied; *matched
     * (if not NULL) how many without them; cb may be NULL. */
    fm_rc (*conflicts_query)(struct data_db *db, const struct store_conflict_query *q,
                             store_conflict_cb cb, void *ctx, long *matched,
                             struct fm_err *err);
    /* A movement's corridor reach (half its width, metres): set (live) or
     * dropped; and the largest kept. */
    fm_rc (*reach_set)(struct data_db *db, int64_t item, int live, double metres,
                       struct fm_err *err);
    fm_rc (*reach_max)(struct data_db *db, double *metres, struct fm_err *err);
    /* The setting incident_near_m (*metres untouched when unset); set it. */
    fm_rc (*near_get)(struct data_db *db, double *metres, struct fm_err *err);
    fm_rc (*near_set)(struct data_db *db, double metres, struct fm_err *err);

    /* ---- several processes on one database (watch.c) ---- */
    /* From now on this connection hears of every commit any process makes
     * to the database. NULL for a backend whose readers poll instead (one
     * SQLite file is one server's). */
    fm_rc (*commits_listen)(struct data_db *db, struct fm_err *err);
    /* Waits up to ms for commits heard of: OUT *heard how many (0: none
     * came). FM_EDB when the connection is lost. */
    fm_rc (*commits_wait)(struct data_db *db, int ms, int *heard, struct fm_err *err);
    /* A duty one process does at a time (key: which): OUT *mine 1 when
     * this connection holds it, taken now or before, and keeps it until it
     * closes (a process that dies lets it go); 0 when another holds it. */
    fm_rc (*duty_take)(struct data_db *db, int64_t key, int *mine, struct fm_err *err);

    /* ---- whole tables, for copy.c; table and column names are copy.c's
     * own, never a client's ---- */
    /* The columns of table, in their order; FM_ENOTFOUND when there is no
     * such table. */
    fm_rc (*table_columns)(struct data_db *db, const char *table, store_column_cb cb, void *ctx,
                           struct fm_err *err);
    /* Every row of table, the n columns cols, in the order they were added. */
    fm_rc (*table_rows)(struct data_db *db, const char *table, const char *const *cols, int n,
                        store_row_cb cb, void *ctx, struct fm_err *err);
    /* Adds rows rows: each the n columns cols set to its n values of v
     * (rows * n in all, row after row; a geometry column takes WKB or
     * NULL), the others to their defaults. */
    fm_rc (*table_insert)(struct data_db *db, const char *table, const char *const *cols, int n,
                          const struct store_value *v, int rows, struct fm_err *err);
    /* Removes every row of table (a settings table's defaults, before the
     * copied settings come in). */
    fm_rc (*table_clear)(struct data_db *db, const char *table, struct fm_err *err);
    /* After rows came in with their own ids: the ids the table gives next
     * follow the largest kept. */
    fm_rc (*table_ids_follow)(struct data_db *db, const char *table, struct fm_err *err);
};

/* The store of db's connection. */
const struct store_ops *store_of(const struct data_db *db);

/* Each backend's commit calls it after the commit: it bumps
 * data_write_generation, which the caches above watch. */
void store_committed(void);

/* The SQLite backend's connection to the file at path, created and
 * migrated when needed (sqlite/db.c); data_open calls it. */
fm_rc sqlite_store_open(const char *path, struct data_db **out, struct fm_err *err);

#endif
