/* db.c - opening a connection, SpatiaLite per connection, the schema and
 * its migrations, transactions. */
#include "sqlite.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each entry moves the schema from version i to i+1. Append, never edit. */
/* Migration 6's pieces (the picture R*Trees): the table, its columns from
 * a row of item_versions called NEW (a trigger's, or the backfill's alias)
 * with the box widened by HALF degrees of latitude (longitude: divided by
 * the cosine of the latitude furthest from the equator), and the backfill. */
#define PIC_MAX_CORRIDOR_M "10000.0" /* DATA_PIC_MAX_CORRIDOR_M */
#define PIC_TABLE(c)                                                                              \
    "CREATE VIRTUAL TABLE pic_" c " USING rtree(vid, xmin, xmax, ymin, ymax, +item_id, +party,"   \
    " +status, +type, +title, +category, +severity, +width, +wkb);"
#define PIC_LON(half)                                                                             \
    "(" half ") / cos(radians(min(85.0, max(abs(MbrMinY(NEW.geom)), abs(MbrMaxY(NEW.geom))))))"
#define PIC_COLS(half, style)                                                                     \
    "NEW.vid, MbrMinX(NEW.geom) - " PIC_LON(half) ", MbrMaxX(NEW.geom) + " PIC_LON(half) ","      \
    " MbrMinY(NEW.geom) - (" half "), MbrMaxY(NEW.geom) + (" half "), NEW.item_id, NEW.party,"    \
    " NEW.status, NEW.type, NEW.title, " style ", AsBinary(NEW.geom)"
#define PIC_INCIDENT_STYLE                                                                        \
    "json_extract(NEW.feature, '$.properties.category'),"                                         \
    " json_extract(NEW.feature, '$.properties.severity'), NULL"
#define PIC_MOVEMENT_STYLE "NULL, NULL, json_extract(NEW.feature, '$.properties.corridor_width_m')"
/* metres to degrees of latitude: 110,000 m is a little less than any degree */
#define PIC_HALF_CORRIDOR                                                                         \
    "min(max(coalesce(json_extract(NEW.feature, '$.properties.corridor_width_m'), 0), 0), "       \
    PIC_MAX_CORRIDOR_M ") / 2.0 / 110000.0"
#define PIC_FILL(c, half, style)                                                                  \
    "INSERT INTO pic_" c " SELECT " PIC_COLS(half, style) " FROM item_versions AS NEW"            \
    " WHERE NEW.collection = '" c "' AND NEW.sys_to IS NULL AND NEW.status <> 'withdrawn';"

static const char *const migrations[] = {
    /* 1: parties, users, sessions, tokens, items as versions, event log */
    "CREATE TABLE parties ("
    "  code TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 15),"
    "  name TEXT NOT NULL, colour TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('side','supervisor')));"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  party TEXT NOT NULL REFERENCES parties(code),"
    "  role TEXT NOT NULL CHECK (role IN ('liaison','supervisor','viewer','admin')),"
    "  pwhash TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  idhash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),"
    "  created_at INTEGER NOT NULL, used_at INTEGER NOT NULL);"
    "CREATE TABLE tokens ("
    "  hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE items ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  collection TEXT NOT NULL, party TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, created_by TEXT NOT NULL);"
    "CREATE TABLE item_versions ("
    "  vid INTEGER PRIMARY KEY,"
    "  item_id INTEGER NOT NULL REFERENCES items(id),"
    "  version INTEGER NOT NULL, collection TEXT NOT NULL, party TEXT NOT NULL,"
    "  status TEXT NOT NULL, type TEXT, title TEXT,"
    "  valid_from INTEGER, valid_to INTEGER,"
    "  alt_floor REAL, alt_ceiling REAL,"
    "  sys_from INTEGER NOT NULL, sys_to INTEGER,"
    "  action TEXT NOT NULL, by_user TEXT NOT NULL,"
    "  feature TEXT NOT NULL,"
    "  UNIQUE (item_id, version));"
    "SELECT AddGeometryColumn('item_versions', 'geom', 4326, 'GEOMETRY', 'XY', 1);"
    "SELECT CreateSpatialIndex('item_versions', 'geom');"
    "CREATE INDEX item_versions_current ON item_versions (collection, sys_to, item_id);"
    "CREATE INDEX item_versions_item ON item_versions (item_id, version);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
    "  user TEXT NOT NULL, party TEXT NOT NULL, action TEXT NOT NULL,"
    "  collection TEXT, item_id INTEGER, version INTEGER,"
    "  owner TEXT, before_draft INTEGER NOT NULL DEFAULT 0,"
    "  after_draft INTEGER NOT NULL DEFAULT 0,"
    "  before TEXT, after TEXT,"
    "  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX events_item ON events (item_id, seq);"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;",
    /* 2: acknowledgements, each of one version of an item by one party */
    "CREATE TABLE acks ("
    "  id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items(id),"
    "  version INTEGER NOT NULL, party TEXT NOT NULL, user TEXT NOT NULL,"
    "  at INTEGER NOT NULL, decision TEXT NOT NULL CHECK (decision IN ('ack','dispute')),"
    "  comment TEXT, UNIQUE (item_id, version, party));"
    "CREATE TABLE login_failures ("
    "  key TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX login_failures_key ON login_failures (key, at);",
    /* 3: conflicts (conflicts.c): one row per (kind, item pair), kept and
     * re-opened rather than re-created; each movement's reach (half its
     * corridor width) so that a zone finds the movements that may reach
     * it; the engine's settings */
    "CREATE TABLE conflicts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL CHECK (kind IN ('movement_crosses_zone','zones_overlap',"
    "    'incident_in_zone','incident_near_movement')),"
    "  a_coll TEXT NOT NULL, a_id INTEGER NOT NULL REFERENCES items(id),"
    "  a_version INTEGER NOT NULL,"
    "  b_coll TEXT NOT NULL, b_id INTEGER NOT NULL REFERENCES items(id),"
    "  b_version INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('open','resolved')),"
    "  severity INTEGER NOT NULL, t_from INTEGER, t_to INTEGER,"
    "  alt_floor REAL, alt_ceiling REAL,"
    "  vis_party TEXT," /* NULL: everyone; else only this party (a draft's owner) */
    "  opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, resolved_at INTEGER,"
    "  resolved_by TEXT, comment TEXT, revision INTEGER NOT NULL,"
    "  UNIQUE (kind, a_id, b_id));"
    "SELECT AddGeometryColumn('conflicts', 'geom', 4326, 'GEOMETRY', 'XY', 0);"
    "SELECT CreateSpatialIndex('conflicts', 'geom');"
    "CREATE INDEX conflicts_a ON conflicts (a_id, state);"
    "CREATE INDEX conflicts_b ON conflicts (b_id, state);"
    "CREATE INDEX conflicts_state ON conflicts (state, id);"
    "CREATE TABLE conflict_reach (item_id INTEGER PRIMARY KEY, reach_m REAL NOT NULL);"
    "CREATE INDEX conflict_reach_m ON conflict_reach (reach_m);"
    "INSERT INTO conflict_reach SELECT item_id,"
    "  coalesce(json_extract(feature, '$.properties.corridor_width_m'), 0) / 2.0"
    "  FROM item_versions WHERE collection = 'movements' AND sys_to IS NULL;"
    "CREATE TABLE conflict_settings (key TEXT PRIMARY KEY, value REAL NOT NULL);"
    "INSERT INTO conflict_settings VALUES ('incident_near_m', 1000);",
    /* 4: the conflicts' spatial index kept by plain SQL. SpatiaLite's own
     * triggers call RTreeAlign(), which formats an INSERT and runs it
     * through sqlite3_exec, parsing it anew for every row: a tenth of the
     * time of creating a movement that opens 30 conflicts. The R*Tree
     * itself rounds its 32-bit bounds outwards, as RTreeAlign did. Same
     * names as SpatiaLite's: CheckSpatialIndex('conflicts', 'geom') says
     * 1 after the bench's writes; DisableSpatialIndex drops them, and a
     * later CreateSpatialIndex puts SpatiaLite's own (slower) back. */
    "DROP TRIGGER gii_conflicts_geom;"
    "DROP TRIGGER giu_conflicts_geom;"
    "CREATE TRIGGER gii_conflicts_geom AFTER INSERT ON conflicts FOR EACH ROW BEGIN"
    "  DELETE FROM idx_conflicts_geom WHERE pkid = NEW.ROWID;"
    "  INSERT INTO idx_conflicts_geom (pkid, xmin, xmax, ymin, ymax)"
    "   SELECT NEW.ROWID, MbrMinX(NEW.geom), MbrMaxX(NEW.geom), MbrMinY(NEW.geom),"
    "   MbrMaxY(NEW.geom) WHERE NEW.geom IS NOT NULL;"
    " END;"
    "CREATE TRIGGER giu_conflicts_geom AFTER UPDATE OF geom ON conflicts FOR EACH ROW BEGIN"
    "  DELETE FROM idx_conflicts_geom WHERE pkid = NEW.ROWID;"
    "  INSERT INTO idx_conflicts_geom (pkid, xmin, xmax, ymin, ymax)"
    "   SELECT NEW.ROWID, MbrMinX(NEW.geom), MbrMaxX(NEW.geom), MbrMinY(NEW.geom),"
    "   MbrMaxY(NEW.geom) WHERE NEW.geom IS NOT NULL;"
    " END;",
    /* 5: fewer pages written for each conflict opened (each page is a WAL
     * frame in the commit, two writes and its share of the fsync; a
     * movement opening 30 conflicts wrote some 125 frames). conflicts_a
     * goes: the pair's unique index (kind, a_id, b_id) finds an item's
     * conflicts as a with kind IN (the four kinds), and an incident near
     * a movement, whose a is the incident, wrote one more random page of
     * it. The R*Tree's insert trigger fires only for a geometry and adds
     * it with VALUES: INSERT ... SELECT into a virtual table that the
     * trigger also reads (its DELETE) went through a temporary table. */
    "DROP INDEX conflicts_a;"
    "DROP TRIGGER gii_conflicts_geom;"
    "CREATE TRIGGER gii_conflicts_geom AFTER INSERT ON conflicts FOR EACH ROW"
    " WHEN NEW.geom IS NOT NULL BEGIN"
    "  DELETE FROM idx_conflicts_geom WHERE pkid = NEW.ROWID;"
    "  INSERT INTO idx_conflicts_geom (pkid, xmin, xmax, ymin, ymax) VALUES (NEW.ROWID,"
    "   MbrMinX(NEW.geom), MbrMaxX(NEW.geom), MbrMinY(NEW.geom), MbrMaxY(NEW.geom));"
    " END;",
    /* 6: what a picture of now draws (query.c), one R*Tree per collection
     * holding only current, not withdrawn versions, with the drawing
     * columns beside the box: a tile reads nothing else. The shared
     * index of item_versions holds every version of every collection,
     * and a tile paid a row lookup, JSON and WKB conversion for each of
     * them, three times (once per collection). A movement's box is
     * widened by half its corridor (at most PIC_MAX_CORRIDOR_M), so that
     * the picture asks no wider than itself. Kept by triggers, whoever
     * writes. */
    (PIC_TABLE("zones") PIC_TABLE("incidents") PIC_TABLE("movements")
    "CREATE TRIGGER pic_add AFTER INSERT ON item_versions FOR EACH ROW"
    " WHEN NEW.sys_to IS NULL AND NEW.status <> 'withdrawn' BEGIN"
    "  INSERT INTO pic_zones SELECT " PIC_COLS("0", "NULL, NULL, NULL") " WHERE NEW.collection = 'zones';"
    "  INSERT INTO pic_incidents SELECT " PIC_COLS("0", PIC_INCIDENT_STYLE)
    "   WHERE NEW.collection = 'incidents';"
    "  INSERT INTO pic_movements SELECT " PIC_COLS(PIC_HALF_CORRIDOR, PIC_MOVEMENT_STYLE)
    "   WHERE NEW.collection = 'movements';"
    " END;"
    "CREATE TRIGGER pic_retire AFTER UPDATE OF sys_to ON item_versions FOR EACH ROW"
    " WHEN OLD.sys_to IS NULL AND NEW.sys_to IS NOT NULL BEGIN"
    "  DELETE FROM pic_zones WHERE vid = OLD.vid;"
    "  DELETE FROM pic_incidents WHERE vid = OLD.vid;"
    "  DELETE FROM pic_movements WHERE vid = OLD.vid;"
    " END;"
    PIC_FILL("zones", "0", "NULL, NULL, NULL") PIC_FILL("incidents", "0", PIC_INCIDENT_STYLE)
    PIC_FILL("movements", PIC_HALF_CORRIDOR, PIC_MOVEMENT_STYLE)),
    /* 7: less work for each conflict opened (a movement opens some 30;
     * callgrind over 60 movement creates, instructions in
     * data_item_create: 1,110 M -> 1,053 M). SpatiaLite's bookkeeping triggers on conflicts go:
     * tmi/tmu stamp geometry_columns_time on every row written (which
     * nothing here reads: layer statistics are not kept), ggi/ggu check
     * the type and SRID of a geometry that only conflicts.c writes, always
     * an XY geometry cut from two SRID 4326 ones. The R*Tree's insert
     * trigger no longer deletes NEW.ROWID first: conflict ids come from
     * AUTOINCREMENT and are never reused, and gid_conflicts_geom removes
     * the entry of a deleted row. The update trigger keeps its delete. */
    "DROP TRIGGER tmi_conflicts_geom;"
    "DROP TRIGGER tmu_conflicts_geom;"
    "DROP TRIGGER ggi_conflicts_geom;"
    "DROP TRIGGER ggu_conflicts_geom;"
    "DROP TRIGGER gii_conflicts_geom;"
    "CREATE TRIGGER gii_conflicts_geom AFTER INSERT ON conflicts FOR EACH ROW"
    " WHEN NEW.geom IS NOT NULL BEGIN"
    "  INSERT INTO idx_conflicts_geom (pkid, xmin, xmax, ymin, ymax) VALUES (NEW.ROWID,"
    "   MbrMinX(NEW.geom), MbrMaxX(NEW.geom), MbrMinY(NEW.geom), MbrMaxY(NEW.geom));"
    " END;",
    /* 8: the visibility rule kept with each version (visibility.c,
     * vis_owner_only): a version is its owner party's alone when it is a
     * draft, or a withdrawal of a version that was. Older logs marked a
     * withdrawn draft's record as seen by all (issue 17): the flags are
     * not part of the chain, so they are put right here, once, with the
     * append-only triggers lifted for this one statement. */
    "ALTER TABLE item_versions ADD COLUMN owner_only INTEGER NOT NULL DEFAULT 0;"
    "UPDATE item_versions SET owner_only = 1 WHERE status = 'draft' OR (status = 'withdrawn'"
    " AND (SELECT p.status FROM item_versions p WHERE p.item_id = item_versions.item_id"
    "  AND p.version = item_versions.version - 1) = 'draft');"
    "DROP TRIGGER events_no_update;"
    "UPDATE events SET"
    " before_draft = coalesce((SELECT v.owner_only FROM item_versions v"
    "  WHERE v.item_id = events.item_id AND v.version = events.version - 1), 0),"
    " after_draft = coalesce((SELECT v.owner_only FROM item_versions v"
    "  WHERE v.item_id = events.item_id AND v.version = events.version), 0)"
    " WHERE collection IN ('zones', 'incidents', 'movements')"
    " AND action NOT IN ('ack', 'dispute');"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;",
    /* 9: login throttling as
     * delays (users.c): one count of failures per key, a hash naming its
     * kind ((account, address or device), account, address) and whose;
     * the (account, address) and (account, device) pairs that have logged
     * in, also hashed. Times in milliseconds. The lock-out's list goes. */
    "DROP TABLE login_failures;"
    "CREATE TABLE login_throttle ("
    "  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX login_throttle_at ON login_throttle (last_at);"
    "CREATE TABLE login_known (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX login_known_at ON login_known (at);",
    /* 10: parties and users are records in the log (party_add, user_add):
     * those that exist already get theirs at this upgrade, marked
     * found_at_upgrade (accounts_record_existing, called by migrate) */
    "SELECT 1;",
    /* 11: the cell's conversation (messages.c): messages of item threads
     * and channels, and "seen" receipts, each told by its record in the
     * log; never changed (no edit, no delete). readers: NULL for all who
     * read the thread, else the parties ("A", "A,SUP"). The supervisor's
     * rulings on disputes (rulings.c). */
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY, thread TEXT NOT NULL, readers TEXT,"
    "  party TEXT NOT NULL, user TEXT NOT NULL, at INTEGER NOT NULL, text TEXT NOT NULL,"
    "  quote_coll TEXT, quote_id INTEGER, quote_version INTEGER);"
    "CREATE INDEX messages_thread ON messages (thread, id);"
    "CREATE TABLE message_receipts ("
    "  id INTEGER PRIMARY KEY, thread TEXT NOT NULL, readers TEXT,"
    "  party TEXT NOT NULL, user TEXT NOT NULL, at INTEGER NOT NULL, upto INTEGER NOT NULL);"
    "CREATE INDEX message_receipts_thread ON message_receipts (thread, id);"
    "CREATE TABLE rulings ("
    "  id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items(id),"
    "  version INTEGER NOT NULL, party TEXT NOT NULL, user TEXT NOT NULL, at INTEGER NOT NULL,"
    "  decision TEXT NOT NULL CHECK (decision IN ('uphold','overrule')), reason TEXT NOT NULL,"
    "  UNIQUE (item_id, version));"
    "CREATE TRIGGER messages_no_update BEFORE UPDATE ON messages"
    "  BEGIN SELECT RAISE(ABORT, 'messages are never changed'); END;"
    "CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages"
    "  BEGIN SELECT RAISE(ABORT, 'messages are never changed'); END;"
    "CREATE TRIGGER message_receipts_no_update BEFORE UPDATE ON message_receipts"
    "  BEGIN SELECT RAISE(ABORT, 'receipts are never changed'); END;"
    "CREATE TRIGGER message_receipts_no_delete BEFORE DELETE ON message_receipts"
    "  BEGIN SELECT RAISE(ABORT, 'receipts are never changed'); END;"
    "CREATE TRIGGER rulings_no_update BEFORE UPDATE ON rulings"
    "  BEGIN SELECT RAISE(ABORT, 'rulings are never changed'); END;"
    "CREATE TRIGGER rulings_no_delete BEFORE DELETE ON rulings"
    "  BEGIN SELECT RAISE(ABORT, 'rulings are never changed'); END;",
    /* 12 (issue 20; appended after 10 on its branch, renumbered at merge):
     * users' public signing keys (keys.c), each added and revoked by a
     * record in the log (key_add, key_revoke) */
    "CREATE TABLE user_keys ("
    "  fingerprint TEXT PRIMARY KEY, user TEXT NOT NULL, party TEXT NOT NULL,"
    "  public_key TEXT NOT NULL, created_from TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER);"
    "CREATE INDEX user_keys_user ON user_keys (user);",
    /* 13 (issue 20, cosigned heads): each party's signature over the log's head (seq, hash),
     * each a record in the log (cosign); never changed */
    "CREATE TABLE cosigned_heads ("
    "  id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL,"
    "  user TEXT NOT NULL, party TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL,"
    "  signature TEXT NOT NULL, recorded_at INTEGER NOT NULL, UNIQUE (user, seq));"
    "CREATE TRIGGER cosigned_heads_no_update BEFORE UPDATE ON cosigned_heads"
    "  BEGIN SELECT RAISE(ABORT, 'cosigned heads are never changed'); END;"
    "CREATE TRIGGER cosigned_heads_no_delete BEFORE DELETE ON cosigned_heads"
    "  BEGIN SELECT RAISE(ABORT, 'cosigned heads are never changed'); END;",
    /* 14 (issue 19): lead times and deadlines (rules.c): the admin's rules
     * per collection and type, each set by a record (rules_set); the
     * deadline of each version that waits for the other side's answer (its
     * version's record holds answer_due), marked overdue by a record
     * (overdue) */
    "CREATE TABLE deadline_rules ("
    "  collection TEXT NOT NULL, type TEXT NOT NULL,"
    "  notice_s INTEGER NOT NULL, urgent_notice_s INTEGER NOT NULL,"
    "  answer_s INTEGER NOT NULL, answer_before_s INTEGER NOT NULL,"
    "  at INTEGER NOT NULL, by_user TEXT NOT NULL,"
    "  PRIMARY KEY (collection, type));"
    "CREATE TABLE deadlines ("
    "  item_id INTEGER NOT NULL REFERENCES items(id), version INTEGER NOT NULL,"
    "  collection TEXT NOT NULL, party TEXT NOT NULL,"
    "  notified_at INTEGER NOT NULL, due_at INTEGER NOT NULL, overdue_at INTEGER,"
    "  PRIMARY KEY (item_id, version));"
    "CREATE INDEX deadlines_due ON deadlines (overdue_at, due_at);",
    /* 15 (issue 18): each conflict keeps its clash geometry's GeoJSON text,
     * as its Feature (hashed into the log) says it. The rules write it in
     * C (conflicts.c, geom.c) for every backend; the rows made before keep
     * SQLite's AsGeoJSON text, which their records hold. */
    "ALTER TABLE conflicts ADD COLUMN geojson TEXT;"
    "UPDATE conflicts SET geojson = AsGeoJSON(geom) WHERE geom IS NOT NULL;",
};
#define SCHEMA_ACCOUNTS_RECORDED 10
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

int data_schema_version(void)
{
    return SCHEMA_VERSION;
}

fm_rc db_fail(struct data_db *db, struct fm_err *err, const char *what)
{
    int code = sqlite3_errcode(db->h);
    fm_rc rc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? FM_EBUSY : FM_EDB;
    fm_log(FM_LOG_ERROR, "sqlite: %s: %s", what, sqlite3_errmsg(db->h));
    return fm_fail(err, rc, NULL, "database: %s: %s", what, sqlite3_errmsg(db->h));
}

long db_fault_countdown;

fm_rc db_prepare(struct data_db *db, const char *sql, sqlite3_stmt **st, struct fm_err *err)
{
    *st = NULL;
    if (db_fault_countdown > 0 && --db_fault_countdown == 0)
        return fm_fail(err, FM_EDB, NULL, "injected fault before: %.60s", sql);
    if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) return db_fail(db, err, sql);
    return FM_OK;
}

fm_rc db_cached(struct data_db *db, const char *sql, sqlite3_stmt **st, struct fm_err *err)
{
    *st = NULL;
    if (db_fault_countdown > 0 && --db_fault_countdown == 0)
        return fm_fail(err, FM_EDB, NULL, "injected fault before: %.60s", sql);
    for (size_t i = 0; i < db->nkept; i++)
        if (db->kept[i].sql == sql) {
            /* released by its last user; again in case a path forgot, so
             * that no stale binding or cursor can leak into this use */
            db_release(db->kept[i].st);
            *st = db->kept[i].st;
            return FM_OK;
        }
    sqlite3_stmt *fresh;
    if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &fresh, NULL) != SQLITE_OK)
        return db_fail(db, err, sql);
    if (db->nkept == db->akept) {
        db->akept = db->akept ? db->akept * 2 : 32;
        struct db_kept *k = realloc(db->kept, db->akept * sizeof *k);
        if (!k) abort();
        db->kept = k;
    }
    db->kept[db->nkept].sql = sql;
    db->kept[db->nkept].st = fresh;
    db->nkept++;
    *st = fresh;
    return FM_OK;
}

void db_release(sqlite3_stmt *st)
{
    if (!st) return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* A kept statement left stepping would hold its read snapshot past the
 * transaction (and block checkpoints): reset any such at its end. */
static void release_busy(struct data_db *db)
{
    for (size_t i = 0; i < db->nkept; i++)
        if (sqlite3_stmt_busy(db->kept[i].st)) db_release(db->kept[i].st);
}

fm_rc db_exec(struct data_db *db, const char *sql, struct fm_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fm_rc rc = fm_fail(err, FM_EDB, NULL, "database: %s", msg ? msg : "?");
        fm_log(FM_LOG_ERROR, "sqlite exec: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return FM_OK;
}

/* ---- the write queue ---------------------------------------------------
 *
 * SQLite lets one writer at a time into a file and makes the others poll
 * (the busy handler sleeps and retries), so under load a waiting writer
 * could miss every window while newer ones got in: writes refused after
 * 10 s behind a re-check, and a tail of seconds (issue 23). The writers
 * of this process now queue for their file first come, first served, from
 * BEGIN IMMEDIATE to COMMIT or ROLLBACK; the one at the head of the queue
 * is handed the turn directly when the last one lets go. SQLite's busy
 * handler stays for other processes (the CLI), and for writes outside
 * db_begin (autocommit statements). One queue per file, shared by the
 * connections of this process that opened it, counted by refs. */

struct db_waiter {
    struct db_waiter *next;
    pthread_cond_t wake;
    int granted; /* the turn was handed to this waiter */
};

struct db_queue {
    char *file; /* as SQLite names it */
    int refs;
    pthread_mutex_t lock; /* guards what follows */
    int held;             /* a writer has the turn */
    struct db_waiter *head, **tail;
    /* group sync: commits counted, those known on disk, a sync under way */
    uint64_t committed, synced;
    int syncing;
    pthread_cond_t synced_cv;
    struct db_queue *next;
};

_Atomic long db_queue_waiting;
_Atomic long db_queue_wait_ms = DB_BUSY_MS;

static pthread_mutex_t queues_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db_queue *queues;

/* The queue of db's file, made at its first connection. */
static void queue_attach(struct data_db *db)
{
    const char *file = sqlite3_db_filename(db->h, "main");
    if (!file || !file[0]) return; /* in memory: a connection of its own */
    pthread_mutex_lock(&queues_lock);
    struct db_queue *q = queues;
    while (q && strcmp(q->file, file) != 0) q = q->next;
    if (!q) {
        q = fm_xcalloc(1, sizeof *q);
        q->file = fm_xstrdup(file);
        pthread_mutex_init(&q->lock, NULL);
        pthread_cond_init(&q->synced_cv, NULL);
        q->tail = &q->head;
        q->next = queues;
        queues = q;
    }
    q->refs++;
    pthread_mutex_unlock(&queues_lock);
    db->queue = q;
}

static void queue_detach(struct data_db *db)
{
    struct db_queue *q = db->queue;
    if (!q) return;
    db->queue = NULL;
    pthread_mutex_lock(&queues_lock);
    if (--q->refs == 0) {
        for (struct db_queue **p = &queues; *p; p = &(*p)->next)
            if (*p == q) {
                *p = q->next;
                break;
            }
        pthread_cond_destroy(&q->synced_cv);
        pthread_mutex_destroy(&q->lock);
        free(q->file);
        free(q);
    }
    pthread_mutex_unlock(&queues_lock);
}

/* Waits for db's turn, at most ms; 0 when it came. */
static int queue_take(struct data_db *db, long ms)
{
    struct db_queue *q = db->queue;
    pthread_mutex_lock(&q->lock);
    if (!q->held && !q->head) { /* nobody before us */
        q->held = 1;
        pthread_mutex_unlock(&q->lock);
        db->queue_held = 1;
        return 0;
    }
    struct db_waiter w = {0};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.wake, &ca);
    pthread_condattr_destroy(&ca);
    *q->tail = &w;
    q->tail = &w.next;
    db_queue_waiting++;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    while (!w.granted && pthread_cond_timedwait(&w.wake, &q->lock, &until) != ETIMEDOUT) {
    }
    db_queue_waiting--;
    if (!w.granted) { /* out of the line, unserved */
        struct db_waiter **p = &q->head;
        while (*p != &w) p = &(*p)->next;
        *p = w.next;
        if (q->tail == &w.next) q->tail = p;
    }
    pthread_mutex_unlock(&q->lock);
    pthread_cond_destroy(&w.wake);
    if (w.granted) db->queue_held = 1;
    return !w.granted;
}

/* Ends db's turn: the first waiter, if any, has it now. */
static void queue_let_go(struct data_db *db)
{
    struct db_queue *q = db->queue;
    if (!db->queue_held) return;
    db->queue_held = 0;
    pthread_mutex_lock(&q->lock);
    struct db_waiter *w = q->head;
    if (w) {
        q->head = w->next;
        if (!q->head) q->tail = &q->head;
        w->granted = 1; /* held stays 1: the turn passes, nobody slips in */
        pthread_cond_signal(&w->wake);
    } else {
        q->held = 0;
    }
    pthread_mutex_unlock(&q->lock);
}

/* ---- group sync ---------------------------------------------------------
 *
 * synchronous=FULL synced the write-ahead log inside every COMMIT, while
 * the writer held the lock: one fsync (3-4 ms on this machine's disk) per
 * write, one write after another, at most some 250 writes a second
 * whatever else was done. The connections run synchronous=NORMAL instead
 * (SQLite then syncs the log only at checkpoints), and each commit that
 * wrote is made durable here before its caller hears of it: after its
 * turn is over (the next writer goes on meanwhile), it waits for a sync
 * of the log that began after its frames were written. One sync covers
 * every commit counted before it began, so writers queued together share
 * one. What FULL gave an acknowledged write (on disk, through a power
 * cut) stays; what changes is that other connections may read a commit a
 * few milliseconds before it is on disk (it survives a crash of the
 * server either way: its pages are in the kernel's cache). Streams hear
 * of a write only once it is on disk (store_committed, after). */

_Atomic long db_wal_syncs;

/* Syncs db's write-ahead log file (SQLite's own descriptor of it). */
static int wal_sync(struct data_db *db)
{
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK ||
        !f || !f->pMethods)
        return -1;
    db_wal_syncs++;
    return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) == SQLITE_OK ? 0 : -1;
}

/* Counts a commit of db's file that wrote; returns its number. */
static uint64_t commit_count(struct db_queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t seq = ++q->committed;
    pthread_mutex_unlock(&q->lock);
    return seq;
}

/* Returns once commit seq is on disk: by a sync under way that began
 * after it, or by one this caller runs. -1 when the sync failed. */
static int durable(struct data_db *db, uint64_t seq)
{
    struct db_queue *q = db->queue;
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    while (q->synced < seq && !rc) {
        if (q->syncing) {
            pthread_cond_wait(&q->synced_cv, &q->lock);
            continue;
        }
        q->syncing = 1;
        uint64_t upto = q->committed;
        pthread_mutex_unlock(&q->lock);
        rc = wal_sync(db);
        pthread_mutex_lock(&q->lock);
        q->syncing = 0;
        if (!rc && upto > q->synced) q->synced = upto;
        pthread_cond_broadcast(&q->synced_cv);
    }
    pthread_mutex_unlock(&q->lock);
    if (rc) fm_log(FM_LOG_ERROR, "sqlite: cannot sync the write-ahead log of %s", q->file);
    return rc;
}

void db_wal_committed(struct data_db *db)
{
    if (!db || !db->queue) return;
    if (db->in_commit) {
        db->wrote = 1; /* db_commit syncs once its turn is over */
        return;
    }
    durable(db, commit_count(db->queue)); /* a write outside db_begin */
}

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

fm_rc db_begin(struct data_db *db, struct fm_err *err)
{
    int64_t t0 = now_us();
    /* already in the queue: BEGIN fails below as it always did (nested) */
    int took = db->queue && !db->queue_held;
    long wait_ms = db_queue_wait_ms;
    if (took && queue_take(db, wait_ms))
        return fm_fail(err, FM_EBUSY, NULL,
                       "database: busy, the writers before this one took more than %ld ms",
                       wait_ms);
    fm_rc rc = db_exec(db, "BEGIN IMMEDIATE", err);
    if (rc && took) queue_let_go(db);
    data_split_us[DATA_SPLIT_QUEUE] += now_us() - t0;
    return rc;
}

fm_rc db_commit(struct data_db *db, struct fm_err *err)
{
    int64_t t0 = now_us();
    release_busy(db);
    db->in_commit = 1, db->wrote = 0;
    fm_rc rc = db_exec(db, "COMMIT", err);
    db->in_commit = 0;
    int64_t t1 = now_us();
    data_split_us[DATA_SPLIT_COMMIT] += t1 - t0;
    if (rc) {
        db_rollback(db);
        return rc;
    }
    uint64_t seq = db->wrote && db->queue ? commit_count(db->queue) : 0;
    queue_let_go(db);
    int synced = seq ? durable(db, seq) : 0;
    data_split_us[DATA_SPLIT_SYNC] += now_us() - t1;
    if (synced)
        return fm_fail(err, FM_EIO, NULL,
                       "database: the write is committed but could not be synced to disk");
    store_committed(); /* after the commit: whoever sees it sees the data */
    return FM_OK;
}

void db_rollback(struct data_db *db)
{
    release_busy(db);
    if (!sqlite3_get_autocommit(db->h)) sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    queue_let_go(db);
}

void db_bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i && v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

void db_bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i) sqlite3_bind_int64(st, i, v);
}

void db_bind_double(sqlite3_stmt *st, const char *name, double v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i) sqlite3_bind_double(st, i, v);
}

const char *db_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

static fm_rc migrate(struct data_db *db, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "PRAGMA user_version", &st, err);
    if (rc) return rc;
    int have = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (have > SCHEMA_VERSION)
        return fm_fail(err, FM_EDB, NULL,
                       "the database has schema %d, newer than this build's %d", have,
                       SCHEMA_VERSION);
    if (have == SCHEMA_VERSION) return FM_OK;

    if ((rc = db_begin(db, err))) return rc;
    if (have == 0 && (rc = db_exec(db, "SELECT InitSpatialMetaData(0, 'WGS84')", err))) goto fail;
    for (int v = have; v < SCHEMA_VERSION; v++) {
        fm_log(FM_LOG_INFO, "migrating the database schema to version %d", v + 1);
        if ((rc = db_exec(db, migrations[v], err))) goto fail;
    }
    if (have < SCHEMA_ACCOUNTS_RECORDED && (rc = accounts_record_existing(db, err))) goto fail;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
    if ((rc = db_exec(db, sql, err))) goto fail;
    return db_commit(db, err);
fail:
    db_rollback(db);
    return rc;
}

/* SQLite's memory statistics take a process-wide mutex around every
 * allocation, which every worker's connection does thousands of times per
 * picture; nothing here reads them. Only possible before SQLite starts
 * (later, as when GDAL started it first, the call fails and changes
 * nothing). */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Memory per connection (issue 23). A server has a connection per worker
 * thread (8 on 2 cores) and two more (the re-check, the checkpointer).
 * Each connection's mmap of the file counted the pages it had touched in
 * the process's RSS again: 200 MB of it for a 104 MB file of 22,000
 * items, once the workers and the re-check had read it. Tiles of now are
 * drawn from the in-memory picture (data/picture.c), not SQLite, so the
 * mmap no longer pays: off by default (FUSIONMAP_SQLITE_MMAP_MB gives it
 * back). The page cache per connection stays SQLite's default, 2 MiB. */
static pthread_once_t mmap_once = PTHREAD_ONCE_INIT;
static long mmap_mb;

static void mmap_init(void)
{
    const char *env = getenv("FUSIONMAP_SQLITE_MMAP_MB");
    long v;
    if (env && fm_parse_long(env, 0, 1L << 20, &v) == FM_OK) mmap_mb = v;
}

fm_rc sqlite_store_open(const char *path, struct data_db **out, struct fm_err *err)
{
    *out = NULL;
    pthread_once(&sqlite_once, sqlite_setup);
    struct data_db *db = fm_xcalloc(1, sizeof *db);
    db->ops = sqlite_store();
    fm_rc rc;
    if (sqlite3_open_v2(path, &db->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = fm_fail(err, FM_EIO, NULL, "cannot open %s: %s", path,
                     db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto fail;
    }
    db->splite = spatialite_alloc_connection();
    spatialite_init_ex(db->h, db->splite, 0);
    sqlite3_busy_timeout(db->h, DB_BUSY_MS);
    queue_attach(db);
    sqlite3_extended_result_codes(db->h, 0);
    /* mmap (FUSIONMAP_SQLITE_MMAP_MB, off by default: see mmap_init):
     * readers take pages straight from the page cache, without a pread
     * and a copy per page; that was a tenth of a cold tile's time before
     * tiles of now came from the in-memory picture.
     * temp_store=MEMORY: a statement that may fail halfway inside a
     * transaction (an insert whose trigger writes an R*Tree) keeps the
     * pages it changes in a statement journal, which past 64 KiB spilled
     * to a new file in /var/tmp: some 260 writes for each movement the
     * bench created. That journal only undoes its statement; recovery
     * after a crash is the WAL's, so keeping it in memory loses nothing.
     * synchronous=NORMAL: each commit is synced after the writer's turn,
     * shared with the commits beside it (group sync, above), instead of
     * inside it as FULL did. */
    pthread_once(&mmap_once, mmap_init);
    char pragmas[200];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
             "PRAGMA foreign_keys=ON; PRAGMA mmap_size=%lld;"
             "PRAGMA temp_store=MEMORY;",
             (long long)mmap_mb << 20);
    if ((rc = db_exec(db, pragmas, err))) goto fail;
    db_wal_hook_install(db); /* before the migrations: their commits are synced too */
    if ((rc = migrate(db, err))) goto fail;
    *out = db;
    return FM_OK;
fail:
    db_close(db);
    return rc;
}

void db_close(struct data_db *db)
{
    for (size_t i = 0; i < db->nkept; i++) sqlite3_finalize(db->kept[i].st);
    free(db->kept);
    if (db->h) sqlite3_close_v2(db->h);
    queue_let_go(db); /* a transaction left open ended with the connection */
    queue_detach(db);
    if (db->splite) spatialite_cleanup_ex(db->splite);
    free(db);
}
