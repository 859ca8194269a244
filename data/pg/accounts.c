/* accounts.c - the accounts on PostgreSQL (parties, users, sessions and
 * tokens, login counts): the rows of data/sqlite/accounts.c. */
#include "pgint.h"

#include <stdlib.h>
#include <string.h>

static fm_rc parties_out(PGresult *r, int want_one, store_party_cb cb, void *ctx,
                         struct fm_err *err)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct store_party p = {pg_col_s(r, i, 0), pg_col_s(r, i, 1), pg_col_s(r, i, 2),
                                pg_col_s(r, i, 3)};
        if (cb(ctx, &p)) break;
    }
    PQclear(r);
    return want_one && !n ? fm_fail(err, FM_ENOTFOUND, NULL, "no such party") : FM_OK;
}

static fm_rc parties_each(struct data_db *db, store_party_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc =
        pg_run(db, &r, NULL, "parties", err,
               "SELECT code, name, colour, kind FROM parties ORDER BY code COLLATE \"C\"", 0);
    return rc ? rc : parties_out(r, 0, cb, ctx, err);
}

static fm_rc party_get(struct data_db *db, const char *code, store_party_cb cb, void *ctx,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "party", err,
                      "SELECT code, name, colour, kind FROM parties WHERE code = $1", 1, code);
    return rc ? rc : parties_out(r, 1, cb, ctx, err);
}

static fm_rc party_put(struct data_db *db, const struct store_party *p, struct fm_err *err)
{
    char state[6];
    fm_rc rc = pg_run(db, NULL, state, "party add", err,
                      "INSERT INTO parties (code, name, colour, kind) VALUES ($1, $2, $3, $4)"
                      " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
                      " colour = excluded.colour, kind = excluded.kind",
                      4, p->code, p->name, p->colour, p->kind);
    if (rc && !strcmp(state, "23514"))
        return fm_fail(err, FM_EINVAL, "kind", "party %s: kind must be side or supervisor",
                       p->code);
    return rc;
}

/* ---- users ------------------------------------------------------------- */

#define USER_COLUMNS "id, name, party, role, pwhash, created_at"

static void user_from(PGresult *r, int i, int first, struct store_user *u)
{
    u->id = pg_col_i(r, i, first);
    u->name = pg_col_s(r, i, first + 1);
    u->party = pg_col_s(r, i, first + 2);
    u->role = pg_col_s(r, i, first + 3);
    u->pwhash = pg_col_s(r, i, first + 4);
    u->created_at = pg_col_i(r, i, first + 5);
}

static fm_rc users_out(PGresult *r, int want_one, store_user_cb cb, void *ctx, struct fm_err *err)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct store_user u;
        user_from(r, i, 0, &u);
        if (cb(ctx, &u)) break;
    }
    PQclear(r);
    return want_one && !n ? fm_fail(err, FM_ENOTFOUND, NULL, "no such user") : FM_OK;
}

static fm_rc users_each(struct data_db *db, int order_by_id, store_user_cb cb, void *ctx,
                        struct fm_err *err)
{
    PGresult *r;
    fm_rc rc =
        pg_run(db, &r, NULL, "users", err,
               order_by_id ? "SELECT " USER_COLUMNS " FROM users ORDER BY id"
                           : "SELECT " USER_COLUMNS " FROM users ORDER BY name COLLATE \"C\"",
               0);
    return rc ? rc : users_out(r, 0, cb, ctx, err);
}

static fm_rc user_get(struct data_db *db, const char *name, store_user_cb cb, void *ctx,
                      struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "user", err,
                      "SELECT " USER_COLUMNS " FROM users WHERE name = $1", 1, name);
    return rc ? rc : users_out(r, 1, cb, ctx, err);
}

static fm_rc user_insert(struct data_db *db, const struct store_user *u, int64_t *id,
                         struct fm_err *err)
{
    *id = 0;
    PGresult *r;
    char state[6];
    fm_rc rc = pg_run(db, &r, state, "user add", err,
                      "INSERT INTO users (name, party, role, pwhash, created_at)"
                      " SELECT $1, $2, $3, $4, $5::bigint"
                      " WHERE EXISTS (SELECT 1 FROM parties WHERE code = $2) RETURNING id",
                      5, u->name, u->party, u->role, u->pwhash, I64(u->created_at));
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, "name", "user %s exists already", u->name);
    if (rc) return rc;
    if (PQntuples(r) == 0)
        rc = fm_fail(err, FM_ENOTFOUND, "party", "no party %s", u->party);
    else
        *id = pg_col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

static fm_rc user_count(struct data_db *db, long *out, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "user count", err, "SELECT count(*) FROM users", 0);
    *out = rc ? 0 : (long)pg_col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

/* ---- sessions and tokens ----------------------------------------------- */

static fm_rc secret_insert(struct data_db *db, enum store_secret_kind kind, const char *hash,
                           int64_t user_id, fm_time at, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, kind == STORE_SESSION ? "session add" : "token add", err,
                  kind == STORE_SESSION
                      ? "INSERT INTO sessions (idhash, user_id, created_at,"
                        " used_at) VALUES ($1, $2::bigint, $3::bigint, $3::bigint)"
                      : "INSERT INTO tokens (hash, user_id, created_at)"
                        " VALUES ($1, $2::bigint, $3::bigint)",
                  3, hash, I64(user_id), I64(at));
}

static fm_rc secret_get(struct data_db *db, enum store_secret_kind kind, const char *hash,
                        store_secret_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, kind == STORE_SESSION ? "session" : "token", err,
                      kind == STORE_SESSION
                          ? "SELECT u.id, u.name, u.party, u.role, u.pwhash, u.created_at,"
                            " s.idhash, s.created_at, s.used_at"
                            " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.idhash = $1"
                          : "SELECT u.id, u.name, u.party, u.role, u.pwhash, u.created_at,"
                            " t.hash, t.created_at, t.created_at"
                            " FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1",
                      1, hash);
    if (rc) return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return fm_fail(err, FM_ENOTFOUND, NULL, "no such %s",
                       kind == STORE_SESSION ? "session" : "token");
    }
    struct store_secret s;
    user_from(r, 0, 0, &s.user);
    s.hash = pg_col_s(r, 0, 6);
    s.created_at = pg_col_i(r, 0, 7);
    s.used_at = pg_col_i(r, 0, 8);
    cb(ctx, &s);
    PQclear(r);
    return FM_OK;
}

static fm_rc session_touch(struct data_db *db, const char *hash, fm_time at, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "session write", err,
                  "UPDATE sessions SET used_at = $2::bigint WHERE idhash = $1", 2, hash, I64(at));
}

static fm_rc session_delete(struct data_db *db, const char *hash, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "session end", err, "DELETE FROM sessions WHERE idhash = $1", 1,
                  hash);
}

/* ---- login counts and known pairs -------------------------------------- */

static fm_rc count_get(struct data_db *db, const char *key, long *failures, int64_t *last_ms,
                       struct fm_err *err)
{
    *failures = 0;
    *last_ms = 0;
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "login count", err,
                      "SELECT failures, last_at FROM login_throttle WHERE key = $1", 1, key);
    if (rc) return rc;
    if (PQntuples(r)) {
        *failures = (long)pg_col_i(r, 0, 0);
        *last_ms = pg_col_i(r, 0, 1);
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc count_put(struct data_db *db, const char *key, long failures, int64_t last_ms,
                       struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "login throttling", err,
                  "INSERT INTO login_throttle (key, failures, last_at)"
                  " VALUES ($1, $2::bigint, $3::bigint) ON CONFLICT (key) DO UPDATE"
                  " SET failures = excluded.failures, last_at = excluded.last_at",
                  3, key, I64(failures), I64(last_ms));
}

static fm_rc count_delete(struct data_db *db, const char *key, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "login throttling", err,
                  "DELETE FROM login_throttle WHERE key = $1", 1, key);
}

static fm_rc known_get(struct data_db *db, const char *key, int64_t since_ms, int *known,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "login known", err,
                      "SELECT 1 FROM login_known WHERE key = $1 AND at >= $2::bigint", 2, key,
                      I64(since_ms));
    *known = !rc && PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

static fm_rc known_put(struct data_db *db, const char *key, int64_t at_ms, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "login known", err,
                  "INSERT INTO login_known (key, at) VALUES ($1, $2::bigint)"
                  " ON CONFLICT (key) DO UPDATE SET at = excluded.at",
                  2, key, I64(at_ms));
}

static fm_rc login_forget(struct data_db *db, int64_t counts_ms, int64_t known_ms,
                          struct fm_err *err)
{
    fm_rc rc = pg_run(db, NULL, NULL, "login throttling", err,
                      "DELETE FROM login_throttle WHERE last_at < $1::bigint", 1, I64(counts_ms));
    return rc ? rc
              : pg_run(db, NULL, NULL, "login known", err,
                       "DELETE FROM login_known WHERE at < $1::bigint", 1, I64(known_ms));
}

void pg_accounts_ops(struct store_ops *ops)
{
    ops->parties_each = parties_each;
    ops->party_get = party_get;
    ops->party_put = party_put;
    ops->users_each = users_each;
    ops->user_get = user_get;
    ops->user_insert = user_insert;
    ops->user_count = user_count;
    ops->secret_insert = secret_insert;
    ops->secret_get = secret_get;
    ops->session_touch = session_touch;
    ops->session_delete = session_delete;
    ops->count_get = count_get;
    ops->count_put = count_put;
    ops->count_delete = count_delete;
    ops->known_get = known_get;
    ops->known_put = known_put;
    ops->login_forget = login_forget;
}
