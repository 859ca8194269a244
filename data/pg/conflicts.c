/* conflicts.c - the conflicts' rows and the items they are found among,
 * on PostgreSQL/PostGIS (migration 7), as data/sqlite/conflicts.c. No
 * rule here: data/conflicts.c decides in C, from the WKB given and taken
 * here as hex text. */
#include "pgint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- WKB as hex text -------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                 : -1;
}

/* The bytes of hex text s (malloc), or NULL when it is not hex. */
static unsigned char *unhex(const char *s, size_t *len)
{
    size_t n = strlen(s);
    *len = 0;
    if (n % 2) return NULL;
    unsigned char *out = fm_xmalloc(n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

/* The hex text of n bytes (malloc). */
static char *tohex(const unsigned char *p, size_t n)
{
    char *out = fm_xmalloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[p[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[p[i] & 15];
    }
    out[2 * n] = 0;
    return out;
}

/* ---- the items ---------------------------------------------------------------- */

#define CITEM_COLS                                                                               \
    "v.vid, v.item_id, v.version, v.collection, v.party, v.status, coalesce(v.type, ''),"         \
    " v.valid_from, v.valid_to, v.alt_floor, v.alt_ceiling,"                                      \
    " CASE v.collection WHEN 'movements' THEN"                                                    \
    "  coalesce((v.feature::jsonb #>> '{properties,corridor_width_m}')::float8, 0) ELSE 0 END,"   \
    " CASE v.collection WHEN 'incidents' THEN"                                                    \
    "  coalesce((v.feature::jsonb #>> '{properties,severity}')::float8::int, 3) ELSE 3 END,"      \
    " ST_XMin(v.geom), ST_YMin(v.geom), ST_XMax(v.geom), ST_YMax(v.geom),"                        \
    " encode(ST_AsBinary(v.geom), 'hex')"

/* Hands each row of r to cb as an item; stops when cb does. */
static fm_rc citem_rows(PGresult *r, store_citem_cb cb, void *ctx, struct fm_err *err)
{
    fm_rc rc = FM_OK;
    for (int i = 0, n = PQntuples(r); !rc && i < n; i++) {
        struct store_citem x = {
            .vid = pg_col_i(r, i, 0),
            .id = pg_col_i(r, i, 1),
            .version = pg_col_i(r, i, 2),
            .collection = pg_col_s(r, i, 3),
            .party = pg_col_s(r, i, 4),
            .status = pg_col_s(r, i, 5),
            .type = pg_col_s(r, i, 6),
            .has_from = pg_col(r, i, 7) != NULL,
            .from = pg_col_i(r, i, 7),
            .has_to = pg_col(r, i, 8) != NULL,
            .to = pg_col_i(r, i, 8),
            .has_floor = pg_col(r, i, 9) != NULL,
            .floor = pg_col_d(r, i, 9),
            .has_ceil = pg_col(r, i, 10) != NULL,
            .ceil = pg_col_d(r, i, 10),
            .corridor_m = pg_col_d(r, i, 11),
            .severity = (int)pg_col_i(r, i, 12),
        };
        for (int k = 0; k < 4; k++) x.box[k] = pg_col_d(r, i, 13 + k);
        unsigned char *wkb = unhex(pg_col_s(r, i, 17), &x.wkb_len);
        if (!wkb) {
            rc = fm_fail(err, FM_EDB, NULL, "item %lld: unreadable geometry", (long long)x.id);
            break;
        }
        x.wkb = wkb;
        int stop = cb(ctx, &x);
        free(wkb);
        if (stop) break;
    }
    PQclear(r);
    return rc;
}

static fm_rc citem_get(struct data_db *db, int64_t id, store_citem_cb cb, void *ctx,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "conflict item", err,
                      "SELECT " CITEM_COLS " FROM item_versions v WHERE v.item_id = $1::bigint"
                      " AND v.sys_to IS NULL",
                      1, I64(id));
    if (rc) return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return fm_fail(err, FM_ENOTFOUND, NULL, "no item %lld", (long long)id);
    }
    return citem_rows(r, cb, ctx, err);
}

/* Every row is read before cb runs: cb writes conflicts meanwhile. */
static fm_rc citems_find(struct data_db *db, const struct store_cand_query *q, store_citem_cb cb,
                         void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(
        db, &r, NULL, "conflict candidates", err,
        "SELECT " CITEM_COLS " FROM item_versions v WHERE v.collection = $1"
        " AND v.sys_to IS NULL AND v.geom && ST_MakeEnvelope($2::float8, $3::float8, $4::float8,"
        " $5::float8, 4326) AND v.status NOT IN " ENDED_STATUSES_SQL
        " AND v.item_id <> $6::bigint AND v.item_id >= $7::bigint"
        " AND (v.valid_to IS NULL OR v.valid_to > $8::bigint)"
        " AND (v.valid_to IS NULL OR $9::bigint IS NULL OR v.valid_to > $9::bigint)"
        " AND (v.valid_from IS NULL OR $10::bigint IS NULL OR v.valid_from < $10::bigint)"
        " AND ($11::int IS NULL OR v.type IN ('restricted', 'protected_site')"
        "  OR ($11::int = 2 AND v.type = 'no_fly'))"
        " AND ($12::int IS NULL OR v.type = 'air')"
        " AND ($13::text IS NULL OR v.party <> $13::text)"
        " AND ($14::text IS NULL OR v.status <> 'draft' OR v.party = $14::text)"
        " AND ($15::float8 IS NULL OR v.alt_ceiling IS NULL OR v.alt_ceiling > $15::float8)"
        " AND ($16::float8 IS NULL OR v.alt_floor IS NULL OR v.alt_floor < $16::float8)"
        " ORDER BY v.item_id",
        16, data_coll_name(q->coll), DBL(q->box[0]), DBL(q->box[1]), DBL(q->box[2]),
        DBL(q->box[3]), I64(q->self), I64(q->min_id), I64(q->now),
        q->has_from ? I64(q->from) : NULL, q->has_to ? I64(q->to) : NULL,
        q->ztypes ? I64(q->ztypes) : NULL, q->aironly ? "1" : NULL, q->otherparty, q->draftparty,
        q->has_floor ? DBL(q->floor) : NULL, q->has_ceil ? DBL(q->ceil) : NULL);
    if (rc) return rc;
    return citem_rows(r, cb, ctx, err);
}

static fm_rc citems_live(struct data_db *db, store_id_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "live items", err,
                      "SELECT item_id FROM item_versions WHERE sys_to IS NULL"
                      " AND status NOT IN " ENDED_STATUSES_SQL " ORDER BY item_id",
                      0);
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++)
        if (cb(ctx, pg_col_i(r, i, 0))) break;
    PQclear(r);
    return FM_OK;
}

/* ---- the conflicts' rows -------------------------------------------------------- */

#define CONFLICT_COLS                                                                            \
    "c.id, c.kind, c.a_coll, c.a_id, c.a_version, c.b_coll, c.b_id, c.b_version, c.t_from,"      \
    " c.t_to, c.alt_floor, c.alt_ceiling, c.severity, c.state, c.opened_at, c.updated_at,"       \
    " c.resolved_at, c.resolved_by, c.comment, c.revision, c.vis_party, c.geojson"

static fm_rc conflict_rows(PGresult *r, store_conflict_cb cb, void *ctx)
{
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_conflict c = {
            .id = pg_col_i(r, i, 0),
            .kind = pg_col(r, i, 1),
            .a_coll = pg_col(r, i, 2),
            .a_id = pg_col_i(r, i, 3),
            .a_version = pg_col_i(r, i, 4),
            .b_coll = pg_col(r, i, 5),
            .b_id = pg_col_i(r, i, 6),
            .b_version = pg_col_i(r, i, 7),
            .has_tf = pg_col(r, i, 8) != NULL,
            .t_from = pg_col_i(r, i, 8),
            .has_tt = pg_col(r, i, 9) != NULL,
            .t_to = pg_col_i(r, i, 9),
            .has_af = pg_col(r, i, 10) != NULL,
            .alt_floor = pg_col_d(r, i, 10),
            .has_ac = pg_col(r, i, 11) != NULL,
            .alt_ceiling = pg_col_d(r, i, 11),
            .severity = pg_col_i(r, i, 12),
            .state = pg_col(r, i, 13),
            .opened_at = pg_col_i(r, i, 14),
            .updated_at = pg_col_i(r, i, 15),
            .has_resolved_at = pg_col(r, i, 16) != NULL,
            .resolved_at = pg_col_i(r, i, 16),
            .resolved_by = pg_col(r, i, 17),
            .comment = pg_col(r, i, 18),
            .revision = pg_col_i(r, i, 19),
            .vis = pg_col(r, i, 20),
            .geojson = pg_col(r, i, 21),
        };
        if (cb(ctx, &c)) break;
    }
    PQclear(r);
    return FM_OK;
}

/* The one row of r to cb; FM_ENOTFOUND (what) when there is none. */
static fm_rc one_conflict(PGresult *r, store_conflict_cb cb, void *ctx, const char *what,
                          struct fm_err *err)
{
    if (PQntuples(r) == 0) {
        PQclear(r);
        return fm_fail(err, FM_ENOTFOUND, NULL, "no %s", what);
    }
    return conflict_rows(r, cb, ctx);
}

static fm_rc conflict_find(struct data_db *db, const char *kind, int64_t a, int64_t b,
                           store_conflict_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "find conflict", err,
                      "SELECT " CONFLICT_COLS " FROM conflicts c WHERE c.kind = $1"
                      " AND c.a_id = $2::bigint AND c.b_id = $3::bigint",
                      3, kind, I64(a), I64(b));
    return rc ? rc : one_conflict(r, cb, ctx, "conflict of that pair", err);
}

static fm_rc conflict_get(struct data_db *db, int64_t id, store_conflict_cb cb, void *ctx,
                          struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "get conflict", err,
                      "SELECT " CONFLICT_COLS " FROM conflicts c WHERE c.id = $1::bigint", 1,
                      I64(id));
    return rc ? rc : one_conflict(r, cb, ctx, "conflict", err);
}

/* One row at a time: a movement's 30 conflicts are 30 round trips on
 * loopback, a fraction of the engine's geometry. */
static fm_rc conflicts_insert(struct data_db *db, const struct store_conflict *rows, int n,
                              int64_t *ids, struct fm_err *err)
{
    fm_rc rc = FM_OK;
    for (int i = 0; !rc && i < n; i++) {
        const struct store_conflict *c = &rows[i];
        char *hex = c->wkb ? tohex(c->wkb, c->wkb_len) : NULL;
        PGresult *r;
        rc = pg_run(db, &r, NULL, "insert conflict", err,
                    "INSERT INTO conflicts (kind, a_coll, a_id, a_version, b_coll, b_id,"
                    " b_version, state, severity, t_from, t_to, alt_floor, alt_ceiling, vis_party,"
                    " opened_at, updated_at, revision, geom, geojson) VALUES ($1, $2, $3::bigint,"
                    " $4::bigint, $5, $6::bigint, $7::bigint, 'open', $8::int, $9::bigint,"
                    " $10::bigint, $11::float8, $12::float8, $13, $14::bigint, $14::bigint, 1,"
                    " ST_GeomFromWKB(decode($15, 'hex'), 4326), $16) RETURNING id",
                    16, c->kind, c->a_coll, I64(c->a_id), I64(c->a_version), c->b_coll,
                    I64(c->b_id), I64(c->b_version), I64(c->severity),
                    c->has_tf ? I64(c->t_from) : NULL, c->has_tt ? I64(c->t_to) : NULL,
                    c->has_af ? DBL(c->alt_floor) : NULL, c->has_ac ? DBL(c->alt_ceiling) : NULL,
                    c->vis, I64(c->opened_at), hex, c->geojson);
        free(hex);
        rc = pg_returning_id(rc, r, &ids[i]);
    }
    return rc;
}

static fm_rc conflict_refresh(struct data_db *db, const struct store_conflict *c, int reopened,
                              struct fm_err *err)
{
    char *hex = c->wkb ? tohex(c->wkb, c->wkb_len) : NULL;
    fm_rc rc = pg_run(
        db, NULL, NULL, "update conflict", err,
        "UPDATE conflicts SET a_version = $1::bigint, b_version = $2::bigint, severity = $3::int,"
        " t_from = $4::bigint, t_to = $5::bigint, alt_floor = $6::float8,"
        " alt_ceiling = $7::float8, vis_party = $8,"
        " opened_at = CASE WHEN $9::boolean THEN $10::bigint ELSE opened_at END,"
        " state = 'open', resolved_at = NULL, resolved_by = NULL, comment = NULL,"
        " updated_at = $10::bigint, revision = revision + 1,"
        " geom = ST_GeomFromWKB(decode($11, 'hex'), 4326), geojson = $12 WHERE id = $13::bigint",
        13, I64(c->a_version), I64(c->b_version), I64(c->severity),
        c->has_tf ? I64(c->t_from) : NULL, c->has_tt ? I64(c->t_to) : NULL,
        c->has_af ? DBL(c->alt_floor) : NULL, c->has_ac ? DBL(c->alt_ceiling) : NULL, c->vis,
        reopened ? "true" : "false", I64(c->updated_at), hex, c->geojson, I64(c->id));
    free(hex);
    return rc;
}

static fm_rc conflict_resolve(struct data_db *db, int64_t id, fm_time at, const char *by,
                              const char *comment, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "resolve conflict", err,
                  "UPDATE conflicts SET state = 'resolved', resolved_at = $1::bigint,"
                  " resolved_by = $2, comment = $3, updated_at = $1::bigint,"
                  " revision = revision + 1 WHERE id = $4::bigint",
                  4, I64(at), by, comment, I64(id));
}

static fm_rc conflicts_open_of(struct data_db *db, int64_t item, int which, store_id_cb cb,
                               void *ctx, struct fm_err *err)
{
    static const char *const sql[] = {
        "SELECT id FROM conflicts WHERE state = 'open' AND (a_id = $1::bigint"
        " OR b_id = $1::bigint) ORDER BY id",
        "SELECT id FROM conflicts WHERE state = 'open' AND ((a_id = $1::bigint"
        " AND kind <> 'incident_near_movement') OR (b_id = $1::bigint"
        " AND kind = 'incident_near_movement')) ORDER BY id",
        "SELECT c.id FROM conflicts c WHERE c.state = 'open' AND NOT EXISTS (SELECT 1 FROM"
        " item_versions v WHERE v.item_id = (CASE c.kind WHEN 'incident_near_movement' THEN"
        " c.b_id ELSE c.a_id END) AND v.sys_to IS NULL AND v.status NOT IN " ENDED_STATUSES_SQL
        ") ORDER BY c.id",
    };
    if (which < 0 || which > 2) return fm_fail(err, FM_EINVAL, NULL, "no such list");
    PGresult *r;
    /* the last takes no item */
    fm_rc rc = pg_run(db, &r, NULL, "open conflicts", err, sql[which], which == 2 ? 0 : 1,
                      I64(item));
    if (rc) return rc;
    int n = PQntuples(r);
    int64_t *ids = fm_xmalloc(((size_t)n + 1) * sizeof *ids);
    for (int i = 0; i < n; i++) ids[i] = pg_col_i(r, i, 0);
    PQclear(r);
    for (int i = 0; i < n; i++)
        if (cb(ctx, ids[i])) break;
    free(ids);
    return FM_OK;
}

static fm_rc conflicts_query(struct data_db *db, const struct store_conflict_query *q,
                             store_conflict_cb cb, void *ctx, long *matched, struct fm_err *err)
{
    static const char *const family[] = PG_GEOM_FAMILY("c.geom");
    if ((unsigned)q->geom > DATA_GEOM_AREAS)
        return fm_fail(err, FM_EINVAL, NULL, "no such geometry family");
    char where[1000];
    snprintf(where, sizeof where,
             "(c.vis_party IS NULL OR c.vis_party = $1) AND ($2::text IS NULL OR c.state = $2)"
             " AND ($3::bigint = 0 OR c.id = $3::bigint)"
             " AND ($8::bigint IS NULL OR c.t_to IS NULL OR c.t_to >= $8::bigint)"
             " AND ($9::bigint IS NULL OR c.t_from IS NULL OR c.t_from <= $9::bigint) AND %s%s",
             family[q->geom],
             q->has_bbox ? " AND c.geom && ST_MakeEnvelope($4::float8, $5::float8, $6::float8,"
                           " $7::float8, 4326) AND ST_Intersects(c.geom, ST_MakeEnvelope("
                           "$4::float8, $5::float8, $6::float8, $7::float8, 4326))"
                         : " AND $4::float8 IS NULL AND $5::float8 IS NULL AND $6::float8 IS NULL"
                           " AND $7::float8 IS NULL");
    char sql[2048];
    const char *b[4] = {NULL, NULL, NULL, NULL};
    char bb[4][40];
    if (q->has_bbox)
        for (int k = 0; k < 4; k++) b[k] = pg_dbl_text(bb[k], q->bbox[k]);
    const char *t[2] = {NULL, NULL};
    char tt[2][24];
    if (q->has_time) t[0] = pg_i64_text(tt[0], q->t0), t[1] = pg_i64_text(tt[1], q->t1);
    fm_rc rc = FM_OK;
    for (int pass = matched ? 0 : 1; pass < (cb ? 2 : 1); pass++) {
        PGresult *r;
        if (pass == 0) {
            snprintf(sql, sizeof sql, "SELECT count(*) FROM conflicts c WHERE %s", where);
            rc = pg_run(db, &r, NULL, "count conflicts", err, sql, 9, q->vparty, q->state,
                        I64(q->id), b[0], b[1], b[2], b[3], t[0], t[1]);
            if (rc) return rc;
            *matched = (long)pg_col_i(r, 0, 0);
            PQclear(r);
            continue;
        }
        snprintf(sql, sizeof sql,
                 "SELECT " CONFLICT_COLS " FROM conflicts c WHERE %s ORDER BY c.id"
                 " LIMIT $10::bigint OFFSET $11::bigint",
                 where);
        rc = pg_run(db, &r, NULL, "query conflicts", err, sql, 11, q->vparty, q->state,
                    I64(q->id), b[0], b[1], b[2], b[3], t[0], t[1], I64(q->limit),
                    I64(q->offset));
        if (rc) return rc;
        conflict_rows(r, cb, ctx);
    }
    return FM_OK;
}

/* ---- settings ---------------------------------------------------------------------- */

static fm_rc reach_set(struct data_db *db, int64_t item, int live, double metres,
                       struct fm_err *err)
{
    if (!live)
        return pg_run(db, NULL, NULL, "corridor reach", err,
                      "DELETE FROM conflict_reach WHERE item_id = $1::bigint", 1, I64(item));
    return pg_run(db, NULL, NULL, "corridor reach", err,
                  "INSERT INTO conflict_reach (item_id, reach_m) VALUES ($1::bigint, $2::float8)"
                  " ON CONFLICT (item_id) DO UPDATE SET reach_m = excluded.reach_m",
                  2, I64(item), DBL(metres));
}

static fm_rc one_real(struct data_db *db, const char *sql, double *out, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "conflict settings", err, sql, 0);
    if (rc) return rc;
    if (PQntuples(r) > 0 && pg_col(r, 0, 0)) *out = pg_col_d(r, 0, 0);
    PQclear(r);
    return FM_OK;
}

static fm_rc reach_max(struct data_db *db, double *metres, struct fm_err *err)
{
    *metres = 0;
    return one_real(db, "SELECT coalesce(max(reach_m), 0) FROM conflict_reach", metres, err);
}

static fm_rc near_get(struct data_db *db, double *metres, struct fm_err *err)
{
    return one_real(db, "SELECT value FROM conflict_settings WHERE key = 'incident_near_m'",
                    metres, err);
}

static fm_rc near_set(struct data_db *db, double metres, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "conflict settings", err,
                  "INSERT INTO conflict_settings (key, value) VALUES ('incident_near_m',"
                  " $1::float8) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                  1, DBL(metres));
}

void pg_conflicts_ops(struct store_ops *o)
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
