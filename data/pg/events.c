/* events.c - the event log on PostgreSQL: its head, appends, scans and
 * verify's cross-checks, as data/sqlite/events.c. */
#include "pgint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fm_rc event_head(struct data_db *db, int64_t *seq, char hash[65], struct fm_err *err)
{
    *seq = 0;
    hash[0] = 0;
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "event head", err,
                      "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", 0);
    if (rc) return rc;
    if (PQntuples(r)) {
        *seq = pg_col_i(r, 0, 0);
        snprintf(hash, 65, "%s", pg_col_s(r, 0, 1));
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc event_insert(struct data_db *db, const struct store_event *e, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "append event", err,
                  "INSERT INTO events (seq, at, \"user\", party, action, collection, item_id,"
                  " version, owner, before_draft, after_draft, before, after, prev_hash, hash)"
                  " VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, $7::bigint, $8::bigint, $9,"
                  " $10::boolean, $11::boolean, $12, $13, $14, $15)",
                  15, I64(e->seq), I64(e->at), e->user, e->party, e->action, e->collection,
                  I64(e->item), I64(e->version), e->owner, e->before_owner_only ? "t" : "f",
                  e->after_owner_only ? "t" : "f", e->before, e->after, e->prev_hash, e->hash);
}

/* Rows are fetched a page at a time: a log of millions is never one
 * result in memory. */
#define EVENTS_PAGE 5000

#define EVENT_COLUMNS                                                                              \
    "seq, at, \"user\", party, action, collection, item_id, version, owner, before, after,"        \
    " prev_hash, hash, before_draft, after_draft"

/* Hands each row of r (EVENT_COLUMNS) to cb; *last: the last seq read;
 * returns 1 when cb stopped. Clears r. */
static int events_out(PGresult *r, store_event_cb cb, void *ctx, int64_t *last)
{
    int n = PQntuples(r), stop = 0;
    for (int i = 0; i < n && !stop; i++) {
        struct store_event e = {
            .seq = pg_col_i(r, i, 0),
            .at = pg_col_i(r, i, 1),
            .user = pg_col_s(r, i, 2),
            .party = pg_col_s(r, i, 3),
            .action = pg_col_s(r, i, 4),
            .collection = pg_col(r, i, 5),
            .item = pg_col_i(r, i, 6),
            .version = pg_col_i(r, i, 7),
            .owner = pg_col(r, i, 8),
            .before = pg_col(r, i, 9),
            .after = pg_col(r, i, 10),
            .prev_hash = pg_col_s(r, i, 11),
            .hash = pg_col_s(r, i, 12),
            .before_owner_only = pg_col_b(r, i, 13),
            .after_owner_only = pg_col_b(r, i, 14),
        };
        if (last) *last = e.seq;
        stop = cb(ctx, &e);
    }
    PQclear(r);
    return stop;
}

static fm_rc events_each(struct data_db *db, int64_t since, long limit, store_event_cb cb,
                         void *ctx, struct fm_err *err)
{
    int64_t after = since;
    long left = limit;
    for (;;) {
        long want = left < 0 || left > EVENTS_PAGE ? EVENTS_PAGE : left;
        if (want == 0) return FM_OK;
        PGresult *r;
        fm_rc rc = pg_run(db, &r, NULL, "events", err,
                          "SELECT " EVENT_COLUMNS " FROM events WHERE seq > $1::bigint ORDER BY seq"
                          " LIMIT $2::bigint",
                          2, I64(after), I64(want));
        if (rc) return rc;
        int n = PQntuples(r);
        if (events_out(r, cb, ctx, &after) || n < want) return FM_OK;
        if (left > 0) left -= n;
    }
}

static fm_rc events_latest(struct data_db *db, const char *collection, fm_time until,
                           store_event_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "events", err,
                      "SELECT DISTINCT ON (item_id) " EVENT_COLUMNS " FROM events"
                      " WHERE collection = $1 AND at <= $2::bigint ORDER BY item_id, seq DESC",
                      2, collection, I64(until));
    if (rc) return rc;
    events_out(r, cb, ctx, NULL);
    return FM_OK;
}

static fm_rc event_hash(struct data_db *db, int64_t seq, char hash[65], struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "event hash", err,
                      "SELECT hash FROM events WHERE seq = $1::bigint", 1, I64(seq));
    if (rc) return rc;
    if (PQntuples(r))
        snprintf(hash, 65, "%s", pg_col_s(r, 0, 0));
    else
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no record %" PRId64, seq);
    PQclear(r);
    return rc;
}

static fm_rc events_named(struct data_db *db, int64_t from, int64_t to, store_named_cb cb,
                          void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "events named", err,
                      "SELECT collection, item_id FROM events WHERE seq > $1::bigint"
                      " AND seq <= $2::bigint AND item_id IS NOT NULL ORDER BY seq",
                      2, I64(from), I64(to));
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r); i++)
        if (cb(ctx, pg_col_s(r, i, 0), pg_col_i(r, i, 1))) break;
    PQclear(r);
    return FM_OK;
}

static fm_rc event_version_mismatch(struct data_db *db, int64_t *seq, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "cross-check", err,
                      "SELECT e.seq FROM events e LEFT JOIN item_versions v"
                      " ON v.item_id = e.item_id AND v.version = e.version"
                      " WHERE e.action IN " EVENT_VERSION_ACTIONS_SQL
                      " AND (v.feature IS NULL OR v.feature <> e.after) ORDER BY e.seq LIMIT 1",
                      0);
    *seq = rc || !PQntuples(r) ? 0 : pg_col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

static fm_rc version_unrecorded(struct data_db *db, int64_t *item, int64_t *version,
                                struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "cross-check", err,
                      "SELECT v.item_id, v.version FROM item_versions v WHERE NOT EXISTS"
                      " (SELECT 1 FROM events e WHERE e.item_id = v.item_id"
                      " AND e.version = v.version AND e.action IN " EVENT_VERSION_ACTIONS_SQL ")"
                      " ORDER BY v.vid LIMIT 1",
                      0);
    *item = rc || !PQntuples(r) ? 0 : pg_col_i(r, 0, 0);
    *version = rc || !PQntuples(r) ? 0 : pg_col_i(r, 0, 1);
    PQclear(r);
    return rc;
}

void pg_events_ops(struct store_ops *ops)
{
    ops->event_head = event_head;
    ops->event_insert = event_insert;
    ops->events_each = events_each;
    ops->events_latest = events_latest;
    ops->event_hash = event_hash;
    ops->events_named = events_named;
    ops->event_version_mismatch = event_version_mismatch;
    ops->version_unrecorded = version_unrecorded;
}
