/* cot.c - items as Cursor-on-Target events, for ATAK/WinTAK users.
 *
 * One <event version="2.0"> per visible item, inside an <events> list
 * (the list is fusionmap's; each event is CoT's base Event). The uid is
 * "fusionmap-<collection>-<id>", the same for every version, so a TAK
 * client replaces the old event with the new one. A MultiPolygon (or a
 * MultiLineString route) goes whole, as one event per part: the first
 * keeps the item's uid, the others add "-part<N>" (CoT's shapes have one
 * ring; holes are not drawn). time is the item's updated_at, start its
 * valid_from (else updated_at), stale its valid_to (else 24 hours from
 * now), and never before start (then start + 24 hours, or + 1 s for a
 * validity that ends as it starts). how is "h-e" (entered by a person).
 *
 * Type codes (affiliation "u", unknown, for every party: the cell is
 * impartial and names no side hostile or friendly):
 *   zone                       u-d-f    a drawn shape; <link point> per
 *                                       vertex of the outer ring, closed
 *   incident Point/MultiPoint  a-u-G    a ground point, unknown affiliation
 *   incident Polygon           u-d-f    as a zone
 *   movement LineString(s)     b-m-r    a route; <link> waypoints (b-m-p-w)
 *   movement Point             a-u-G-U  a ground unit, unknown affiliation
 * The event's point is the geometry's own (a Point) or its centroid; hae
 * is altitude_floor_m if known, else 9999999 (CoT's "unknown"), as are
 * ce and le. <detail> holds <contact callsign> (the title), <remarks>
 * (an incident's category and severity, then the description), the
 * links, a shape's stroke and fill in its party's colour, and
 * <fusionmap .../> with collection, id, version, status, party, type,
 * and an incident's category and severity.
 */
#include "internal.h"
#include "interop.h"

#include <cpl_conv.h>
#include <ogr_api.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COT_BYTES ((size_t)256 << 20)
#define MAX_LINKS 1000
#define UNKNOWN_ERR 9999999.0
#define DEFAULT_STALE_S (24 * 3600)

static void xml_esc(struct fm_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fm_buf_adds(b, "&amp;"); break;
        case '<': fm_buf_adds(b, "&lt;"); break;
        case '>': fm_buf_adds(b, "&gt;"); break;
        case '"': fm_buf_adds(b, "&quot;"); break;
        case '\'': fm_buf_adds(b, "&apos;"); break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r')
                fm_buf_adds(b, " "); /* not allowed in XML 1.0 */
            else
                fm_buf_add(b, s, 1);
        }
    }
}

static void time_prop(const json_t *props, const char *key, fm_time fallback, char *out)
{
    fm_time t;
    const char *s = json_string_value(json_object_get(props, key));
    if (!s || fm_time_parse(s, &t)) t = fallback;
    fm_time_format(t, out);
}

/* The vertices of the outer ring of a polygon, or of a line, as <link>
 * elements (one part: add_event splits the multi geometries). */
static void links(struct fm_buf *b, const json_t *geom, const char *uid, int route)
{
    const char *t = json_string_value(json_object_get(geom, "type"));
    const json_t *c = json_object_get(geom, "coordinates");
    if (!t || !c) return;
    if (!strcmp(t, "Polygon")) c = json_array_get(c, 0);
    else if (strcmp(t, "LineString") != 0) return;
    size_t n = json_array_size(c);
    for (size_t i = 0; i < n && i < MAX_LINKS; i++) {
        const json_t *p = json_array_get(c, i);
        double lon = json_number_value(json_array_get(p, 0));
        double lat = json_number_value(json_array_get(p, 1));
        if (route)
            fm_buf_printf(b,
                          "<link uid=\"%s-wp%zu\" type=\"b-m-p-w\" relation=\"c\""
                          " callsign=\"wp%zu\" point=\"%.8f,%.8f\"/>",
                          uid, i + 1, i + 1, lat, lon);
        else
            fm_buf_printf(b, "<link point=\"%.8f,%.8f\"/>", lat, lon);
    }
}

struct cot_run {
    struct fm_buf *b;
    fm_time now;
    int failed;
    const json_t *parties; /* data_parties: code, colour */
};

/* A party's colour as CoT's signed ARGB with alpha a; red if unknown. */
static long party_argb(const json_t *parties, const char *code, unsigned a)
{
    unsigned rgb = 0xff0000;
    size_t i;
    const json_t *p;
    json_array_foreach(parties, i, p) {
        const char *c = json_string_value(json_object_get(p, "code"));
        const char *col = json_string_value(json_object_get(p, "colour"));
        unsigned v;
        if (c && code && !strcmp(c, code) && col && col[0] == '#' && strlen(col) == 7 &&
            sscanf(col + 1, "%6x", &v) == 1)
            rgb = v;
    }
    return (long)(int32_t)(((uint32_t)a << 24) | rgb);
}

static void add_part(struct cot_run *r, const struct data_item_row *row, const json_t *props,
                     const json_t *geom, int part);

static int add_event(void *ctx, const struct data_item_row *row)
{
    struct cot_run *r = ctx;
    json_t *feat = json_loads(row->feature, 0, NULL);
    if (!feat) return 0;
    const json_t *geom = json_object_get(feat, "geometry");
    const json_t *props = json_object_get(feat, "properties");
    const char *gt = json_string_value(json_object_get(geom, "type"));
    const char *single = gt && !strcmp(gt, "MultiPolygon")      ? "Polygon"
                         : gt && !strcmp(gt, "MultiLineString") ? "LineString"
                                                                : NULL;
    if (single) { /* every part, each its own shape */
        const json_t *parts = json_object_get(geom, "coordinates");
        size_t i;
        const json_t *c;
        json_array_foreach(parts, i, c) {
            json_t *g = json_pack("{s:s,s:O}", "type", single, "coordinates", c);
            if (g) add_part(r, row, props, g, (int)i + 1);
            json_decref(g);
            if (r->failed) break;
        }
    } else {
        add_part(r, row, props, geom, 1);
    }
    json_decref(feat);
    return r->failed;
}

static void add_part(struct cot_run *r, const struct data_item_row *row, const json_t *props,
                     const json_t *geom, int part)
{
    struct fm_buf *b = r->b;
    const char *gt = json_string_value(json_object_get(geom, "type"));
    if (!gt) gt = "";
    int polygon = !strcmp(gt, "Polygon") || !strcmp(gt, "MultiPolygon");
    int line = !strcmp(gt, "LineString") || !strcmp(gt, "MultiLineString");
    const char *type = "a-u-G";
    if (row->coll == DATA_ZONES || polygon) type = "u-d-f";
    else if (row->coll == DATA_MOVEMENTS) type = line ? "b-m-r" : "a-u-G-U";

    double lat = 0, lon = 0;
    char *gtext = json_dumps(geom, JSON_COMPACT | JSON_REAL_PRECISION(17));
    OGRGeometryH g = gtext ? OGR_G_CreateGeometryFromJson(gtext) : NULL;
    free(gtext);
    if (g) {
        OGRGeometryH cen = OGR_G_CreateGeometry(wkbPoint);
        if (!strcmp(gt, "Point")) {
            lon = OGR_G_GetX(g, 0);
            lat = OGR_G_GetY(g, 0);
        } else if (OGR_G_Centroid(g, cen) == OGRERR_NONE) {
            lon = OGR_G_GetX(cen, 0);
            lat = OGR_G_GetY(cen, 0);
        }
        OGR_G_DestroyGeometry(cen);
        OGR_G_DestroyGeometry(g);
    }
    char uid[96], t_time[FM_TIME_STAMP_LEN], t_start[FM_TIME_STAMP_LEN], t_stale[FM_TIME_STAMP_LEN];
    if (part > 1)
        snprintf(uid, sizeof uid, "fusionmap-%s-%" PRId64 "-part%d", data_coll_name(row->coll),
                 row->id, part);
    else
        snprintf(uid, sizeof uid, "fusionmap-%s-%" PRId64, data_coll_name(row->coll), row->id);
    time_prop(props, "updated_at", r->now, t_time);
    fm_time updated, start, stale;
    if (fm_time_parse(t_time, &updated)) updated = r->now;
    time_prop(props, "valid_from", updated, t_start);
    int open_end = !json_is_string(json_object_get(props, "valid_to"));
    time_prop(props, "valid_to", r->now + DEFAULT_STALE_S, t_stale);
    /* stale never before start (CoT): an item valid from tomorrow with no
     * end, or a validity that ends as it starts */
    if (!fm_time_parse(t_start, &start) && !fm_time_parse(t_stale, &stale) && stale <= start)
        fm_time_format(start + (open_end ? DEFAULT_STALE_S : 1), t_stale);
    const json_t *floor = json_object_get(props, "altitude_floor_m");
    double hae = json_is_number(floor) ? json_number_value(floor) : UNKNOWN_ERR;

    fm_buf_printf(b,
                  "<event version=\"2.0\" uid=\"%s\" type=\"%s\" time=\"%s\" start=\"%s\""
                  " stale=\"%s\" how=\"h-e\">"
                  "<point lat=\"%.8f\" lon=\"%.8f\" hae=\"%.1f\" ce=\"%.1f\" le=\"%.1f\"/><detail>",
                  uid, type, t_time, t_start, t_stale, lat, lon, hae, UNKNOWN_ERR, UNKNOWN_ERR);
    const char *title = json_string_value(json_object_get(props, "title"));
    fm_buf_adds(b, "<contact callsign=\"");
    xml_esc(b, title ? title : uid);
    fm_buf_adds(b, "\"/>");
    const char *desc = json_string_value(json_object_get(props, "description"));
    const char *category = json_string_value(json_object_get(props, "category"));
    const json_t *sev = json_object_get(props, "severity");
    int incident = row->coll == DATA_INCIDENTS && (category || json_is_integer(sev));
    if (desc || incident) {
        fm_buf_adds(b, "<remarks>");
        if (incident) {
            fm_buf_adds(b, "Incident: ");
            xml_esc(b, category ? category : "uncategorised");
            if (json_is_integer(sev))
                fm_buf_printf(b, ", severity %" JSON_INTEGER_FORMAT "/5", json_integer_value(sev));
            if (desc) fm_buf_adds(b, ". ");
        }
        xml_esc(b, desc);
        fm_buf_adds(b, "</remarks>");
    }
    if (polygon || line) links(b, geom, uid, !polygon && row->coll == DATA_MOVEMENTS);
    if (polygon || line) /* the owner party's colour, as the map draws it */
        fm_buf_printf(b,
                      "<strokeColor value=\"%ld\"/><strokeWeight value=\"3.0\"/>"
                      "<fillColor value=\"%ld\"/><labels_on value=\"true\"/>",
                      party_argb(r->parties, row->party, 0xff),
                      party_argb(r->parties, row->party, polygon ? 0x50 : 0));
    fm_buf_printf(b, "<fusionmap collection=\"%s\" id=\"%" PRId64 "\" version=\"%" PRId64 "\"",
                  data_coll_name(row->coll), row->id, row->version);
    fm_buf_adds(b, " status=\"");
    xml_esc(b, row->status);
    fm_buf_adds(b, "\" party=\"");
    xml_esc(b, row->party);
    fm_buf_adds(b, "\"");
    if (row->type) {
        fm_buf_adds(b, " item_type=\"");
        xml_esc(b, row->type);
        fm_buf_adds(b, "\"");
    }
    if (category) {
        fm_buf_adds(b, " category=\"");
        xml_esc(b, category);
        fm_buf_adds(b, "\"");
    }
    if (json_is_integer(sev))
        fm_buf_printf(b, " severity=\"%" JSON_INTEGER_FORMAT "\"", json_integer_value(sev));
    fm_buf_adds(b, "/></detail></event>\n");
    if (b->len + 4096 >= b->cap) r->failed = 1;
}

fm_rc data_cot(struct data_db *db, const struct data_viewer *v, int has_asof, fm_time asof,
               char **xml, size_t *len, struct fm_err *err)
{
    *xml = NULL;
    *len = 0;
    data_gdal_init();
    struct fm_buf b;
    fm_buf_init(&b, MAX_COT_BYTES);
    json_t *parties = NULL;
    fm_rc rc = data_parties(db, &parties, err);
    if (rc) {
        fm_buf_cleanup(&b);
        return rc;
    }
    struct cot_run r = {&b, fm_time_now(), 0, parties};
    rc = fm_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<events>\n");
    for (int c = 0; c < DATA_COLL_COUNT && !rc; c++) {
        struct data_query q;
        memset(&q, 0, sizeof q);
        q.coll = (enum data_coll)c;
        q.has_asof = has_asof;
        q.asof = asof;
        q.limit = 10000;
        for (;;) {
            long matched = 0;
            if ((rc = data_items_query(db, v, &q, add_event, &r, &matched, err))) break;
            if (r.failed) {
                rc = fm_fail(err, FM_ETOOBIG, "", "too many items for one CoT answer");
                break;
            }
            if (q.offset + q.limit >= matched) break;
            q.offset += q.limit;
        }
    }
    if (!rc) rc = fm_buf_adds(&b, "</events>\n");
    if (!rc) *xml = fm_buf_take(&b, len);
    fm_buf_cleanup(&b);
    json_decref(parties);
    return rc;
}

/* ---- one record of the log, for the live CoT stream ------------------------ */

/* A TAK delete (t-x-d-d) of the event uid of type, forced. */
static void add_delete(struct fm_buf *b, const char *uid, const char *type, fm_time now)
{
    char t[FM_TIME_STAMP_LEN], stale[FM_TIME_STAMP_LEN];
    fm_time_format(now, t);
    fm_time_format(now + 60, stale);
    fm_buf_printf(b,
                  "<event version=\"2.0\" uid=\"%s-delete\" type=\"t-x-d-d\" time=\"%s\""
                  " start=\"%s\" stale=\"%s\" how=\"h-g-i-g-o\"><point lat=\"0\" lon=\"0\""
                  " hae=\"%.1f\" ce=\"%.1f\" le=\"%.1f\"/><detail><link uid=\"%s\""
                  " relation=\"none\" type=\"%s\"/><__forcedelete/></detail></event>\n",
                  uid, t, t, stale, UNKNOWN_ERR, UNKNOWN_ERR, UNKNOWN_ERR, uid, type);
}

fm_rc data_cot_record(const json_t *parties, const json_t *event, struct fm_buf *out)
{
    enum data_coll c;
    const char *coll = json_string_value(json_object_get(event, "collection"));
    const json_t *after = json_object_get(event, "after");
    const json_t *before = json_object_get(event, "before");
    json_int_t id = json_integer_value(json_object_get(event, "item"));
    if (!coll || data_coll_parse(coll, &c) != FM_OK || id <= 0) return FM_OK; /* not an item */
    const json_t *feat = json_is_object(after) ? after : before;
    const json_t *props = json_object_get(feat, "properties");
    const char *status = json_string_value(json_object_get(props, "status"));
    const char *action = json_string_value(json_object_get(event, "action"));
    if (!json_is_object(feat)) return FM_OK;
    data_gdal_init();
    struct cot_run r = {out, fm_time_now(), 0, parties};
    if (!json_is_object(after) || (status && !strcmp(status, "withdrawn")) ||
        (action && !strcmp(action, "withdraw"))) {
        /* gone: every uid it was sent under (the parts of a multi geometry) */
        const json_t *g = json_object_get(feat, "geometry");
        const char *gt = json_string_value(json_object_get(g, "type"));
        int polygon = gt && strstr(gt, "Polygon");
        const char *type = c == DATA_ZONES || polygon ? "u-d-f"
                           : c == DATA_MOVEMENTS      ? (gt && strstr(gt, "LineString") ? "b-m-r"
                                                                                        : "a-u-G-U")
                                                      : "a-u-G";
        size_t parts = gt && (!strcmp(gt, "MultiPolygon") || !strcmp(gt, "MultiLineString"))
                           ? json_array_size(json_object_get(g, "coordinates"))
                           : 1;
        for (size_t i = 1; i <= parts && i <= MAX_LINKS; i++) {
            char uid[96];
            if (i > 1)
                snprintf(uid, sizeof uid, "fusionmap-%s-%" JSON_INTEGER_FORMAT "-part%zu", coll, id, i);
            else
                snprintf(uid, sizeof uid, "fusionmap-%s-%" JSON_INTEGER_FORMAT, coll, id);
            add_delete(out, uid, type, r.now);
        }
        return out->len + 4096 >= out->cap ? FM_ETOOBIG : FM_OK;
    }
    char *text = json_dumps(after, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!text) return FM_EINTERNAL;
    struct data_item_row row;
    memset(&row, 0, sizeof row);
    row.id = id;
    row.version = json_integer_value(json_object_get(event, "version"));
    row.coll = c;
    row.party = json_string_value(json_object_get(props, "party"));
    row.status = status ? status : "";
    row.type = json_string_value(json_object_get(props, "type"));
    row.feature = text;
    add_event(&r, &row);
    free(text);
    return r.failed ? FM_ETOOBIG : FM_OK;
}
