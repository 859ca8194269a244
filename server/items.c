/* items.c - the items endpoints of OGC API - Features (Part 1 reads,
 * Part 4 writes): query parameters checked strictly, paging links,
 * ETag/If-Match versions. */
#include "cql2.h"
#include "ogc_crs.h"
#include "params.h"
#include "srv.h"
#include "views.h"

#include <microhttpd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEOJSON "application/geo+json"

static const char *const item_params[] = {"bbox",   "bbox-crs",   "datetime",   "limit",
                                          "offset", "status",     "party",      "type",
                                          "t",      "f",          "filter",     "filter-lang",
                                          "filter-crs", "sortby", "properties", "crs", NULL};

/* What a query keeps besides struct data_query: the compiled filter, the
 * sort, and the properties to return. */
struct extra {
    struct data_filter filter;
    struct data_sort sort;
    char props[512]; /* "a,b,c" as sent, checked */
    enum srv_crs crs; /* of the answer's geometries (Part 2) */
    enum srv_crs filter_crs; /* of the filter's geometry literals */
};

static fm_rc short_arg(struct req *r, const char *name, const char **out, struct fm_err *err)
{
    *out = srv_arg(r, name);
    if (*out && (strlen(*out) == 0 || strlen(*out) > 64))
        return fm_fail(err, FM_EINVAL, name, "%s must be 1 to 64 characters", name);
    return FM_OK;
}

static int filter_xy(void *ctx, double *x, double *y)
{
    return srv_crs_to_crs84(*(const enum srv_crs *)ctx, x, y);
}

/* filter (CQL2 text; GDAL 3.6 says cql-text), sortby and properties. */
static fm_rc parse_part3(struct req *r, enum data_coll c, struct data_query *q, struct extra *x,
                         struct fm_err *err)
{
    const char *s;
    fm_rc rc;
    int json = 0;
    if ((s = srv_arg(r, "filter-lang")) && !(json = !strcmp(s, "cql2-json")) &&
        strcmp(s, "cql2-text") != 0 && strcmp(s, "cql-text") != 0)
        return fm_fail(err, FM_EINVAL, "filter-lang", "filter-lang is cql2-text or cql2-json");
    /* filter-crs: the CRS of the filter's geometry literals (Part 2) */
    if ((s = srv_arg(r, "filter-crs")) && (rc = srv_crs_parse(s, "filter-crs", &x->filter_crs, err)))
        return rc;
    if ((s = srv_arg(r, "filter"))) {
        struct cql2_crs crs = {filter_xy, &x->filter_crs};
        if ((rc = cql2_compile_crs(s, json, x->filter_crs == SRV_CRS84 ? NULL : &crs,
                                   data_queryables(c), &x->filter, err)))
            return rc;
        q->filter = &x->filter;
    }
    if ((s = srv_arg(r, "sortby"))) {
        if ((rc = cql2_sortby(s, data_queryables(c), &x->sort, err))) return rc;
        q->sort = &x->sort;
    }
    if ((s = srv_arg(r, "crs")) && (rc = srv_crs_parse(s, "crs", &x->crs, err))) return rc;
    if ((s = srv_arg(r, "properties"))) {
        size_t n = strlen(s);
        int names = 1;
        for (const char *ch = s; *ch; ch++) {
            names += *ch == ',';
            if (!(*ch == ',' || *ch == '_' || (*ch >= 'a' && *ch <= 'z') ||
                  (*ch >= 'A' && *ch <= 'Z') || (*ch >= '0' && *ch <= '9')))
                return fm_fail(err, FM_EINVAL, "properties",
                               "properties is a comma-separated list of property names");
        }
        if (n == 0 || n >= sizeof x->props || names > 32 || s[0] == ',' || s[n - 1] == ',' ||
            strstr(s, ",,"))
            return fm_fail(err, FM_EINVAL, "properties",
                           "properties is 1 to 32 comma-separated names, %zu bytes at most",
                           sizeof x->props - 1);
        memcpy(x->props, s, n + 1);
    }
    return FM_OK;
}

static fm_rc parse_query(struct req *r, enum data_coll c, struct data_query *q, struct fm_err *err)
{
    memset(q, 0, sizeof *q);
    q->coll = c;
    q->limit = 100;
    char unknown[64];
    if (srv_unknown_arg(r, item_params, unknown, sizeof unknown))
        return fm_fail(err, FM_EINVAL, unknown,
                       "unknown query parameter %s; this endpoint takes bbox, bbox-crs, datetime,"
                       " limit, offset, status, party, type, t, f, filter, filter-lang,"
                       " filter-crs, sortby, properties and crs",
                       unknown);
    const char *s;
    fm_rc rc;
    if ((s = srv_arg(r, "f")) && strcmp(s, "json") != 0 && strcmp(s, "geojson") != 0 &&
        !srv_export_format(s))
        return fm_fail(err, FM_EINVAL, "f", "f must be json, geojson, kml, gpx, gpkg, shp or csv");
    enum srv_crs bbox_crs = SRV_CRS84;
    if ((s = srv_arg(r, "bbox-crs")) && (rc = srv_crs_parse(s, "bbox-crs", &bbox_crs, err)))
        return rc;
    if ((s = srv_arg(r, "limit"))) {
        if (fm_parse_long(s, 1, INT32_MAX, &q->limit))
            return fm_fail(err, FM_EINVAL, "limit", "limit must be a whole number from 1 to 10000");
        if (q->limit > 10000) q->limit = 10000; /* OGC: clamp, do not fail */
    }
    if ((s = srv_arg(r, "offset")) && fm_parse_long(s, 0, INT32_MAX, &q->offset))
        return fm_fail(err, FM_EINVAL, "offset", "offset must be a whole number from 0");
    if ((s = srv_arg(r, "bbox"))) {
        if ((rc = bbox_crs == SRV_CRS84 ? srv_parse_bbox(s, q->bbox, err)
                                        : srv_crs_bbox(s, bbox_crs, q->bbox, err)))
            return rc;
        q->has_bbox = 1;
    }
    if ((s = srv_arg(r, "datetime"))) {
        if ((rc = srv_parse_datetime(s, &q->t0, &q->t1, err))) return rc;
        q->has_time = 1;
    }
    if ((s = srv_arg(r, "t"))) {
        if (fm_time_parse(s, &q->asof))
            return fm_fail(err, FM_EINVAL, "t", "t must be an RFC 3339 date-time");
        q->has_asof = 1;
    }
    if ((rc = short_arg(r, "status", &q->status, err)) ||
        (rc = short_arg(r, "party", &q->party, err)) || (rc = short_arg(r, "type", &q->type, err)))
        return rc;
    if (q->status) {
        int ok = 0;
        for (const char *const *st = data_coll_statuses(c); *st; st++) ok |= !strcmp(*st, q->status);
        if (!ok) return fm_fail(err, FM_EINVAL, "status", "no %s has status %s",
                                data_coll_name(c), q->status);
    }
    return FM_OK;
}

/* A page is read first (its rows kept), then the overdue marks of its
 * items only (one query), then written: the marks cost what the page
 * does, not what every overdue item of the collection does. */
struct page_row {
    int64_t id, version;
    char *feature;
};

struct page_ctx {
    struct srv_page *pg;
    const char *props; /* NULL: every property */
    enum srv_crs crs;
    struct page_row *rows;
    size_t n, cap, bytes;
    const struct data_overdue *overdue; /* the page's overdue versions, by item */
    size_t noverdue;
};

/* When version `version` of item id is overdue, *at; else 0. */
static int overdue_at(const struct page_ctx *pc, int64_t id, int64_t version, fm_time *at)
{
    size_t lo = 0, hi = pc->noverdue;
    while (lo < hi) { /* by item (the store's order); one current version each */
        size_t mid = lo + (hi - lo) / 2;
        if (pc->overdue[mid].item < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < pc->noverdue && pc->overdue[lo].item == id; lo++)
        if (pc->overdue[lo].version == version) {
            *at = pc->overdue[lo].at;
            return 1;
        }
    return 0;
}

/* Keeps only the properties named in list ("a,b,c") of feature f. */
static void keep_properties(json_t *f, const char *list)
{
    json_t *props = json_object_get(f, "properties");
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(props, tmp, key, v) {
        size_t kl = strlen(key);
        int keep = 0;
        for (const char *c = list; *c && !keep;) {
            const char *e = strchr(c, ',');
            size_t l = e ? (size_t)(e - c) : strlen(c);
            keep = l == kl && !strncmp(c, key, l);
            c += l + (e != NULL);
        }
        if (!keep) json_object_del(props, key);
    }
}

/* Writes one kept row into the page; nonzero (stop) once it is full. */
static int emit_feature(struct page_ctx *pc, const struct page_row *row)
{
    fm_time late;
    int overdue = overdue_at(pc, row->id, row->version, &late);
    if (!pc->props && pc->crs == SRV_CRS84 && !overdue) return srv_page_add(pc->pg, row->feature);
    json_t *f = json_loads(row->feature, 0, NULL);
    if (!f) return 1; /* never the untransformed text under another CRS's name */
    if (overdue) { /* a mark without a new version (rules.c), as GET of one item */
        char at[FM_TIME_STAMP_LEN];
        fm_time_format(late, at);
        json_t *props = json_object_get(f, "properties");
        json_object_set_new(props, "overdue", json_true());
        json_object_set_new(props, "overdue_at", json_string(at));
    }
    if (pc->props) keep_properties(f, pc->props);
    srv_crs_feature(f, pc->crs);
    /* 17 digits keep CRS84's doubles exact; 15 print a projected
     * millimetre without the binary tail (3907314.127, not ...1270000001) */
    char *text = json_dumps(f, JSON_COMPACT | JSON_REAL_PRECISION(pc->crs == SRV_CRS84 ? 17 : 15));
    json_decref(f);
    int stop = text ? srv_page_add(pc->pg, text) : 1;
    free(text);
    return stop;
}

#define MAX_KEPT_BYTES ((size_t)512 << 20) /* as a page (pages.c) */

/* Keeps one row of the query; nonzero (stop) past the page's bound. */
static int keep_feature(void *ctx, const struct data_item_row *row)
{
    struct page_ctx *pc = ctx;
    size_t len = strlen(row->feature);
    if (pc->bytes + len > MAX_KEPT_BYTES) {
        pc->pg->too_big = 1;
        return 1;
    }
    if (pc->n == pc->cap) {
        pc->cap = pc->cap ? 2 * pc->cap : 64;
        pc->rows = fm_xrealloc(pc->rows, pc->cap * sizeof *pc->rows);
    }
    pc->rows[pc->n++] = (struct page_row){row->id, row->version, fm_xstrdup(row->feature)};
    pc->bytes += len;
    return 0;
}

/* The page's overdue marks (none as of a past time: t=), then its text. */
static fm_rc page_write(struct req *r, enum data_coll c, int asof, struct page_ctx *pc,
                        struct fm_err *err)
{
    struct data_overdue *od = NULL;
    fm_rc rc = FM_OK;
    if (!asof && pc->n) {
        int64_t *ids = fm_xmalloc(pc->n * sizeof *ids);
        for (size_t i = 0; i < pc->n; i++) ids[i] = pc->rows[i].id;
        rc = data_overdue_of(r->db, c, ids, pc->n, &od, &pc->noverdue, err);
        free(ids);
    }
    pc->overdue = od;
    for (size_t i = 0; i < pc->n && !rc && !pc->pg->too_big; i++)
        if (emit_feature(pc, &pc->rows[i])) break;
    free(od);
    pc->overdue = NULL;
    return rc;
}

static void page_rows_free(struct page_ctx *pc)
{
    for (size_t i = 0; i < pc->n; i++) free(pc->rows[i].feature);
    free(pc->rows);
}

/* The collection a write names: a view is read only. */
static int collection_of(struct req *r, const char *name, enum data_coll *c)
{
    if (data_coll_parse(name, c) == FM_OK) return 1;
    const struct srv_coll *k = srv_coll_find(name);
    if (k && !k->conflicts) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s is a read-only view of one geometry type; write to"
                 " /collections/%s", name, data_coll_name(k->coll));
        srv_add_header(r, "Allow", "GET");
        srv_problem_status(r, 405, msg, NULL);
        return 0;
    }
    srv_problem_status(r, 404, "no such collection; there are zones, incidents and movements",
                       NULL);
    return 0;
}

/* Part 2: the CRS of the geometries, as <URI> */
static void content_crs(struct req *r, enum srv_crs c)
{
    char v[96];
    snprintf(v, sizeof v, "<%s>", srv_crs_uri(c));
    srv_add_header(r, "Content-Crs", v);
}

int h_items_get(struct req *r, const char *const *p, int n)
{
    (void)n;
    const struct srv_coll *k = srv_coll_find(p[1]);
    if (!k) return srv_problem_status(r, 404, "no such collection", NULL);
    char path[96];
    snprintf(path, sizeof path, "/collections/%s/items", k->id);
    if (k->conflicts) return srv_conflicts_items(r, k->geom, path);
    enum data_coll c = k->coll;
    struct fm_err err;
    struct data_query q;
    struct extra *x = fm_xcalloc(1, sizeof *x);
    fm_rc rc = parse_query(r, c, &q, &err);
    if (!rc) rc = parse_part3(r, c, &q, x, &err);
    if (rc) {
        free(x);
        return srv_problem(r, rc, &err);
    }
    q.geom = k->geom;
    if (srv_export_format(srv_arg(r, "f")) && x->props[0]) {
        free(x);
        return srv_problem(r, fm_fail(&err, FM_EINVAL, "properties",
                                      "properties applies to f=json; exports carry every property"),
                           &err);
    }
    if (srv_export_format(srv_arg(r, "f"))) {
        /* crs: the file's CRS (data_export_srs refuses it for KML and GPX) */
        int ret = srv_items_export(r, c, &q, srv_arg(r, "f"), (int)x->crs);
        free(x);
        return ret;
    }

    struct srv_page pg;
    srv_page_init(&pg);
    long matched;
    struct page_ctx pc = {.pg = &pg, .props = x->props[0] ? x->props : NULL, .crs = x->crs};
    rc = data_items_query(r->db, &r->viewer, &q, keep_feature, &pc, &matched, &err);
    if (!rc) rc = page_write(r, c, q.has_asof, &pc, &err);
    page_rows_free(&pc);
    if (rc) {
        free(x);
        srv_page_cleanup(&pg);
        return srv_problem(r, rc, &err);
    }
    content_crs(r, x->crs);
    free(x);
    return srv_reply_page(r, &pg, path, item_params, q.offset, q.limit, matched);
}

static int parse_id(struct req *r, const char *s, int64_t *id)
{
    long v;
    if (fm_parse_long(s, 1, INT64_MAX, &v) == FM_OK) {
        *id = v;
        return 1;
    }
    srv_problem_status(r, 404, "item ids are positive whole numbers", NULL);
    return 0;
}

static void set_etag(struct req *r, const json_t *feature)
{
    char etag[32];
    json_int_t v = json_integer_value(json_object_get(json_object_get(feature, "properties"),
                                                      "version"));
    snprintf(etag, sizeof etag, "\"%" JSON_INTEGER_FORMAT "\"", v);
    srv_add_header(r, MHD_HTTP_HEADER_ETAG, etag);
}

static fm_rc if_match(struct req *r, int64_t *version, struct fm_err *err)
{
    const char *h = srv_header(r, MHD_HTTP_HEADER_IF_MATCH);
    *version = 0;
    if (!h)
        return fm_fail(err, FM_ENEEDVER, "If-Match",
                       "send If-Match with the version you are changing (the item's ETag)");
    return srv_parse_etag(h, version, err);
}

int h_item_get(struct req *r, const char *const *p, int n)
{
    (void)n;
    const struct srv_coll *k = srv_coll_find(p[1]);
    int64_t id;
    if (!k) return srv_problem_status(r, 404, "no such collection", NULL);
    if (!parse_id(r, p[3], &id)) return MHD_YES;
    enum data_coll c = k->coll;
    /* one Feature takes f (json, geojson) and nothing else: a filter here
     * would be ignored, so it is refused rather than silently dropped */
    static const char *const one_params[] = {"f", "crs", NULL};
    char unknown[64];
    struct fm_err err;
    const char *fmt = srv_arg(r, "f");
    if (srv_unknown_arg(r, one_params, unknown, sizeof unknown))
        return srv_problem(r, fm_fail(&err, FM_EINVAL, unknown,
                                      "unknown query parameter %s; one item takes only f=json"
                                      " and crs",
                                      unknown),
                           &err);
    if (fmt && strcmp(fmt, "json") != 0 && strcmp(fmt, "geojson") != 0)
        return srv_problem(
            r, fm_fail(&err, FM_EINVAL, "f", "one item is sent as GeoJSON only (f=json)"), &err);
    enum srv_crs crs = SRV_CRS84;
    const char *cs = srv_arg(r, "crs");
    fm_rc rc0 = cs ? srv_crs_parse(cs, "crs", &crs, &err) : FM_OK;
    if (rc0) return srv_problem(r, rc0, &err);
    json_t *f;
    fm_rc rc = k->conflicts ? data_conflict_get(r->db, &r->viewer, id, &f, &err)
                            : data_item_get(r->db, &r->viewer, c, id, &f, &err);
    if (rc) return srv_problem(r, rc, &err);
    /* a view holds only its family: another item is not found there */
    if (k->geom != DATA_GEOM_ANY &&
        srv_geom_family(json_string_value(json_object_get(json_object_get(f, "geometry"), "type"))) !=
            k->geom) {
        json_decref(f);
        return srv_problem_status(r, 404, "no such item in this view (another geometry type)",
                                  NULL);
    }
    if (!k->conflicts) set_etag(r, f);
    srv_crs_feature(f, crs);
    /* the latest dispute and ruling, shown with the item (never stored:
     * they change without a new version, so no 304 while there are any) */
    json_t *dr = NULL;
    int decorated = 0;
    if (!k->conflicts && data_item_dispute(r->db, &r->viewer, c, id, &dr, &err) == FM_OK) {
        json_t *props = json_object_get(f, "properties");
        decorated = !json_is_null(json_object_get(dr, "dispute")) ||
                    !json_is_null(json_object_get(dr, "ruling"));
        if (decorated) json_object_update(props, dr);
        json_decref(dr);
    }
    /* overdue (rules.c): a mark that comes without a new version, too */
    json_t *od = NULL;
    if (!k->conflicts && data_item_deadline(r->db, &r->viewer, c, id, &od, &err) == FM_OK && od) {
        json_object_set(json_object_get(f, "properties"), "overdue", json_true());
        json_object_set(json_object_get(f, "properties"), "overdue_at",
                        json_object_get(od, "overdue_at"));
        json_decref(od);
        decorated = 1;
    }
    /* OGC API - Features Part 1 (/req/core/f-links): self and collection */
    char base[512], href[700];
    srv_base_url(r, base, sizeof base);
    json_t *links = json_array();
    snprintf(href, sizeof href, "%s/collections/%s/items/%" PRId64, base, p[1], id);
    json_array_append_new(links, json_pack("{s:s,s:s,s:s,s:s}", "href", href, "rel", "self",
                                           "type", "application/geo+json", "title",
                                           "this feature"));
    snprintf(href, sizeof href, "%s/collections/%s", base, p[1]);
    json_array_append_new(links, json_pack("{s:s,s:s,s:s,s:s}", "href", href, "rel",
                                           "collection", "type", "application/json", "title",
                                           "the collection"));
    json_object_set_new(f, "links", links);
    const char *inm = srv_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && !k->conflicts && !decorated && crs == SRV_CRS84 &&
        strcmp(inm, r->hdr_value[r->nhdr - 1]) == 0) {
        json_decref(f);
        return srv_reply_empty(r, 304);
    }
    content_crs(r, crs); /* after the ETag, which the check above reads as the last header */
    return srv_reply_json(r, 200, GEOJSON, f);
}

static const char *const feature_types[] = {"application/geo+json", "application/json", NULL};
static const char *const patch_types[] = {"application/merge-patch+json", "application/json",
                                          "application/geo+json", NULL};

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A create, made on a write thread (http.c: srv_writes_of) with the
 * connection suspended, and answered back on its worker. */
struct create_job {
    enum data_coll c;
    json_t *body, *created;
    fm_rc rc;
    struct fm_err err;
    int64_t t0, t_queued, t_start; /* the handler's start, the hand-over, the work's start */
    int64_t split[DATA_SPLIT_PARTS];
};

static void create_work(struct req *r, struct data_db *db, void *arg)
{
    struct create_job *j = arg;
    j->t_start = now_us();
    memset(data_split_us, 0, sizeof data_split_us);
    fm_err_clear(&j->err);
    if (!db)
        j->rc = fm_fail(&j->err, FM_EDB, NULL, "database: no connection for the write");
    else
        j->rc = data_item_create(db, &r->viewer, j->c, j->body, &srv_cfg(r)->limits,
                                 &j->created, &j->err);
    memcpy(j->split, data_split_us, sizeof j->split);
    if (db && db != r->db) { /* on a write thread: the tiles' upkeep here, with its connection */
        struct data_db *worker = r->db;
        r->db = db; /* the request is suspended: nobody else reads r meanwhile */
        srv_tiles_after_write(r);
        r->db = worker;
    }
}

/* FUSIONMAP_SPLIT=1 (tests/bench/writes_bench.sh): a create's answer says
 * where its time went, as Server-Timing in milliseconds: "pool", waiting
 * for a write thread; the parts of data_split_us; "handler", the whole
 * from h_items_post to the answer. Off by default: a client has no use
 * for it. */
static void split_header(struct req *r, const struct create_job *j)
{
    static int on = -1;
    if (on < 0) {
        const char *e = getenv("FUSIONMAP_SPLIT");
        on = e && !strcmp(e, "1");
    }
    if (!on) return;
    static const char *const names[DATA_SPLIT_PARTS] = {"geometry", "queue", "rows", "event", "conflicts",
                                                         "commit", "sync"};
    char h[400];
    size_t used = (size_t)snprintf(h, sizeof h, "pool;dur=%.3f, ",
                                   (j->t_start - j->t_queued) / 1000.0);
    for (int i = 0; i < DATA_SPLIT_PARTS; i++)
        used += (size_t)snprintf(h + used, sizeof h - used, "%s;dur=%.3f, ", names[i],
                                 j->split[i] / 1000.0);
    snprintf(h + used, sizeof h - used, "handler;dur=%.3f", (now_us() - j->t0) / 1000.0);
    srv_add_header(r, "Server-Timing", h);
}

static void create_release(void *arg)
{
    struct create_job *j = arg;
    json_decref(j->body);
    json_decref(j->created);
    free(j);
}

static int create_finish(struct req *r, void *arg)
{
    struct create_job *j = arg;
    if (j->rc) return srv_problem(r, j->rc, &j->err);
    json_t *created = j->created;
    j->created = NULL;
    split_header(r, j);
    char base[256], loc[400];
    srv_base_url(r, base, sizeof base);
    snprintf(loc, sizeof loc, "%s/collections/%s/items/%" JSON_INTEGER_FORMAT, base,
             data_coll_name(j->c), json_integer_value(json_object_get(created, "id")));
    srv_add_header(r, MHD_HTTP_HEADER_LOCATION, loc);
    set_etag(r, created);
    return srv_reply_json(r, 201, GEOJSON, created);
}

int h_items_post(struct req *r, const char *const *p, int n)
{
    (void)n;
    int64_t t0 = now_us();
    enum data_coll c;
    if (!collection_of(r, p[1], &c)) return MHD_YES;
    json_t *body = srv_body_json(r, feature_types);
    if (!body) return MHD_YES;
    struct create_job *j = fm_xcalloc(1, sizeof *j);
    j->c = c;
    j->body = body;
    j->t0 = t0;
    j->t_queued = now_us();
    return srv_defer(r, srv_writes_of(r), create_work, create_finish, create_release, j);
}

static int item_write(struct req *r, const char *const *p, int patch)
{
    enum data_coll c;
    int64_t id, version;
    if (!collection_of(r, p[1], &c) || !parse_id(r, p[3], &id)) return MHD_YES;
    struct fm_err err;
    fm_rc rc = if_match(r, &version, &err);
    if (rc) return srv_problem(r, rc, &err);
    json_t *body = srv_body_json(r, patch ? patch_types : feature_types);
    if (!body) return MHD_YES;
    json_t *updated;
    const struct data_limits *lim = &srv_cfg(r)->limits;
    rc = patch ? data_item_patch(r->db, &r->viewer, c, id, version, body, lim, &updated, &err)
               : data_item_replace(r->db, &r->viewer, c, id, version, body, lim, &updated, &err);
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    set_etag(r, updated);
    return srv_reply_json(r, 200, GEOJSON, updated);
}

int h_item_put(struct req *r, const char *const *p, int n)
{
    (void)n;
    return item_write(r, p, 0);
}

int h_item_patch(struct req *r, const char *const *p, int n)
{
    (void)n;
    return item_write(r, p, 1);
}

int h_item_delete(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    int64_t id, version;
    if (!collection_of(r, p[1], &c) || !parse_id(r, p[3], &id)) return MHD_YES;
    struct fm_err err;
    fm_rc rc = if_match(r, &version, &err);
    if (!rc) rc = data_item_withdraw(r->db, &r->viewer, c, id, version, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_empty(r, 204);
}

int h_item_history(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    int64_t id;
    if (!collection_of(r, p[1], &c) || !parse_id(r, p[3], &id)) return MHD_YES;
    struct fm_err err;
    json_t *versions;
    fm_rc rc = data_item_history(r->db, &r->viewer, c, id, &versions, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL,
                          json_pack("{s:s,s:I,s:o}", "collection", data_coll_name(c), "id",
                                    (json_int_t)id, "versions", versions));
}

int h_item_ack(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    int64_t id, version;
    if (!collection_of(r, p[1], &c) || !parse_id(r, p[3], &id)) return MHD_YES;
    struct fm_err err;
    fm_rc rc = if_match(r, &version, &err);
    if (rc) return srv_problem(r, rc, &err);
    static const char *const types[] = {"application/json", NULL};
    json_t *body = srv_body_json(r, types);
    if (!body) return MHD_YES;
    const json_t *decision = json_object_get(body, "decision");
    const json_t *comment = json_object_get(body, "comment");
    const json_t *sig = json_object_get(body, "signature");
    json_t *updated = NULL;
    struct data_signature ds = {0};
    if (!json_is_object(body))
        rc = fm_fail(&err, FM_EINVAL, "", "send {\"decision\": \"ack\"|\"dispute\", \"comment\": ...}");
    else if (comment && !json_is_string(comment) && !json_is_null(comment))
        rc = fm_fail(&err, FM_EINVAL, "/comment", "comment must be a string");
    else if (sig && !json_is_null(sig) &&
             (!json_is_object(sig) || json_object_size(sig) != 3 ||
              !json_is_string(json_object_get(sig, "key")) ||
              !json_is_integer(json_object_get(sig, "at")) ||
              !json_is_string(json_object_get(sig, "value"))))
        rc = fm_fail(&err, FM_EINVAL, "/signature",
                     "signature is {\"key\": fingerprint, \"at\": the statement's time (seconds),"
                     " \"value\": base64 Ed25519 signature} (GET .../statement gives what to sign)");
    else {
        if (sig && !json_is_null(sig)) {
            ds.key = json_string_value(json_object_get(sig, "key"));
            ds.value = json_string_value(json_object_get(sig, "value"));
            ds.at = json_integer_value(json_object_get(sig, "at"));
        }
        rc = data_item_ack_signed(r->db, &r->viewer, c, id, version, json_string_value(decision),
                                  json_string_value(comment), ds.key ? &ds : NULL, &updated,
                                  &err);
    }
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    set_etag(r, updated);
    return srv_reply_json(r, 200, GEOJSON, updated);
}

/* GET .../items/{id}/statement?version=N&decision=ack|dispute[&comment=...]:
 * the exact bytes (RFC 8785 JSON) the caller signs to answer, timed now. */
int h_item_statement(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    int64_t id;
    if (!collection_of(r, p[1], &c) || !parse_id(r, p[3], &id)) return MHD_YES;
    static const char *const known[] = {"version", "decision", "comment", NULL};
    char unknown[64];
    if (srv_unknown_arg(r, known, unknown, sizeof unknown)) {
        char detail[128];
        snprintf(detail, sizeof detail, "unknown parameter %s (version, decision, comment)",
                 unknown);
        return srv_problem_status(r, 400, detail, unknown);
    }
    long version;
    const char *vs = srv_arg(r, "version");
    if (!vs || fm_parse_long(vs, 1, INT64_MAX, &version))
        return srv_problem_status(r, 400, "version is the item's current version (its ETag)",
                                  "version");
    struct fm_err err;
    char *text;
    fm_rc rc = data_item_statement(r->db, &r->viewer, c, id, version, srv_arg(r, "decision"),
                                   srv_arg(r, "comment"), fm_time_now(), &text, &err);
    if (rc) return srv_problem(r, rc, &err);
    srv_add_header(r, "Cache-Control", "no-store");
    return srv_reply(r, 200, "application/json", text, strlen(text));
}

int h_item_acks(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    int64_t id;
    if (!collection_of(r, p[1], &c) || !parse_id(r, p[3], &id)) return MHD_YES;
    struct fm_err err;
    json_t *acks;
    json_t *rulings = NULL;
    fm_rc rc = data_item_acks(r->db, &r->viewer, c, id, &acks, &err);
    if (!rc && (rc = data_item_rulings(r->db, &r->viewer, c, id, &rulings, &err)))
        json_decref(acks);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:s,s:I,s:o,s:o}", "collection",
                                                  data_coll_name(c), "id", (json_int_t)id,
                                                  "acks", acks, "rulings", rulings));
}

int h_pending(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    json_t *items;
    const char *party = srv_arg(r, "party");
    fm_rc rc = data_pending(r->db, &r->viewer, party, &items, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:s,s:o}", "party",
                                                  party ? party : r->viewer.party, "items", items));
}

int h_disputes(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    json_t *items;
    fm_rc rc = data_disputes(r->db, &r->viewer, &items, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:o}", "items", items));
}
