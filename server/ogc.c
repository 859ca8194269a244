/* ogc.c - OGC API - Features metadata: landing page, conformance, the
 * OpenAPI document (declaring every query parameter, so that GDAL and
 * QGIS send their filters to the server), collections; and /parties. */
#include "ogc_crs.h"
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
    json_array_append_new(links, link(base, "/api?f=html", "service-doc", "text/html",
                                      "the API documentation"));
    json_array_append_new(links, link(base, "/conformance", "conformance", "application/json",
                                      "conformance classes"));
    json_array_append_new(links, link(base, "/collections", "data", "application/json",
                                      "the collections"));
    /* OGC API - Tiles (ogc_tiles.c) */
    json_array_append_new(links, link(base, "/map/tiles",
                                      "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map",
                                      "application/json", "map tiles of the whole situation"));
    json_array_append_new(links, link(base, "/tileMatrixSets",
                                      "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                                      "application/json", "the tile matrix sets"));
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
        json_pack("{s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s]}", "conformsTo",
                  "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                  "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                  "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
                  /* crs, bbox-crs and filter-crs: CRS84, EPSG:4326, EPSG:3857 and the
                   * UTM zones of WGS 84 (server/ogc_crs.c) */
                  "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
                  "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
                  /* PATCH as a JSON merge patch; If-Match with 412 and 428 */
                  "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
                  "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking",
                  /* Part 3 and CQL2 text and JSON: what server/cql2.c does; not
                   * basic-cql2 (a property on the right of a comparison) nor the
                   * full spatial or temporal function sets */
                  "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
                  "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
                  "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
                  "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
                  "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
                  "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
                  "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
                  /* OGC API - Tiles Part 1 (ogc_tiles.c): PNG map tiles of the
                   * dataset and of zones, incidents, movements and conflicts, in
                   * WebMercatorQuad (2D TMS 2.0) */
                  "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
                  "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
                  "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
                  "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
                  "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
                  "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
                  "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
                  "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
                  "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset"));
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

/* in_list: for /collections, whose "crs" lists the CRSs once; each
 * collection refers to it with "#/crs" (Part 2) */
static json_t *collection_json(struct req *r, const char *base, const struct srv_coll *k,
                               int in_list)
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
        /* the relation GDAL 3.6 looks for (it reads "queryables":[{"id"}]) */
        json_array_append_new(links, link(base, path, "queryables", "application/json",
                                          "the queryables"));
    }
    /* OGC API - Tiles: a collection with a tile layer of its own (not
     * the views); GDAL's OGCAPI driver reads the tiles from here */
    if (k->geom == DATA_GEOM_ANY) {
        snprintf(path, sizeof path, "/collections/%s/map/tiles", k->id);
        json_array_append_new(links, link(base, path,
                                          "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map",
                                          "application/json", "map tiles (PNG)"));
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
    /* Part 2: the items and the conflicts in every CRS offered */
    json_object_set_new(coll, "crs", in_list ? json_pack("[s]", "#/crs") : srv_crs_list());
    json_object_set_new(coll, "storageCrs", json_string(srv_crs_uri(SRV_CRS84)));
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
    for (size_t i = 0; i < NCOLLS; i++)
        json_array_append_new(cs, collection_json(r, base, &colls[i], 1));
    json_t *links = json_array();
    json_array_append_new(links, link(base, "/collections", "self", "application/json", NULL));
    return srv_reply_json(r, 200, NULL,
                          json_pack("{s:o,s:o,s:o}", "links", links, "crs", srv_crs_list(),
                                    "collections", cs));
}

int h_collection(struct req *r, const char *const *p, int n)
{
    (void)n;
    const struct srv_coll *k = srv_coll_find(p[1]);
    if (!k) return srv_problem_status(r, 404, "no such collection", NULL);
    char base[256];
    srv_base_url(r, base, sizeof base);
    return srv_reply_json(r, 200, NULL, collection_json(r, base, k, 0));
}

static const char *schema_type(char t)
{
    return t == 'i' ? "integer" : t == 'n' ? "number" : "string";
}

/* GET /collections/{c}/queryables: a JSON Schema (Part 3) of what filter
 * and sortby may name; "queryables" repeats the names in the form of the
 * Part 3 draft that GDAL 3.6 reads. */
int h_queryables(struct req *r, const char *const *p, int n)
{
    (void)n;
    const struct srv_coll *k = srv_coll_find(p[1]);
    if (!k) return srv_problem_status(r, 404, "no such collection", NULL);
    if (k->conflicts)
        return srv_problem_status(r, 404, "the conflicts take no filter: they have no queryables",
                                  NULL);
    char base[256], id[400];
    srv_base_url(r, base, sizeof base);
    snprintf(id, sizeof id, "%s/collections/%s/queryables", base, k->id);
    json_t *props = json_object(), *list = json_array();
    for (const struct data_queryable *q = data_queryables(k->coll); q->name; q++) {
        json_t *o;
        if (q->type == 'g')
            o = json_pack("{s:s,s:s}", "title", q->title, "format", "geometry-any");
        else
            o = json_pack("{s:s,s:s}", "title", q->title, "type", schema_type(q->type));
        if (q->type == 't') json_object_set_new(o, "format", json_string("date-time"));
        json_object_set_new(props, q->name, o);
        json_array_append_new(list, json_pack("{s:s,s:s}", "id", q->name, "type",
                                              q->type == 'g' ? "geometry"
                                              : q->type == 't' ? "dateTime"
                                                               : schema_type(q->type)));
    }
    char title[160];
    snprintf(title, sizeof title, "The queryables of %s", k->id);
    /* application/schema+json unless the client asks only for JSON (GDAL
     * 3.6 refuses any other type) */
    const char *accept = srv_header(r, "Accept");
    const char *ctype = accept && !strstr(accept, "application/schema+json") &&
                                strstr(accept, "application/json")
                            ? "application/json"
                            : "application/schema+json";
    return srv_reply_json(
        r, 200, ctype,
        json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:o}", "$schema",
                  "https://json-schema.org/draft/2020-12/schema", "$id", id, "type", "object",
                  "title", title, "properties", props, "additionalProperties", 0, "queryables",
                  list));
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

/* crs, bbox-crs or filter-crs: the URIs of server/ogc_crs.c, listed once
 * in components.schemas.Crs (123 of them); CRS84 when absent */
static json_t *crs_param(const char *name, const char *desc)
{
    json_t *p = param(name, "query", "string", desc);
    json_object_set_new(p, "schema", json_pack("{s:s}", "$ref", "#/components/schemas/Crs"));
    return p;
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
    json_array_append_new(ps, param("filter", "query", "string",
                                    "a CQL2 filter (text, or JSON with filter-lang=cql2-json)"
                                    " over the collection's queryables"
                                    " (/collections/{c}/queryables); see the README for the"
                                    " subset"));
    /* cql-text: the name GDAL 3.6 looks for before it sends a filter */
    json_array_append_new(ps, json_pack("{s:s,s:s,s:b,s:s,s:{s:s,s:[s,s,s],s:s}}", "name",
                                        "filter-lang", "in", "query", "required", 0,
                                        "description",
                                        "cql2-text (cql-text: the same) or cql2-json",
                                        "schema", "type", "string", "enum", "cql2-text",
                                        "cql-text", "cql2-json", "default", "cql2-text"));
    json_array_append_new(ps, crs_param("filter-crs", "the CRS of the filter's geometry literals,"
                                                      " in its axis order"));
    json_array_append_new(ps, crs_param("crs", "the CRS of the answer's geometries (Part 2);"
                                               " Content-Crs names it"));
    json_array_append_new(ps, crs_param("bbox-crs", "the CRS of bbox, in its axis order"
                                                    " (EPSG:4326: minlat,minlon,maxlat,maxlon;"
                                                    " EPSG:3857 and UTM: metres)"));
    json_array_append_new(ps, param("sortby", "query", "string",
                                    "comma-separated [+|-]queryable (not the geometry); the id"
                                    " breaks ties"));
    json_array_append_new(ps, param("properties", "query", "string",
                                    "comma-separated names: only these properties in each"
                                    " feature (f=json)"));
    return ps;
}

static json_t *op(const char *summary, json_t *params, const char *ok_type)
{
    json_t *o = json_pack("{s:s,s:{s:{s:s,s:{s:{}}}}}", "summary", summary, "responses", "200",
                          "description", "OK", "content", ok_type);
    if (params) json_object_set_new(o, "parameters", params);
    return o;
}

/* The answers every operation may give, as problem+json (RFC 9457):
 * declared once under components.responses and referred to. */
static const struct {
    const char *status, *desc;
} problems[] = {
    {"400", "bad request: an unknown or malformed parameter or body (the problem names it)"},
    {"401", "no credentials, or not valid: a bearer token, HTTP Basic with the user name and a"
            " token, or the session cookie"},
    {"403", "authenticated but not allowed (another party's item, a viewer writing, a role)"},
    {"404", "no such collection or item, or not one the caller may see"},
    {"409", "the change conflicts with the item's state (for example an ended item)"},
    {"412", "If-Match names a version that is no longer current"},
    {"413", "the body, the page or the export is too large"},
    {"428", "If-Match is required for this change"},
    {"429", "too many requests (login throttling); Retry-After says when"},
};

static json_t *components(void)
{
    json_t *resp = json_object();
    for (size_t i = 0; i < sizeof problems / sizeof *problems; i++)
        json_object_set_new(resp, problems[i].status,
                            json_pack("{s:s,s:{s:{s:{s:s}}}}", "description", problems[i].desc,
                                      "content", "application/problem+json", "schema", "$ref",
                                      "#/components/schemas/Problem"));
    json_t *problem = json_pack(
        "{s:s,s:[s,s],s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s}}}", "type", "object",
        "required", "title", "status", "properties", "type", "type", "string", "title", "type",
        "string", "status", "type", "integer", "detail", "type", "string", "pointer", "type",
        "string", "parameter", "type", "string");
    json_t *schemes = json_pack(
        "{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s},s:{s:s,s:s,s:s,s:s}}", "bearer", "type", "http",
        "scheme", "bearer", "description",
        "a token from `fusionmap token add NAME` or POST /me/tokens", "basic", "type", "http",
        "scheme", "basic", "description",
        "the user name and a token as the password (never the login password: 401), for"
        " clients that have only Basic (QGIS 3.22)",
        "cookie", "type", "apiKey", "in", "cookie", "name", "fm_session", "description",
        "the session of POST /login; a state-changing request also sends X-Requested-With:"
        " fusionmap");
    json_t *schemas = json_pack("{s:o,s:{s:s,s:o,s:s}}", "Problem", problem, "Crs", "type",
                                "string", "enum", srv_crs_list(), "default",
                                srv_crs_uri(SRV_CRS84));
    srv_vocabulary_schemas(schemas); /* the enums of common/vocabulary.def */
    return json_pack("{s:o,s:o,s:o}", "securitySchemes", schemes, "responses", resp, "schemas",
                     schemas);
}

static int is_str(const json_t *j, const char *s)
{
    return json_is_string(j) && !strcmp(json_string_value(j), s);
}

/* Does operation o take an If-Match header? 1: optional, 2: required. */
static int if_match_of(const json_t *o)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(o, "parameters"), i, p)
        if (is_str(json_object_get(p, "name"), "If-Match") &&
            is_str(json_object_get(p, "in"), "header"))
            return json_is_true(json_object_get(p, "required")) ? 2 : 1;
    return 0;
}

/* Adds the problem answers to every operation of paths: every one may be
 * 400, 404, 413 or 429; with credentials, 401 and 403; a change also 409;
 * one that reads If-Match 412, and 428 when it requires it (as the
 * parameter says: no other route answers them). Public operations need
 * no credentials. */
static void add_problems(json_t *paths)
{
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        const char *method;
        json_t *o;
        int public = !strcmp(path, "/") || !strcmp(path, "/api") || !strcmp(path, "/conformance");
        json_object_foreach(item, method, o) {
            if (!json_is_object(o)) continue;
            json_t *resp = json_object_get(o, "responses");
            if (!resp) json_object_set_new(o, "responses", resp = json_object());
            int write = strcmp(method, "get") != 0;
            int ifmatch = if_match_of(o);
            for (size_t i = 0; i < sizeof problems / sizeof *problems; i++) {
                const char *st = problems[i].status;
                if (public && (!strcmp(st, "401") || !strcmp(st, "403"))) continue;
                if (!write && !strcmp(st, "409")) continue;
                if ((ifmatch < 1 && !strcmp(st, "412")) || (ifmatch < 2 && !strcmp(st, "428")))
                    continue;
                if (json_object_get(resp, st)) continue;
                char ref[64];
                snprintf(ref, sizeof ref, "#/components/responses/%s", st);
                json_object_set_new(resp, st, json_pack("{s:s}", "$ref", ref));
            }
            if (public) json_object_set_new(o, "security", json_array());
        }
    }
}

static json_t *feature_body(const char *type)
{
    /* a merge patch may leave out anything, "type" included */
    if (strstr(type, "merge-patch"))
        return json_pack("{s:b,s:{s:{s:{s:s}}}}", "required", 1, "content", type, "schema",
                         "type", "object");
    return json_pack("{s:b,s:{s:{s:{s:s}}}}", "required", 1, "content", type, "schema", "$ref",
                     "#/components/schemas/Feature");
}

static json_t *if_match_param(void)
{
    return json_pack("{s:s,s:s,s:b,s:s,s:{s:s}}", "name", "If-Match", "in", "header", "required",
                     1, "description", "the ETag (version) being changed", "schema", "type",
                     "string");
}

/* The ruling's If-Match: optional (412 when it names another version). */
static json_t *if_match_optional(void)
{
    json_t *p = if_match_param();
    json_object_set_new(p, "required", json_false());
    json_object_set_new(p, "description", json_string("the ETag (version) ruled on, if given"));
    return p;
}

/* The writes of Part 4 on an item collection. */
static void add_writes(json_t *paths)
{
    json_t *items = json_object_get(paths, "/collections/{collectionId}/items");
    json_t *post = json_pack("{s:s,s:[o],s:o,s:{s:{s:s}}}", "summary",
                             "create an item (201, Location and ETag)", "parameters",
                             param("collectionId", "path", "string", "zones, incidents or movements"),
                             "requestBody", feature_body("application/geo+json"), "responses",
                             "201", "description", "created");
    json_object_set_new(items, "post", post);
    json_t *one = json_object_get(paths, "/collections/{collectionId}/items/{featureId}");
    static const char *const ms[] = {"put", "patch", "delete"};
    for (int i = 0; i < 3; i++) {
        json_t *ps = json_pack("[o,o,o]", param("collectionId", "path", "string", "collection"),
                               param("featureId", "path", "integer", "item id"), if_match_param());
        json_t *o = json_pack("{s:s,s:o}", "summary",
                              i == 0   ? "replace an item"
                              : i == 1 ? "change an item by a JSON merge patch"
                                       : "withdraw an item (kept in its history; 204)",
                              "parameters", ps);
        if (i < 2) {
            json_object_set_new(o, "requestBody",
                                feature_body(i == 0 ? "application/geo+json"
                                                    : "application/merge-patch+json"));
            json_object_set_new(o, "responses",
                                json_pack("{s:{s:s}}", "200", "description", "the item after"));
        } else {
            json_object_set_new(o, "responses",
                                json_pack("{s:{s:s}}", "204", "description", "withdrawn"));
        }
        json_object_set_new(one, ms[i], o);
    }
}

/* The rest of the HTTP API beside OGC API - Features: the cell's work
 * (answers, rulings, messages), keys, the log, accounts, tiles. Path
 * parameters come from the path's {names}; README.md says more of each. */
static const struct {
    const char *method, *path, *summary, *type;
} other_ops[] = {
    {"get", "/collections/{collectionId}/queryables",
     "what filter and sortby may name (OGC API - Features Part 3)", "application/schema+json"},
    {"get", "/collections/{collectionId}/items/{featureId}/history",
     "every version of the item the caller may see", "application/json"},
    {"post", "/collections/{collectionId}/items/{featureId}/ack",
     "another party answers the current version (If-Match): {decision: ack|dispute, comment,"
     " signature}", "application/geo+json"},
    {"get", "/collections/{collectionId}/items/{featureId}/acks",
     "every answer to the item, per version, and the rulings on it", "application/json"},
    {"get", "/collections/{collectionId}/items/{featureId}/statement",
     "the exact statement a signed answer signs (version, decision, comment)", "application/json"},
    {"post", "/collections/{collectionId}/items/{featureId}/ruling",
     "the supervisor rules on a disputed item: {decision: uphold|overrule, reason}",
     "application/json"},
    {"get", "/collections/{collectionId}/items/{featureId}/messages",
     "the item's thread (since=ID) and who has seen it", "application/json"},
    {"post", "/collections/{collectionId}/items/{featureId}/messages",
     "a message on the item's thread: {text, quote}", "application/json"},
    {"post", "/collections/{collectionId}/items/{featureId}/messages/seen",
     "the caller's party has seen the thread (upto)", "application/json"},
    {"get", "/channels", "the channels the caller reads", "application/json"},
    {"get", "/channels/{channelId}/messages", "a channel's messages (since=ID) and who has seen them",
     "application/json"},
    {"post", "/channels/{channelId}/messages", "a message on a channel: {text, quote}",
     "application/json"},
    {"post", "/channels/{channelId}/messages/seen", "the caller's party has seen the channel",
     "application/json"},
    {"get", "/pending", "what the caller's party has still to answer (party=: the supervisor)",
     "application/json"},
    {"get", "/disputes", "the items in dispute", "application/json"},
    {"get", "/rules", "the lead-time and deadline rules in force, per collection and type",
     "application/json"},
    {"put", "/rules",
     "the admin sets rules: {collection, type, notice_s, urgent_notice_s, answer_s,"
     " answer_before_s} or an array of them",
     "application/json"},
    {"post", "/rules/clock",
     "moves the deadlines' clock ahead: {advance_s} (the admin; FUSIONMAP_TEST_CLOCK=1 only)",
     "application/json"},
    {"get", "/inbox",
     "what waits for the caller: items to answer, disputes, rulings, conflicts, unseen messages,"
     " overdue items (counts and lists)",
     "application/json"},
    {"get", "/keys", "the caller's signing keys (party=1: every key of the caller's party)",
     "application/json"},
    {"post", "/keys", "registers a signing key of the caller: {public_key}", "application/json"},
    {"delete", "/keys/{fingerprint}", "revokes one of the caller's keys", "application/json"},
    {"post", "/keys/{fingerprint}/revoke", "revokes one of the caller's keys", "application/json"},
    {"get", "/events", "the live event stream (Server-Sent Events; ticket= for a browser)",
     "text/event-stream"},
    {"post", "/events/ticket", "a single-use ticket for the stream, valid 60 s", "application/json"},
    {"get", "/cot/stream",
     "Cursor-on-Target for TAK, live: the visible items' events now, then each change (a"
     " withdrawal as a t-x-d-d delete), a t-x-c-t ping as the heartbeat",
     "application/xml"},
    {"get", "/events/log", "the log records the caller may see (since=SEQ, limit)",
     "application/json"},
    {"get", "/events/head", "the log's head (or seq=N) and the statement to cosign it",
     "application/json"},
    {"get", "/events/chain",
     "the log after since=SEQ as the caller may check it (hidden records as digests)",
     "application/json"},
    {"get", "/heads", "every party's cosigned heads of the log", "application/json"},
    {"get", "/collections/{collectionId}/items/{featureId}/evidence",
     "the item's evidence bundle as the caller may see it (checkable offline)", "application/json"},
    {"post", "/heads", "cosigns a head: {seq, hash, signature}", "application/json"},
    {"get", "/events/verify", "verifies the log's chain and the state against it",
     "application/json"},
    {"post", "/login", "a session cookie for {user, password}", "application/json"},
    {"post", "/login/token", "a session cookie for a bearer token (the wall's link)",
     "application/json"},
    {"post", "/logout", "ends the session (and its streams)", "application/json"},
    {"get", "/me", "who the caller is", "application/json"},
    {"post", "/me/tokens", "a new bearer token of the caller", "application/json"},
    {"get", "/parties", "the parties and their colours", "application/json"},
    {"post", "/parties", "the admin adds or changes a party", "application/json"},
    {"get", "/users", "the users (the admin)", "application/json"},
    {"post", "/users", "the admin adds a user", "application/json"},
    {"get", "/tiles/{layer}", "TileJSON of a tile layer", "application/json"},
    {"get", "/tiles/{layer}/{z}/{x}/{tile}",
     "one map tile of the layer as the caller may see it (tile: y.png, or y@2x.png)",
     "image/png"},
    {"get", "/tileMatrixSets", "the tile matrix sets of the tiles (OGC API - Tiles)",
     "application/json"},
    {"get", "/tileMatrixSets/{tileMatrixSetId}", "a tile matrix set (2D TMS 2.0): WebMercatorQuad",
     "application/json"},
    {"get", "/map/tiles", "the tilesets of the whole situation map (OGC API - Tiles)",
     "application/json"},
    {"get", "/map/tiles/{tileMatrixSetId}", "a tileset: its tile matrix set and tile URL template",
     "application/json"},
    {"get", "/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
     "one PNG tile as the caller may see it: /tiles/all/{z}/{x}/{y}.png (t= as of)", "image/png"},
    {"get", "/collections/{collectionId}/map/tiles",
     "the tilesets of zones, incidents, movements or conflicts", "application/json"},
    {"get", "/collections/{collectionId}/map/tiles/{tileMatrixSetId}", "a collection's tileset",
     "application/json"},
    {"get", "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
     "one PNG tile of the collection's layer: /tiles/{collectionId}/{z}/{x}/{y}.png",
     "image/png"},
    {"get", "/map.png",
     "a briefing image (bbox, else what the caller may see; width, height, t)", "image/png"},
    {"get", "/map.pdf", "the same briefing as one A4 page", "application/pdf"},
    {"get", "/vocabulary",
     "the words of the domain: statuses, zone types, incident categories and severities,"
     " movement kinds, with labels and colours",
     "application/json"},
};

static void add_other_ops(json_t *paths)
{
    for (size_t i = 0; i < sizeof other_ops / sizeof other_ops[0]; i++) {
        json_t *ps = json_array();
        for (const char *p = strchr(other_ops[i].path, '{'); p; p = strchr(p + 1, '{')) {
            char name[32];
            size_t n = strcspn(p + 1, "}");
            snprintf(name, sizeof name, "%.*s", (int)n, p + 1);
            int number = !strcmp(name, "featureId") || !strcmp(name, "z") || !strcmp(name, "x") ||
                         !strcmp(name, "tileMatrix") || !strcmp(name, "tileRow") ||
                         !strcmp(name, "tileCol");
            json_array_append_new(ps, param(name, "path", number ? "integer" : "string", name));
        }
        /* the answer and the ruling are of one version (If-Match) */
        size_t pl = strlen(other_ops[i].path);
        if (pl > 4 && !strcmp(other_ops[i].path + pl - 4, "/ack"))
            json_array_append_new(ps, if_match_param());
        else if (pl > 7 && !strcmp(other_ops[i].path + pl - 7, "/ruling"))
            json_array_append_new(ps, if_match_optional());
        if (!strcmp(other_ops[i].path, "/inbox")) {
            json_array_append_new(ps, param("overdue_min_s", "query", "integer",
                                            "only overdue entries late by at least this many"
                                            " seconds"));
            json_array_append_new(ps, param("overdue_max_s", "query", "integer",
                                            "only overdue entries late by at most this many"
                                            " seconds"));
        }
        json_t *item = json_object_get(paths, other_ops[i].path);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, other_ops[i].path, item);
        }
        json_object_set_new(item, other_ops[i].method,
                            op(other_ops[i].summary, json_array_size(ps) ? ps : NULL,
                               other_ops[i].type));
        if (!json_array_size(ps)) json_decref(ps);
    }
}

static json_t *api_doc(const char *base)
{
    json_t *paths = json_object();
    json_object_set_new(paths, "/", json_pack("{s:o}", "get", op("landing page", NULL, "application/json")));
    json_object_set_new(paths, "/api",
                        json_pack("{s:o}", "get",
                                  op("this document (f=html: as a page)",
                                     json_pack("[o]", param("f", "query", "string", "json or html")),
                                     "application/vnd.oai.openapi+json;version=3.0")));
    json_object_set_new(paths, "/conformance",
                        json_pack("{s:o}", "get", op("conformance", NULL, "application/json")));
    json_object_set_new(paths, "/collections",
                        json_pack("{s:o}", "get", op("collections", NULL, "application/json")));
    json_object_set_new(paths, "/collections/{collectionId}",
                        json_pack("{s:o}", "get",
                                  op("one collection, with the extent the caller may see",
                                     json_pack("[o]", param("collectionId", "path", "string",
                                                            "the collection")),
                                     "application/json")));
    json_object_set_new(paths, "/collections/{collectionId}/items",
                        json_pack("{s:o}", "get",
                                  op("items", items_params(1), "application/geo+json")));
    srv_conflicts_openapi(paths); /* the conflicts' own paths; its views below */
    json_t *conflicts_get = json_object_get(json_object_get(paths, "/collections/conflicts/items"), "get");
    for (size_t i = 0; i < NCOLLS; i++) {
        const struct srv_coll *k = &colls[i];
        if (k->conflicts && k->geom == DATA_GEOM_ANY) continue;
        char path[96];
        snprintf(path, sizeof path, "/collections/%s/items", k->id);
        json_t *o = k->conflicts ? json_deep_copy(conflicts_get)
                                 : op(k->geom ? "a view of one geometry type"
                                              : collection_titles[k->coll][0],
                                      items_params(0), "application/geo+json");
        json_object_set_new(paths, path, json_pack("{s:o}", "get", o));
    }
    srv_interop_openapi(paths);
    json_object_set_new(paths, "/collections/{collectionId}/items/{featureId}",
                        json_pack("{s:o}", "get",
                                  op("one item",
                                     json_pack("[o,o,o]",
                                               param("collectionId", "path", "string", "collection"),
                                               param("featureId", "path", "integer", "item id"),
                                               crs_param("crs", "the CRS of the geometry (Part 2)")),
                                     "application/geo+json")));
    add_writes(paths);
    add_other_ops(paths);
    add_problems(paths);
    return json_pack("{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o,s:o,s:[{s:[]},{s:[]},{s:[]}]}", "openapi",
                     "3.0.3", "info", "title", "fusionmap", "version", "1", "description",
                     "OGC API - Features for zones, incidents, movements and conflicts",
                     "servers", "url", base, "paths", paths, "components", components(),
                     "security", "bearer", "basic", "cookie");
}

static void html_text(struct fm_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': FM_BUF_LIT(b, "&lt;"); break;
        case '>': FM_BUF_LIT(b, "&gt;"); break;
        case '&': FM_BUF_LIT(b, "&amp;"); break;
        case '"': FM_BUF_LIT(b, "&quot;"); break;
        default: fm_buf_put(b, s, 1);
        }
    }
}

/* The service-doc: the same document as a page people read. */
static int api_html(struct req *r, json_t *doc)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    FM_BUF_LIT(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<title>fusionmap API</title></head><body><h1>fusionmap API</h1><p>");
    html_text(&b, json_string_value(json_object_get(json_object_get(doc, "info"), "description")));
    FM_BUF_LIT(&b, ". The machine-readable definition: <a href=\"/api?f=json\">OpenAPI 3.0"
                   " (JSON)</a>. Authentication: a bearer token, HTTP Basic with the user name"
                   " and a token, or the session cookie of POST /login. Errors are"
                   " application/problem+json.</p><table><tr><th>method</th><th>path</th>"
                   "<th>what</th></tr>");
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        const char *method;
        json_t *o;
        json_object_foreach(item, method, o) {
            FM_BUF_LIT(&b, "<tr><td>");
            html_text(&b, method);
            FM_BUF_LIT(&b, "</td><td><code>");
            html_text(&b, path);
            FM_BUF_LIT(&b, "</code></td><td>");
            html_text(&b, json_string_value(json_object_get(o, "summary")));
            FM_BUF_LIT(&b, "</td></tr>");
        }
    }
    FM_BUF_LIT(&b, "</table></body></html>\n");
    json_decref(doc);
    size_t len;
    char *body = fm_buf_take(&b, &len);
    return srv_reply(r, 200, "text/html; charset=utf-8", body, len);
}

int h_api(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    static const char *const api_params[] = {"f", NULL};
    char unknown[64];
    struct fm_err err;
    if (srv_unknown_arg(r, api_params, unknown, sizeof unknown))
        return srv_problem(r, fm_fail(&err, FM_EINVAL, unknown,
                                      "unknown query parameter %s; /api takes only f", unknown),
                           &err);
    const char *f = srv_arg(r, "f");
    if (f && strcmp(f, "json") != 0 && strcmp(f, "html") != 0)
        return srv_problem(r, fm_fail(&err, FM_EINVAL, "f", "f is json or html"), &err);
    int html = f ? !strcmp(f, "html") : !wants_json(r) && srv_header(r, "Accept") &&
                                            strstr(srv_header(r, "Accept"), "text/html");
    char base[256];
    srv_base_url(r, base, sizeof base);
    json_t *doc = api_doc(base);
    if (html) return api_html(r, doc);
    return srv_reply_json(r, 200, "application/vnd.oai.openapi+json;version=3.0", doc);
}
