/* pg.c - the store interface (store.h) on PostgreSQL/PostGIS, by libpq.
 *
 * The same rows as data/sqlite/, kept the PostgreSQL way: one writer at a
 * time through a transaction-scoped advisory lock (SQLite's BEGIN
 * IMMEDIATE), geometries in PostGIS (GEOS underneath, as SpatiaLite), the
 * event log's rows refused UPDATE and DELETE by a trigger. Parameters go
 * as text, never spliced into SQL. No rule here: the files of data/ above
 * the store decide. */
#include "pg.h"

#include "internal.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The connection: a struct data_db to the files above (store_of reads
 * its first member), this file's own struct. */
struct pg_db {
    const struct store_ops *ops; /* first */
    PGconn *c;
};
#define CONN(db) (((struct pg_db *)(void *)(db))->c)

/* The advisory lock of the one writer (any number: the cell's own). */
#define WRITER_LOCK "7061646"

/* ---- running statements ------------------------------------------------ */

/* An integer as a parameter's text, in caller-owned space. */
#define I64(x) i64_text((char[24]){0}, (x))
static const char *i64_text(char *buf, int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}
#define DBL(x) dbl_text((char[40]){0}, (x))
static const char *dbl_text(char *buf, double v)
{
    snprintf(buf, 40, "%.17g", v);
    return buf;
}

/* The failure of res (or of the connection) as FM_EDB or FM_EBUSY. */
static fm_rc pg_fail(struct data_db *db, PGresult *res, const char *what, struct fm_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(CONN(db));
    int busy = state && (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
                         !strcmp(state, "55P03"));
    /* a constraint is an answer the caller translates (a name taken) */
    if (!(state && state[0] == '2' && state[1] == '3'))
        fm_log(FM_LOG_ERROR, "postgresql: %s: %s", what, msg);
    return fm_fail(err, busy ? FM_EBUSY : FM_EDB, NULL, "database: %s: %s", what,
                   msg && *msg ? msg : "?");
}

#define PARAMS_MAX 24

/* Runs sql with n text parameters (NULL: SQL NULL). OUT *res on success
 * (a command or rows), else NULL and err filled; *state (may be NULL) is
 * the SQLSTATE of a failure. */
static fm_rc run(struct data_db *db, PGresult **res, char state[6], const char *what,
                 struct fm_err *err, const char *sql, int n, ...)
{
    const char *vals[PARAMS_MAX];
    if (n > PARAMS_MAX) return fm_fail(err, FM_EINTERNAL, NULL, "%s: too many parameters", what);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) vals[i] = va_arg(ap, const char *);
    va_end(ap);
    if (state) state[0] = 0;
    PGresult *r = PQexecParams(CONN(db), sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        if (res)
            *res = r;
        else
            PQclear(r);
        return FM_OK;
    }
    if (res) *res = NULL;
    const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && code) snprintf(state, 6, "%s", code);
    fm_rc rc = pg_fail(db, r, what, err);
    PQclear(r);
    return rc;
}

/* Column col of row i: text, or NULL for SQL NULL. */
static const char *col(PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}
static const char *col_s(PGresult *r, int i, int c)
{
    return PQgetvalue(r, i, c); /* "" for NULL */
}
static int64_t col_i(PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? 0 : strtoll(PQgetvalue(r, i, c), NULL, 10);
}
static double col_d(PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? 0 : strtod(PQgetvalue(r, i, c), NULL);
}
/* A boolean column ('t') or an integer one (nonzero). */
static int col_b(PGresult *r, int i, int c)
{
    const char *v = PQgetvalue(r, i, c);
    return v[0] == 't' || (v[0] >= '1' && v[0] <= '9');
}

/* Runs sql, which may be several statements, with no parameters and no
 * rows wanted (libpq's simple protocol: PQexecParams takes one). */
static fm_rc exec(struct data_db *db, const char *sql, struct fm_err *err)
{
    PGresult *r = PQexec(CONN(db), sql);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    fm_rc rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? FM_OK : pg_fail(db, r, sql, err);
    PQclear(r);
    return rc;
}

/* ---- the schema --------------------------------------------------------- */

/* Each entry moves the schema from version i to i+1: append, never edit.
 * The tables of data/sqlite/'s schema that the moved slices use, the
 * same columns; times are seconds (or ms where the name says) as there. */
static const char *const migrations[] = {
    /* 1: the accounts, the event log, items and versions, answers */
    "CREATE EXTENSION IF NOT EXISTS postgis;"
    "CREATE TABLE parties ("
    "  code text PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 15),"
    "  name text NOT NULL, colour text NOT NULL,"
    "  kind text NOT NULL CHECK (kind IN ('side','supervisor')));"
    "CREATE TABLE users ("
    "  id bigserial PRIMARY KEY, name text NOT NULL UNIQUE,"
    "  party text NOT NULL REFERENCES parties(code),"
    "  role text NOT NULL CHECK (role IN ('liaison','supervisor','viewer','admin')),"
    "  pwhash text NOT NULL, created_at bigint NOT NULL);"
    "CREATE TABLE sessions ("
    "  idhash text PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id),"
    "  created_at bigint NOT NULL, used_at bigint NOT NULL);"
    "CREATE TABLE tokens ("
    "  hash text PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id),"
    "  created_at bigint NOT NULL);"
    "CREATE TABLE login_throttle ("
    "  key text PRIMARY KEY, failures bigint NOT NULL, last_at bigint NOT NULL);"
    "CREATE INDEX login_throttle_at ON login_throttle (last_at);"
    "CREATE TABLE login_known (key text PRIMARY KEY, at bigint NOT NULL);"
    "CREATE INDEX login_known_at ON login_known (at);"
    "CREATE TABLE events ("
    "  seq bigint PRIMARY KEY, at bigint NOT NULL,"
    "  \"user\" text NOT NULL, party text NOT NULL, action text NOT NULL,"
    "  collection text, item_id bigint, version bigint, owner text,"
    "  before_draft boolean NOT NULL DEFAULT false,"
    "  after_draft boolean NOT NULL DEFAULT false,"
    "  before text, after text, prev_hash text NOT NULL, hash text NOT NULL);"
    "CREATE INDEX events_item ON events (item_id, seq);"
    "CREATE FUNCTION fm_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION 'the event log is append-only'; END $$;"
    "CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events"
    "  FOR EACH ROW EXECUTE FUNCTION fm_events_append_only();"
    "CREATE TABLE items ("
    "  id bigserial PRIMARY KEY, collection text NOT NULL, party text NOT NULL,"
    "  created_at bigint NOT NULL, created_by text NOT NULL);"
    "CREATE TABLE item_versions ("
    "  vid bigserial PRIMARY KEY, item_id bigint NOT NULL REFERENCES items(id),"
    "  version bigint NOT NULL, collection text NOT NULL, party text NOT NULL,"
    "  status text NOT NULL, type text, title text,"
    "  valid_from bigint, valid_to bigint,"
    "  alt_floor double precision, alt_ceiling double precision,"
    "  sys_from bigint NOT NULL, sys_to bigint,"
    "  action text NOT NULL, by_user text NOT NULL, feature text NOT NULL,"
    "  geom geometry(Geometry, 4326) NOT NULL, owner_only boolean NOT NULL DEFAULT false,"
    "  UNIQUE (item_id, version));"
    "CREATE INDEX item_versions_current ON item_versions (collection, sys_to, item_id);"
    "CREATE INDEX item_versions_geom ON item_versions USING gist (geom);"
    "CREATE TABLE acks ("
    "  id bigserial PRIMARY KEY, item_id bigint NOT NULL REFERENCES items(id),"
    "  version bigint NOT NULL, party text NOT NULL, \"user\" text NOT NULL,"
    "  at bigint NOT NULL, decision text NOT NULL CHECK (decision IN ('ack','dispute')),"
    "  comment text, UNIQUE (item_id, version, party));"
    /* a geometry's check that cannot fail the transaction it runs in
     * (ST_GeomFromGeoJSON raises on text it cannot read) */
    "CREATE FUNCTION fm_geom_check(t text, OUT readable boolean, OUT valid boolean,"
    "  OUT reason text) LANGUAGE plpgsql AS $$"
    " DECLARE g geometry;"
    " BEGIN"
    "  BEGIN g := ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(t), 4326));"
    "  EXCEPTION WHEN OTHERS THEN g := NULL; END;"
    "  readable := g IS NOT NULL;"
    "  valid := readable AND ST_IsValid(g);"
    "  reason := CASE WHEN readable THEN ST_IsValidReason(g) END;"
    " END $$;",
    /* 2: users' public signing keys (issue 20), in order of registration */
    "CREATE TABLE user_keys ("
    "  n bigserial UNIQUE, fingerprint text PRIMARY KEY, \"user\" text NOT NULL,"
    "  party text NOT NULL, public_key text NOT NULL, created_from text NOT NULL,"
    "  created_at bigint NOT NULL, revoked_at bigint);"
    "CREATE INDEX user_keys_user ON user_keys (\"user\");",
    /* 3: the cell's messages, their "seen" receipts and the supervisor's
     * rulings (issue 19), never changed */
    "CREATE TABLE messages ("
    "  id bigserial PRIMARY KEY, thread text NOT NULL, readers text,"
    "  party text NOT NULL, \"user\" text NOT NULL, at bigint NOT NULL, text text NOT NULL,"
    "  quote_coll text, quote_id bigint, quote_version bigint);"
    "CREATE INDEX messages_thread ON messages (thread, id);"
    "CREATE TABLE message_receipts ("
    "  id bigserial PRIMARY KEY, thread text NOT NULL, readers text,"
    "  party text NOT NULL, \"user\" text NOT NULL, at bigint NOT NULL, upto bigint NOT NULL);"
    "CREATE INDEX message_receipts_thread ON message_receipts (thread, id);"
    "CREATE TABLE rulings ("
    "  id bigserial PRIMARY KEY, item_id bigint NOT NULL REFERENCES items(id),"
    "  version bigint NOT NULL, party text NOT NULL, \"user\" text NOT NULL, at bigint NOT NULL,"
    "  decision text NOT NULL CHECK (decision IN ('uphold','overrule')), reason text NOT NULL,"
    "  UNIQUE (item_id, version));"
    "CREATE FUNCTION fm_never_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION '% rows are never changed', TG_TABLE_NAME; END $$;"
    "CREATE TRIGGER messages_never_changed BEFORE UPDATE OR DELETE ON messages"
    "  FOR EACH ROW EXECUTE FUNCTION fm_never_changed();"
    "CREATE TRIGGER message_receipts_never_changed BEFORE UPDATE OR DELETE ON message_receipts"
    "  FOR EACH ROW EXECUTE FUNCTION fm_never_changed();"
    "CREATE TRIGGER rulings_never_changed BEFORE UPDATE OR DELETE ON rulings"
    "  FOR EACH ROW EXECUTE FUNCTION fm_never_changed();",
    /* 4: lead times and deadlines (issue 19; SQLite's 13): the admin's
     * rules, and the deadline of each version waiting for an answer */
    "CREATE TABLE deadline_rules ("
    "  collection text NOT NULL, type text NOT NULL,"
    "  notice_s bigint NOT NULL, urgent_notice_s bigint NOT NULL,"
    "  answer_s bigint NOT NULL, answer_before_s bigint NOT NULL,"
    "  at bigint NOT NULL, by_user text NOT NULL,"
    "  PRIMARY KEY (collection, type));"
    "CREATE TABLE deadlines ("
    "  item_id bigint NOT NULL REFERENCES items(id), version bigint NOT NULL,"
    "  collection text NOT NULL, party text NOT NULL,"
    "  notified_at bigint NOT NULL, due_at bigint NOT NULL, overdue_at bigint,"
    "  PRIMARY KEY (item_id, version));"
    "CREATE INDEX deadlines_due ON deadlines (overdue_at, due_at);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static fm_rc migrate(struct data_db *db, struct fm_err *err)
{
    fm_rc rc = exec(db, "BEGIN; SELECT pg_advisory_xact_lock(" WRITER_LOCK ");", err);
    if (rc) return rc;
    PGresult *r;
    if ((rc = exec(db, "CREATE TABLE IF NOT EXISTS fm_schema (version int NOT NULL)", err)) ||
        (rc = run(db, &r, NULL, "schema", err, "SELECT max(version) FROM fm_schema", 0)))
        goto fail;
    int have = (int)col_i(r, 0, 0);
    PQclear(r);
    if (have > SCHEMA_VERSION) {
        rc = fm_fail(err, FM_EINVAL, "db",
                     "the database's schema (%d) is newer than this program's (%d)", have,
                     SCHEMA_VERSION);
        goto fail;
    }
    for (int v = have; v < SCHEMA_VERSION; v++) {
        fm_log(FM_LOG_INFO, "migrating the PostgreSQL schema to version %d", v + 1);
        if ((rc = exec(db, migrations[v], err))) goto fail;
    }
    if (have < SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql, "DELETE FROM fm_schema; INSERT INTO fm_schema VALUES (%d)",
                 SCHEMA_VERSION);
        if ((rc = exec(db, sql, err))) goto fail;
    }
    return exec(db, "COMMIT", err);
fail:
    exec(db, "ROLLBACK", NULL);
    return rc;
}

/* ---- transactions ------------------------------------------------------ */

static fm_rc tx_begin(struct data_db *db, struct fm_err *err)
{
    return exec(db, "BEGIN; SELECT pg_advisory_xact_lock(" WRITER_LOCK ");", err);
}

static fm_rc tx_commit(struct data_db *db, struct fm_err *err)
{
    fm_rc rc = exec(db, "COMMIT", err);
    if (rc) exec(db, "ROLLBACK", NULL);
    return rc;
}

static void tx_rollback(struct data_db *db)
{
    if (PQtransactionStatus(CONN(db)) != PQTRANS_IDLE) exec(db, "ROLLBACK", NULL);
}

static fm_rc sp_begin(struct data_db *db, struct fm_err *err)
{
    return exec(db, "SAVEPOINT fm_part", err);
}

static fm_rc sp_release(struct data_db *db, struct fm_err *err)
{
    return exec(db, "RELEASE SAVEPOINT fm_part", err);
}

static fm_rc sp_undo(struct data_db *db, struct fm_err *err)
{
    return exec(db, "ROLLBACK TO SAVEPOINT fm_part; RELEASE SAVEPOINT fm_part", err);
}

static fm_rc snapshot_begin(struct data_db *db, struct fm_err *err)
{
    return exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

static void snapshot_end(struct data_db *db)
{
    exec(db, "COMMIT", NULL);
}

/* ---- parties ----------------------------------------------------------- */

static fm_rc parties_out(PGresult *r, int want_one, store_party_cb cb, void *ctx,
                         struct fm_err *err)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct store_party p = {col_s(r, i, 0), col_s(r, i, 1), col_s(r, i, 2), col_s(r, i, 3)};
        if (cb(ctx, &p)) break;
    }
    PQclear(r);
    return want_one && !n ? fm_fail(err, FM_ENOTFOUND, NULL, "no such party") : FM_OK;
}

static fm_rc parties_each(struct data_db *db, store_party_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "parties", err,
                   "SELECT code, name, colour, kind FROM parties ORDER BY code COLLATE \"C\"", 0);
    return rc ? rc : parties_out(r, 0, cb, ctx, err);
}

static fm_rc party_get(struct data_db *db, const char *code, store_party_cb cb, void *ctx,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "party", err,
                   "SELECT code, name, colour, kind FROM parties WHERE code = $1", 1, code);
    return rc ? rc : parties_out(r, 1, cb, ctx, err);
}

static fm_rc party_put(struct data_db *db, const struct store_party *p, struct fm_err *err)
{
    char state[6];
    fm_rc rc = run(db, NULL, state, "party add", err,
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
    u->id = col_i(r, i, first);
    u->name = col_s(r, i, first + 1);
    u->party = col_s(r, i, first + 2);
    u->role = col_s(r, i, first + 3);
    u->pwhash = col_s(r, i, first + 4);
    u->created_at = col_i(r, i, first + 5);
}

static fm_rc users_out(PGresult *r, int want_one, store_user_cb cb, void *ctx,
                       struct fm_err *err)
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
    fm_rc rc = run(db, &r, NULL, "users", err,
                   order_by_id ? "SELECT " USER_COLUMNS " FROM users ORDER BY id"
                               : "SELECT " USER_COLUMNS " FROM users ORDER BY name COLLATE \"C\"",
                   0);
    return rc ? rc : users_out(r, 0, cb, ctx, err);
}

static fm_rc user_get(struct data_db *db, const char *name, store_user_cb cb, void *ctx,
                      struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "user", err,
                   "SELECT " USER_COLUMNS " FROM users WHERE name = $1", 1, name);
    return rc ? rc : users_out(r, 1, cb, ctx, err);
}

static fm_rc user_insert(struct data_db *db, const struct store_user *u, int64_t *id,
                         struct fm_err *err)
{
    *id = 0;
    PGresult *r;
    char state[6];
    fm_rc rc = run(db, &r, state, "user add", err,
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
        *id = col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

static fm_rc user_count(struct data_db *db, long *out, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "user count", err, "SELECT count(*) FROM users", 0);
    *out = rc ? 0 : (long)col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

/* ---- sessions and tokens ----------------------------------------------- */

static fm_rc secret_insert(struct data_db *db, enum store_secret_kind kind, const char *hash,
                           int64_t user_id, fm_time at, struct fm_err *err)
{
    return run(db, NULL, NULL, kind == STORE_SESSION ? "session add" : "token add", err,
               kind == STORE_SESSION ? "INSERT INTO sessions (idhash, user_id, created_at,"
                                       " used_at) VALUES ($1, $2::bigint, $3::bigint, $3::bigint)"
                                     : "INSERT INTO tokens (hash, user_id, created_at)"
                                       " VALUES ($1, $2::bigint, $3::bigint)",
               3, hash, I64(user_id), I64(at));
}

static fm_rc secret_get(struct data_db *db, enum store_secret_kind kind, const char *hash,
                        store_secret_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, kind == STORE_SESSION ? "session" : "token", err,
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
    s.hash = col_s(r, 0, 6);
    s.created_at = col_i(r, 0, 7);
    s.used_at = col_i(r, 0, 8);
    cb(ctx, &s);
    PQclear(r);
    return FM_OK;
}

static fm_rc session_touch(struct data_db *db, const char *hash, fm_time at, struct fm_err *err)
{
    return run(db, NULL, NULL, "session write", err,
               "UPDATE sessions SET used_at = $2::bigint WHERE idhash = $1", 2, hash, I64(at));
}

static fm_rc session_delete(struct data_db *db, const char *hash, struct fm_err *err)
{
    return run(db, NULL, NULL, "session end", err, "DELETE FROM sessions WHERE idhash = $1", 1,
               hash);
}

/* ---- login counts and known pairs -------------------------------------- */

static fm_rc count_get(struct data_db *db, const char *key, long *failures, int64_t *last_ms,
                       struct fm_err *err)
{
    *failures = 0;
    *last_ms = 0;
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "login count", err,
                   "SELECT failures, last_at FROM login_throttle WHERE key = $1", 1, key);
    if (rc) return rc;
    if (PQntuples(r)) {
        *failures = (long)col_i(r, 0, 0);
        *last_ms = col_i(r, 0, 1);
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc count_put(struct data_db *db, const char *key, long failures, int64_t last_ms,
                       struct fm_err *err)
{
    return run(db, NULL, NULL, "login throttling", err,
               "INSERT INTO login_throttle (key, failures, last_at)"
               " VALUES ($1, $2::bigint, $3::bigint) ON CONFLICT (key) DO UPDATE"
               " SET failures = excluded.failures, last_at = excluded.last_at",
               3, key, I64(failures), I64(last_ms));
}

static fm_rc count_delete(struct data_db *db, const char *key, struct fm_err *err)
{
    return run(db, NULL, NULL, "login throttling", err,
               "DELETE FROM login_throttle WHERE key = $1", 1, key);
}

static fm_rc known_get(struct data_db *db, const char *key, int64_t since_ms, int *known,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "login known", err,
                   "SELECT 1 FROM login_known WHERE key = $1 AND at >= $2::bigint", 2, key,
                   I64(since_ms));
    *known = !rc && PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

static fm_rc known_put(struct data_db *db, const char *key, int64_t at_ms, struct fm_err *err)
{
    return run(db, NULL, NULL, "login known", err,
               "INSERT INTO login_known (key, at) VALUES ($1, $2::bigint)"
               " ON CONFLICT (key) DO UPDATE SET at = excluded.at",
               2, key, I64(at_ms));
}

static fm_rc login_forget(struct data_db *db, int64_t counts_ms, int64_t known_ms,
                          struct fm_err *err)
{
    fm_rc rc = run(db, NULL, NULL, "login throttling", err,
                   "DELETE FROM login_throttle WHERE last_at < $1::bigint", 1, I64(counts_ms));
    return rc ? rc
              : run(db, NULL, NULL, "login known", err,
                    "DELETE FROM login_known WHERE at < $1::bigint", 1, I64(known_ms));
}

/* ---- the event log ----------------------------------------------------- */

static fm_rc event_head(struct data_db *db, int64_t *seq, char hash[65], struct fm_err *err)
{
    *seq = 0;
    hash[0] = 0;
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "event head", err,
                   "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", 0);
    if (rc) return rc;
    if (PQntuples(r)) {
        *seq = col_i(r, 0, 0);
        snprintf(hash, 65, "%s", col_s(r, 0, 1));
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc event_insert(struct data_db *db, const struct store_event *e, struct fm_err *err)
{
    return run(db, NULL, NULL, "append event", err,
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

#define EVENT_COLUMNS                                                                             \
    "seq, at, \"user\", party, action, collection, item_id, version, owner, before, after,"        \
    " prev_hash, hash, before_draft, after_draft"

/* Hands each row of r (EVENT_COLUMNS) to cb; *last: the last seq read;
 * returns 1 when cb stopped. Clears r. */
static int events_out(PGresult *r, store_event_cb cb, void *ctx, int64_t *last)
{
    int n = PQntuples(r), stop = 0;
    for (int i = 0; i < n && !stop; i++) {
        struct store_event e = {
            .seq = col_i(r, i, 0),
            .at = col_i(r, i, 1),
            .user = col_s(r, i, 2),
            .party = col_s(r, i, 3),
            .action = col_s(r, i, 4),
            .collection = col(r, i, 5),
            .item = col_i(r, i, 6),
            .version = col_i(r, i, 7),
            .owner = col(r, i, 8),
            .before = col(r, i, 9),
            .after = col(r, i, 10),
            .prev_hash = col_s(r, i, 11),
            .hash = col_s(r, i, 12),
            .before_owner_only = col_b(r, i, 13),
            .after_owner_only = col_b(r, i, 14),
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
        fm_rc rc = run(db, &r, NULL, "events", err,
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
    fm_rc rc = run(db, &r, NULL, "events", err,
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
    fm_rc rc = run(db, &r, NULL, "event hash", err,
                   "SELECT hash FROM events WHERE seq = $1::bigint", 1, I64(seq));
    if (rc) return rc;
    if (PQntuples(r))
        snprintf(hash, 65, "%s", col_s(r, 0, 0));
    else
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no record %" PRId64, seq);
    PQclear(r);
    return rc;
}

static fm_rc event_version_mismatch(struct data_db *db, int64_t *seq, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "cross-check", err,
                   "SELECT e.seq FROM events e LEFT JOIN item_versions v"
                   " ON v.item_id = e.item_id AND v.version = e.version"
                   " WHERE e.action IN " EVENT_VERSION_ACTIONS_SQL
                   " AND (v.feature IS NULL OR v.feature <> e.after) ORDER BY e.seq LIMIT 1",
                   0);
    *seq = rc || !PQntuples(r) ? 0 : col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

static fm_rc version_unrecorded(struct data_db *db, int64_t *item, int64_t *version,
                                struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "cross-check", err,
                   "SELECT v.item_id, v.version FROM item_versions v WHERE NOT EXISTS"
                   " (SELECT 1 FROM events e WHERE e.item_id = v.item_id"
                   " AND e.version = v.version AND e.action IN " EVENT_VERSION_ACTIONS_SQL ")"
                   " ORDER BY v.vid LIMIT 1",
                   0);
    *item = rc || !PQntuples(r) ? 0 : col_i(r, 0, 0);
    *version = rc || !PQntuples(r) ? 0 : col_i(r, 0, 1);
    PQclear(r);
    return rc;
}

/* ---- items and their versions ------------------------------------------ */

static fm_rc geometry_check(struct data_db *db, const char *geojson, int *readable, int *valid,
                            char reason[200], struct fm_err *err)
{
    *readable = *valid = 0;
    reason[0] = 0;
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "geometry check", err,
                   "SELECT readable, valid, reason FROM fm_geom_check($1)", 1, geojson);
    if (rc) return rc;
    *readable = col_b(r, 0, 0);
    *valid = col_b(r, 0, 1);
    snprintf(reason, 200, "%s", col_s(r, 0, 2));
    PQclear(r);
    return FM_OK;
}

static fm_rc item_insert(struct data_db *db, const char *collection, const char *party,
                         fm_time at, const char *by, int64_t *id, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "insert item", err,
                   "INSERT INTO items (collection, party, created_at, created_by)"
                   " VALUES ($1, $2, $3::bigint, $4) RETURNING id",
                   4, collection, party, I64(at), by);
    *id = rc ? 0 : col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

static fm_rc version_insert(struct data_db *db, const struct store_version *v,
                            struct fm_err *err)
{
    return run(db, NULL, NULL, "insert version", err,
               "INSERT INTO item_versions (item_id, version, collection, party, status, type,"
               " title, valid_from, valid_to, alt_floor, alt_ceiling, sys_from, action, by_user,"
               " feature, owner_only, geom) VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, $7,"
               " $8::bigint, $9::bigint, $10::float8, $11::float8, $12::bigint, $13, $14, $15,"
               " $16::boolean, ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON($17), 4326)))",
               17, I64(v->item), I64(v->version), v->collection, v->party, v->status, v->type,
               v->title, v->has_from ? I64(v->valid_from) : NULL,
               v->has_to ? I64(v->valid_to) : NULL, v->has_floor ? DBL(v->alt_floor) : NULL,
               v->has_ceiling ? DBL(v->alt_ceiling) : NULL, I64(v->sys_from), v->action, v->by,
               v->feature, v->owner_only ? "t" : "f", v->geometry);
}

static fm_rc version_close(struct data_db *db, int64_t vid, fm_time at, struct fm_err *err)
{
    return run(db, NULL, NULL, "close version", err,
               "UPDATE item_versions SET sys_to = $1::bigint WHERE vid = $2::bigint", 2, I64(at),
               I64(vid));
}

#define VERSION_COLUMNS                                                                           \
    "v.vid, v.item_id, v.version, v.collection, v.party, v.status, v.type, v.title,"             \
    " v.valid_from, v.valid_to, v.alt_floor, v.alt_ceiling, v.sys_from, v.action, v.by_user,"    \
    " v.feature, v.owner_only, i.created_at, i.created_by"

static fm_rc versions_out(PGresult *r, int want_one, store_version_cb cb, void *ctx,
                          const char *what, struct fm_err *err)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct store_version v = {
            .vid = col_i(r, i, 0),
            .item = col_i(r, i, 1),
            .version = col_i(r, i, 2),
            .collection = col_s(r, i, 3),
            .party = col_s(r, i, 4),
            .status = col_s(r, i, 5),
            .type = col(r, i, 6),
            .title = col(r, i, 7),
            .has_from = !PQgetisnull(r, i, 8),
            .has_to = !PQgetisnull(r, i, 9),
            .has_floor = !PQgetisnull(r, i, 10),
            .has_ceiling = !PQgetisnull(r, i, 11),
            .valid_from = col_i(r, i, 8),
            .valid_to = col_i(r, i, 9),
            .alt_floor = col_d(r, i, 10),
            .alt_ceiling = col_d(r, i, 11),
            .sys_from = col_i(r, i, 12),
            .action = col_s(r, i, 13),
            .by = col_s(r, i, 14),
            .feature = col_s(r, i, 15),
            .owner_only = col_b(r, i, 16),
            .created_at = col_i(r, i, 17),
            .created_by = col_s(r, i, 18),
        };
        if (cb(ctx, &v)) break;
    }
    PQclear(r);
    return want_one && !n ? fm_fail(err, FM_ENOTFOUND, NULL, "no such %s", what) : FM_OK;
}

static fm_rc version_current(struct data_db *db, const char *collection, int64_t id,
                             store_version_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "load item", err,
                   "SELECT " VERSION_COLUMNS " FROM item_versions v"
                   " JOIN items i ON i.id = v.item_id"
                   " WHERE v.item_id = $1::bigint AND v.collection = $2 AND v.sys_to IS NULL",
                   2, I64(id), collection);
    return rc ? rc : versions_out(r, 1, cb, ctx, "item", err);
}

static fm_rc versions_each(struct data_db *db, const char *collection, int64_t id,
                           store_version_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "history", err,
                   "SELECT " VERSION_COLUMNS " FROM item_versions v"
                   " JOIN items i ON i.id = v.item_id"
                   " WHERE v.item_id = $1::bigint AND v.collection = $2 ORDER BY v.version",
                   2, I64(id), collection);
    return rc ? rc : versions_out(r, 0, cb, ctx, "history", err);
}

static fm_rc version_get(struct data_db *db, int64_t id, int64_t version, store_version_cb cb,
                         void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "version", err,
                   "SELECT " VERSION_COLUMNS " FROM item_versions v"
                   " JOIN items i ON i.id = v.item_id"
                   " WHERE v.item_id = $1::bigint AND v.version = $2::bigint",
                   2, I64(id), I64(version));
    return rc ? rc : versions_out(r, 1, cb, ctx, "version", err);
}

static fm_rc current_each(struct data_db *db, const char *status, const char *unanswered_by,
                          store_version_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "items", err,
                   "SELECT " VERSION_COLUMNS " FROM item_versions v"
                   " JOIN items i ON i.id = v.item_id WHERE v.sys_to IS NULL"
                   " AND ($1::text IS NULL OR v.status = $1)"
                   " AND ($2::text IS NULL OR (v.party <> $2 AND NOT EXISTS (SELECT 1 FROM acks a"
                   " WHERE a.item_id = v.item_id AND a.version = v.version AND a.party = $2)))"
                   " ORDER BY v.item_id",
                   2, status, unanswered_by);
    return rc ? rc : versions_out(r, 0, cb, ctx, "items", err);
}

static fm_rc ack_insert(struct data_db *db, const struct store_ack *a, struct fm_err *err)
{
    char state[6];
    fm_rc rc = run(db, NULL, state, "insert ack", err,
                   "INSERT INTO acks (item_id, version, party, \"user\", at, decision, comment)"
                   " VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, $6, $7)",
                   7, I64(a->item), I64(a->version), a->party, a->user, I64(a->at), a->decision,
                   a->comment);
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, NULL,
                       "party %s has already answered version %" PRId64 " of item %" PRId64,
                       a->party, a->version, a->item);
    return rc;
}

static fm_rc acks_each(struct data_db *db, int64_t id, store_ack_cb cb, void *ctx,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "acks", err,
                   "SELECT item_id, version, party, \"user\", at, decision, comment FROM acks"
                   " WHERE item_id = $1::bigint ORDER BY id",
                   1, I64(id));
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_ack a = {col_i(r, i, 0), col_i(r, i, 1), col_s(r, i, 2), col_s(r, i, 3),
                              col_i(r, i, 4), col_s(r, i, 5), col(r, i, 6)};
        if (cb(ctx, &a)) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc ack_exists(struct data_db *db, int64_t id, int64_t version, const char *except,
                        int *yes, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "acks", err,
                   "SELECT 1 FROM acks WHERE item_id = $1::bigint AND version = $2::bigint"
                   " AND party <> $3 AND decision = 'ack'",
                   3, I64(id), I64(version), except);
    *yes = !rc && PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

/* ---- users' public signing keys --------------------------------------- */

#define KEY_COLUMNS                                                                               \
    "fingerprint, \"user\", party, public_key, created_from, created_at,"                         \
    " coalesce(revoked_at, 0)"

static fm_rc keys_out(PGresult *r, int want_one, store_key_cb cb, void *ctx, struct fm_err *err)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct store_key k = {col_s(r, i, 0), col_s(r, i, 1), col_s(r, i, 2), col_s(r, i, 3),
                              col_s(r, i, 4), col_i(r, i, 5), col_i(r, i, 6)};
        if (cb(ctx, &k)) break;
    }
    PQclear(r);
    return want_one && !n ? fm_fail(err, FM_ENOTFOUND, NULL, "no such key") : FM_OK;
}

static fm_rc key_insert(struct data_db *db, const struct store_key *k, struct fm_err *err)
{
    char state[6];
    fm_rc rc = run(db, NULL, state, "insert key", err,
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
    fm_rc rc = run(db, &r, NULL, "keys", err,
                   "SELECT " KEY_COLUMNS " FROM user_keys WHERE fingerprint = $1", 1, fingerprint);
    return rc ? rc : keys_out(r, 1, cb, ctx, err);
}

static fm_rc keys_each(struct data_db *db, const char *user, store_key_cb cb, void *ctx,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "keys", err,
                   "SELECT " KEY_COLUMNS " FROM user_keys WHERE $1::text IS NULL"
                   " OR \"user\" = $1 ORDER BY n",
                   1, user);
    return rc ? rc : keys_out(r, 0, cb, ctx, err);
}

static fm_rc key_revoke(struct data_db *db, const char *fingerprint, fm_time at,
                        struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "revoke key", err,
                   "UPDATE user_keys SET revoked_at = $1::bigint WHERE fingerprint = $2"
                   " AND revoked_at IS NULL",
                   2, I64(at), fingerprint);
    if (rc) return rc;
    if (!strcmp(PQcmdTuples(r), "0"))
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no current key %s", fingerprint);
    PQclear(r);
    return rc;
}

/* ---- messages, receipts, rulings --------------------------------------- */

static fm_rc item_head(struct data_db *db, int64_t id, int64_t version,
                       struct store_item_head *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "item head", err,
                   "SELECT collection, party, status, version, owner_only FROM item_versions"
                   " WHERE item_id = $1::bigint AND ($2::bigint > 0 AND version = $2::bigint"
                   " OR $2::bigint <= 0 AND sys_to IS NULL)",
                   2, I64(id), I64(version));
    if (rc) return rc;
    if (PQntuples(r)) {
        snprintf(out->coll, sizeof out->coll, "%s", col_s(r, 0, 0));
        snprintf(out->party, sizeof out->party, "%s", col_s(r, 0, 1));
        snprintf(out->status, sizeof out->status, "%s", col_s(r, 0, 2));
        out->version = col_i(r, 0, 3);
        out->owner_only = col_b(r, 0, 4);
    } else {
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no such item");
    }
    PQclear(r);
    return rc;
}

static fm_rc returning_id(fm_rc rc, PGresult *r, int64_t *id)
{
    *id = rc ? 0 : col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

static fm_rc message_insert(struct data_db *db, const struct store_message *m, int64_t *id,
                            struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "insert message", err,
                   "INSERT INTO messages (thread, readers, party, \"user\", at, text, quote_coll,"
                   " quote_id, quote_version) VALUES ($1, $2, $3, $4, $5::bigint, $6, $7,"
                   " $8::bigint, $9::bigint) RETURNING id",
                   9, m->thread, m->readers, m->party, m->user, I64(m->at), m->text,
                   m->quote_coll, m->quote_coll ? I64(m->quote_id) : NULL,
                   m->quote_coll ? I64(m->quote_version) : NULL);
    return returning_id(rc, r, id);
}

static fm_rc receipt_insert(struct data_db *db, const struct store_message *m, int64_t *id,
                            struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "insert receipt", err,
                   "INSERT INTO message_receipts (thread, readers, party, \"user\", at, upto)"
                   " VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint) RETURNING id",
                   6, m->thread, m->readers, m->party, m->user, I64(m->at), I64(m->upto));
    return returning_id(rc, r, id);
}

static fm_rc messages_out(PGresult *r, int receipts, store_message_cb cb, void *ctx)
{
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_message m = {
            .id = col_i(r, i, 0),
            .thread = col_s(r, i, 1),
            .readers = col(r, i, 2),
            .party = col_s(r, i, 3),
            .user = col_s(r, i, 4),
            .at = col_i(r, i, 5),
        };
        if (receipts) {
            m.upto = col_i(r, i, 6);
        } else {
            m.text = col_s(r, i, 6);
            m.quote_coll = col(r, i, 7);
            m.quote_id = col_i(r, i, 8);
            m.quote_version = col_i(r, i, 9);
        }
        if (cb(ctx, &m)) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc messages_each(struct data_db *db, const char *thread, int64_t since,
                           store_message_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "messages", err,
                   "SELECT id, thread, readers, party, \"user\", at, text, quote_coll, quote_id,"
                   " quote_version FROM messages WHERE ($1::text IS NULL OR thread = $1)"
                   " AND id > $2::bigint ORDER BY id",
                   2, thread, I64(since));
    return rc ? rc : messages_out(r, 0, cb, ctx);
}

static fm_rc receipts_each(struct data_db *db, const char *thread, store_message_cb cb,
                           void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "receipts", err,
                   "SELECT id, thread, readers, party, \"user\", at, upto FROM message_receipts"
                   " WHERE $1::text IS NULL OR thread = $1 ORDER BY id",
                   1, thread);
    return rc ? rc : messages_out(r, 1, cb, ctx);
}

static fm_rc ruling_insert(struct data_db *db, const struct store_ruling *g, int64_t *id,
                           struct fm_err *err)
{
    PGresult *r;
    char state[6];
    fm_rc rc = run(db, &r, state, "insert ruling", err,
                   "INSERT INTO rulings (item_id, version, party, \"user\", at, decision, reason)"
                   " VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, $6, $7) RETURNING id",
                   7, I64(g->item), I64(g->version), g->party, g->user, I64(g->at), g->decision,
                   g->reason);
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, NULL, "that version has its ruling already");
    return returning_id(rc, r, id);
}

static fm_rc rulings_each(struct data_db *db, int64_t item, store_ruling_cb cb, void *ctx,
                          struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "rulings", err,
                   "SELECT id, item_id, version, party, \"user\", at, decision, reason FROM"
                   " rulings WHERE $1::bigint = 0 OR item_id = $1::bigint ORDER BY id",
                   1, I64(item));
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_ruling g = {
            .id = col_i(r, i, 0),
            .item = col_i(r, i, 1),
            .version = col_i(r, i, 2),
            .party = col_s(r, i, 3),
            .user = col_s(r, i, 4),
            .at = col_i(r, i, 5),
            .decision = col_s(r, i, 6),
            .reason = col_s(r, i, 7),
        };
        if (cb(ctx, &g)) break;
    }
    PQclear(r);
    return FM_OK;
}

/* ---- lead times and deadlines (rules.c) ---------------------------------- */

static fm_rc rule_put(struct data_db *db, const struct store_rule *g, struct fm_err *err)
{
    char b1[24], b2[24], b3[24], b4[24], b5[24];
    return run(db, NULL, NULL, "set rule", err,
               "INSERT INTO deadline_rules (collection, type, notice_s, urgent_notice_s,"
               " answer_s, answer_before_s, at, by_user) VALUES ($1, $2, $3::bigint,"
               " $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8)"
               " ON CONFLICT (collection, type) DO UPDATE SET notice_s = EXCLUDED.notice_s,"
               " urgent_notice_s = EXCLUDED.urgent_notice_s, answer_s = EXCLUDED.answer_s,"
               " answer_before_s = EXCLUDED.answer_before_s, at = EXCLUDED.at,"
               " by_user = EXCLUDED.by_user",
               8, g->collection, g->type, i64_text(b1, g->notice_s),
               i64_text(b2, g->urgent_notice_s), i64_text(b3, g->answer_s),
               i64_text(b4, g->answer_before_s), i64_text(b5, g->at), g->by);
}

static fm_rc rules_each(struct data_db *db, store_rule_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "rules", err,
                   "SELECT collection, type, notice_s, urgent_notice_s, answer_s,"
                   " answer_before_s, at, by_user FROM deadline_rules ORDER BY collection, type",
                   0);
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_rule g = {
            .collection = col_s(r, i, 0),
            .type = col_s(r, i, 1),
            .notice_s = col_i(r, i, 2),
            .urgent_notice_s = col_i(r, i, 3),
            .answer_s = col_i(r, i, 4),
            .answer_before_s = col_i(r, i, 5),
            .at = col_i(r, i, 6),
            .by = col_s(r, i, 7),
        };
        if (cb(ctx, &g)) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc deadline_insert(struct data_db *db, const struct store_deadline *d,
                             struct fm_err *err)
{
    char b1[24], b2[24], b3[24], b4[24], state[6];
    fm_rc rc = run(db, NULL, state, "insert deadline", err,
                   "INSERT INTO deadlines (item_id, version, collection, party, notified_at,"
                   " due_at) VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, $6::bigint)",
                   6, i64_text(b1, d->item), i64_text(b2, d->version), d->collection, d->party,
                   i64_text(b3, d->notified_at), i64_text(b4, d->due_at));
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, NULL, "that version has its deadline already");
    return rc;
}

static fm_rc deadlines_each(struct data_db *db, int which, fm_time now, store_deadline_cb cb,
                            void *ctx, struct fm_err *err)
{
    static const char *const sql[] = {
        "SELECT d.item_id, d.version, d.collection, d.party, d.notified_at, d.due_at,"
        " d.overdue_at FROM deadlines d JOIN item_versions v ON v.item_id = d.item_id AND"
        " v.version = d.version AND v.sys_to IS NULL WHERE d.overdue_at IS NULL AND"
        " d.due_at <= $1::bigint ORDER BY d.item_id, d.version",
        "SELECT d.item_id, d.version, d.collection, d.party, d.notified_at, d.due_at,"
        " d.overdue_at FROM deadlines d JOIN item_versions v ON v.item_id = d.item_id AND"
        " v.version = d.version AND v.sys_to IS NULL WHERE d.overdue_at IS NOT NULL"
        " AND $1::bigint IS NOT NULL ORDER BY d.item_id, d.version",
        "SELECT item_id, version, collection, party, notified_at, due_at, overdue_at"
        " FROM deadlines WHERE $1::bigint IS NOT NULL ORDER BY item_id, version",
    };
    if (which < 0 || which > 2) return fm_fail(err, FM_EINTERNAL, NULL, "deadlines: which");
    char b1[24];
    PGresult *r;
    fm_rc rc = run(db, &r, NULL, "deadlines", err, sql[which], 1, i64_text(b1, now));
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_deadline d = {
            .item = col_i(r, i, 0),
            .version = col_i(r, i, 1),
            .collection = col_s(r, i, 2),
            .party = col_s(r, i, 3),
            .notified_at = col_i(r, i, 4),
            .due_at = col_i(r, i, 5),
            .overdue_at = col_i(r, i, 6),
        };
        if (cb(ctx, &d)) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc deadline_overdue(struct data_db *db, int64_t item, int64_t version, fm_time at,
                              struct fm_err *err)
{
    char b1[24], b2[24], b3[24];
    return run(db, NULL, NULL, "deadline overdue", err,
               "UPDATE deadlines SET overdue_at = $3::bigint WHERE item_id = $1::bigint AND"
               " version = $2::bigint AND overdue_at IS NULL",
               3, i64_text(b1, item), i64_text(b2, version), i64_text(b3, at));
}

/* ---- the connection ---------------------------------------------------- */

static void pg_close(struct data_db *db)
{
    if (CONN(db)) PQfinish(CONN(db));
    free(db);
}

static const struct store_ops pg_store = {
    .name = "postgresql",
    .close = pg_close,
    .begin = tx_begin,
    .commit = tx_commit,
    .rollback = tx_rollback,
    .savepoint = sp_begin,
    .savepoint_release = sp_release,
    .savepoint_undo = sp_undo,
    .snapshot_begin = snapshot_begin,
    .snapshot_end = snapshot_end,
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
    .event_head = event_head,
    .event_insert = event_insert,
    .events_each = events_each,
    .events_latest = events_latest,
    .event_hash = event_hash,
    .event_version_mismatch = event_version_mismatch,
    .version_unrecorded = version_unrecorded,
    .geometry_check = geometry_check,
    .item_insert = item_insert,
    .version_insert = version_insert,
    .version_close = version_close,
    .version_current = version_current,
    .versions_each = versions_each,
    .version_get = version_get,
    .current_each = current_each,
    .ack_insert = ack_insert,
    .acks_each = acks_each,
    .ack_exists = ack_exists,
    .key_insert = key_insert,
    .key_get = key_get,
    .keys_each = keys_each,
    .key_revoke = key_revoke,
    .item_head = item_head,
    .message_insert = message_insert,
    .receipt_insert = receipt_insert,
    .messages_each = messages_each,
    .receipts_each = receipts_each,
    .ruling_insert = ruling_insert,
    .rulings_each = rulings_each,
    .rule_put = rule_put,
    .rules_each = rules_each,
    .deadline_insert = deadline_insert,
    .deadlines_each = deadlines_each,
    .deadline_overdue = deadline_overdue,
};

/* libpq's notices (CREATE ... IF NOT EXISTS) go to the log, not stderr. */
static void notice(void *arg, const char *msg)
{
    (void)arg;
    fm_log(FM_LOG_INFO, "postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
}

fm_rc pg_store_open(const char *url, struct data_db **out, struct fm_err *err)
{
    *out = NULL;
    struct pg_db *p = fm_xcalloc(1, sizeof *p);
    p->ops = &pg_store;
    p->c = PQconnectdb(url);
    struct data_db *db = (struct data_db *)(void *)p;
    fm_rc rc;
    if (!p->c || PQstatus(p->c) != CONNECTION_OK) {
        /* libpq's message may quote the URL: never its password */
        rc = fm_fail(err, FM_EIO, "db", "cannot connect to PostgreSQL: %.*s",
                     p->c ? (int)strcspn(PQerrorMessage(p->c), "\n") : 13,
                     p->c ? PQerrorMessage(p->c) : "out of memory");
        pg_close(db);
        return rc;
    }
    PQsetNoticeProcessor(p->c, notice, NULL);
    if ((rc = exec(db, "SET client_min_messages = warning; SET TIME ZONE 'UTC'", err)) ||
        (rc = migrate(db, err))) {
        pg_close(db);
        return rc;
    }
    *out = db;
    return FM_OK;
}
