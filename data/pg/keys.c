/* keys.c - users' public signing keys on PostgreSQL, as data/sqlite/keys.c. */
#include "pgint.h"

#include <stdlib.h>
#include <string.h>

#define KEY_COLUMNS                                                                                \
    "fingerprint, \"user\", party, public_key, created_from, created_at,"                          \
    " coalesce(revoked_at, 0)"

static fm_rc keys_out(PGresult *r, int want_one, store_key_cb cb, void *ctx, struct fm_err *err)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct store_key k = {pg_col_s(r, i, 0), pg_col_s(r, i, 1), pg_col_s(r, i, 2),
                              pg_col_s(r, i, 3), pg_col_s(r, i, 4), pg_col_i(r, i, 5),
                              pg_col_i(r, i, 6)};
        if (cb(ctx, &k)) break;
    }
    PQclear(r);
    return want_one && !n ? fm_fail(err, FM_ENOTFOUND, NULL, "no such key") : FM_OK;
}

static fm_rc key_insert(struct data_db *db, const struct store_key *k, struct fm_err *err)
{
    char state[6];
    fm_rc rc = pg_run(db, NULL, state, "insert key", err,
                      "INSERT INTO user_keys (fingerprint, \"user\", party, public_key,"
                      " created_from, created_at) VALUES ($1, $2, $3, $4, $5, $6::bigint)",
                      6, k->fingerprint, k->user, k->party, k->public_key, k->created_from,
                      I64(k->created_at));
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, NULL, "that key is registered already");
    return rc;
}

static fm_rc key_get(struct data_db *db, const char *fingerprint, store_key_cb cb, void *ctx,
                     struct fm_err *err)
{
    PGresult *r;
    fm_rc rc =
        pg_run(db, &r, NULL, "keys", err,
               "SELECT " KEY_COLUMNS " FROM user_keys WHERE fingerprint = $1", 1, fingerprint);
    return rc ? rc : keys_out(r, 1, cb, ctx, err);
}

static fm_rc keys_each(struct data_db *db, const char *user, store_key_cb cb, void *ctx,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "keys", err,
                      "SELECT " KEY_COLUMNS " FROM user_keys WHERE $1::text IS NULL"
                      " OR \"user\" = $1 ORDER BY n",
                      1, user);
    return rc ? rc : keys_out(r, 0, cb, ctx, err);
}

static fm_rc key_revoke(struct data_db *db, const char *fingerprint, fm_time at, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "revoke key", err,
                      "UPDATE user_keys SET revoked_at = $1::bigint WHERE fingerprint = $2"
                      " AND revoked_at IS NULL",
                      2, I64(at), fingerprint);
    if (rc) return rc;
    if (!strcmp(PQcmdTuples(r), "0"))
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no current key %s", fingerprint);
    PQclear(r);
    return rc;
}

void pg_keys_ops(struct store_ops *ops)
{
    ops->key_insert = key_insert;
    ops->key_get = key_get;
    ops->keys_each = keys_each;
    ops->key_revoke = key_revoke;
}
