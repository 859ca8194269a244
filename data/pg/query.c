/* query.c - the store's queries on PostgreSQL/PostGIS (store.h), as
 * data/sqlite/query.c: items by bbox (the GiST index, then the exact
 * intersection), validity time, status, party, type, geometry family and
 * a compiled CQL2 filter (written in PostgreSQL's dialect with PostGIS by
 * data/sqlfilter.c), now or as of a past time, paged in id order or by a
 * sort; extents; the rows of pictures. Text is compared and sorted in
 * byte order (COLLATE "C"), as SQLite's BINARY, whatever the database's
 * collation. */
#include "pgint.h"
#include "sqlfilter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the dialect of filters and sorts (sqlfilter.h) ------------------------ */

/* a property of the Feature's text: NULL unless of the JSON type */
#define PG_JNUM(name)                                                                              \
    "(CASE WHEN jsonb_typeof(v.feature::jsonb #> '{properties," name "}') = 'number'"             \
    " THEN (v.feature::jsonb #>> '{properties," name "}')::float8 END)"
#define PG_JTEXT(name) "(v.feature::jsonb #>> '{properties," name "}')"
/* occurred_at, written by the server as 2026-01-02T03:04:05Z, in seconds */
#define PG_JTIME(name)                                                                             \
    "(CASE WHEN " PG_JTEXT(name) " ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'"  \
    " THEN floor(extract(epoch FROM " PG_JTEXT(name) "::timestamptz))::bigint END)"

static void pq_param(struct sqlf *w, int k, char *out, size_t n)
{
    char kind = w->values[k].kind;
    snprintf(out, n, "$%d::%s", w->first + k,
             kind == 'i' ? "bigint" : kind == 'd' ? "float8" : "text");
}

/* CQL2 LIKE as PostgreSQL's LIKE pattern (malloc'd), escape \: as
 * SQLite's (GLOB for LIKE: a \ last is itself; LIKE for ILIKE: ASCII
 * letters folded, a \ last matches nothing, *none set). */
static char *like_pattern(const char *in, int ci, int *none)
{
    char *out = malloc(strlen(in) * 2 + 1), *o = out;
    if (!out) return NULL;
    *none = 0;
    for (const char *c = in; *c; c++) {
        char one = *c;
        if (*c == '\\') {
            if (c[1]) {
                one = *++c;
            } else if (ci) {
                *none = 1;
                break;
            }
        } else if (*c == '%' || *c == '_') {
            *o++ = *c;
            continue;
        }
        if (ci && one >= 'A' && one <= 'Z') one = (char)(one - 'A' + 'a');
        if (one == '%' || one == '_' || one == '\\') *o++ = '\\';
        *o++ = one;
    }
    *o = '\0';
    return out;
}

static void pq_like(struct sqlf *w, const char *expr, const char *pattern, int neg, int ci)
{
    int none;
    char *pat = like_pattern(pattern, ci, &none);
    if (pat && none) { /* SQLite: no match (NULL stays NULL) */
        free(pat);
        sqlf_emit(w, "%s(CASE WHEN %s IS NULL THEN NULL ELSE FALSE END)", neg ? "NOT " : "", expr);
        return;
    }
    char p[32];
    sqlf_text(w, pat, 1, p, sizeof p);
    if (ci)
        sqlf_emit(w, "%stranslate(%s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
                     " LIKE %s ESCAPE '\\'",
                  neg ? "NOT " : "", expr, p);
    else
        sqlf_emit(w, "%s%s LIKE %s ESCAPE '\\'", neg ? "NOT " : "", expr, p);
}

static void pq_spatial(struct sqlf *w, int op, const char *expr, const struct data_fnode *g)
{
    char geom[200];
    if (g->kind == DATA_F_BBOX) {
        char v[4][32];
        for (int k = 0; k < 4; k++) sqlf_dbl(w, g->d[k], v[k], sizeof v[k]);
        snprintf(geom, sizeof geom, "ST_MakeEnvelope(%s, %s, %s, %s, 4326)", v[0], v[1], v[2],
                 v[3]);
    } else {
        char v[32];
        sqlf_text(w, g->t, 0, v, sizeof v);
        snprintf(geom, sizeof geom, "ST_GeomFromText(%s, 4326)", v);
    }
    /* ST_Intersects and ST_Within use the GiST index themselves */
    sqlf_emit(w, "%s(%s, %s)",
              op == DATA_S_DISJOINT ? "ST_Disjoint" : op == DATA_S_WITHIN ? "ST_Within"
                                                                          : "ST_Intersects",
              expr, geom);
}

const struct sqlf_dialect pg_sqlf_dialect = {
    .yes = "TRUE",
    .no = "FALSE",
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
            [DATA_FIELD_CATEGORY] = PG_JTEXT("category"),
            [DATA_FIELD_SEVERITY] = PG_JNUM("severity"),
            [DATA_FIELD_OCCURRED_AT] = PG_JTIME("occurred_at"),
            [DATA_FIELD_CORRIDOR_WIDTH] = PG_JNUM("corridor_width_m"),
        },
    .bytes_order = " COLLATE \"C\"",
    .param = pq_param,
    .like = pq_like,
    .spatial = pq_spatial,
};

/* ---- items ----------------------------------------------------------------- */

/* The WHERE clause of a query over item_versions v and its parameters,
 * $1 onwards, in order; a filter's after the query's own. */
#define WHERE_PARAMS (PARAMS_MAX + SQLF_MAX_VALUES)
struct where {
    char sql[2048];
    size_t len;
    const char *vals[WHERE_PARAMS];
    char space[WHERE_PARAMS][40]; /* the numbers' texts */
    int n, nspace;
};

/* Appends " AND " clause (the first without), where "$?" stands for the
 * next parameter, given as text. */
static void add(struct where *w, const char *clause, ...)
{
    if (w->len) w->len += (size_t)snprintf(w->sql + w->len, sizeof w->sql - w->len, " AND ");
    va_list ap;
    va_start(ap, clause);
    for (const char *c = clause; *c && w->len < sizeof w->sql - 8; c++) {
        if (c[0] == '$' && c[1] == '?') {
            const char *v = va_arg(ap, const char *);
            w->vals[w->n] = v;
            w->len += (size_t)snprintf(w->sql + w->len, sizeof w->sql - w->len, "$%d", ++w->n);
            c++;
        } else {
            w->sql[w->len++] = *c;
            w->sql[w->len] = 0;
        }
    }
    va_end(ap);
}

static const char *num(struct where *w, double v)
{
    char *s = w->space[w->nspace++ % WHERE_PARAMS];
    snprintf(s, sizeof w->space[0], "%.17g", v);
    return s;
}

static const char *i64(struct where *w, int64_t v)
{
    char *s = w->space[w->nspace++ % WHERE_PARAMS];
    snprintf(s, sizeof w->space[0], "%lld", (long long)v);
    return s;
}

static const char *const family[] = PG_GEOM_FAMILY("v.geom");

static fm_rc build_where(const struct data_query *q, const char *vparty, struct where *w,
                         struct fm_err *err)
{
    memset(w, 0, sizeof *w);
    add(w, "v.collection = $?", data_coll_name(q->coll));
    if (q->has_asof)
        add(w, "v.sys_from <= $?::bigint AND (v.sys_to IS NULL OR v.sys_to > $?::bigint)",
            i64(w, q->asof), i64(w, q->asof));
    else
        add(w, "v.sys_to IS NULL");
    add(w, "(NOT v.owner_only OR v.party = $?)", vparty); /* vis_may_see, in SQL */
    if (q->status)
        add(w, "v.status = $?", q->status);
    else
        add(w, "v.status <> 'withdrawn'");
    if (q->party) add(w, "v.party = $?", q->party);
    if (q->type) add(w, "v.type = $?", q->type);
    if (q->has_time)
        add(w, "(v.valid_from IS NULL OR v.valid_from <= $?::bigint)"
               " AND (v.valid_to IS NULL OR v.valid_to >= $?::bigint)",
            i64(w, q->t1), i64(w, q->t0));
    if (q->has_bbox) {
        add(w, "v.geom && ST_MakeEnvelope($?::float8, $?::float8, $?::float8, $?::float8, 4326)",
            num(w, q->bbox[0]), num(w, q->bbox[1]), num(w, q->bbox[2]), num(w, q->bbox[3]));
        if (!q->bbox_loose)
            add(w, "ST_Intersects(v.geom, ST_MakeEnvelope($?::float8, $?::float8, $?::float8,"
                   " $?::float8, 4326))",
                num(w, q->bbox[0]), num(w, q->bbox[1]), num(w, q->bbox[2]), num(w, q->bbox[3]));
    }
    if (q->geom > DATA_GEOM_ANY && q->geom <= DATA_GEOM_AREAS) add(w, family[q->geom]);
    if (w->len >= sizeof w->sql - 8)
        return fm_fail(err, FM_EINTERNAL, NULL, "query: the clause is too long");
    return FM_OK;
}

/* Runs sql with w's parameters. */
static fm_rc run_where(struct data_db *db, PGresult **r, const char *what, const char *sql,
                       const struct where *w, struct fm_err *err)
{
    *r = PQexecParams(CONN(db), sql, w->n, NULL, w->vals, NULL, NULL, 0);
    ExecStatusType s = *r ? PQresultStatus(*r) : PGRES_FATAL_ERROR;
    if (s == PGRES_TUPLES_OK) return FM_OK;
    fm_rc rc = pg_fail(db, *r, what, err);
    PQclear(*r);
    *r = NULL;
    return rc;
}

/* The filter's values after w's own parameters. */
static void where_filter_values(struct where *w, const struct sqlf *f)
{
    for (int i = 0; i < f->nvalues && w->n < WHERE_PARAMS; i++) {
        const struct sqlf_value *v = &f->values[i];
        w->vals[w->n++] = v->kind == 'i' ? i64(w, v->i) : v->kind == 'd' ? num(w, v->d) : v->t;
    }
}

static fm_rc items_query(struct data_db *db, const struct data_query *q, const char *vparty,
                         data_item_cb cb, void *ctx, long *matched, struct fm_err *err)
{
    if (matched) *matched = 0;
    struct where w;
    fm_rc rc = build_where(q, vparty, &w, err);
    if (rc) return rc;
    /* the filter ($n after the query's own) and the sort, in PostgreSQL's dialect */
    struct sqlf f, order, sql;
    sqlf_init(&f, &pg_sqlf_dialect, w.n + 1);
    sqlf_init(&order, &pg_sqlf_dialect, 0);
    sqlf_init(&sql, &pg_sqlf_dialect, 0);
    PGresult *r = NULL;
    sqlf_emit(&f, "%s", q->filter ? " AND " : "");
    sqlf_emit(&order, "%s", "");
    if ((q->filter && (rc = sqlf_filter(&f, q->filter, err))) ||
        (q->sort && (rc = sqlf_sort(&order, q->sort, err))))
        goto out;
    if (f.nvalues > WHERE_PARAMS - w.n) {
        rc = fm_fail(err, FM_EINVAL, "filter", "the filter has too many values");
        goto out;
    }
    where_filter_values(&w, &f);
    if (matched) {
        sqlf_emit(&sql, "SELECT count(*) FROM item_versions v WHERE %s%s", w.sql, f.sql);
        if (sql.failed) {
            rc = fm_fail(err, FM_EINTERNAL, NULL, "out of memory");
            goto out;
        }
        if ((rc = run_where(db, &r, "count items", sql.sql, &w, err))) goto out;
        *matched = (long)pg_col_i(r, 0, 0);
        PQclear(r);
        r = NULL;
    }
    if (!cb) goto out;
    sql.len = 0;
    sqlf_emit(&sql,
              "SELECT v.item_id, v.version, v.party, v.status, v.type, v.feature, %s"
              " FROM item_versions v WHERE %s%s ORDER BY %sv.item_id LIMIT %ld OFFSET %ld",
              q->want_wkb ? "ST_AsBinary(v.geom, 'NDR')" : "NULL", w.sql, f.sql, order.sql,
              q->limit, q->offset);
    if (sql.failed) {
        rc = fm_fail(err, FM_EINTERNAL, NULL, "out of memory");
        goto out;
    }
    if ((rc = run_where(db, &r, "query items", sql.sql, &w, err))) goto out;
    for (int i = 0; i < PQntuples(r); i++) {
        size_t wkb_len = 0;
        unsigned char *wkb = NULL;
        if (q->want_wkb && !PQgetisnull(r, i, 6))
            wkb = PQunescapeBytea((const unsigned char *)pg_col_s(r, i, 6), &wkb_len);
        struct data_item_row row = {
            .id = pg_col_i(r, i, 0),
            .version = pg_col_i(r, i, 1),
            .coll = q->coll,
            .party = pg_col_s(r, i, 2),
            .status = pg_col_s(r, i, 3),
            .type = pg_col_s(r, i, 4),
            .feature = pg_col_s(r, i, 5),
            .wkb = wkb,
            .wkb_len = wkb_len,
        };
        int stop = cb(ctx, &row);
        PQfreemem(wkb);
        if (stop) break;
    }
    PQclear(r);
out:
    sqlf_free(&f);
    sqlf_free(&order);
    sqlf_free(&sql);
    return rc;
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
    fm_rc rc = build_where(&q, vparty, &w, err);
    if (rc) return rc;
    char sql[4096];
    snprintf(sql, sizeof sql,
             "SELECT count(*), min(ST_XMin(v.geom)), min(ST_YMin(v.geom)), max(ST_XMax(v.geom)),"
             " max(ST_YMax(v.geom)), count(v.valid_from), min(v.valid_from), count(v.valid_to),"
             " max(v.valid_to) FROM item_versions v WHERE %s",
             w.sql);
    PGresult *r;
    if ((rc = run_where(db, &r, "extent of items", sql, &w, err))) return rc;
    out->count = (long)pg_col_i(r, 0, 0);
    if (out->count) {
        for (int i = 0; i < 4; i++) out->bbox[i] = pg_col_d(r, 0, 1 + i);
        out->has_t0 = pg_col_i(r, 0, 5) == out->count;
        out->t0 = pg_col_i(r, 0, 6);
        out->has_t1 = pg_col_i(r, 0, 7) == out->count;
        out->t1 = pg_col_i(r, 0, 8);
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc conflicts_extent(struct data_db *db, enum data_geom g, const char *vparty,
                              struct data_extent *out, struct fm_err *err)
{
    static const char *const cfamily[] = PG_GEOM_FAMILY("c.geom");
    memset(out, 0, sizeof *out);
    if ((unsigned)g > DATA_GEOM_AREAS)
        return fm_fail(err, FM_EINVAL, NULL, "no such geometry family");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(*), min(ST_XMin(c.geom)), min(ST_YMin(c.geom)), max(ST_XMax(c.geom)),"
             " max(ST_YMax(c.geom)), count(c.t_from), min(c.t_from), count(c.t_to), max(c.t_to)"
             " FROM conflicts c WHERE (c.vis_party IS NULL OR c.vis_party = $1)"
             " AND c.geom IS NOT NULL AND %s",
             cfamily[g]);
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "extent of conflicts", err, sql, 1, vparty);
    if (rc) return rc;
    out->count = pg_col_i(r, 0, 0);
    if (out->count) {
        for (int i = 0; i < 4; i++) out->bbox[i] = pg_col_d(r, 0, 1 + i);
        out->has_t0 = pg_col_i(r, 0, 5) == out->count;
        out->t0 = pg_col_i(r, 0, 6);
        out->has_t1 = pg_col_i(r, 0, 7) == out->count;
        out->t1 = pg_col_i(r, 0, 8);
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc pic_items_box(struct data_db *db, enum data_coll c, const double bbox[4],
                           int has_asof, fm_time asof, const char *vparty, data_pic_cb cb,
                           void *ctx, struct fm_err *err)
{
    /* now: the rows of pic_items (the box widened by half the corridor)
     * that meet bbox; the past: every version, as SQLite's */
    struct data_query q;
    memset(&q, 0, sizeof q);
    q.coll = c;
    q.has_asof = has_asof != 0, q.asof = asof;
    q.has_bbox = 1, q.bbox_loose = 1;
    memcpy(q.bbox, bbox, sizeof q.bbox);
    struct where w;
    fm_rc rc = build_where(&q, vparty, &w, err);
    if (rc) return rc;
    if (!has_asof) { /* the widened box, as the picture's R*Trees on SQLite */
        w.len = 0, w.n = 0, w.nspace = 0;
        add(&w, "v.collection = $? AND v.sys_to IS NULL AND v.status <> 'withdrawn'"
                " AND (v.status <> 'draft' OR v.party = $?)",
            data_coll_name(c), vparty);
        add(&w, "ST_Expand(v.geom, " PG_PIC_HALF_LON ", " PG_PIC_HALF_LAT ")"
                " && ST_MakeEnvelope($?::float8, $?::float8, $?::float8, $?::float8, 4326)",
            num(&w, bbox[0]), num(&w, bbox[1]), num(&w, bbox[2]), num(&w, bbox[3]));
    }
    char sql[4096];
    snprintf(sql, sizeof sql,
             "SELECT v.item_id, v.party, v.status, v.type, v.title, " PG_PIC_STYLE ","
             " ST_AsBinary(v.geom, 'NDR') FROM item_versions v WHERE %s ORDER BY v.item_id",
             w.sql);
    PGresult *r;
    if ((rc = run_where(db, &r, "picture query", sql, &w, err))) return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        struct data_pic_row row;
        if (!pg_pic_row(r, i, &row)) continue;
        int stop = cb(ctx, &row);
        PQfreemem((void *)row.wkb);
        if (stop) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc pic_conflicts_box(struct data_db *db, const double bbox[4], const char *vparty,
                               data_pic_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "picture conflicts", err,
                      PG_CONFLICT_PIC " AND (c.vis_party IS NULL OR c.vis_party = $1)"
                      " AND c.geom && ST_MakeEnvelope($2::float8, $3::float8, $4::float8,"
                      " $5::float8, 4326) ORDER BY c.id",
                      5, vparty, DBL(bbox[0]), DBL(bbox[1]), DBL(bbox[2]), DBL(bbox[3]));
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        struct data_pic_row row;
        if (!pg_pic_row(r, i, &row)) continue;
        row.a_id = pg_col_i(r, i, 13);
        row.b_id = pg_col_i(r, i, 14);
        int stop = cb(ctx, &row);
        PQfreemem((void *)row.wkb);
        if (stop) break;
    }
    PQclear(r);
    return FM_OK;
}

void pg_query_ops(struct store_ops *ops)
{
    ops->items_query = items_query;
    ops->items_extent = items_extent;
    ops->conflicts_extent = conflicts_extent;
    ops->pic_items_box = pic_items_box;
    ops->pic_conflicts_box = pic_conflicts_box;
}
