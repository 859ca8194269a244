/* conflicts.c - the store interface (store.h) on SQLite: the conflicts'
 * rows (migrations 3, 4, 5 and 15 in db.c) and the items they are found
 * among, through the picture's R*Trees (migration 6). No rule here:
 * data/conflicts.c decides what clashes, in C, and writes the text. */
#include "sqlite.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- the items ---------------------------------------------------------- */

#define CITEM_COLS                                                                               \
    "v.vid, v.item_id, v.version, v.collection, v.party, v.status, coalesce(v.type, ''),"         \
    " v.valid_from, v.valid_to, v.alt_floor, v.alt_ceiling,"                                      \
    " CASE v.collection WHEN 'movements' THEN"                                                    \
    "  coalesce(json_extract(v.feature, '$.properties.corridor_width_m'), 0) ELSE 0 END,"         \
    " CASE v.collection WHEN 'incidents' THEN"                                                    \
    "  coalesce(json_extract(v.feature, '$.properties.severity'), 3) ELSE 3 END,"                 \
    " MbrMinX(v.geom), MbrMinY(v.geom), MbrMaxX(v.geom), MbrMaxY(v.geom), AsBinary(v.geom)"

static void read_citem(sqlite3_stmt *st, struct store_citem *x)
{
    memset(x, 0, sizeof *x);
    x->vid = sqlite3_column_int64(st, 0);
    x->id = sqlite3_column_int64(st, 1);
    x->version = sqlite3_column_int64(st, 2);
    x->collection = db_text(st, 3);
    x->party = db_text(st, 4);
    x->status = db_text(st, 5);
    x->type = db_text(st, 6);
    if ((x->has_from = sqlite3_column_type(st, 7) != SQLITE_NULL))
        x->from = sqlite3_column_int64(st, 7);
    if ((x->has_to = sqlite3_column_type(st, 8) != SQLITE_NULL)) x->to = sqlite3_column_int64(st, 8);
    if ((x->has_floor = sqlite3_column_type(st, 9) != SQLITE_NULL))
        x->floor = sqlite3_column_double(st, 9);
    if ((x->has_ceil = sqlite3_column_type(st, 10) != SQLITE_NULL))
        x->ceil = sqlite3_column_double(st, 10);
    x->corridor_m = sqlite3_column_double(st, 11);
    x->severity = sqlite3_column_int(st, 12);
    for (int i = 0; i < 4; i++) x->box[i] = sqlite3_column_double(st, 13 + i);
    x->wkb = sqlite3_column_blob(st, 17);
    x->wkb_len = (size_t)sqlite3_column_bytes(st, 17);
}

static fm_rc citem_get(struct data_db *db, int64_t id, store_citem_cb cb, void *ctx,
                       struct fm_err *err)
{
    static const char sql[] = "SELECT " CITEM_COLS " FROM item_versions v WHERE v.item_id = :id"
                              " AND v.sys_to IS NULL";
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    db_bind_int(st, ":id", id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        struct store_citem x;
        read_citem(st, &x);
        cb(ctx, &x);
    } else {
        rc = s == SQLITE_DONE ? fm_fail(err, FM_ENOTFOUND, NULL, "no item %lld", (long long)id)
                              : db_fail(db, err, "conflict item");
    }
    db_release(st);
    return rc;
}

/* The R*Tree drives (CROSS JOIN keeps it the outer loop: left to itself
 * SQLite walks every current item of the collection and probes the
 * R*Tree's list, which is quadratic over a full re-check). It is the
 * collection's picture R*Tree (pic_<coll>, migration 6: its current,
 * not withdrawn versions; a movement's box widened by half its
 * corridor, a superset), not the shared one of every version of every
 * collection, whose other collections' entries in the box each cost a
 * row lookup only to be refused. */
#define CAND_SQL(coll)                                                                           \
    "SELECT " CITEM_COLS " FROM pic_" coll " r CROSS JOIN item_versions v"                      \
    " ON v.vid = r.vid WHERE r.xmin <= :maxx AND r.xmax >= :minx AND r.ymin <= :maxy"            \
    " AND r.ymax >= :miny AND v.collection = '" coll "' AND v.sys_to IS NULL"                   \
    " AND v.status NOT IN " ENDED_STATUSES_SQL " AND v.item_id <> :self"                         \
    " AND v.item_id >= :minid"                                                                   \
    " AND (v.valid_to IS NULL OR v.valid_to > :now)"                                             \
    " AND (v.valid_to IS NULL OR :from IS NULL OR v.valid_to > :from)"                           \
    " AND (v.valid_from IS NULL OR :to IS NULL OR v.valid_from < :to)"                           \
    " AND (:ztypes IS NULL OR v.type IN ('restricted', 'protected_site')"                        \
    "  OR (:ztypes = 2 AND v.type = 'no_fly'))"                                                   \
    " AND (:aironly IS NULL OR v.type = 'air')"                                                   \
    " AND (:otherparty IS NULL OR v.party <> :otherparty)"                                        \
    " AND (:draftparty IS NULL OR v.status <> 'draft' OR v.party = :draftparty)"                  \
    " AND (:floor IS NULL OR v.alt_ceiling IS NULL OR v.alt_ceiling > :floor)"                    \
    " AND (:ceil IS NULL OR v.alt_floor IS NULL OR v.alt_floor < :ceil)"

static const char cand_zones[] = CAND_SQL("zones");
static const char cand_incidents[] = CAND_SQL("incidents");
static const char cand_movements[] = CAND_SQL("movements");

/* The cursor stays open while cb runs the other operations of the slice:
 * they write other tables (conflicts, conflict_reach), never pic_*. */
static fm_rc citems_find(struct data_db *db, const struct store_cand_query *q, store_citem_cb cb,
                         void *ctx, struct fm_err *err)
{
    const char *sql = q->coll == DATA_ZONES       ? cand_zones
                      : q->coll == DATA_INCIDENTS ? cand_incidents
                                                  : cand_movements;
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    db_bind_double(st, ":minx", q->box[0]);
    db_bind_double(st, ":miny", q->box[1]);
    db_bind_double(st, ":maxx", q->box[2]);
    db_bind_double(st, ":maxy", q->box[3]);
    db_bind_int(st, ":self", q->self);
    db_bind_int(st, ":minid", q->min_id);
    db_bind_int(st, ":now", q->now);
    if (q->has_from) db_bind_int(st, ":from", q->from);
    if (q->has_to) db_bind_int(st, ":to", q->to);
    if (q->ztypes) db_bind_int(st, ":ztypes", q->ztypes);
    if (q->aironly) db_bind_int(st, ":aironly", 1);
    db_bind_text(st, ":otherparty", q->otherparty);
    db_bind_text(st, ":draftparty", q->draftparty);
    if (q->has_floor) db_bind_double(st, ":floor", q->floor);
    if (q->has_ceil) db_bind_double(st, ":ceil", q->ceil);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_citem x;
        read_citem(st, &x);
        if (cb(ctx, &x)) {
            s = SQLITE_DONE;
            break;
        }
    }
    if (s != SQLITE_DONE) rc = db_fail(db, err, "conflict candidates");
    db_release(st);
    return rc;
}

static fm_rc citems_live(struct data_db *db, store_id_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT item_id FROM item_versions WHERE sys_to IS NULL"
                          " AND status NOT IN " ENDED_STATUSES_SQL " ORDER BY item_id",
                          &st, err);
    if (rc) return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(ctx, sqlite3_column_int64(st, 0))) {
            s = SQLITE_DONE;
            break;
        }
    if (s != SQLITE_DONE) rc = db_fail(db, err, "live items");
    sqlite3_finalize(st);
    return rc;
}

/* ---- the conflicts' rows ------------------------------------------------- */

#define CONFLICT_COLS                                                                            \
    "c.id, c.kind, c.a_coll, c.a_id, c.a_version, c.b_coll, c.b_id, c.b_version, c.t_from,"      \
    " c.t_to, c.alt_floor, c.alt_ceiling, c.severity, c.state, c.opened_at, c.updated_at,"       \
    " c.resolved_at, c.resolved_by, c.comment, c.revision, c.vis_party, c.geojson"

static const char *text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : db_text(st, col);
}

static void read_conflict(sqlite3_stmt *st, struct store_conflict *c)
{
    *c = (struct store_conflict){
        .id = sqlite3_column_int64(st, 0),
        .kind = text_or_null(st, 1),
        .a_coll = text_or_null(st, 2),
        .a_id = sqlite3_column_int64(st, 3),
        .a_version = sqlite3_column_int64(st, 4),
        .b_coll = text_or_null(st, 5),
        .b_id = sqlite3_column_int64(st, 6),
        .b_version = sqlite3_column_int64(st, 7),
        .has_tf = sqlite3_column_type(st, 8) != SQLITE_NULL,
        .t_from = sqlite3_column_int64(st, 8),
        .has_tt = sqlite3_column_type(st, 9) != SQLITE_NULL,
        .t_to = sqlite3_column_int64(st, 9),
        .has_af = sqlite3_column_type(st, 10) != SQLITE_NULL,
        .alt_floor = sqlite3_column_double(st, 10),
        .has_ac = sqlite3_column_type(st, 11) != SQLITE_NULL,
        .alt_ceiling = sqlite3_column_double(st, 11),
        .severity = sqlite3_column_int64(st, 12),
        .state = text_or_null(st, 13),
        .opened_at = sqlite3_column_int64(st, 14),
        .updated_at = sqlite3_column_int64(st, 15),
        .has_resolved_at = sqlite3_column_type(st, 16) != SQLITE_NULL,
        .resolved_at = sqlite3_column_int64(st, 16),
        .resolved_by = text_or_null(st, 17),
        .comment = text_or_null(st, 18),
        .revision = sqlite3_column_int64(st, 19),
        .vis = text_or_null(st, 20),
        .geojson = text_or_null(st, 21),
    };
}

/* Steps the kept statement sql, bound by bind, and hands its one row to
 * cb; FM_ENOTFOUND (what) when there is none. */
static fm_rc one_conflict(struct data_db *db, sqlite3_stmt *st, store_conflict_cb cb, void *ctx,
                          const char *what, struct fm_err *err)
{
    fm_rc rc = FM_OK;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        struct store_conflict c;
        read_conflict(st, &c);
        cb(ctx, &c);
    } else {
        rc = s == SQLITE_DONE ? fm_fail(err, FM_ENOTFOUND, NULL, "no %s", what)
                              : db_fail(db, err, what);
    }
    db_release(st);
    return rc;
}

static fm_rc conflict_find(struct data_db *db, const char *kind, int64_t a, int64_t b,
                           store_conflict_cb cb, void *ctx, struct fm_err *err)
{
    static const char sql[] = "SELECT " CONFLICT_COLS " FROM conflicts c WHERE c.kind = :kind"
                              " AND c.a_id = :a AND c.b_id = :b";
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    db_bind_text(st, ":kind", kind);
    db_bind_int(st, ":a", a);
    db_bind_int(st, ":b", b);
    return one_conflict(db, st, cb, ctx, "conflict of that pair", err);
}

static fm_rc conflict_get(struct data_db *db, int64_t id, store_conflict_cb cb, void *ctx,
                          struct fm_err *err)
{
    static const char sql[] = "SELECT " CONFLICT_COLS " FROM conflicts c WHERE c.id = :id";
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    db_bind_int(st, ":id", id);
    return one_conflict(db, st, cb, ctx, "conflict", err);
}

/* A movement opens some 30 conflicts. One INSERT of many rows instead of
 * one per row: the CHECK (kind IN (four kinds)) of the conflicts table
 * builds a temporary index of its list once per statement run (SQLite
 * codes an IN of more than two constants that way), and each statement
 * opens and releases its statement journal; callgrind, 60 movement
 * creates: 957 M -> 876 M instructions. Rows of one statement take
 * consecutive ids (AUTOINCREMENT: each row one above the largest id so
 * far), so the last insert rowid names them all. */
#define INSERT_SIZES 5 /* statements of 16, 8, 4, 2, 1 rows */
#define INSERT_MAX (1 << (INSERT_SIZES - 1))
#define ROW_PARAMS 16

/* The INSERT of 2^k rows; static storage, its address the db_cached key. */
static char insert_sql[INSERT_SIZES][INSERT_MAX * 128 + 256];
static pthread_once_t insert_once = PTHREAD_ONCE_INIT;

static void insert_sql_init(void)
{
    for (int k = 0; k < INSERT_SIZES; k++) {
        char *p = insert_sql[k];
        size_t left = sizeof insert_sql[k];
        int n = snprintf(p, left,
                         "INSERT INTO conflicts (kind, a_coll, a_id, a_version, b_coll, b_id,"
                         " b_version, state, severity, t_from, t_to, alt_floor, alt_ceiling,"
                         " vis_party, opened_at, updated_at, revision, geom, geojson) VALUES");
        for (int r = 0; r < 1 << k; r++) {
            p += n;
            left -= (size_t)n;
            int b = r * ROW_PARAMS;
            n = snprintf(p, left,
                         "%s(?%d,?%d,?%d,?%d,?%d,?%d,?%d,'open',?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,"
                         "1,GeomFromWKB(?%d,4326),?%d)",
                         r ? "," : " ", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8,
                         b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 14, b + 15, b + 16);
        }
    }
}

static void bind_row(sqlite3_stmt *st, int b, const struct store_conflict *c)
{
    sqlite3_bind_text(st, b + 1, c->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, b + 2, c->a_coll, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, b + 3, c->a_id);
    sqlite3_bind_int64(st, b + 4, c->a_version);
    sqlite3_bind_text(st, b + 5, c->b_coll, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, b + 6, c->b_id);
    sqlite3_bind_int64(st, b + 7, c->b_version);
    sqlite3_bind_int64(st, b + 8, c->severity);
    if (c->has_tf) sqlite3_bind_int64(st, b + 9, c->t_from);
    if (c->has_tt) sqlite3_bind_int64(st, b + 10, c->t_to);
    if (c->has_af) sqlite3_bind_double(st, b + 11, c->alt_floor);
    if (c->has_ac) sqlite3_bind_double(st, b + 12, c->alt_ceiling);
    if (c->vis) sqlite3_bind_text(st, b + 13, c->vis, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, b + 14, c->opened_at);
    if (c->wkb) sqlite3_bind_blob(st, b + 15, c->wkb, (int)c->wkb_len, SQLITE_STATIC);
    if (c->geojson) sqlite3_bind_text(st, b + 16, c->geojson, -1, SQLITE_STATIC);
}

static fm_rc conflicts_insert(struct data_db *db, const struct store_conflict *rows, int n,
                              int64_t *ids, struct fm_err *err)
{
    pthread_once(&insert_once, insert_sql_init);
    fm_rc rc = FM_OK;
    for (int i = 0; !rc && i < n;) {
        int k = INSERT_SIZES - 1;
        while ((1 << k) > n - i) k--;
        int m = 1 << k;
        sqlite3_stmt *st;
        if ((rc = db_cached(db, insert_sql[k], &st, err))) break;
        for (int r = 0; r < m; r++) bind_row(st, r * ROW_PARAMS, &rows[i + r]);
        int s = sqlite3_step(st);
        int64_t last = sqlite3_last_insert_rowid(db->h);
        db_release(st);
        if (s != SQLITE_DONE) {
            rc = db_fail(db, err, "insert conflict");
            break;
        }
        for (int r = 0; r < m; r++) ids[i + r] = last - m + 1 + r;
        i += m;
    }
    return rc;
}

static fm_rc conflict_refresh(struct data_db *db, const struct store_conflict *c, int reopened,
                              struct fm_err *err)
{
    static const char sql[] =
        "UPDATE conflicts SET a_version = :av, b_version = :bv, severity = :sev,"
        " t_from = :tf, t_to = :tt, alt_floor = :af, alt_ceiling = :ac, vis_party = :vis,"
        " opened_at = CASE WHEN :reopened THEN :now ELSE opened_at END,"
        " state = 'open', resolved_at = NULL, resolved_by = NULL, comment = NULL,"
        " updated_at = :now, revision = revision + 1, geom = GeomFromWKB(:wkb, 4326),"
        " geojson = :geojson WHERE id = :id";
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    db_bind_int(st, ":av", c->a_version);
    db_bind_int(st, ":bv", c->b_version);
    db_bind_int(st, ":sev", c->severity);
    if (c->has_tf) db_bind_int(st, ":tf", c->t_from);
    if (c->has_tt) db_bind_int(st, ":tt", c->t_to);
    if (c->has_af) db_bind_double(st, ":af", c->alt_floor);
    if (c->has_ac) db_bind_double(st, ":ac", c->alt_ceiling);
    db_bind_text(st, ":vis", c->vis);
    db_bind_int(st, ":reopened", reopened != 0);
    db_bind_int(st, ":now", c->updated_at);
    if (c->wkb)
        sqlite3_bind_blob(st, sqlite3_bind_parameter_index(st, ":wkb"), c->wkb, (int)c->wkb_len,
                          SQLITE_STATIC);
    db_bind_text(st, ":geojson", c->geojson);
    db_bind_int(st, ":id", c->id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "update conflict");
    db_release(st);
    return rc;
}

static fm_rc conflict_resolve(struct data_db *db, int64_t id, fm_time at, const char *by,
                              const char *comment, struct fm_err *err)
{
    static const char sql[] =
        "UPDATE conflicts SET state = 'resolved', resolved_at = :now, resolved_by = :by,"
        " comment = :comment, updated_at = :now, revision = revision + 1 WHERE id = :id";
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    db_bind_int(st, ":now", at);
    db_bind_text(st, ":by", by);
    db_bind_text(st, ":comment", comment);
    db_bind_int(st, ":id", id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "resolve conflict");
    db_release(st);
    return rc;
}

/* As a through the pair's unique index (kind, a_id, b_id), as b through
 * conflicts_b (+state: not by conflicts_state, all open ones): an OR
 * over a_id and b_id scans the table once per item. */
static const char open_of_item[] =
    "SELECT id FROM conflicts WHERE kind IN ('movement_crosses_zone', 'zones_overlap',"
    " 'incident_in_zone', 'incident_near_movement') AND a_id = :i AND +state = 'open'"
    " UNION SELECT id FROM conflicts WHERE state = 'open' AND b_id = :i ORDER BY 1";
static const char driven_by[] =
    "SELECT id FROM conflicts WHERE kind IN ('movement_crosses_zone', 'zones_overlap',"
    " 'incident_in_zone') AND a_id = :i AND +state = 'open'"
    " UNION ALL SELECT id FROM conflicts WHERE state = 'open' AND b_id = :i"
    " AND kind = 'incident_near_movement'";
static const char undriven[] =
    "SELECT c.id FROM conflicts c WHERE c.state = 'open' AND NOT EXISTS (SELECT 1 FROM"
    " item_versions v WHERE v.item_id = (CASE c.kind WHEN 'incident_near_movement' THEN c.b_id"
    " ELSE c.a_id END) AND v.sys_to IS NULL AND v.status NOT IN " ENDED_STATUSES_SQL ")";

/* The ids are read first, then handed out: cb may resolve them. */
static fm_rc conflicts_open_of(struct data_db *db, int64_t item, int which, store_id_cb cb,
                               void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, which == 0 ? open_of_item : which == 1 ? driven_by : undriven, &st,
                         err);
    if (rc) return rc;
    db_bind_int(st, ":i", item);
    int64_t *ids = NULL;
    size_t n = 0, alloc = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            ids = fm_xrealloc(ids, alloc * sizeof *ids);
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (s != SQLITE_DONE) rc = db_fail(db, err, "open conflicts");
    db_release(st);
    for (size_t i = 0; !rc && i < n; i++)
        if (cb(ctx, ids[i])) break;
    free(ids);
    return rc;
}

static fm_rc conflicts_query(struct data_db *db, const struct store_conflict_query *q,
                             store_conflict_cb cb, void *ctx, long *matched, struct fm_err *err)
{
    static const char *const family[] = GEOM_FAMILY_SQL("c.geom");
    if ((unsigned)q->geom > DATA_GEOM_AREAS)
        return fm_fail(err, FM_EINVAL, NULL, "no such geometry family");
    char where[1000];
    snprintf(where, sizeof where,
             CONFLICT_VISIBLE_SQL " AND (:state IS NULL OR c.state = :state)"
                                  " AND (:id = 0 OR c.id = :id) AND %s%s%s",
             family[q->geom],
             q->has_time ? " AND (c.t_to IS NULL OR c.t_to >= :t0)"
                           " AND (c.t_from IS NULL OR c.t_from <= :t1)"
                         : "",
             q->has_bbox ? " AND c.id IN (SELECT pkid FROM idx_conflicts_geom WHERE xmin <= :maxx"
                           " AND xmax >= :minx AND ymin <= :maxy AND ymax >= :miny)"
                           " AND ST_Intersects(c.geom, BuildMbr(:minx, :miny, :maxx, :maxy,"
                           " 4326)) = 1"
                         : "");
    char sql[2048];
    fm_rc rc = FM_OK;
    for (int pass = matched ? 0 : 1; pass < (cb ? 2 : 1); pass++) {
        if (pass == 0)
            snprintf(sql, sizeof sql, "SELECT count(*) FROM conflicts c WHERE %s", where);
        else
            snprintf(sql, sizeof sql,
                     "SELECT " CONFLICT_COLS " FROM conflicts c WHERE %s ORDER BY c.id"
                     " LIMIT :limit OFFSET :offset",
                     where);
        sqlite3_stmt *st;
        if ((rc = db_prepare(db, sql, &st, err))) return rc;
        db_bind_text(st, ":vparty", q->vparty);
        db_bind_text(st, ":state", q->state);
        db_bind_int(st, ":id", q->id);
        if (q->has_bbox) {
            db_bind_double(st, ":minx", q->bbox[0]);
            db_bind_double(st, ":miny", q->bbox[1]);
            db_bind_double(st, ":maxx", q->bbox[2]);
            db_bind_double(st, ":maxy", q->bbox[3]);
        }
        if (q->has_time) {
            db_bind_int(st, ":t0", q->t0);
            db_bind_int(st, ":t1", q->t1);
        }
        db_bind_int(st, ":limit", q->limit);
        db_bind_int(st, ":offset", q->offset);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (pass == 0) {
                *matched = (long)sqlite3_column_int64(st, 0);
                continue;
            }
            struct store_conflict c;
            read_conflict(st, &c);
            if (cb(ctx, &c)) {
                s = SQLITE_DONE;
                break;
            }
        }
        if (s != SQLITE_DONE) rc = db_fail(db, err, "query conflicts");
        sqlite3_finalize(st);
        if (rc) return rc;
    }
    return FM_OK;
}

/* ---- settings ------------------------------------------------------------ */

static fm_rc reach_set(struct data_db *db, int64_t item, int live, double metres,
                       struct fm_err *err)
{
    static const char set[] = "INSERT OR REPLACE INTO conflict_reach (item_id, reach_m)"
                              " VALUES (:id, :r)";
    static const char drop[] = "DELETE FROM conflict_reach WHERE item_id = :id";
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, live ? set : drop, &st, err);
    if (rc) return rc;
    db_bind_int(st, ":id", item);
    db_bind_double(st, ":r", metres);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "corridor reach");
    db_release(st);
    return rc;
}

/* The one REAL of a kept statement of no parameters, into *out when it
 * has a row. */
static fm_rc one_real(struct data_db *db, const char *sql, double *out, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *out = sqlite3_column_double(st, 0);
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "conflict settings");
    db_release(st);
    return rc;
}

static fm_rc reach_max(struct data_db *db, double *metres, struct fm_err *err)
{
    static const char sql[] = "SELECT coalesce(max(reach_m), 0) FROM conflict_reach";
    *metres = 0;
    return one_real(db, sql, metres, err);
}

static fm_rc near_get(struct data_db *db, double *metres, struct fm_err *err)
{
    static const char sql[] =
        "SELECT value FROM conflict_settings WHERE key = 'incident_near_m'";
    return one_real(db, sql, metres, err);
}

static fm_rc near_set(struct data_db *db, double metres, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT OR REPLACE INTO conflict_settings (key, value)"
                          " VALUES ('incident_near_m', ?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_double(st, 1, metres);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "conflict settings");
    sqlite3_finalize(st);
    return rc;
}

void sqlite_conflicts_ops(struct store_ops *o)
{
    o->citem_get = citem_get;
    o->citems_find = citems_find;
    o->citems_live = citems_live;
    o->conflict_find = conflict_find;
    o->conflict_get = conflict_get;
    o->conflicts_insert = conflicts_insert;
    o->conflict_refresh = conflict_refresh;
    o->conflict_resolve = conflict_resolve;
    o->conflicts_open_of = conflicts_open_of;
    o->conflicts_query = conflicts_query;
    o->reach_set = reach_set;
    o->reach_max = reach_max;
    o->near_get = near_get;
    o->near_set = near_set;
}
