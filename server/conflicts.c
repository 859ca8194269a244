/* conflicts.c - the conflicts collection over HTTP (OGC API - Features,
 * read only, plus the supervisor's resolve) and the re-check on time: a
 * thread with its own database connection that re-checks everything every
 * FM_CONFLICT_RECHECK_S seconds (default 60), so that conflicts that
 * depend on time windows open and close without a write. */
#include "srv.h"

#include <microhttpd.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEOJSON "application/geo+json"
#define MAX_PAGE_BYTES ((size_t)256 << 20)

static const char *const params[] = {"state", "bbox", "limit", "offset", "f", NULL};

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

static json_t *param(const char *name, const char *in, const char *type, const char *desc)
{
    return json_pack("{s:s,s:s,s:b,s:s,s:{s:s}}", "name", name, "in", in, "required",
                     strcmp(in, "path") == 0, "description", desc, "schema", "type", type);
}

void srv_conflicts_openapi(json_t *paths)
{
    json_t *ps = json_pack("[o,o,o,o]", param("state", "query", "string", "open or resolved"),
                           param("bbox", "query", "string", "minlon,minlat,maxlon,maxlat (CRS84)"),
                           param("limit", "query", "integer", "conflicts per page (1-10000)"),
                           param("offset", "query", "integer", "conflicts to skip (paging)"));
    json_object_set_new(
        paths, "/collections/conflicts/items",
        json_pack("{s:{s:s,s:o,s:{s:{s:s,s:{s:{}}}}}}", "get", "summary", "Conflicts",
                  "parameters", ps, "responses", "200", "description", "OK", "content", GEOJSON));
    json_object_set_new(
        paths, "/collections/conflicts/items/{featureId}",
        json_pack("{s:{s:s,s:[o],s:{s:{s:s,s:{s:{}}}}}}", "get", "summary", "One conflict",
                  "parameters", param("featureId", "path", "integer", "conflict id"),
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
    return srv_reply_json(r, 200, NULL, srv_conflicts_collection(base));
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

struct unknown_arg {
    char name[64];
    int found;
};

static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind, (void)value;
    struct unknown_arg *u = cls;
    for (const char *const *k = params; *k; k++)
        if (strcmp(*k, key) == 0) return MHD_YES;
    snprintf(u->name, sizeof u->name, "%s", key);
    u->found = 1;
    return MHD_NO;
}

static fm_rc parse_bbox(const char *s, double out[4], struct fm_err *err)
{
    char buf[256];
    if (strlen(s) >= sizeof buf) return fm_fail(err, FM_EINVAL, "bbox", "bbox is too long");
    snprintf(buf, sizeof buf, "%s", s);
    double v[4];
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == 4 || fm_parse_double(tok, &v[n])) {
            n = -1;
            break;
        }
        n++;
    }
    if (n != 4)
        return fm_fail(err, FM_EINVAL, "bbox",
                       "bbox is 4 comma-separated numbers: minlon,minlat,maxlon,maxlat");
    if (v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[0] > v[2] || v[1] > v[3])
        return fm_fail(err, FM_EINVAL, "bbox",
                       "bbox must lie in -180..180, -90..90 with its minimum below its maximum");
    memcpy(out, v, sizeof v);
    return FM_OK;
}

static fm_rc parse_query(struct req *r, struct data_conflict_query *q, struct fm_err *err)
{
    memset(q, 0, sizeof *q);
    q->limit = 100;
    struct unknown_arg u = {"", 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &u);
    if (u.found)
        return fm_fail(err, FM_EINVAL, u.name,
                       "unknown query parameter %s; this endpoint takes state, bbox, limit,"
                       " offset and f",
                       u.name);
    const char *s;
    fm_rc rc;
    if ((s = srv_arg(r, "f")) && strcmp(s, "json") != 0 && strcmp(s, "geojson") != 0)
        return fm_fail(err, FM_EINVAL, "f", "f must be json or geojson");
    if ((s = srv_arg(r, "state"))) {
        if (strcmp(s, "open") != 0 && strcmp(s, "resolved") != 0)
            return fm_fail(err, FM_EINVAL, "state", "state is open or resolved");
        q->state = s;
    }
    if ((s = srv_arg(r, "bbox"))) {
        if ((rc = parse_bbox(s, q->bbox, err))) return rc;
        q->has_bbox = 1;
    }
    if ((s = srv_arg(r, "limit")) && fm_parse_long(s, 1, 10000, &q->limit))
        return fm_fail(err, FM_EINVAL, "limit", "limit is a whole number from 1 to 10000");
    if ((s = srv_arg(r, "offset")) && fm_parse_long(s, 0, INT32_MAX, &q->offset))
        return fm_fail(err, FM_EINVAL, "offset", "offset is a whole number, 0 or more");
    return FM_OK;
}

static json_t *page_link(struct req *r, const char *base, long offset, long limit,
                         const char *rel)
{
    struct fm_buf b;
    fm_buf_init(&b, 4096);
    fm_buf_printf(&b, "%s/collections/conflicts/items?", base);
    for (const char *const *k = params; *k; k++) {
        if (!strcmp(*k, "offset") || !strcmp(*k, "limit")) continue;
        const char *v = srv_arg(r, *k);
        if (!v) continue;
        fm_buf_printf(&b, "%s=", *k);
        for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-_.~,:", *c))
                fm_buf_add(&b, c, 1);
            else
                fm_buf_printf(&b, "%%%02X", *c);
        }
        fm_buf_adds(&b, "&");
    }
    fm_buf_printf(&b, "limit=%ld&offset=%ld", limit, offset);
    json_t *l = json_pack("{s:s,s:s,s:s}", "href", b.data ? b.data : "", "rel", rel, "type",
                          GEOJSON);
    fm_buf_cleanup(&b);
    return l;
}

struct page {
    struct fm_buf features;
    long returned;
    int too_big;
};

static int add_feature(void *ctx, int64_t id, const char *feature)
{
    (void)id;
    struct page *pg = ctx;
    if ((pg->returned && fm_buf_adds(&pg->features, ",")) || fm_buf_adds(&pg->features, feature)) {
        pg->too_big = 1;
        return 1;
    }
    pg->returned++;
    return 0;
}

int h_conflicts_items(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    struct data_conflict_query q;
    fm_rc rc = parse_query(r, &q, &err);
    if (rc) return srv_problem(r, rc, &err);
    struct page pg = {.returned = 0, .too_big = 0};
    fm_buf_init(&pg.features, MAX_PAGE_BYTES);
    long matched;
    rc = data_conflicts_query(r->db, &r->viewer, &q, add_feature, &pg, &matched, &err);
    if (!rc && pg.too_big)
        rc = fm_fail(&err, FM_ETOOBIG, "limit", "the page is too large; ask for a smaller limit");
    if (rc) {
        fm_buf_cleanup(&pg.features);
        return srv_problem(r, rc, &err);
    }
    char base[256], stamp[FM_TIME_STAMP_LEN];
    srv_base_url(r, base, sizeof base);
    fm_time_format(fm_time_now(), stamp);
    json_t *links = json_array();
    json_array_append_new(links, page_link(r, base, q.offset, q.limit, "self"));
    if (q.offset + pg.returned < matched && pg.returned > 0)
        json_array_append_new(links, page_link(r, base, q.offset + q.limit, q.limit, "next"));
    if (q.offset > 0)
        json_array_append_new(links, page_link(r, base, q.offset > q.limit ? q.offset - q.limit : 0,
                                               q.limit, "prev"));
    json_t *head = json_pack("{s:s,s:I,s:I,s:s,s:o}", "type", "FeatureCollection", "numberMatched",
                             (json_int_t)matched, "numberReturned", (json_int_t)pg.returned,
                             "timeStamp", stamp, "links", links);
    char *head_text = json_dumps(head, JSON_COMPACT);
    json_decref(head);
    struct fm_buf out;
    fm_buf_init(&out, MAX_PAGE_BYTES + 65536);
    int bad = !head_text || fm_buf_add(&out, head_text, strlen(head_text) - 1) ||
              fm_buf_adds(&out, ",\"features\":[") ||
              fm_buf_add(&out, pg.features.data ? pg.features.data : "", pg.features.len) ||
              fm_buf_adds(&out, "]}");
    free(head_text);
    fm_buf_cleanup(&pg.features);
    if (bad) {
        fm_buf_cleanup(&out);
        return srv_problem_status(r, 413, "the page is too large; ask for a smaller limit", "limit");
    }
    size_t len;
    char *body = fm_buf_take(&out, &len);
    return srv_reply(r, 200, GEOJSON, body, len);
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
    json_t *f;
    fm_rc rc = data_conflict_get(r->db, &r->viewer, id, &f, &err);
    if (rc) return srv_problem(r, rc, &err);
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

struct srv_recheck {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    long interval_s;
    struct data_db *db;
    struct srv_streams *streams;
};

static void *recheck_main(void *arg)
{
    struct srv_recheck *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        pthread_mutex_unlock(&h->lock);
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
        pthread_mutex_lock(&h->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += h->interval_s;
        while (!h->stop && pthread_cond_timedwait(&h->wake, &h->lock, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

fm_rc srv_recheck_start(const struct srv_config *c, struct srv_streams *streams,
                        struct srv_recheck **out, struct fm_err *err)
{
    *out = NULL;
    long interval = 60;
    const char *env = getenv("FM_CONFLICT_RECHECK_S");
    if (env && fm_parse_long(env, 1, 86400, &interval))
        return fm_fail(err, FM_EINVAL, "FM_CONFLICT_RECHECK_S",
                       "FM_CONFLICT_RECHECK_S is seconds, 1 to 86400, not %s", env);
    struct data_db *db;
    fm_rc rc = data_open(c->db_path, &db, err);
    if (rc) return rc;
    const char *near = getenv("FM_INCIDENT_NEAR_M");
    double metres;
    if (near && (fm_parse_double(near, &metres) ||
                 (rc = data_conflicts_set_near(db, metres, err)))) {
        data_close(db);
        return fm_fail(err, FM_EINVAL, "FM_INCIDENT_NEAR_M",
                       "FM_INCIDENT_NEAR_M is metres, more than 0 and up to 1000000, not %s",
                       near);
    }
    struct srv_recheck *h = fm_xcalloc(1, sizeof *h);
    h->interval_s = interval;
    h->db = db;
    h->streams = streams;
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&h->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&h->thread, NULL, recheck_main, h) != 0) {
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        data_close(db);
        free(h);
        return fm_fail(err, FM_EINTERNAL, NULL, "cannot start the conflict re-check thread");
    }
    *out = h;
    return FM_OK;
}

void srv_recheck_stop(struct srv_recheck *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    data_close(h->db);
    free(h);
}
