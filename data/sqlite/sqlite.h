/* sqlite.h - the SQLite/SpatiaLite backend of data/: the connection, its
 * statements and transactions, and the SQL texts more than one of its files
 * share. Only files that hold SQL include this (the files of data/sqlite/,
 * and the files of data/ whose SQL has not yet moved under the store
 * interface, store.h); nothing outside data/ does. */
#ifndef DATA_SQLITE_H
#define DATA_SQLITE_H

#include "internal.h"
#include "store.h"

#include <sqlite3.h>

/* A statement kept prepared for the life of the connection (db_cached). */
struct db_kept {
    const char *sql; /* the key: the address of a string literal */
    sqlite3_stmt *st;
};

struct data_db {
    const struct store_ops *ops; /* first: store_of() reads it (internal.h) */
    sqlite3 *h;
    void *splite;         /* SpatiaLite's per-connection cache */
    struct db_kept *kept; /* db_cached's statements, finalized by data_close */
    size_t nkept, akept;
    /* the write queue of this connection's file (db.c), NULL for a
     * database in memory; held: this connection is in it, from db_begin
     * to db_commit/db_rollback */
    struct db_queue *queue;
    int queue_held;
    /* in db_commit's COMMIT; it wrote (db_wal_committed saw it) */
    int in_commit, wrote;
};

/* Closes the connection and frees it (the store's close). */
void db_close(struct data_db *db);

/* Translate a SQLite failure once, here, into FM_EDB (or FM_EBUSY). */
fm_rc db_fail(struct data_db *db, struct fm_err *err, const char *what);

/* Test seam (tests/unit/test_faults.c): when set to N > 0, the Nth
 * db_prepare from then on fails as the database would. Always 0 in the
 * server; not for threads. */
extern long db_fault_countdown;

/* Prepare; on failure fills err. OUT *st. */
fm_rc db_prepare(struct data_db *db, const char *sql, sqlite3_stmt **st, struct fm_err *err);
/* The hot paths' statements, prepared once per connection
 * (SQLITE_PREPARE_PERSISTENT) and kept until data_close. sql must be a
 * string literal: its address is the key. OUT *st, borrowed, reset and
 * with no bindings. The caller hands it back with db_release after its
 * last step, on every path, error paths included; db_commit and
 * db_rollback reset any still in progress as a safety net. Counts as a
 * db_prepare for db_fault_countdown. Not re-entrant: one use of a given
 * sql at a time. */
fm_rc db_cached(struct data_db *db, const char *sql, sqlite3_stmt **st, struct fm_err *err);
/* Resets st and clears its bindings; NULL is allowed. */
void db_release(sqlite3_stmt *st);
/* Runs sql with no results. */
fm_rc db_exec(struct data_db *db, const char *sql, struct fm_err *err);

/* Hands the connection's checkpoints to the file's checkpointer, if any
 * (checkpoint.c); data_open calls it. */
void db_wal_hook_install(struct data_db *db);
/* Test seam (tests/unit/test_checkpoint.c): how many checkpoints writers
 * ran inline, in their commit, because no checkpointer ran. */
extern _Atomic long db_inline_checkpoints;
/* Test seam (tests/unit/test_db_queue.c): how many writers of this
 * process wait in a write queue now, over all files. */
extern _Atomic long db_queue_waiting;
/* Test seam: how long a writer waits for its turn; DB_BUSY_MS. */
extern _Atomic long db_queue_wait_ms;
/* Test seam: how many times this process synced a write-ahead log to
 * disk after commits (db.c: group sync). */
extern _Atomic long db_wal_syncs;
/* Called by the connection's WAL hook (checkpoint.c) after each commit
 * that wrote: a commit outside db_begin (autocommit) is made durable
 * here, before its statement returns; db_commit's, after its turn. */
void db_wal_committed(struct data_db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. The writers of one file in this
 * process take their turns first come, first served (db.c, the write
 * queue), from db_begin to db_commit or db_rollback; FM_EBUSY when the
 * turn did not come in DB_BUSY_MS. Other processes (the CLI) still meet
 * SQLite's busy handler. */
#define DB_BUSY_MS 10000
fm_rc db_begin(struct data_db *db, struct fm_err *err);
fm_rc db_commit(struct data_db *db, struct fm_err *err);
void db_rollback(struct data_db *db);

/* Bind by parameter name (":id"); a name the statement lacks is skipped,
 * and so is a NULL text (the parameter stays NULL). */
void db_bind_text(sqlite3_stmt *st, const char *name, const char *v);
void db_bind_int(sqlite3_stmt *st, const char *name, int64_t v);
void db_bind_double(sqlite3_stmt *st, const char *name, double v);

/* Text column or "" for NULL. */
const char *db_text(sqlite3_stmt *st, int col);

/* The families of geometries (enum data_geom, in its order) as SQL over
 * the geometry column x: a constant text, never the client's. */
#define GEOM_FAMILY_SQL(x)                                                                         \
    {"1", "GeometryType(" x ") IN ('POINT', 'MULTIPOINT')",                                      \
     "GeometryType(" x ") IN ('LINESTRING', 'MULTILINESTRING')",                                 \
     "GeometryType(" x ") IN ('POLYGON', 'MULTIPOLYGON')"}

/* ---- conflicts: what the Feature and the picture both say --------------- */

/* Who sees conflict c: everyone, or the owner of its draft (:vparty). */
#define CONFLICT_VISIBLE_SQL "(c.vis_party IS NULL OR c.vis_party = :vparty)"
/* A conflict's title, as conflict_text.c writes it (CONFLICT_TITLE_*,
 * internal.h). */
#define CONFLICT_TITLE_SQL                                                                        \
    "CASE c.kind"                                                                                 \
    "  WHEN 'movement_crosses_zone' THEN printf('" CONFLICT_TITLE_MZ "', c.a_id, c.b_id)"         \
    "  WHEN 'zones_overlap' THEN printf('" CONFLICT_TITLE_ZZ "', c.a_id, c.b_id)"                 \
    "  WHEN 'incident_in_zone' THEN printf('" CONFLICT_TITLE_IZ "', c.a_id, c.b_id)"              \
    "  ELSE printf('" CONFLICT_TITLE_IM "', c.a_id, c.b_id) END"

/* A conflict as a GeoJSON Feature, by SQLite's json_object over the row c;
 * conflict_text.c writes the same bytes in C (tests/unit/test_conflicts.c
 * compares). */
#define CONFLICT_TS_SQL(x) "strftime('%Y-%m-%dT%H:%M:%SZ', " x ", 'unixepoch')"
#define CONFLICT_FEATURE_SQL                                                                     \
    "json_object('type', 'Feature', 'id', c.id, 'geometry', json(c.geojson),"             \
    " 'properties', json_object('kind', c.kind, 'title', " CONFLICT_TITLE_SQL ","                \
    " 'items', json_array(json_object('collection', c.a_coll, 'id', c.a_id, 'version',"           \
    "  c.a_version), json_object('collection', c.b_coll, 'id', c.b_id, 'version', c.b_version)),"  \
    " 'interval', json_array(" CONFLICT_TS_SQL("c.t_from") ", " CONFLICT_TS_SQL("c.t_to") "),"    \
    " 'altitude_band', json_array(c.alt_floor, c.alt_ceiling),"                                   \
    " 'severity', c.severity, 'state', c.state,"                                                  \
    " 'opened_at', " CONFLICT_TS_SQL("c.opened_at") ","                                           \
    " 'updated_at', " CONFLICT_TS_SQL("c.updated_at") ","                                         \
    " 'resolved_at', " CONFLICT_TS_SQL("c.resolved_at") ","                                       \
    " 'resolved_by', c.resolved_by, 'comment', c.comment, 'revision', c.revision))"

/* The first nine columns of a picture statement (id, party, status, type,
 * title, category, severity, width, WKB) as a row, borrowed from st
 * (query.c). */
void sqlite_pic_row(sqlite3_stmt *st, struct data_pic_row *row);

/* The SQLite implementation of the store interface (store.h): each file of
 * data/sqlite/ sets the members of its slice, and store.c puts the table
 * together once. */
void sqlite_accounts_ops(struct store_ops *o); /* accounts.c */
void sqlite_events_ops(struct store_ops *o);   /* events.c */
void sqlite_items_ops(struct store_ops *o);    /* items.c */
void sqlite_keys_ops(struct store_ops *o);     /* keys.c */
void sqlite_acks_ops(struct store_ops *o);     /* acks.c */
void sqlite_messages_ops(struct store_ops *o); /* messages.c */
void sqlite_picture_ops(struct store_ops *o);  /* picture.c */
void sqlite_query_ops(struct store_ops *o);    /* query.c */
void sqlite_heads_ops(struct store_ops *o);    /* heads.c */
void sqlite_rules_ops(struct store_ops *o);    /* rules.c */
void sqlite_conflicts_ops(struct store_ops *o); /* conflicts.c */
void sqlite_copy_ops(struct store_ops *o);      /* copy.c */
const struct store_ops *sqlite_store(void);

#endif
