/* ogc.c - OGC API - Features metadata: landing page, conformance, the
 * OpenAPI document (declaring every query parameter, so that GDAL and
 * QGIS send their filters to the server), collections; and /parties. */
#include "srv.h"
#include "views.h"

#include <stdio.h>
#include <string.h>

static const char *const collection_titles[DATA_COLL_COUNT][2] = {
    {"Deconfliction zones", "Areas that restrict movement: restricted, no-fly, buffer,"
                            " humanitarian corridors, protected sites."},
    {"Incidents", "Reported incidents with category, severity and time."},
    {"Movements", "Pre-notified movements: routes with a corridor width and a time window,"
                  " and observed positions."},
};

static json_t *link(const char *base, const char *path, const char *rel, const char *type,
                    const char *title)
{
    char href[512];
    snprintf(href, sizeof href, "%s%s", base, path);
    json_t *l = json_pack("{s:s,s:s,s:s}", "href", href, "rel", rel, "type", type);
    if (title) json_object_set_new(l, "title", json_string(title));
    return l;
}

/* Does the client want JSON rather than the viewer's HTML? */
static int wants_json(struct req *r)
{
    const char *f = srv_arg(r, "f");
    if (f) return strcmp(f, "json") == 0;
    const char *accept = srv_header(r, "Accept");
    if (!accept) return 0;
    const char *html = strstr(accept, "text/html");
    const char *json = strstr(accept, "application/json");
    return json && (!html || json < html);
}

int h_landing(struct req *r, const char *const *p, int n)
{
    if (!wants_json(r)) return h_viewer(r, p, n);
    char base[256];
    srv_base_url(r, base, sizeof base);
    json_t *links = json_array();
    json_array_append_new(links, link(base, "/?f=json", "self", "application/json", "this document"));
    json_array_append_new(links, link(base, "/", "alternate", "text/html", "the map viewer"));
    json_array_append_new(links, link(base, "/api", "service-desc",
                                      "application/vnd.oai.openapi+json;version=3.0",
                                      "the API definition"));
    json_array_append_new(links, link(base, "/conformance", "conformance", "application/json",
                                      "conformance classes"));
    json_array_append_new(links, link(base, "/collections", "data", "application/json",
                                      "the collections"));
    return srv_reply_json(r, 200, NULL,
                          json_pack("{s:s,s:s,s:o}", "title", "fusionmap",
                                    "description",
                                    "The shared situation map of a joint deconfliction cell:"
                                    " zones, incidents and movements.",
                                    "links", links));
}

int h_conformance(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return srv_reply_json(
        r, 200, NULL,
        json_pack("{s:[s,s,s,s,s,s]}", "conformsTo",
                  "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                  "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                  "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
                  "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
                  /* PATCH as a JSON merge patch; If-Match with 412 and 428 */
                  "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
                  "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking"));
}

/* ---- collections and views ---------------------------------------------- */

static const struct srv_coll colls[] = {
    {"zones", 0, DATA_ZONES, DATA_GEOM_ANY},
    {"incidents", 0, DATA_INCIDENTS, DATA_GEOM_ANY},
    {"movements", 0, DATA_MOVEMENTS, DATA_GEOM_ANY},
    {"conflicts", 1, DATA_ZONES, DATA_GEOM_ANY},
    /* one family of geometries each, for clients that type a layer by one
     * (zones are all areas: no view) */
    {"incidents-points", 0, DATA_INCIDENTS, DATA_GEOM_POINTS},
    {"incidents-areas", 0, DATA_INCIDENTS, DATA_GEOM_AREAS},
    {"movements-points", 0, DATA_MOVEMENTS, DATA_GEOM_POINTS},
    {"movements-lines", 0, DATA_MOVEMENTS, DATA_GEOM_LINES},
    {"conflicts-points", 1, DATA_ZONES, DATA_GEOM_POINTS},
    {"conflicts-lines", 1, DATA_ZONES, DATA_GEOM_LINES},
    {"conflicts-areas", 1, DATA_ZONES, DATA_GEOM_AREAS},
};
#define NCOLLS (sizeof colls / sizeof *colls)

const struct srv_coll *srv_coll_find(const char *id)
{
    for (size_t i = 0; id && i < NCOLLS; i++)
        if (!strcmp(colls[i].id, id)) return &colls[i];
    return NULL;
}

enum data_geom srv_geom_family(const char *t)
{
    if (!t) return DATA_GEOM_ANY;
    if (!strcmp(t, "Point") || !strcmp(t, "MultiPoint")) return DATA_GEOM_POINTS;
    if (!strcmp(t, "LineString") || !strcmp(t, "MultiLineString")) return DATA_GEOM_LINES;
    if (!strcmp(t, "Polygon") || !strcmp(t, "MultiPolygon")) return DATA_GEOM_AREAS;
    return DATA_GEOM_ANY;
}

static const char *const family_names[] = {"", "points (Point, MultiPoint)",
                                           "lines (LineString, MultiLineString)",
                                           "areas (Polygon, MultiPolygon)"};

/* The extent of what this viewer may see of k: never of a draft it may
 * not see (data_*_extent apply the visibility rule). NULL when it sees
 * nothing there, or on error (the extent is optional). */
static json_t *extent_json(struct req *r, const struct srv_coll *k)
{
    struct data_extent e;
    struct fm_err err;
    fm_rc rc = k->conflicts ? data_conflicts_extent(r->db, &r->viewer, k->geom, &e, &err)
                            : data_items_extent(r->db, &r->viewer, k->coll, k->geom, &e, &err);
    if (rc || e.count == 0) return NULL;
    char a[FM_TIME_STAMP_LEN], b[FM_TIME_STAMP_LEN];
    if (e.has_t0) fm_time_format(e.t0, a);
    if (e.has_t1) fm_time_format(e.t1, b);
    return json_pack("{s:{s:[[f,f,f,f]],s:s},s:{s:[[o,o]],s:s}}", "spatial", "bbox", e.bbox[0],
                     e.bbox[1], e.bbox[2], e.bbox[3], "crs",
                     "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "temporal", "interval",
                     e.has_t0 ? json_string(a) : json_null(), e.has_t1 ? json_string(b) : json_null(),
                     "trs", "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian");
}

static json_t *collection_json(struct req *r, const char *base, const struct srv_coll *k)
{
    char path[128], title[160], desc[400];
    json_t *links = json_array();
    snprintf(path, sizeof path, "/collections/%s", k->id);
    json_array_append_new(links, link(base, path, "self", "application/json", NULL));
    snprintf(path, sizeof path, "/collections/%s/items", k->id);
    json_array_append_new(links, link(base, path, "items", "application/geo+json", "the items"));
    if (!k->conflicts) {
        snprintf(path, sizeof path, "/collections/%s/queryables", k->id);
        json_array_append_new(links, link(base, path, "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                                          "application/schema+json", "the queryables"));
    }
    json_t *coll;
    if (k->conflicts && k->geom == DATA_GEOM_ANY) {
        coll = srv_conflicts_collection(base);
        json_object_set_new(coll, "links", links);
    } else {
        const char *t = k->conflicts ? "Conflicts" : collection_titles[k->coll][0];
        const char *d = k->conflicts ? "Conflicts the server found." : collection_titles[k->coll][1];
        if (k->geom == DATA_GEOM_ANY) {
            snprintf(title, sizeof title, "%s", t);
            snprintf(desc, sizeof desc, "%s", d);
        } else {
            snprintf(title, sizeof title, "%s: %s", t, family_names[k->geom]);
            snprintf(desc, sizeof desc,
                     "%s Only the %s of /collections/%s (read only): one geometry type per layer,"
                     " for GDAL and QGIS.", d, family_names[k->geom],
                     k->conflicts ? "conflicts" : data_coll_name(k->coll));
        }
        coll = json_pack("{s:s,s:s,s:s,s:s,s:[s],s:o}", "id", k->id, "title", title,
                         "description", desc, "itemType", "feature", "crs",
                         "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "links", links);
    }
    json_t *ext = extent_json(r, k);
    if (ext) json_object_set_new(coll, "extent", ext);
    else json_object_del(coll, "extent");
    return coll;
}

int h_collections(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    char base[256];
    srv_base_url(r, base, sizeof base);
    json_t *cs = json_array();
    for (size_t i = 0; i < NCOLLS; i++) json_array_append_new(cs, collection_json(r, base, &colls[i]));
    json_t *links = json_array();
    json_array_append_new(links, link(base, "/collections", "self", "application/json", NULL));
    return srv_reply_json(r, 200, NULL, json_pack("{s:o,s:o}", "links", links, "collections", cs));
}

int h_collection(struct req *r, const char *const *p, int n)
{
    (void)n;
    const struct srv_coll *k = srv_coll_find(p[1]);
    if (!k) return srv_problem_status(r, 404, "no such collection", NULL);
    char base[256];
    srv_base_url(r, base, sizeof base);
    return srv_reply_json(r, 200, NULL, collection_json(r, base, k));
}

int h_parties(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    json_t *parties;
    fm_rc rc = data_parties(r->db, &parties, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, parties);
}

/* ---- OpenAPI ------------------------------------------------------------ */

static json_t *param(const char *name, const char *in, const char *type, const char *desc)
{
    return json_pack("{s:s,s:s,s:b,s:s,s:{s:s}}", "name", name, "in", in, "required",
                     strcmp(in, "path") == 0, "description", desc, "schema", "type", type);
}

static json_t *items_params(int with_collection)
{
    json_t *ps = json_array();
    if (with_collection)
        json_array_append_new(ps, param("collectionId", "path", "string", "the collection"));
    json_array_append_new(ps, json_pack("{s:s,s:s,s:b,s:s,s:{s:s,s:i,s:i,s:{s:s}},s:s,s:b}",
                                        "name", "bbox", "in", "query", "required", 0,
                                        "description", "minlon,minlat,maxlon,maxlat (CRS84)",
                                        "schema", "type", "array", "minItems", 4, "maxItems", 6,
                                        "items", "type", "number", "style", "form", "explode",
                                        0));
    json_array_append_new(ps, param("datetime", "query", "string",
                                    "an instant or interval (RFC 3339, .. for open ends) that"
                                    " the validity must overlap"));
    json_array_append_new(ps, json_pack("{s:s,s:s,s:b,s:s,s:{s:s,s:i,s:i,s:i}}", "name",
                                        "limit", "in", "query", "required", 0, "description",
                                        "items per page", "schema", "type", "integer", "minimum",
                                        1, "maximum", 10000, "default", 100));
    json_array_append_new(ps, param("offset", "query", "integer", "items to skip (paging)"));
    json_array_append_new(ps, param("status", "query", "string", "only items with this status"));
    json_array_append_new(ps, param("party", "query", "string", "only items of this party"));
    json_array_append_new(ps, param("type", "query", "string", "only items of this type"));
    json_array_append_new(ps, param("t", "query", "string",
                                    "the situation as of this RFC 3339 time instead of now"));
    json_array_append_new(ps, param("f", "query", "string",
                                    "json or geojson: this page; kml, gpx, gpkg, shp (zipped) or"
                                    " csv: everything selected, as a download"));
    return ps;
}

static json_t *op(const char *summary, json_t *params, const char *ok_type)
{
    json_t *o = json_pack("{s:s,s:{s:{s:s,s:{s:{}}}}}", "summary", summary, "responses", "200",
                          "description", "OK", "content", ok_type);
    if (params) json_object_set_new(o, "parameters", params);
    return o;
}

int h_api(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    char base[256];
    srv_base_url(r, base, sizeof base);
    json_t *paths = json_object();
    json_object_set_new(paths, "/", json_pack("{s:o}", "get", op("landing page", NULL, "application/json")));
    json_object_set_new(paths, "/conformance",
                        json_pack("{s:o}", "get", op("conformance", NULL, "application/json")));
    json_object_set_new(paths, "/collections",
                        json_pack("{s:o}", "get", op("collections", NULL, "application/json")));
    json_object_set_new(paths, "/collections/{collectionId}/items",
                        json_pack("{s:o}", "get",
                                  op("items", items_params(1), "application/geo+json")));
    for (int c = 0; c < DATA_COLL_COUNT; c++) {
        char path[96];
        snprintf(path, sizeof path, "/collections/%s/items", data_coll_name((enum data_coll)c));
        json_object_set_new(paths, path,
                            json_pack("{s:o}", "get",
                                      op(collection_titles[c][0], items_params(0),
                                         "application/geo+json")));
    }
    srv_conflicts_openapi(paths);
    srv_interop_openapi(paths);
    json_object_set_new(paths, "/collections/{collectionId}/items/{featureId}",
                        json_pack("{s:o}", "get",
                                  op("one item",
                                     json_pack("[o,o]",
                                               param("collectionId", "path", "string", "collection"),
                                               param("featureId", "path", "integer", "item id")),
                                     "application/geo+json")));
    json_t *doc = json_pack("{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o}", "openapi", "3.0.3", "info",
                            "title", "fusionmap", "version", "1", "description",
                            "OGC API - Features for zones, incidents and movements",
                            "servers", "url", base, "paths", paths);
    return srv_reply_json(r, 200, "application/vnd.oai.openapi+json;version=3.0", doc);
}
