/* keys.c - the store interface (store.h) on SQLite: users' public signing
 * keys (table user_keys, migration "keys" in db.c). No rule here:
 * data/keys.c decides, this keeps and finds. */
#include "sqlite.h"

#define KEY_COLUMNS                                                                              \
    "fingerprint, user, party, public_key, created_from, created_at, coalesce(revoked_at, 0)"

static fm_rc key_rows(struct data_db *db, sqlite3_stmt *st, int want_one, store_key_cb cb,
                      void *ctx, struct fm_err *err)
{
    fm_rc rc = FM_OK;
    int s, n = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        struct store_key k = {db_text(st, 0),
                              db_text(st, 1),
                              db_text(st, 2),
                              db_text(st, 3),
                              db_text(st, 4),
                              sqlite3_column_int64(st, 5),
                              sqlite3_column_int64(st, 6)};
        if (cb(ctx, &k)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = db_fail(db, err, "keys");
    else if (want_one && n == 0)
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no such key");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc key_insert(struct data_db *db, const struct store_key *k, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO user_keys (fingerprint, user, party, public_key,"
                          " created_from, created_at) VALUES (?,?,?,?,?,?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, k->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, k->public_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, k->created_from, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, k->created_at);
    int s = sqlite3_step(st);
    if (s == SQLITE_CONSTRAINT)
        rc = fm_fail(err, FM_ECONFLICT, NULL, "that key is registered already");
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "insert key");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc key_get(struct data_db *db, const char *fingerprint, store_key_cb cb, void *ctx,
                     struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT " KEY_COLUMNS " FROM user_keys WHERE fingerprint = ?", &st,
                          err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
    return key_rows(db, st, 1, cb, ctx, err);
}

static fm_rc keys_each(struct data_db *db, const char *user, store_key_cb cb, void *ctx,
                       struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT " KEY_COLUMNS " FROM user_keys WHERE ?1 IS NULL OR user = ?1"
                          " ORDER BY rowid",
                          &st, err);
    if (rc) return rc;
    if (user) sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    return key_rows(db, st, 0, cb, ctx, err);
}

static fm_rc key_revoke(struct data_db *db, const char *fingerprint, fm_time at,
                        struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "UPDATE user_keys SET revoked_at = ? WHERE fingerprint = ?"
                          " AND revoked_at IS NULL",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, fingerprint, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s != SQLITE_DONE)
        rc = db_fail(db, err, "revoke key");
    else if (sqlite3_changes(db->h) == 0)
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no current key %s", fingerprint);
    sqlite3_finalize(st);
    return rc;
}


void sqlite_keys_ops(struct store_ops *o)
{
    o->key_insert = key_insert;
    o->key_get = key_get;
    o->keys_each = keys_each;
    o->key_revoke = key_revoke;
}
