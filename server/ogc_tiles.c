/* ogc_tiles.c - OGC API - Tiles (Part 1: Core) over the raster tiles of
 * server/tiles.c, with the one tile matrix set they are cut in,
 * WebMercatorQuad (OGC 17-083r4, 2D TMS 2.0):
 *
 *   GET /tileMatrixSets                                  the list (public)
 *   GET /tileMatrixSets/WebMercatorQuad                  its definition (public)
 *   GET /map/tiles                                       the dataset's tilesets (layer all)
 *   GET /map/tiles/WebMercatorQuad                       the tileset
 *   GET /map/tiles/WebMercatorQuad/{z}/{row}/{col}       a PNG tile
 *   GET /collections/{c}/map/tiles...                    the same for c's layer
 *                                                        (zones, incidents, movements,
 *                                                        conflicts)
 *
 * A tile is answered by h_tile itself (/tiles/{layer}/{z}/{col}/{row}.png):
 * the same visibility (a draft reaches its own party only), cache keys,
 * ETag, ?t= and errors. Nothing here reads the store. GDAL's OGCAPI
 * driver finds the tiles from a collection's tilesets-map link. */
#include "srv.h"
#include "tiles.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TMS_ID "WebMercatorQuad"
#define TMS_URI "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
#define CRS_3857 "http://www.opengis.net/def/crs/EPSG/0/3857"
#define REL_TILING_SCHEME "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
#define REL_TILESETS_MAP "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"
#define HALF_WORLD 20037508.342789244 /* pi * 6378137 */

static json_t *link(const char *href, const char *rel, const char *type, const char *title)
{
    json_t *l = json_pack("{s:s,s:s,s:s}", "href", href, "rel", rel, "type", type);
    if (title) json_object_set_new(l, "title", json_string(title));
    return l;
}

/* Only f=json (or none) for the JSON documents, f=png for tiles; t for
 * tiles (as of). Anything else is a 400 naming it. */
static int bad_args(struct req *r, int tile)
{
    static const char *const json_args[] = {"f", NULL};
    static const char *const tile_args[] = {"f", "t", NULL};
    char unknown[64];
    struct fm_err err;
    if (srv_unknown_arg(r, tile ? tile_args : json_args, unknown, sizeof unknown))
        return srv_problem(r, fm_fail(&err, FM_EINVAL, unknown, "unknown query parameter %s",
                                      unknown),
                           &err);
    const char *f = srv_arg(r, "f");
    if (f && strcmp(f, tile ? "png" : "json") != 0)
        return srv_problem(r, fm_fail(&err, FM_EINVAL, "f", "f is %s here", tile ? "png" : "json"),
                           &err);
    return 0;
}

/* ---- the tile matrix set ------------------------------------------------ */

static json_t *tms_json(const char *base)
{
    char self[320];
    snprintf(self, sizeof self, "%s/tileMatrixSets/" TMS_ID, base);
    json_t *tms = json_array();
    for (int z = 0; z <= TILE_MAX_ZOOM; z++) {
        char id[8];
        snprintf(id, sizeof id, "%d", z);
        double cell = 2 * HALF_WORLD / 256 / (double)(1L << z);
        json_int_t n = (json_int_t)1 << z;
        /* id and pointOfOrigin are TMS 2.0's; GDAL 3.6 reads the
         * draft's identifier and topLeftCorner: both, the same */
        json_array_append_new(
            tms, json_pack("{s:s,s:s,s:f,s:f,s:s,s:[f,f],s:[f,f],s:i,s:i,s:I,s:I}", "id", id,
                           "identifier", id,
                           "scaleDenominator", cell / 0.00028, "cellSize", cell,
                           "cornerOfOrigin", "topLeft", "pointOfOrigin", -HALF_WORLD, HALF_WORLD,
                           "topLeftCorner", -HALF_WORLD, HALF_WORLD, "tileWidth", 256,
                           "tileHeight", 256, "matrixWidth", n, "matrixHeight", n));
    }
    /* and GDAL 3.6 finds a tile matrix set by "identifier" and
     * "boundingBox", and reads its CRS from "supportedCRS" */
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:[s,s],s:s,s:{s:[f,f],s:[f,f],s:s},s:o,s:[o]}",
                     "id", TMS_ID, "identifier", TMS_ID, "title",
                     "Google Maps Compatible for the World", "uri", TMS_URI, "crs", CRS_3857,
                     "supportedCRS", CRS_3857, "orderedAxes", "X", "Y", "wellKnownScaleSet",
                     "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
                     "boundingBox", "lowerLeft", -HALF_WORLD, -HALF_WORLD, "upperRight",
                     HALF_WORLD, HALF_WORLD, "crs", CRS_3857, "tileMatrices", tms, "links",
                     link(self, "self", "application/json", "this tile matrix set"));
}

int h_tile_matrix_sets(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    int bad = bad_args(r, 0);
    if (bad) return bad;
    char base[256], href[320];
    srv_base_url(r, base, sizeof base);
    snprintf(href, sizeof href, "%s/tileMatrixSets/" TMS_ID, base);
    json_t *one = json_pack("{s:s,s:s,s:s,s:s,s:[o]}", "id", TMS_ID, "title",
                            "Google Maps Compatible for the World", "uri", TMS_URI, "crs", CRS_3857,
                            "links",
                            link(href, REL_TILING_SCHEME, "application/json", TMS_ID));
    snprintf(href, sizeof href, "%s/tileMatrixSets", base);
    return srv_reply_json(r, 200, "application/json",
                          json_pack("{s:[o],s:[o]}", "tileMatrixSets", one, "links",
                                    link(href, "self", "application/json", NULL)));
}

int h_tile_matrix_set(struct req *r, const char *const *p, int n)
{
    (void)n;
    int bad = bad_args(r, 0);
    if (bad) return bad;
    if (strcmp(p[1], TMS_ID) != 0)
        return srv_problem_status(r, 404, "no such tile matrix set (" TMS_ID " only)", NULL);
    char base[256];
    srv_base_url(r, base, sizeof base);
    return srv_reply_json(r, 200, "application/json", tms_json(base));
}

/* ---- tilesets ------------------------------------------------------------- */

/* Which layer a path names: p[0] "map" (the dataset: all), or
 * collections/{c}/map with c a layer of its own. *at: where "tiles" is.
 * NULL: no tiles for that collection. */
static const char *tiles_layer(const char *const *p, int *at)
{
    if (!strcmp(p[0], "map")) {
        *at = 1;
        return "all";
    }
    static const char *const colls[] = {"zones", "incidents", "movements", "conflicts"};
    *at = 3;
    for (size_t i = 0; i < sizeof colls / sizeof *colls; i++)
        if (!strcmp(p[1], colls[i])) return colls[i];
    return NULL;
}

/* The path of the tilesets of p's layer: "/map/tiles" or
 * "/collections/{c}/map/tiles". */
static void tiles_path(const char *const *p, char *buf, size_t n)
{
    if (!strcmp(p[0], "map")) snprintf(buf, n, "/map/tiles");
    else snprintf(buf, n, "/collections/%s/map/tiles", p[1]);
}

static int no_layer(struct req *r)
{
    return srv_problem_status(r, 404,
                              "no tiles for this collection: /map/tiles, or the tiles of"
                              " zones, incidents, movements or conflicts",
                              NULL);
}

static json_t *tileset_summary(const char *base, const char *path, const char *layer)
{
    char href[400], scheme[320], title[96];
    snprintf(href, sizeof href, "%s%s/" TMS_ID, base, path);
    snprintf(scheme, sizeof scheme, "%s/tileMatrixSets/" TMS_ID, base);
    snprintf(title, sizeof title, "fusionmap situation: %s (PNG, 256 px)", layer);
    return json_pack("{s:s,s:s,s:s,s:s,s:[o,o]}", "title", title, "dataType", "map",
                     "crs", CRS_3857, "tileMatrixSetURI", TMS_URI, "links",
                     link(href, "self", "application/json", "the tileset"),
                     link(scheme, REL_TILING_SCHEME, "application/json", TMS_ID));
}

int h_tilesets(struct req *r, const char *const *p, int n)
{
    (void)n;
    int at;
    const char *layer = tiles_layer(p, &at);
    if (!layer) return no_layer(r);
    int bad = bad_args(r, 0);
    if (bad) return bad;
    char base[256], path[128], self[400];
    srv_base_url(r, base, sizeof base);
    tiles_path(p, path, sizeof path);
    snprintf(self, sizeof self, "%s%s", base, path);
    return srv_reply_json(r, 200, "application/json",
                          json_pack("{s:[o],s:[o]}", "links",
                                    link(self, "self", "application/json", NULL), "tilesets",
                                    tileset_summary(base, path, layer)));
}

int h_tileset(struct req *r, const char *const *p, int n)
{
    int at;
    const char *layer = tiles_layer(p, &at);
    if (!layer) return no_layer(r);
    if (n != at + 2 || strcmp(p[at + 1], TMS_ID) != 0)
        return srv_problem_status(r, 404, "no such tileset (" TMS_ID " only)", NULL);
    int bad = bad_args(r, 0);
    if (bad) return bad;
    char base[256], path[128];
    srv_base_url(r, base, sizeof base);
    tiles_path(p, path, sizeof path);
    json_t *ts = tileset_summary(base, path, layer);
    char tmpl[480];
    snprintf(tmpl, sizeof tmpl, "%s%s/" TMS_ID "/{tileMatrix}/{tileRow}/{tileCol}", base, path);
    json_t *links = json_object_get(ts, "links");
    json_t *item = link(tmpl, "item", "image/png", "a tile (PNG, 256 px)");
    json_object_set_new(item, "templated", json_true());
    json_array_append_new(links, item);
    /* every tile matrix of the set is served */
    json_object_set_new(ts, "tileMatrixSetLimits", json_array());
    json_t *limits = json_object_get(ts, "tileMatrixSetLimits");
    for (int z = 0; z <= TILE_MAX_ZOOM; z++) {
        char id[8];
        snprintf(id, sizeof id, "%d", z);
        json_int_t last = ((json_int_t)1 << z) - 1;
        json_array_append_new(limits, json_pack("{s:s,s:i,s:I,s:i,s:I}", "tileMatrix", id,
                                                "minTileRow", 0, "maxTileRow", last,
                                                "minTileCol", 0, "maxTileCol", last));
    }
    json_object_set_new(ts, "description",
                        json_string("The situation map as the caller may see it (a draft only"
                                    " by its own party), drawn on the Natural Earth basemap;"
                                    " t= an RFC 3339 time for the situation as of then."));
    return srv_reply_json(r, 200, "application/json", ts);
}

/* GET .../tiles/WebMercatorQuad/{z}/{row}/{col}: h_tile's
 * /tiles/{layer}/{z}/{col}/{row}.png. */
int h_ogc_tile(struct req *r, const char *const *p, int n)
{
    int at;
    const char *layer = tiles_layer(p, &at);
    if (!layer) return no_layer(r);
    if (n != at + 5 || strcmp(p[at + 1], TMS_ID) != 0)
        return srv_problem_status(r, 404, "no such tileset (" TMS_ID " only)", NULL);
    int bad = bad_args(r, 1);
    if (bad) return bad;
    const char *z = p[at + 2], *row = p[at + 3], *col = p[at + 4];
    char ybuf[40];
    if (strlen(row) > 12 || strchr(row, '.'))
        return srv_problem_status(r, 400, "tileRow is a whole number", "tileRow");
    snprintf(ybuf, sizeof ybuf, "%s.png", row);
    const char *parts[5] = {"tiles", layer, z, col, ybuf};
    return h_tile(r, parts, 5);
}
