/* events.c - the store interface (store.h) on SQLite: the event log's rows.
 * The canonical text and the chain are data/events.c's; this keeps the
 * records and finds them again. Triggers in the schema refuse UPDATE and
 * DELETE of a record. */
#include "sqlite.h"

#include <stdio.h>
#include <string.h>

static fm_rc snapshot_begin(struct data_db *db, struct fm_err *err)
{
    return db_exec(db, "BEGIN", err); /* deferred: a read of one state */
}

static void snapshot_end(struct data_db *db)
{
    db_exec(db, "COMMIT", NULL);
}

static fm_rc event_head(struct data_db *db, int64_t *seq, char hash[65], struct fm_err *err)
{
    *seq = 0;
    hash[0] = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", &st, err);
    if (rc) return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        snprintf(hash, 65, "%s", db_text(st, 1));
    }
    db_release(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? FM_OK : db_fail(db, err, "event head");
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static fm_rc event_insert(struct data_db *db, const struct store_event *e, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db,
                         "INSERT INTO events (seq, at, user, party, action, collection, item_id,"
                         " version, owner, before_draft, after_draft, before, after, prev_hash,"
                         " hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, e->seq);
    sqlite3_bind_int64(st, 2, e->at);
    sqlite3_bind_text(st, 3, e->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, e->action, -1, SQLITE_STATIC);
    bind_text_or_null(st, 6, e->collection);
    sqlite3_bind_int64(st, 7, e->item);
    sqlite3_bind_int64(st, 8, e->version);
    bind_text_or_null(st, 9, e->owner);
    sqlite3_bind_int(st, 10, e->before_owner_only != 0);
    sqlite3_bind_int(st, 11, e->after_owner_only != 0);
    bind_text_or_null(st, 12, e->before);
    bind_text_or_null(st, 13, e->after);
    sqlite3_bind_text(st, 14, e->prev_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, e->hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "append event");
    db_release(st);
    return rc;
}

static const char *text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : db_text(st, col);
}

#define EVENT_COLUMNS                                                                             \
    "seq, at, user, party, action, collection, item_id, version, owner, before, after,"            \
    " prev_hash, hash, before_draft, after_draft"

/* Hands each row of st (EVENT_COLUMNS) to cb; finalizes st. */
static fm_rc rows_out(struct data_db *db, sqlite3_stmt *st, store_event_cb cb, void *ctx,
                      struct fm_err *err)
{
    fm_rc rc = FM_OK;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_event e = {
            .seq = sqlite3_column_int64(st, 0),
            .at = sqlite3_column_int64(st, 1),
            .user = db_text(st, 2),
            .party = db_text(st, 3),
            .action = db_text(st, 4),
            .collection = text_or_null(st, 5),
            .item = sqlite3_column_int64(st, 6),
            .version = sqlite3_column_int64(st, 7),
            .owner = text_or_null(st, 8),
            .before = text_or_null(st, 9),
            .after = text_or_null(st, 10),
            .prev_hash = db_text(st, 11),
            .hash = db_text(st, 12),
            .before_owner_only = sqlite3_column_int(st, 13),
            .after_owner_only = sqlite3_column_int(st, 14),
        };
        if (cb(ctx, &e)) {
            s = SQLITE_DONE;
            break;
        }
    }
    if (s != SQLITE_DONE) rc = db_fail(db, err, "events");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc events_each(struct data_db *db, int64_t since, long limit, store_event_cb cb,
                         void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT " EVENT_COLUMNS " FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, limit < 0 ? -1 : limit);
    return rows_out(db, st, cb, ctx, err);
}

static fm_rc events_latest(struct data_db *db, const char *collection, fm_time until,
                           store_event_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT " EVENT_COLUMNS " FROM events e WHERE e.collection = ?1"
                          " AND e.at <= ?2 AND e.seq = (SELECT max(x.seq) FROM events x"
                          " WHERE x.item_id = e.item_id AND x.collection = ?1 AND x.at <= ?2)"
                          " ORDER BY e.item_id",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, until);
    return rows_out(db, st, cb, ctx, err);
}

static fm_rc event_hash(struct data_db *db, int64_t seq, char hash[65], struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, "SELECT hash FROM events WHERE seq = ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, seq);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        snprintf(hash, 65, "%s", db_text(st, 0));
    else if (s == SQLITE_DONE)
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no record %lld", (long long)seq);
    else
        rc = db_fail(db, err, "event hash");
    db_release(st);
    return rc;
}

static fm_rc events_named(struct data_db *db, int64_t from, int64_t to, store_named_cb cb,
                          void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db,
                         "SELECT collection, item_id FROM events"
                         " WHERE seq > ? AND seq <= ? AND item_id IS NOT NULL ORDER BY seq",
                         &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(ctx, db_text(st, 0), sqlite3_column_int64(st, 1))) break;
    if (s != SQLITE_DONE && s != SQLITE_ROW) rc = db_fail(db, err, "events named");
    db_release(st);
    return rc;
}

/* Runs a query of at most one row of up to two integers into a and b
 * (0 when it has none). */
static fm_rc first_row(struct data_db *db, const char *sql, int64_t *a, int64_t *b,
                       const char *what, struct fm_err *err)
{
    *a = 0;
    if (b) *b = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, sql, &st, err);
    if (rc) return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *a = sqlite3_column_int64(st, 0);
        if (b) *b = sqlite3_column_int64(st, 1);
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, what);
    sqlite3_finalize(st);
    return rc;
}

static fm_rc event_version_mismatch(struct data_db *db, int64_t *seq, struct fm_err *err)
{
    return first_row(db,
                     "SELECT e.seq FROM events e LEFT JOIN item_versions v"
                     " ON v.item_id = e.item_id AND v.version = e.version"
                     " WHERE e.action IN " EVENT_VERSION_ACTIONS_SQL
                     " AND (v.feature IS NULL OR v.feature <> e.after) ORDER BY e.seq LIMIT 1",
                     seq, NULL, "cross-check", err);
}

static fm_rc version_unrecorded(struct data_db *db, int64_t *item, int64_t *version,
                                struct fm_err *err)
{
    return first_row(db,
                     "SELECT v.item_id, v.version FROM item_versions v WHERE NOT EXISTS"
                     " (SELECT 1 FROM events e WHERE e.item_id = v.item_id"
                     " AND e.version = v.version AND e.action IN " EVENT_VERSION_ACTIONS_SQL ")"
                     " ORDER BY v.vid LIMIT 1",
                     item, version, "cross-check", err);
}

void sqlite_events_ops(struct store_ops *o)
{
    o->snapshot_begin = snapshot_begin;
    o->snapshot_end = snapshot_end;
    o->event_head = event_head;
    o->event_insert = event_insert;
    o->events_each = events_each;
    o->events_latest = events_latest;
    o->event_hash = event_hash;
    o->events_named = events_named;
    o->event_version_mismatch = event_version_mismatch;
    o->version_unrecorded = version_unrecorded;
}
