/* pg.c - the store interface (store.h) on PostgreSQL/PostGIS, by libpq:
 * the connection, its schema and transactions, and the store's table;
 * each slice's rows in its own file of this folder.
 *
 * The same rows as data/sqlite/, kept the PostgreSQL way: one writer at a
 * time through a transaction-scoped advisory lock (SQLite's BEGIN
 * IMMEDIATE), geometries in PostGIS (GEOS underneath, as SpatiaLite), the
 * event log's rows refused UPDATE and DELETE by a trigger. Parameters go
 * as text, never spliced into SQL. No rule here: the files of data/ above
 * the store decide. */
#include "pg.h"
#include "pgint.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- running statements ------------------------------------------------ */

const char *pg_i64_text(char *buf, int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}
const char *pg_dbl_text(char *buf, double v)
{
    snprintf(buf, 40, "%.17g", v);
    return buf;
}

/* The failure of res (or of the connection) as FM_EDB or FM_EBUSY. */
fm_rc pg_fail(struct data_db *db, PGresult *res, const char *what, struct fm_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(CONN(db));
    int busy =
        state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"));
    /* a constraint is an answer the caller translates (a name taken) */
    if (!(state && state[0] == '2' && state[1] == '3'))
        fm_log(FM_LOG_ERROR, "postgresql: %s: %s", what, msg);
    fm_rc rc = fm_fail(err, busy ? FM_EBUSY : FM_EDB, NULL, "database: %s: %s", what,
                       msg && *msg ? msg : "?");
    if (PQstatus(CONN(db)) == CONNECTION_BAD) {
        /* the server went away (a primary lost): connect again, to whichever
         * host of the URL takes writes now (target_session_attrs), and let
         * the client try again; until one does, each request tries anew */
        PQreset(CONN(db));
        int back = PQstatus(CONN(db)) == CONNECTION_OK;
        fm_log(FM_LOG_WARN, "postgresql: the connection was lost; %s",
               back ? "connected again" : "no server takes writes yet");
        rc = fm_fail(err, FM_EBUSY, NULL, "database: the connection was lost%s: try again",
                     back ? " and is back" : "");
    }
    return rc;
}

/* Runs sql with n text parameters (NULL: SQL NULL). OUT *res on success
 * (a command or rows), else NULL and err filled; *state (may be NULL) is
 * the SQLSTATE of a failure. */
fm_rc pg_run(struct data_db *db, PGresult **res, char state[6], const char *what,
             struct fm_err *err, const char *sql, int n, ...)
{
    const char *vals[PARAMS_MAX];
    if (n > PARAMS_MAX) return fm_fail(err, FM_EINTERNAL, NULL, "%s: too many parameters", what);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        vals[i] = va_arg(ap, const char *);
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
const char *pg_col(PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}
const char *pg_col_s(PGresult *r, int i, int c)
{
    return PQgetvalue(r, i, c); /* "" for NULL */
}
int64_t pg_col_i(PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? 0 : strtoll(PQgetvalue(r, i, c), NULL, 10);
}
double pg_col_d(PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? 0 : strtod(PQgetvalue(r, i, c), NULL);
}
/* A boolean column ('t') or an integer one (nonzero). */
int pg_col_b(PGresult *r, int i, int c)
{
    const char *v = PQgetvalue(r, i, c);
    return v[0] == 't' || (v[0] >= '1' && v[0] <= '9');
}

/* Runs sql, which may be several statements, with no parameters and no
 * rows wanted (libpq's simple protocol: PQexecParams takes one). */
fm_rc pg_exec(struct data_db *db, const char *sql, struct fm_err *err)
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
    /* 4: a name for the database, the same on every connection (the
     * picture of now is kept per database: store.h, database_name) */
    ("CREATE TABLE fm_identity (id text NOT NULL);"
     "INSERT INTO fm_identity VALUES (gen_random_uuid()::text);"),
    /* 5: cosigned heads of the log (issue 20; SQLite's migration 13) */
    "CREATE TABLE cosigned_heads ("
    "  id bigserial PRIMARY KEY, seq bigint NOT NULL, hash text NOT NULL,"
    "  \"user\" text NOT NULL, party text NOT NULL, key text NOT NULL, at bigint NOT NULL,"
    "  signature text NOT NULL, recorded_at bigint NOT NULL, UNIQUE (\"user\", seq));"
    "CREATE TRIGGER cosigned_heads_never_changed BEFORE UPDATE OR DELETE ON cosigned_heads"
    "  FOR EACH ROW EXECUTE FUNCTION fm_never_changed();",
    /* 6: lead times and deadlines (issue 19; SQLite's 14): the admin's
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
    /* 7: the conflicts (issue 18; SQLite's 3, 4, 5 and 15): one row per
     * (kind, item pair), its clash geometry and that geometry's GeoJSON
     * text as the rules wrote it (conflicts.c); the movements' corridor
     * reach; the setting incident_near_m */
    "CREATE TABLE conflicts ("
    "  id bigserial PRIMARY KEY,"
    "  kind text NOT NULL CHECK (kind IN ('movement_crosses_zone', 'zones_overlap',"
    "   'incident_in_zone', 'incident_near_movement')),"
    "  a_coll text NOT NULL, a_id bigint NOT NULL, a_version bigint NOT NULL,"
    "  b_coll text NOT NULL, b_id bigint NOT NULL, b_version bigint NOT NULL,"
    "  state text NOT NULL CHECK (state IN ('open', 'resolved')), severity int NOT NULL,"
    "  t_from bigint, t_to bigint, alt_floor double precision, alt_ceiling double precision,"
    "  vis_party text, opened_at bigint NOT NULL, updated_at bigint NOT NULL,"
    "  resolved_at bigint, resolved_by text, comment text, revision bigint NOT NULL,"
    "  geom geometry(Geometry, 4326), geojson text, UNIQUE (kind, a_id, b_id));"
    "CREATE INDEX conflicts_b ON conflicts (b_id, state);"
    "CREATE INDEX conflicts_state ON conflicts (state, id);"
    "CREATE INDEX conflicts_geom ON conflicts USING gist (geom);"
    "CREATE TABLE conflict_reach (item_id bigint PRIMARY KEY, reach_m double precision NOT NULL);"
    "CREATE TABLE conflict_settings (key text PRIMARY KEY, value double precision NOT NULL);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static fm_rc migrate(struct data_db *db, struct fm_err *err)
{
    fm_rc rc = pg_exec(db, "BEGIN; SELECT pg_advisory_xact_lock(" WRITER_LOCK ");", err);
    if (rc) return rc;
    PGresult *r;
    if ((rc = pg_exec(db, "CREATE TABLE IF NOT EXISTS fm_schema (version int NOT NULL)", err)) ||
        (rc = pg_run(db, &r, NULL, "schema", err, "SELECT max(version) FROM fm_schema", 0)))
        goto fail;
    int have = (int)pg_col_i(r, 0, 0);
    PQclear(r);
    if (have > SCHEMA_VERSION) {
        rc = fm_fail(err, FM_EINVAL, "db",
                     "the database's schema (%d) is newer than this program's (%d)", have,
                     SCHEMA_VERSION);
        goto fail;
    }
    for (int v = have; v < SCHEMA_VERSION; v++) {
        fm_log(FM_LOG_INFO, "migrating the PostgreSQL schema to version %d", v + 1);
        if ((rc = pg_exec(db, migrations[v], err))) goto fail;
    }
    if (have < SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql, "DELETE FROM fm_schema; INSERT INTO fm_schema VALUES (%d)",
                 SCHEMA_VERSION);
        if ((rc = pg_exec(db, sql, err))) goto fail;
    }
    return pg_exec(db, "COMMIT", err);
fail:
    pg_exec(db, "ROLLBACK", NULL);
    return rc;
}

/* ---- transactions ------------------------------------------------------ */

static fm_rc tx_begin(struct data_db *db, struct fm_err *err)
{
    return pg_exec(db, "BEGIN; SELECT pg_advisory_xact_lock(" WRITER_LOCK ");", err);
}

static fm_rc tx_commit(struct data_db *db, struct fm_err *err)
{
    /* other processes on this database hear of it once it is committed
     * (nodes.c); a transaction that fails notifies nobody */
    fm_rc rc = pg_exec(db, "NOTIFY " PG_COMMIT_CHANNEL "; COMMIT", err);
    if (rc) pg_exec(db, "ROLLBACK", NULL);
    else store_committed();
    return rc;
}

static void tx_rollback(struct data_db *db)
{
    if (PQtransactionStatus(CONN(db)) != PQTRANS_IDLE) pg_exec(db, "ROLLBACK", NULL);
}

static fm_rc sp_begin(struct data_db *db, struct fm_err *err)
{
    return pg_exec(db, "SAVEPOINT fm_part", err);
}

static fm_rc sp_release(struct data_db *db, struct fm_err *err)
{
    return pg_exec(db, "RELEASE SAVEPOINT fm_part", err);
}

static fm_rc sp_undo(struct data_db *db, struct fm_err *err)
{
    return pg_exec(db, "ROLLBACK TO SAVEPOINT fm_part; RELEASE SAVEPOINT fm_part", err);
}

static fm_rc snapshot_begin(struct data_db *db, struct fm_err *err)
{
    return pg_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

static void snapshot_end(struct data_db *db)
{
    pg_exec(db, "COMMIT", NULL);
}

/* ---- the connection ---------------------------------------------------- */

static void pg_close(struct data_db *db)
{
    if (CONN(db)) PQfinish(CONN(db));
    free(db);
}

static struct store_ops pg_store;
static pthread_once_t pg_store_once = PTHREAD_ONCE_INIT;

static void pg_store_fill(void)
{
    pg_store.name = "postgresql";
    pg_store.close = pg_close;
    pg_store.begin = tx_begin;
    pg_store.commit = tx_commit;
    pg_store.rollback = tx_rollback;
    pg_store.savepoint = sp_begin;
    pg_store.savepoint_release = sp_release;
    pg_store.savepoint_undo = sp_undo;
    pg_store.snapshot_begin = snapshot_begin;
    pg_store.snapshot_end = snapshot_end;
    pg_accounts_ops(&pg_store);
    pg_events_ops(&pg_store);
    pg_items_ops(&pg_store);
    pg_acks_ops(&pg_store);
    pg_keys_ops(&pg_store);
    pg_messages_ops(&pg_store);
    pg_picture_ops(&pg_store);
    pg_query_ops(&pg_store);
    pg_heads_ops(&pg_store);
    pg_rules_ops(&pg_store);
    pg_conflicts_ops(&pg_store);
    pg_copy_ops(&pg_store);
    pg_nodes_ops(&pg_store);
}

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
    pthread_once(&pg_store_once, pg_store_fill);
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
    if ((rc = pg_exec(db, "SET client_min_messages = warning; SET TIME ZONE 'UTC'", err)) ||
        (rc = migrate(db, err))) {
        pg_close(db);
        return rc;
    }
    *out = db;
    return FM_OK;
}
