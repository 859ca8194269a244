/* heads.c - the store interface (store.h) on SQLite: the cosigned heads
 * of the log (table cosigned_heads, migration 14 in db.c). No rule here:
 * data/heads.c decides, this keeps and finds. */
#include "sqlite.h"

static fm_rc head_insert(struct data_db *db, const struct store_head *h, int64_t *id,
                         struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO cosigned_heads (seq, hash, user, party, key, at, signature,"
                          " recorded_at) VALUES (?,?,?,?,?,?,?,?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, h->seq);
    sqlite3_bind_text(st, 2, h->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, h->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, h->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, h->at);
    sqlite3_bind_text(st, 7, h->signature, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, h->recorded_at);
    int s = sqlite3_step(st);
    if (s == SQLITE_CONSTRAINT)
        rc = fm_fail(err, FM_ECONFLICT, NULL, "that head is cosigned by that user already");
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "insert head");
    else
        *id = sqlite3_last_insert_rowid(db->h);
    sqlite3_finalize(st);
    return rc;
}

static fm_rc heads_each(struct data_db *db, int64_t since, store_head_cb cb, void *ctx,
                        struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT id, seq, hash, user, party, key, at, signature, recorded_at"
                          " FROM cosigned_heads WHERE id > ? ORDER BY id",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, since);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_head h = {
            .id = sqlite3_column_int64(st, 0),
            .seq = sqlite3_column_int64(st, 1),
            .hash = db_text(st, 2),
            .user = db_text(st, 3),
            .party = db_text(st, 4),
            .key = db_text(st, 5),
            .at = sqlite3_column_int64(st, 6),
            .signature = db_text(st, 7),
            .recorded_at = sqlite3_column_int64(st, 8),
        };
        if (cb(ctx, &h)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, "heads");
    sqlite3_finalize(st);
    return rc;
}

void sqlite_heads_ops(struct store_ops *o)
{
    o->head_insert = head_insert;
    o->heads_each = heads_each;
}
