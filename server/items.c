/* items.c - the items endpoints of OGC API - Features (Part 1 reads,
 * Part 4 writes): query parameters checked strictly, paging links,
 * ETag/If-Match versions. */
#include "params.h"
#include "srv.h"

#include <microhttpd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEOJSON "application/geo+json"
#define MAX_PAGE_BYTES ((size_t)512 << 20)

static const char *const item_params[] = {"bbox", "bbox-crs", "datetime", "limit", "offset",
                                          "status", "party", "type", "t", "f", NULL};

static int known_param(const char *name)
{
    for (const char *const *k = item_params; *k; k++)
        if (strcmp(*k, name) == 0) return 1;
    return 0;
}

struct unknown_arg {
    char name[64];
    int found;
};

static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind, (void)value;
    struct unknown_arg *u = cls;
    if (!known_param(key)) {
        snprintf(u->name, sizeof u->name, "%s", key);
        u->found = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

static fm_rc short_arg(struct req *r, const char *name, const char **out, struct fm_err *err)
{
    *out = srv_arg(r, name);
    if (*out && (strlen(*out) == 0 || strlen(*out) > 64))
        return fm_fail(err, FM_EINVAL, name, "%s must be 1 to 64 characters", name);
    return FM_OK;
}

static fm_rc parse_query(struct req *r, enum data_coll c, struct data_query *q, struct fm_err *err)
{
    memset(q, 0, sizeof *q);
    q->coll = c;
    q->limit = 100;
    struct unknown_arg u = {"", 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &u);
    if (u.found)
        return fm_fail(err, FM_EINVAL, u.name,
                       "unknown query parameter %s; this endpoint takes bbox, bbox-crs, datetime,"
                       " limit, offset, status, party, type, t and f",
                       u.name);
    const char *s;
    fm_rc rc;
    if ((s = srv_arg(r, "f")) && strcmp(s, "json") != 0 && strcmp(s, "geojson") != 0 &&
        !srv_export_format(s))
        return fm_fail(err, FM_EINVAL, "f", "f must be json, geojson, kml, gpx, gpkg, shp or csv");
    if ((s = srv_arg(r, "bbox-crs")) &&
        strcmp(s, "http://www.opengis.net/def/crs/OGC/1.3/CRS84") != 0)
        return fm_fail(err, FM_EINVAL, "bbox-crs", "bbox-crs must be CRS84");
    if ((s = srv_arg(r, "limit"))) {
        if (fm_parse_long(s, 1, INT32_MAX, &q->limit))
            return fm_fail(err, FM_EINVAL, "limit", "limit must be a whole number from 1 to 10000");
        if (q->limit > 10000) q->limit = 10000; /* OGC: clamp, do not fail */
    }
    if ((s = srv_arg(r, "offset")) && fm_parse_long(s, 0, INT32_MAX, &q->offset))
        return fm_fail(err, FM_EINVAL, "offset", "offset must be a whole number from 0");
    if ((s = srv_arg(r, "bbox"))) {
        if ((rc = srv_parse_bbox(s, q->bbox, err))) return rc;
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

/* Appends ?k=v&... of the request's known parameters, offset replaced. */
static void page_href(struct req *r, struct fm_buf *b, const char *base, enum data_coll c,
                      long offset, long limit)
{
    fm_buf_printf(b, "%s/collections/%s/items?", base, data_coll_name(c));
    for (const char *const *k = item_params; *k; k++) {
        if (!strcmp(*k, "offset") || !strcmp(*k, "limit")) continue;
        const char *v = srv_arg(r, *k);
        if (!v) continue;
        fm_buf_printf(b, "%s=", *k);
        for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("-_.~,:", *p))
                fm_buf_add(b, p, 1);
            else
                fm_buf_printf(b, "%%%02X", *p);
        }
        fm_buf_adds(b, "&");
    }
    fm_buf_printf(b, "limit=%ld&offset=%ld", limit, offset);
}

static json_t *page_link(struct req *r, const char *base, enum data_coll c, long offset,
                         long limit, const char *rel)
{
    struct fm_buf b;
    fm_buf_init(&b, 8192);
    page_href(r, &b, base, c, offset, limit);
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

static int add_feature(void *ctx, const struct data_item_row *row)
{
    struct page *pg = ctx;
    if ((pg->returned && fm_buf_adds(&pg->features, ",")) ||
        fm_buf_adds(&pg->features, row->feature)) {
        pg->too_big = 1;
        return 1;
    }
    pg->returned++;
    return 0;
}

static int collection_of(struct req *r, const char *name, enum data_coll *c)
{
    if (data_coll_parse(name, c) == FM_OK) return 1;
    srv_problem_status(r, 404, "no such collection; there are zones, incidents and movements",
                       NULL);
    return 0;
}

int h_items_get(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    if (!collection_of(r, p[1], &c)) return MHD_YES;
    struct fm_err err;
    struct data_query q;
    fm_rc rc = parse_query(r, c, &q, &err);
    if (rc) return srv_problem(r, rc, &err);
    if (srv_export_format(srv_arg(r, "f"))) return srv_items_export(r, c, &q, srv_arg(r, "f"));

    struct page pg = {.returned = 0, .too_big = 0};
    fm_buf_init(&pg.features, MAX_PAGE_BYTES);
    long matched;
    rc = data_items_query(r->db, &r->viewer, &q, add_feature, &pg, &matched, &err);
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
    json_array_append_new(links, page_link(r, base, c, q.offset, q.limit, "self"));
    if (q.offset + pg.returned < matched && pg.returned > 0)
        json_array_append_new(links, page_link(r, base, c, q.offset + q.limit, q.limit, "next"));
    if (q.offset > 0)
        json_array_append_new(links, page_link(r, base, c, q.offset > q.limit ? q.offset - q.limit : 0,
                                               q.limit, "prev"));
    json_t *head = json_pack("{s:s,s:I,s:I,s:s,s:o}", "type", "FeatureCollection",
                             "numberMatched", (json_int_t)matched, "numberReturned",
                             (json_int_t)pg.returned, "timeStamp", stamp, "links", links);
    char *head_text = json_dumps(head, JSON_COMPACT);
    json_decref(head);

    /* {head..., "features":[...]} without re-parsing the stored features */
    struct fm_buf out;
    fm_buf_init(&out, MAX_PAGE_BYTES + 65536);
    size_t hl = strlen(head_text);
    int bad = fm_buf_add(&out, head_text, hl - 1) || fm_buf_adds(&out, ",\"features\":[") ||
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
    enum data_coll c;
    int64_t id;
    if (!collection_of(r, p[1], &c) || !parse_id(r, p[3], &id)) return MHD_YES;
    struct fm_err err;
    json_t *f;
    fm_rc rc = data_item_get(r->db, &r->viewer, c, id, &f, &err);
    if (rc) return srv_problem(r, rc, &err);
    set_etag(r, f);
    const char *inm = srv_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && strcmp(inm, r->hdr_value[r->nhdr - 1]) == 0) {
        json_decref(f);
        return srv_reply_empty(r, 304);
    }
    return srv_reply_json(r, 200, GEOJSON, f);
}

static const char *const feature_types[] = {"application/geo+json", "application/json", NULL};
static const char *const patch_types[] = {"application/merge-patch+json", "application/json",
                                          "application/geo+json", NULL};

int h_items_post(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    if (!collection_of(r, p[1], &c)) return MHD_YES;
    json_t *body = srv_body_json(r, feature_types);
    if (!body) return MHD_YES;
    struct fm_err err;
    json_t *created;
    fm_rc rc = data_item_create(r->db, &r->viewer, c, body, &srv_cfg(r)->limits, &created, &err);
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    char base[256], loc[400];
    srv_base_url(r, base, sizeof base);
    snprintf(loc, sizeof loc, "%s/collections/%s/items/%" JSON_INTEGER_FORMAT, base,
             data_coll_name(c), json_integer_value(json_object_get(created, "id")));
    srv_add_header(r, MHD_HTTP_HEADER_LOCATION, loc);
    set_etag(r, created);
    return srv_reply_json(r, 201, GEOJSON, created);
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
    json_t *updated = NULL;
    if (!json_is_object(body))
        rc = fm_fail(&err, FM_EINVAL, "", "send {\"decision\": \"ack\"|\"dispute\", \"comment\": ...}");
    else if (comment && !json_is_string(comment) && !json_is_null(comment))
        rc = fm_fail(&err, FM_EINVAL, "/comment", "comment must be a string");
    else
        rc = data_item_ack(r->db, &r->viewer, c, id, version, json_string_value(decision),
                           json_string_value(comment), &updated, &err);
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    set_etag(r, updated);
    return srv_reply_json(r, 200, GEOJSON, updated);
}

int h_item_acks(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    int64_t id;
    if (!collection_of(r, p[1], &c) || !parse_id(r, p[3], &id)) return MHD_YES;
    struct fm_err err;
    json_t *acks;
    fm_rc rc = data_item_acks(r->db, &r->viewer, c, id, &acks, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:s,s:I,s:o}", "collection",
                                                  data_coll_name(c), "id", (json_int_t)id,
                                                  "acks", acks));
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
