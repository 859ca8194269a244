/* query.c - the store's queries on SQLite (store.h): items by bbox
 * (R*Tree first, then exact intersection), validity time, status, party,
 * type, geometry family and a compiled CQL2 filter (written in SQLite's
 * dialect with SpatiaLite by data/sqlfilter.c), now or as of a past
 * time, paged in id order or by a sort; the extents; the rows of
 * pictures when the picture of now is off or of the past. The viewer's
 * draft party comes from above (data/query.c): a draft is seen by its
 * party only, the one rule of data/visibility.c, here in SQL, beside
 * (never inside) the filter. */
#include "sqlite.h"
#include "sqlfilter.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the dialect of filters and sorts (sqlfilter.h) ------------------------ */

#define Q_PROP(name) "json_extract(v.feature, '$.properties." name "')"

static void sq_param(struct sqlf *w, int k, char *out, size_t n)
{
    (void)w;
    snprintf(out, n, ":f%d", k);
}

/* CQL2 LIKE (% _ and \ escapes, case-sensitive) as a GLOB pattern (malloc'd). */
static char *like_to_glob(const char *in)
{
    char *out = malloc(strlen(in) * 3 + 1), *o = out;
    if (!out) return NULL;
    for (const char *c = in; *c; c++) {
        char one = *c;
        if (*c == '\\' && c[1]) {
            one = *++c;
        } else if (*c == '%') {
            *o++ = '*';
            continue;
        } else if (*c == '_') {
            *o++ = '?';
            continue;
        }
        if (one == '*' || one == '?' || one == '[') {
            *o++ = '[', *o++ = one, *o++ = ']';
        } else {
            *o++ = one;
        }
    }
    *o = '\0';
    return out;
}

static void sq_like(struct sqlf *w, const char *expr, const char *pattern, int neg, int ci)
{
    char p[32];
    if (ci) { /* SQLite's LIKE: ASCII letters in either case */
        sqlf_text(w, pattern, 0, p, sizeof p);
        sqlf_emit(w, "%s%s LIKE %s ESCAPE '\\'", neg ? "NOT " : "", expr, p);
    } else {
        sqlf_text(w, like_to_glob(pattern), 1, p, sizeof p);
        sqlf_emit(w, "%s%s GLOB %s", neg ? "NOT " : "", expr, p);
    }
}

static void sq_spatial(struct sqlf *w, int op, const char *expr, const struct data_fnode *g)
{
    char geom[160];
    if (g->kind == DATA_F_BBOX) {
        char v[4][32];
        for (int k = 0; k < 4; k++) sqlf_dbl(w, g->d[k], v[k], sizeof v[k]);
        snprintf(geom, sizeof geom, "BuildMbr(%s, %s, %s, %s, 4326)", v[0], v[1], v[2], v[3]);
    } else {
        char v[32];
        sqlf_text(w, g->t, 0, v, sizeof v);
        snprintf(geom, sizeof geom, "GeomFromText(%s, 4326)", v);
    }
    if (op == DATA_S_DISJOINT) {
        sqlf_emit(w, "ST_Disjoint(%s, %s) = 1", expr, geom);
        return;
    }
    /* the R*Tree narrows the rows first */
    sqlf_emit(w,
              "(v.vid IN (SELECT pkid FROM idx_item_versions_geom WHERE xmin <= MbrMaxX(%s)"
              " AND xmax >= MbrMinX(%s) AND ymin <= MbrMaxY(%s) AND ymax >= MbrMinY(%s))"
              " AND %s(%s, %s) = 1)",
              geom, geom, geom, geom, op == DATA_S_WITHIN ? "ST_Within" : "ST_Intersects", expr,
              geom);
}

const struct sqlf_dialect sqlite_sqlf_dialect = {
    .yes = "1",
    .no = "0",
    .field =
        {
            [DATA_FIELD_ID] = "v.item_id",
            [DATA_FIELD_VERSION] = "v.version",
            [DATA_FIELD_STATUS] = "v.status",
            [DATA_FIELD_PARTY] = "v.party",
            [DATA_FIELD_TYPE] = "v.type",
            [DATA_FIELD_TITLE] = "v.title",
            [DATA_FIELD_VALID_FROM] = "v.valid_from",
            [DATA_FIELD_VALID_TO] = "v.valid_to",
            [DATA_FIELD_UPDATED_AT] = "v.sys_from",
            [DATA_FIELD_GEOMETRY] = "v.geom",
            [DATA_FIELD_ALT_FLOOR] = "v.alt_floor",
            [DATA_FIELD_ALT_CEILING] = "v.alt_ceiling",
            [DATA_FIELD_CATEGORY] = Q_PROP("category"),
            [DATA_FIELD_SEVERITY] = Q_PROP("severity"),
            [DATA_FIELD_OCCURRED_AT] =
                "CAST(strftime('%s', " Q_PROP("occurred_at") ") AS INTEGER)",
            [DATA_FIELD_CORRIDOR_WIDTH] = Q_PROP("corridor_width_m"),
        },
    .bytes_order = "", /* BINARY, the default collation */
    .param = sq_param,
    .like = sq_like,
    .spatial = sq_spatial,
};

/* ---- items ----------------------------------------------------------------- */

/* The WHERE clause and its bindings, built once for the count and the page. */
struct where {
    char sql[6144];
    size_t len;
};

static void add(struct where *w, const char *clause)
{
    w->len += (size_t)snprintf(w->sql + w->len, sizeof w->sql - w->len, " AND %s", clause);
}

static void build_where(const struct data_query *q, struct where *w)
{
    w->len = (size_t)snprintf(w->sql, sizeof w->sql, "v.collection = :coll");
    if (q->has_asof)
        add(w, "v.sys_from <= :asof AND (v.sys_to IS NULL OR v.sys_to > :asof)");
    else
        add(w, "v.sys_to IS NULL");
    add(w, "(v.owner_only = 0 OR v.party = :vparty)"); /* vis_may_see, in SQL */
    add(w, q->status ? "v.status = :status" : "v.status <> 'withdrawn'");
    if (q->party) add(w, "v.party = :party");
    if (q->type) add(w, "v.type = :type");
    if (q->has_time)
        add(w, "(v.valid_from IS NULL OR v.valid_from <= :t1)"
               " AND (v.valid_to IS NULL OR v.valid_to >= :t0)");
    if (q->has_bbox)
        add(w, "r.xmin <= :maxx AND r.xmax >= :minx AND r.ymin <= :maxy AND r.ymax >= :miny");
    if (q->has_bbox && !q->bbox_loose)
        add(w, "ST_Intersects(v.geom, BuildMbr(:minx, :miny, :maxx, :maxy, 4326)) = 1");
    static const char *const family[] = GEOM_FAMILY_SQL("v.geom");
    if (q->geom > DATA_GEOM_ANY && q->geom <= DATA_GEOM_AREAS) add(w, family[q->geom]);
}

/* With a bbox the R*Tree drives the join, so the cost follows the size of
 * the answer, not of the collection (an IN (subquery) made SQLite walk
 * every current item of the collection). */
static const char *from(const struct data_query *q)
{
    return q->has_bbox ? "idx_item_versions_geom AS r CROSS JOIN item_versions AS v ON v.vid = r.pkid"
                       : "item_versions AS v";
}

static void bind_query(sqlite3_stmt *st, const char *vparty, const struct data_query *q)
{
    db_bind_text(st, ":coll", data_coll_name(q->coll));
    if (q->has_asof) db_bind_int(st, ":asof", q->asof);
    db_bind_text(st, ":vparty", vparty); /* unbound NULL: no drafts */
    if (q->status) db_bind_text(st, ":status", q->status);
    if (q->party) db_bind_text(st, ":party", q->party);
    if (q->type) db_bind_text(st, ":type", q->type);
    if (q->has_time) {
        db_bind_int(st, ":t0", q->t0);
        db_bind_int(st, ":t1", q->t1);
    }
    if (q->has_bbox) {
        db_bind_double(st, ":minx", q->bbox[0]);
        db_bind_double(st, ":miny", q->bbox[1]);
        db_bind_double(st, ":maxx", q->bbox[2]);
        db_bind_double(st, ":maxy", q->bbox[3]);
    }
}

/* The filter's values (sqlfilter.c), bound as :f0, :f1, ... */
static void bind_filter(sqlite3_stmt *st, const struct sqlf *f)
{
    for (int i = 0; i < f->nvalues; i++) {
        char name[16];
        snprintf(name, sizeof name, ":f%d", i);
        if (f->values[i].kind == 'i') db_bind_int(st, name, f->values[i].i);
        else if (f->values[i].kind == 'd') db_bind_double(st, name, f->values[i].d);
        else db_bind_text(st, name, f->values[i].t);
    }
}

static fm_rc items_query(struct data_db *db, const struct data_query *q, const char *vparty,
                         data_item_cb cb, void *ctx, long *matched, struct fm_err *err)
{
    if (matched) *matched = 0;
    struct where w;
    build_where(q, &w);
    /* the filter (its values :f0, ...) and the sort, in SQLite's dialect */
    struct sqlf f, order, sql;
    sqlf_init(&f, &sqlite_sqlf_dialect, 0);
    sqlf_init(&order, &sqlite_sqlf_dialect, 0);
    sqlf_init(&sql, &sqlite_sqlf_dialect, 0);
    sqlite3_stmt *st = NULL;
    fm_rc rc = FM_OK;
    sqlf_emit(&f, "%s", q->filter ? " AND " : "");
    sqlf_emit(&order, "%s", "");
    if ((q->filter && (rc = sqlf_filter(&f, q->filter, err))) ||
        (q->sort && (rc = sqlf_sort(&order, q->sort, err))))
        goto out;

    if (matched) {
        sqlf_emit(&sql, "SELECT count(*) FROM %s WHERE %s%s", from(q), w.sql, f.sql);
        if (sql.failed) {
            rc = fm_fail(err, FM_EINTERNAL, NULL, "out of memory");
            goto out;
        }
        if ((rc = db_prepare(db, sql.sql, &st, err))) goto out;
        bind_query(st, vparty, q);
        bind_filter(st, &f);
        if (sqlite3_step(st) == SQLITE_ROW)
            *matched = (long)sqlite3_column_int64(st, 0);
        else
            rc = db_fail(db, err, "count items");
        sqlite3_finalize(st);
        st = NULL;
        if (rc) goto out;
    }
    if (!cb) goto out;

    sql.len = 0;
    sqlf_emit(&sql,
              "SELECT v.item_id, v.version, v.party, v.status, v.type, v.feature, %s"
              " FROM %s WHERE %s%s ORDER BY %sv.item_id LIMIT :limit OFFSET :offset",
              q->want_wkb ? "AsBinary(v.geom)" : "NULL", from(q), w.sql, f.sql,
              order.sql); /* the id last: stable paging */
    if (sql.failed) {
        rc = fm_fail(err, FM_EINTERNAL, NULL, "out of memory");
        goto out;
    }
    if ((rc = db_prepare(db, sql.sql, &st, err))) goto out;
    bind_query(st, vparty, q);
    bind_filter(st, &f);
    db_bind_int(st, ":limit", q->limit);
    db_bind_int(st, ":offset", q->offset);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct data_item_row row = {
            .id = sqlite3_column_int64(st, 0),
            .version = sqlite3_column_int64(st, 1),
            .coll = q->coll,
            .party = db_text(st, 2),
            .status = db_text(st, 3),
            .type = db_text(st, 4),
            .feature = db_text(st, 5),
            .wkb = sqlite3_column_blob(st, 6),
            .wkb_len = (size_t)sqlite3_column_bytes(st, 6),
        };
        if (cb(ctx, &row)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, "query items");
    sqlite3_finalize(st);
out:
    sqlf_free(&f);
    sqlf_free(&order);
    sqlf_free(&sql);
    return rc;
}

/* ---- extents ------------------------------------------------------------- */

/* Five columns: count, the bbox (four), then from-count, from-min,
 * to-count, to-max; an open end when some row has no bound. */
static void extent_row(sqlite3_stmt *st, struct data_extent *out)
{
    memset(out, 0, sizeof *out);
    out->count = (long)sqlite3_column_int64(st, 0);
    if (out->count == 0) return;
    for (int i = 0; i < 4; i++) out->bbox[i] = sqlite3_column_double(st, 1 + i);
    out->has_t0 = sqlite3_column_int64(st, 5) == out->count;
    out->t0 = sqlite3_column_int64(st, 6);
    out->has_t1 = sqlite3_column_int64(st, 7) == out->count;
    out->t1 = sqlite3_column_int64(st, 8);
}

static fm_rc items_extent(struct data_db *db, enum data_coll c, enum data_geom g,
                          const char *vparty, struct data_extent *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    struct data_query q;
    memset(&q, 0, sizeof q);
    q.coll = c;
    q.geom = g;
    struct where w;
    build_where(&q, &w); /* what a query with no filter would match, as this viewer */
    char sql[8192];
    snprintf(sql, sizeof sql,
             "SELECT count(*), min(MbrMinX(v.geom)), min(MbrMinY(v.geom)), max(MbrMaxX(v.geom)),"
             " max(MbrMaxY(v.geom)), count(v.valid_from), min(v.valid_from), count(v.valid_to),"
             " max(v.valid_to) FROM %s WHERE %s",
             from(&q), w.sql);
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, sql, &st, err);
    if (rc) return rc;
    bind_query(st, vparty, &q);
    if (sqlite3_step(st) == SQLITE_ROW) extent_row(st, out);
    else rc = db_fail(db, err, "extent of items");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc conflicts_extent(struct data_db *db, enum data_geom g, const char *vparty,
                              struct data_extent *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    static const char *const family[] = GEOM_FAMILY_SQL("c.geom");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(*), min(MbrMinX(c.geom)), min(MbrMinY(c.geom)), max(MbrMaxX(c.geom)),"
             " max(MbrMaxY(c.geom)), count(c.t_from), min(c.t_from), count(c.t_to), max(c.t_to)"
             " FROM conflicts c WHERE " CONFLICT_VISIBLE_SQL " AND c.geom IS NOT NULL AND %s",
             family[g]);
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, sql, &st, err);
    if (rc) return rc;
    db_bind_text(st, ":vparty", vparty); /* unbound NULL: no drafts */
    if (sqlite3_step(st) == SQLITE_ROW) extent_row(st, out);
    else rc = db_fail(db, err, "extent of conflicts");
    sqlite3_finalize(st);
    return rc;
}

/* ---- pictures ------------------------------------------------------------ */

void sqlite_pic_row(sqlite3_stmt *st, struct data_pic_row *row)
{
    *row = (struct data_pic_row){
        .id = sqlite3_column_int64(st, 0),
        .party = (const char *)sqlite3_column_text(st, 1),
        .status = (const char *)sqlite3_column_text(st, 2),
        .type = (const char *)sqlite3_column_text(st, 3),
        .title = (const char *)sqlite3_column_text(st, 4),
        .category = (const char *)sqlite3_column_text(st, 5),
        .severity = sqlite3_column_int(st, 6),
        .corridor_width_m = sqlite3_column_double(st, 7),
        .wkb = sqlite3_column_blob(st, 8),
    };
    row->wkb_len = (size_t)sqlite3_column_bytes(st, 8);
}

static fm_rc pic_run(struct data_db *db, sqlite3_stmt *st, data_pic_cb cb, void *ctx,
                     struct fm_err *err)
{
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct data_pic_row row;
        sqlite_pic_row(st, &row);
        if (sqlite3_column_count(st) > 10) /* conflicts: their items */
            row.a_id = sqlite3_column_int64(st, 9), row.b_id = sqlite3_column_int64(st, 10);
        if (row.wkb && cb(ctx, &row)) break;
    }
    fm_rc rc = s == SQLITE_ROW || s == SQLITE_DONE ? FM_OK : db_fail(db, err, "picture query");
    db_release(st);
    return rc;
}

/* pic_run for a statement that takes the viewer's draft party and a box. */
static fm_rc pic_run_box(struct data_db *db, sqlite3_stmt *st, const char *vparty,
                         const double bbox[4], data_pic_cb cb, void *ctx, struct fm_err *err)
{
    db_bind_text(st, ":vparty", vparty);
    db_bind_double(st, ":minx", bbox[0]);
    db_bind_double(st, ":miny", bbox[1]);
    db_bind_double(st, ":maxx", bbox[2]);
    db_bind_double(st, ":maxy", bbox[3]);
    return pic_run(db, st, cb, ctx, err);
}

/* The statements of pictures of the past, one per collection, made once
 * (pictures of now read the picture R*Trees): db_cached keys statements by
 * the address of their text. */
static char pic_sql[DATA_COLL_COUNT][8192];
static pthread_once_t pic_once = PTHREAD_ONCE_INIT;

static void pic_sql_init(void)
{
    /* only incidents and movements carry style in their properties */
    static const char *const extra[DATA_COLL_COUNT] = {
        [DATA_ZONES] = "NULL, NULL, NULL",
        [DATA_INCIDENTS] = ("json_extract(v.feature, '$.properties.category'),"
                            " json_extract(v.feature, '$.properties.severity'), NULL"),
        [DATA_MOVEMENTS] = "NULL, NULL, json_extract(v.feature, '$.properties.corridor_width_m')",
    };
    for (int c = 0; c < DATA_COLL_COUNT; c++) {
        struct data_query q;
        memset(&q, 0, sizeof q);
        q.has_bbox = 1, q.bbox_loose = 1, q.has_asof = 1;
        struct where w;
        build_where(&q, &w);
        snprintf(pic_sql[c], sizeof pic_sql[c],
                 "SELECT v.item_id, v.party, v.status, v.type, v.title, %s, AsBinary(v.geom)"
                 " FROM %s WHERE %s ORDER BY v.item_id",
                 extra[c], from(&q), w.sql);
    }
}

static fm_rc pic_items_box(struct data_db *db, enum data_coll c, const double bbox[4],
                           int has_asof, fm_time asof, const char *vparty, data_pic_cb cb,
                           void *ctx, struct fm_err *err)
{
    pthread_once(&pic_once, pic_sql_init);
    sqlite3_stmt *st;
    fm_rc rc;
    if (!has_asof) { /* now: the collection's picture R*Tree (migration 6) */
        static const char *const now_sql[DATA_COLL_COUNT] = {
#define PIC_NOW(c)                                                                                 \
    "SELECT item_id, party, status, type, title, category, severity, width, wkb FROM pic_" c      \
    " WHERE xmin <= :maxx AND xmax >= :minx AND ymin <= :maxy AND ymax >= :miny"                   \
    " AND (status <> 'draft' OR party = :vparty) /* live: vis_owner_only */ ORDER BY item_id"
            [DATA_ZONES] = (PIC_NOW("zones")),
            [DATA_INCIDENTS] = (PIC_NOW("incidents")),
            [DATA_MOVEMENTS] = (PIC_NOW("movements")),
#undef PIC_NOW
        };
        if ((rc = db_cached(db, now_sql[c], &st, err))) return rc;
        return pic_run_box(db, st, vparty, bbox, cb, ctx, err);
    }
    struct data_query q;
    memset(&q, 0, sizeof q);
    q.coll = c;
    q.has_bbox = 1, q.bbox_loose = 1;
    memcpy(q.bbox, bbox, sizeof q.bbox);
    q.has_asof = 1, q.asof = asof;
    if ((rc = db_cached(db, pic_sql[c], &st, err))) return rc;
    bind_query(st, vparty, &q);
    return pic_run(db, st, cb, ctx, err);
}

static fm_rc pic_conflicts_box(struct data_db *db, const double bbox[4], const char *vparty,
                              data_pic_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(
        db,
        "SELECT c.id, NULL, c.state, c.kind, " CONFLICT_TITLE_SQL ", NULL, c.severity, NULL,"
        " AsBinary(c.geom), c.a_id, c.b_id"
        " FROM idx_conflicts_geom AS r CROSS JOIN conflicts AS c ON c.id = r.pkid"
        " WHERE r.xmin <= :maxx AND r.xmax >= :minx AND r.ymin <= :maxy AND r.ymax >= :miny"
        " AND c.state = 'open' AND " CONFLICT_VISIBLE_SQL " ORDER BY c.id",
        &st, err);
    if (rc) return rc;
    return pic_run_box(db, st, vparty, bbox, cb, ctx, err);
}

void sqlite_query_ops(struct store_ops *o)
{
    o->items_query = items_query;
    o->items_extent = items_extent;
    o->conflicts_extent = conflicts_extent;
    o->pic_items_box = pic_items_box;
    o->pic_conflicts_box = pic_conflicts_box;
}
