/* acks.c - the store interface (store.h) on SQLite: the answers (table
 * acks). Who may answer what, and what an answer moves, are data/acks.c's. */
#include "sqlite.h"

#include <inttypes.h>

static fm_rc ack_insert(struct data_db *db, const struct store_ack *a, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO acks (item_id, version, party, user, at, decision, comment)"
                          " VALUES (?,?,?,?,?,?,?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, a->item);
    sqlite3_bind_int64(st, 2, a->version);
    sqlite3_bind_text(st, 3, a->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, a->at);
    sqlite3_bind_text(st, 6, a->decision, -1, SQLITE_STATIC);
    if (a->comment) sqlite3_bind_text(st, 7, a->comment, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_CONSTRAINT)
        rc = fm_fail(err, FM_ECONFLICT, NULL,
                     "party %s has already answered version %" PRId64 " of item %" PRId64,
                     a->party, a->version, a->item);
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "insert ack");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc acks_each(struct data_db *db, int64_t id, store_ack_cb cb, void *ctx,
                       struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT item_id, version, party, user, at, decision, comment FROM acks"
                          " WHERE item_id = ? ORDER BY id",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_ack a = {
            .item = sqlite3_column_int64(st, 0),
            .version = sqlite3_column_int64(st, 1),
            .party = db_text(st, 2),
            .user = db_text(st, 3),
            .at = sqlite3_column_int64(st, 4),
            .decision = db_text(st, 5),
            .comment = sqlite3_column_type(st, 6) == SQLITE_NULL ? NULL : db_text(st, 6),
        };
        if (cb(ctx, &a)) {
            s = SQLITE_DONE;
            break;
        }
    }
    if (s != SQLITE_DONE) rc = db_fail(db, err, "acks");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc ack_exists(struct data_db *db, int64_t id, int64_t version, const char *except,
                        int *yes, struct fm_err *err)
{
    *yes = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT 1 FROM acks WHERE item_id = ? AND version = ? AND party <> ?"
                          " AND decision = 'ack'",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_text(st, 3, except, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *yes = 1;
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "acks");
    sqlite3_finalize(st);
    return rc;
}

void sqlite_acks_ops(struct store_ops *o)
{
    o->ack_insert = ack_insert;
    o->acks_each = acks_each;
    o->ack_exists = ack_exists;
}
