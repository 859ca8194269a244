/* accounts.c - the store interface (store.h) on SQLite: transactions, and
 * the rows of the accounts (parties, users, sessions, tokens, login counts
 * and known pairs). No rule here: users.c decides, this keeps and finds. */
#include "sqlite.h"

#include <string.h>

/* ---- transactions ------------------------------------------------------ */

static fm_rc tx_begin(struct data_db *db, struct fm_err *err)
{
    return db_begin(db, err);
}

static fm_rc tx_commit(struct data_db *db, struct fm_err *err)
{
    return db_commit(db, err);
}

static void tx_rollback(struct data_db *db)
{
    db_rollback(db);
}

/* ---- helpers ----------------------------------------------------------- */

/* Steps st to its end, handing each row to row(); FM_ENOTFOUND when
 * want_one and there was none. Finalizes st. */
static fm_rc each_row(struct data_db *db, sqlite3_stmt *st, int want_one,
                      int (*row)(sqlite3_stmt *st, void *cb, void *ctx), void *cb, void *ctx,
                      const char *what, struct fm_err *err)
{
    fm_rc rc = FM_OK;
    int s, n = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (row(st, cb, ctx)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = db_fail(db, err, what);
    else if (want_one && n == 0)
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no such %s", what);
    sqlite3_finalize(st);
    return rc;
}

/* Runs a statement of no rows; *changes (may be NULL) counts the rows it
 * changed. Finalizes st. */
static fm_rc run(struct data_db *db, sqlite3_stmt *st, int *changes, const char *what,
                 struct fm_err *err)
{
    fm_rc rc = sqlite3_step(st) == SQLITE_DONE ? FM_OK : db_fail(db, err, what);
    if (changes) *changes = sqlite3_changes(db->h);
    sqlite3_finalize(st);
    return rc;
}

/* ---- parties ----------------------------------------------------------- */

#define PARTY_COLUMNS "code, name, colour, kind"

static int party_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct store_party p = {db_text(st, 0), db_text(st, 1), db_text(st, 2), db_text(st, 3)};
    return ((store_party_cb)cb)(ctx, &p);
}

static fm_rc parties_each(struct data_db *db, store_party_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT " PARTY_COLUMNS " FROM parties ORDER BY code", &st, err);
    return rc ? rc : each_row(db, st, 0, party_row, (void *)cb, ctx, "parties", err);
}

static fm_rc party_get(struct data_db *db, const char *code, store_party_cb cb, void *ctx,
                       struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT " PARTY_COLUMNS " FROM parties WHERE code = ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    return each_row(db, st, 1, party_row, (void *)cb, ctx, "party", err);
}

static fm_rc party_put(struct data_db *db, const struct store_party *p, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO parties (code, name, colour, kind) VALUES (?,?,?,?)"
                          " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
                          " colour = excluded.colour, kind = excluded.kind",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, p->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->colour, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, p->kind, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sqlite3_errcode(db->h) == SQLITE_CONSTRAINT
                 ? fm_fail(err, FM_EINVAL, "kind", "party %s: kind must be side or supervisor",
                           p->code)
                 : db_fail(db, err, "party add");
    sqlite3_finalize(st);
    return rc;
}

/* ---- users ------------------------------------------------------------- */

#define USER_COLUMNS "id, name, party, role, pwhash, created_at"

static void user_from_row(sqlite3_stmt *st, int first, struct store_user *u)
{
    u->id = sqlite3_column_int64(st, first);
    u->name = db_text(st, first + 1);
    u->party = db_text(st, first + 2);
    u->role = db_text(st, first + 3);
    u->pwhash = db_text(st, first + 4);
    u->created_at = sqlite3_column_int64(st, first + 5);
}

static int user_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct store_user u;
    user_from_row(st, 0, &u);
    return ((store_user_cb)cb)(ctx, &u);
}

static fm_rc users_each(struct data_db *db, int order_by_id, store_user_cb cb, void *ctx,
                        struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          order_by_id ? "SELECT " USER_COLUMNS " FROM users ORDER BY id"
                                      : "SELECT " USER_COLUMNS " FROM users ORDER BY name",
                          &st, err);
    return rc ? rc : each_row(db, st, 0, user_row, (void *)cb, ctx, "users", err);
}

static fm_rc user_get(struct data_db *db, const char *name, store_user_cb cb, void *ctx,
                      struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE name = ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return each_row(db, st, 1, user_row, (void *)cb, ctx, "user", err);
}

static fm_rc user_insert(struct data_db *db, const struct store_user *u, int64_t *id,
                         struct fm_err *err)
{
    *id = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO users (name, party, role, pwhash, created_at)"
                          " SELECT ?1, ?2, ?3, ?4, ?5"
                          " WHERE EXISTS (SELECT 1 FROM parties WHERE code = ?2)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, u->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, u->pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, u->created_at);
    int s = sqlite3_step(st);
    if (s == SQLITE_CONSTRAINT)
        rc = fm_fail(err, FM_ECONFLICT, "name", "user %s exists already", u->name);
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "user add");
    else if (sqlite3_changes(db->h) == 0)
        rc = fm_fail(err, FM_ENOTFOUND, "party", "no party %s", u->party);
    else
        *id = sqlite3_last_insert_rowid(db->h);
    sqlite3_finalize(st);
    return rc;
}

static fm_rc user_count(struct data_db *db, long *out, struct fm_err *err)
{
    *out = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT count(*) FROM users", &st, err);
    if (rc) return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = (long)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(db, err, "user count");
    sqlite3_finalize(st);
    return rc;
}

/* ---- sessions and tokens ----------------------------------------------- */

static fm_rc secret_insert(struct data_db *db, enum store_secret_kind kind, const char *hash,
                           int64_t user_id, fm_time at, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          kind == STORE_SESSION
                              ? "INSERT INTO sessions (idhash, user_id, created_at, used_at)"
                                " VALUES (?1, ?2, ?3, ?3)"
                              : "INSERT INTO tokens (hash, user_id, created_at) VALUES (?1, ?2, ?3)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, at);
    return run(db, st, NULL, kind == STORE_SESSION ? "session add" : "token add", err);
}

static int secret_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    struct store_secret s;
    user_from_row(st, 0, &s.user);
    s.hash = db_text(st, 6);
    s.created_at = sqlite3_column_int64(st, 7);
    s.used_at = sqlite3_column_int64(st, 8);
    return ((store_secret_cb)cb)(ctx, &s);
}

static fm_rc secret_get(struct data_db *db, enum store_secret_kind kind, const char *hash,
                        store_secret_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc;
    if (kind == STORE_SESSION) {
        rc = db_prepare(db,
                        "SELECT u.id, u.name, u.party, u.role, u.pwhash, u.created_at,"
                        " s.idhash, s.created_at, s.used_at"
                        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.idhash = ?",
                        &st, err);
        if (rc) return rc;
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        return each_row(db, st, 1, secret_row, (void *)cb, ctx, "session", err);
    }
    /* every bearer request reads this: kept prepared */
    rc = db_cached(db,
                   "SELECT u.id, u.name, u.party, u.role, u.pwhash, u.created_at,"
                   " t.hash, t.created_at, t.created_at"
                   " FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
                   &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        secret_row(st, (void *)cb, ctx);
    else if (s == SQLITE_DONE)
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no such token");
    else
        rc = db_fail(db, err, "token get");
    db_release(st);
    return rc;
}

static fm_rc session_touch(struct data_db *db, const char *hash, fm_time at, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "UPDATE sessions SET used_at = ?2 WHERE idhash = ?1", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    return run(db, st, NULL, "session write", err);
}

static fm_rc session_delete(struct data_db *db, const char *hash, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "DELETE FROM sessions WHERE idhash = ?1", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    return run(db, st, NULL, "session end", err);
}

/* ---- login counts and known pairs -------------------------------------- */

static fm_rc count_get(struct data_db *db, const char *key, long *failures, int64_t *last_ms,
                       struct fm_err *err)
{
    *failures = 0;
    *last_ms = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT failures, last_at FROM login_throttle WHERE key = ?", &st,
                          err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *failures = (long)sqlite3_column_int64(st, 0);
        *last_ms = sqlite3_column_int64(st, 1);
    } else if (s != SQLITE_DONE) {
        rc = db_fail(db, err, "login count");
    }
    sqlite3_finalize(st);
    return rc;
}

static fm_rc count_put(struct data_db *db, const char *key, long failures, int64_t last_ms,
                       struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO login_throttle (key, failures, last_at) VALUES (?1, ?2, ?3)"
                          " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,"
                          " last_at = excluded.last_at",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, failures);
    sqlite3_bind_int64(st, 3, last_ms);
    return run(db, st, NULL, "login throttling", err);
}

static fm_rc count_delete(struct data_db *db, const char *key, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "DELETE FROM login_throttle WHERE key = ?1", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    return run(db, st, NULL, "login throttling", err);
}

static fm_rc known_get(struct data_db *db, const char *key, int64_t since_ms, int *known,
                       struct fm_err *err)
{
    *known = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT 1 FROM login_known WHERE key = ? AND at >= ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_ms);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *known = 1;
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "login known");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc known_put(struct data_db *db, const char *key, int64_t at_ms, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO login_known (key, at) VALUES (?1, ?2)"
                          " ON CONFLICT (key) DO UPDATE SET at = excluded.at",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at_ms);
    return run(db, st, NULL, "login known", err);
}

static fm_rc login_forget(struct data_db *db, int64_t counts_ms, int64_t known_ms,
                          struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "DELETE FROM login_throttle WHERE last_at < ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, counts_ms);
    if ((rc = run(db, st, NULL, "login throttling", err))) return rc;
    if ((rc = db_prepare(db, "DELETE FROM login_known WHERE at < ?", &st, err))) return rc;
    sqlite3_bind_int64(st, 1, known_ms);
    return run(db, st, NULL, "login known", err);
}

const struct store_ops sqlite_store = {
    .name = "sqlite",
    .begin = tx_begin,
    .commit = tx_commit,
    .rollback = tx_rollback,
    .parties_each = parties_each,
    .party_get = party_get,
    .party_put = party_put,
    .users_each = users_each,
    .user_get = user_get,
    .user_insert = user_insert,
    .user_count = user_count,
    .secret_insert = secret_insert,
    .secret_get = secret_get,
    .session_touch = session_touch,
    .session_delete = session_delete,
    .count_get = count_get,
    .count_put = count_put,
    .count_delete = count_delete,
    .known_get = known_get,
    .known_put = known_put,
    .login_forget = login_forget,
    .item_head = sqlite_item_head,
    .message_insert = sqlite_message_insert,
    .receipt_insert = sqlite_receipt_insert,
    .messages_each = sqlite_messages_each,
    .receipts_each = sqlite_receipts_each,
    .ruling_insert = sqlite_ruling_insert,
    .rulings_each = sqlite_rulings_each,
};
