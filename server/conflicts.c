/* conflicts.c - the conflicts collection over HTTP (OGC API - Features,
 * read only, plus the supervisor's resolve) and the re-check on time: a
 * thread with its own database connection that re-checks everything every
 * --conflict-recheck seconds (default 60), so that conflicts that depend
 * on time windows open and close without a write. */
#include "ogc_crs.h"
#include "params.h"
#include "srv.h"
#include "timer.h"
#include "views.h"

#include <microhttpd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEOJSON "application/geo+json"

static const char *const params[] = {"state", "bbox", "bbox-crs", "datetime", "limit", "offset",
                                     "t",     "f",    "crs",      NULL};

/* ---- metadata ----------------------------------------------------------- */

json_t *srv_conflicts_collection(const char *base)
{
    char self[320], items[320];
    snprintf(self, sizeof self, "%s/collections/conflicts", base);
    snprintf(items, sizeof items, "%s/collections/conflicts/items", base);
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:{s:{s:[[i,i,i,i]],s:s},s:{s:[[n,n]]}},s:[s],s:[{s:s,s:s,s:s},"
        "{s:s,s:s,s:s,s:s}]}",
        "id", "conflicts", "title", "Conflicts",
        "description",
        "Clashes the server found between items in space, time and altitude: a movement"
        " crossing a zone that forbids it, zones of different parties overlapping, an incident"
        " inside a zone or near a movement in progress. Read only; the geometry is where they"
        " clash.",
        "itemType", "feature", "extent", "spatial", "bbox", -180, -90, 180, 90, "crs",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "temporal", "interval", "crs",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "links", "href", self, "rel", "self",
        "type", "application/json", "href", items, "rel", "items", "type", GEOJSON, "title",
        "the conflicts");
}

/* Part 2: the conflicts in every CRS the items are offered in */
static json_t *with_crs(json_t *coll)
{
    json_object_set_new(coll, "crs", srv_crs_list());
    json_object_set_new(coll, "storageCrs", json_string(srv_crs_uri(SRV_CRS84)));
    return coll;
}

static json_t *param(const char *name, const char *in, const char *type, const char *desc)
{
    return json_pack("{s:s,s:s,s:b,s:s,s:{s:s}}", "name", name, "in", in, "required",
                     strcmp(in, "path") == 0, "description", desc, "schema", "type", type);
}

void srv_conflicts_openapi(json_t *paths)
{
    json_t *ps = json_pack(
        "[o,o,o,o,o,o,o]", param("state", "query", "string", "open or resolved"),
        param("bbox", "query", "string", "minlon,minlat,maxlon,maxlat (CRS84; see bbox-crs)"),
        param("datetime", "query", "string",
              "an RFC 3339 instant or interval (a/b, ../b, a/..): the conflicts whose clash"
              " interval meets it (an open end of the clash meets everything on its side)"),
        param("bbox-crs", "query", "string", "the CRS of bbox (Part 2), one of the collection's crs"),
        param("limit", "query", "integer", "conflicts per page (1-10000)"),
        param("offset", "query", "integer", "conflicts to skip (paging)"),
        param("crs", "query", "string", "the CRS of the answer's geometries (Part 2)"));
    json_object_set_new(
        paths, "/collections/conflicts/items",
        json_pack("{s:{s:s,s:o,s:{s:{s:s,s:{s:{}}}}}}", "get", "summary", "Conflicts",
                  "parameters", ps, "responses", "200", "description", "OK", "content", GEOJSON));
    json_object_set_new(
        paths, "/collections/conflicts/items/{featureId}",
        json_pack("{s:{s:s,s:[o,o],s:{s:{s:s,s:{s:{}}}}}}", "get", "summary", "One conflict",
                  "parameters", param("featureId", "path", "integer", "conflict id"),
                  param("crs", "query", "string", "the CRS of the geometry (Part 2)"),
                  "responses", "200", "description", "OK", "content", GEOJSON));
    json_object_set_new(
        paths, "/collections/conflicts/items/{featureId}/resolve",
        json_pack("{s:{s:s,s:[o],s:{s:{s:s,s:{s:{}}}}}}", "post", "summary",
                  "The supervisor resolves a conflict with a comment: {\"comment\": ...}",
                  "parameters", param("featureId", "path", "integer", "conflict id"),
                  "responses", "200", "description", "OK", "content", GEOJSON));
}

int h_conflicts_meta(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    char base[256];
    srv_base_url(r, base, sizeof base);
    return srv_reply_json(r, 200, NULL, with_crs(srv_conflicts_collection(base)));
}

int h_conflicts_read_only(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    srv_add_header(r, "Allow", "GET");
    return srv_problem_status(r, 405,
                              "conflicts are found by the server and read only; the supervisor"
                              " resolves one with POST /collections/conflicts/items/{id}/resolve",
                              NULL);
}

/* ---- the items ---------------------------------------------------------- */

static fm_rc parse_query(struct req *r, struct data_conflict_query *q, enum srv_crs *crs,
                         struct fm_err *err)
{
    memset(q, 0, sizeof *q);
    *crs = SRV_CRS84;
    q->limit = 100;
    char unknown[64];
    if (srv_unknown_arg(r, params, unknown, sizeof unknown))
        return fm_fail(err, FM_EINVAL, unknown,
                       "unknown query parameter %s; this endpoint takes state, bbox, bbox-crs,"
                       " datetime, limit, offset, t, f and crs",
                       unknown);
    const char *s;
    fm_rc rc;
    if ((s = srv_arg(r, "f")) && strcmp(s, "json") != 0 && strcmp(s, "geojson") != 0)
        return fm_fail(err, FM_EINVAL, "f", "f must be json or geojson");
    if ((s = srv_arg(r, "state"))) {
        if (strcmp(s, "open") != 0 && strcmp(s, "resolved") != 0)
            return fm_fail(err, FM_EINVAL, "state", "state is open or resolved");
        q->state = s;
    }
    if ((s = srv_arg(r, "crs")) && (rc = srv_crs_parse(s, "crs", crs, err))) return rc;
    enum srv_crs bbox_crs = SRV_CRS84;
    if ((s = srv_arg(r, "bbox-crs")) && (rc = srv_crs_parse(s, "bbox-crs", &bbox_crs, err)))
        return rc;
    if ((s = srv_arg(r, "bbox"))) {
        if ((rc = bbox_crs == SRV_CRS84 ? srv_parse_bbox(s, q->bbox, err)
                                        : srv_crs_bbox(s, bbox_crs, q->bbox, err)))
            return rc;
        q->has_bbox = 1;
    }
    if ((s = srv_arg(r, "limit"))) {
        if (fm_parse_long(s, 1, INT32_MAX, &q->limit))
            return fm_fail(err, FM_EINVAL, "limit", "limit is a whole number from 1 to 10000");
        if (q->limit > 10000) q->limit = 10000; /* OGC: clamp, do not fail */
    }
    if ((s = srv_arg(r, "offset")) && fm_parse_long(s, 0, INT32_MAX, &q->offset))
        return fm_fail(err, FM_EINVAL, "offset", "offset is a whole number, 0 or more");
    if ((s = srv_arg(r, "datetime"))) {
        if ((rc = srv_parse_datetime(s, &q->t0, &q->t1, err))) return rc;
        q->has_time = 1;
    }
    if ((s = srv_arg(r, "t"))) {
        if (fm_time_parse(s, &q->t))
            return fm_fail(err, FM_EINVAL, "t", "t (as of) must be an RFC 3339 date-time");
        q->has_t = 1;
    }
    return FM_OK;
}

struct page_ctx {
    struct srv_page *pg;
    enum srv_crs crs;
};

static int add_feature(void *ctx, int64_t id, const char *feature)
{
    (void)id;
    struct page_ctx *pc = ctx;
    if (pc->crs == SRV_CRS84) return srv_page_add(pc->pg, feature);
    json_t *f = json_loads(feature, 0, NULL);
    if (!f) return 1; /* never the untransformed text under another CRS's name */
    srv_crs_feature(f, pc->crs);
    /* 15 digits: a projected millimetre without the binary tail (items.c) */
    char *text = json_dumps(f, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(f);
    int stop = text ? srv_page_add(pc->pg, text) : 1;
    free(text);
    return stop;
}

/* Part 2: the CRS of the geometries, as <URI> */
static void content_crs(struct req *r, enum srv_crs c)
{
    char v[96];
    snprintf(v, sizeof v, "<%s>", srv_crs_uri(c));
    srv_add_header(r, "Content-Crs", v);
}

int h_conflicts_items(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return srv_conflicts_items(r, DATA_GEOM_ANY, "/collections/conflicts/items");
}

int srv_conflicts_items(struct req *r, enum data_geom g, const char *path)
{
    struct fm_err err;
    struct data_conflict_query q;
    enum srv_crs crs;
    fm_rc rc = parse_query(r, &q, &crs, &err);
    if (rc) return srv_problem(r, rc, &err);
    q.geom = g;
    struct srv_page pg;
    srv_page_init(&pg);
    struct page_ctx pc = {&pg, crs};
    long matched;
    rc = data_conflicts_query(r->db, &r->viewer, &q, add_feature, &pc, &matched, &err);
    if (rc) {
        srv_page_cleanup(&pg);
        return srv_problem(r, rc, &err);
    }
    content_crs(r, crs);
    return srv_reply_page(r, &pg, path, params, q.offset, q.limit, matched);
}

static int parse_id(struct req *r, const char *s, int64_t *id)
{
    long v;
    if (fm_parse_long(s, 1, INT64_MAX, &v) == FM_OK) {
        *id = v;
        return 1;
    }
    srv_problem_status(r, 404, "conflict ids are positive whole numbers", NULL);
    return 0;
}

int h_conflict_get(struct req *r, const char *const *p, int n)
{
    (void)n;
    int64_t id;
    if (!parse_id(r, p[3], &id)) return MHD_YES;
    struct fm_err err;
    static const char *const one_params[] = {"f", "crs", NULL};
    char unknown[64];
    const char *s;
    enum srv_crs crs = SRV_CRS84;
    fm_rc rc = FM_OK;
    if (srv_unknown_arg(r, one_params, unknown, sizeof unknown))
        rc = fm_fail(&err, FM_EINVAL, unknown,
                     "unknown query parameter %s; one conflict takes only f=json and crs", unknown);
    else if ((s = srv_arg(r, "f")) && strcmp(s, "json") != 0 && strcmp(s, "geojson") != 0)
        rc = fm_fail(&err, FM_EINVAL, "f", "one conflict is sent as GeoJSON only (f=json)");
    else if ((s = srv_arg(r, "crs")))
        rc = srv_crs_parse(s, "crs", &crs, &err);
    if (rc) return srv_problem(r, rc, &err);
    json_t *f;
    rc = data_conflict_get(r->db, &r->viewer, id, &f, &err);
    if (rc) return srv_problem(r, rc, &err);
    srv_crs_feature(f, crs);
    content_crs(r, crs);
    return srv_reply_json(r, 200, GEOJSON, f);
}

static const char *const json_types[] = {"application/json", NULL};

int h_conflict_resolve(struct req *r, const char *const *p, int n)
{
    (void)n;
    int64_t id;
    if (!parse_id(r, p[3], &id)) return MHD_YES;
    if (r->viewer.role != DATA_ROLE_SUPERVISOR)
        return srv_problem_status(r, 403, "only the supervisor resolves conflicts", NULL);
    json_t *body = srv_body_json(r, json_types);
    if (!body) return MHD_YES;
    struct fm_err err;
    fm_rc rc;
    json_t *out = NULL;
    const char *comment = json_string_value(json_object_get(body, "comment"));
    if (!json_is_object(body))
        rc = fm_fail(&err, FM_EINVAL, "", "the body is a JSON object {\"comment\": \"...\"}");
    else if (!comment)
        rc = fm_fail(&err, FM_EINVAL, "/comment", "a comment (a string) is required");
    else
        rc = data_conflict_resolve(r->db, &r->viewer, id, comment, &out, &err);
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, GEOJSON, out);
}

/* ---- the re-check on time ----------------------------------------------- */

#define RECHECK_NICE 10

struct srv_recheck {
    struct srv_timer *timer;
    struct data_db *db;
    struct srv_streams *streams;
    int duty; /* this server does the re-check (one of several on a database) */
};

/* The timer's turn: only the server holding the duty re-checks. */
static int recheck_turn(void *arg)
{
    struct srv_recheck *h = arg;
    int mine = data_duty_take(h->db, DATA_DUTY_RECHECK);
    if (mine != h->duty)
        fm_log(FM_LOG_INFO, mine ? "conflict re-check: this server does it"
                                 : "conflict re-check: another server does it");
    h->duty = mine;
    return mine;
}

static void recheck_pass(void *arg)
{
    struct srv_recheck *h = arg;
    struct data_recheck_stats st;
    struct fm_err err;
    fm_rc rc = data_conflicts_recheck(h->db, fm_time_now(), &st, &err);
    if (rc)
        fm_log(FM_LOG_WARN, "conflict re-check: %s", err.msg);
    else if (st.opened || st.resolved) {
        fm_log(FM_LOG_INFO, "conflict re-check: %ld opened, %ld resolved", st.opened,
               st.resolved);
        srv_streams_notify(h->streams);
    }
}

fm_rc srv_recheck_start(const struct srv_config *c, struct srv_streams *streams,
                        struct srv_recheck **out, struct fm_err *err)
{
    *out = NULL;
    /* main.c read both (options, or FM_CONFLICT_RECHECK_S and
     * FM_INCIDENT_NEAR_M behind them) */
    long interval = c->conflict_recheck_s > 0 ? c->conflict_recheck_s : 60;
    struct data_db *db;
    fm_rc rc = data_open(c->db_path, &db, err);
    if (rc) return rc;
    if (c->incident_near_m > 0 && (rc = data_conflicts_set_near(db, c->incident_near_m, err))) {
        data_close(db);
        return rc;
    }
    struct srv_recheck *h = fm_xcalloc(1, sizeof *h);
    h->db = db;
    h->streams = streams;
    /* each pass one interval after the last, the first one interval after
     * the start, not at once: every write checked its own item, and what
     * a pass finds is only what time changed meanwhile. At once, its CPU
     * (12 s over 22,000 items) went to the burst of tile requests that
     * follows a restart (issue 23: half the process's perf samples during
     * the z12 sweep after a restart) */
    struct srv_timer_spec spec = {.name = "conflict re-check",
                                  .interval_ms = interval * 1000,
                                  .first_at_once = 0,
                                  .nice = RECHECK_NICE,
                                  .pass = recheck_pass,
                                  .acquire = recheck_turn,
                                  .ctx = h};
    if ((rc = srv_timer_start(&spec, &h->timer, err))) {
        data_close(db);
        free(h);
        return rc;
    }
    *out = h;
    return FM_OK;
}

void srv_recheck_stop(struct srv_recheck *h)
{
    if (!h) return;
    srv_timer_stop(h->timer);
    data_close(h->db);
    free(h);
}
