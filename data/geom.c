/* geom.c - the conflict rules' geometry by GEOS and PROJ (geom.h). */
#include "geom.h"

#include <geos_c.h>
#include <math.h>
#include <proj.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZONES_KEPT 8 /* transformations kept: a UTM zone each way */

struct geo_ctx {
    GEOSContextHandle_t h;
    PJ_CONTEXT *pj;
    struct {
        int srid, back;
        PJ *pj; /* WGS84 -> srid (back: srid -> WGS84), lon/lat order */
    } zone[ZONES_KEPT];
    unsigned next;
};

struct geo_ctx *geo_ctx_new(void)
{
    struct geo_ctx *g = fm_xcalloc(1, sizeof *g);
    g->h = GEOS_init_r();
    g->pj = proj_context_create();
    /* no network: grids come from the machine or not at all */
    proj_context_set_enable_network(g->pj, 0);
    return g;
}

void geo_ctx_free(struct geo_ctx *g)
{
    if (!g) return;
    for (int i = 0; i < ZONES_KEPT; i++)
        if (g->zone[i].pj) proj_destroy(g->zone[i].pj);
    proj_context_destroy(g->pj);
    GEOS_finish_r(g->h);
    free(g);
}

/* The geometry types are GEOS's own: struct geo is its opaque type. */
#define G(x) ((const GEOSGeometry *)(const void *)(x))
#define OUT(x) ((struct geo *)(void *)(x))

fm_rc geo_from_wkb(struct geo_ctx *g, const unsigned char *wkb, size_t len, struct geo **out,
                    struct fm_err *err)
{
    *out = OUT(GEOSGeomFromWKB_buf_r(g->h, wkb, len));
    return *out ? FM_OK : fm_fail(err, FM_EINVAL, NULL, "not a WKB geometry");
}

unsigned char *geo_to_wkb(struct geo_ctx *g, const struct geo *x, size_t *len)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(g->h);
    GEOSWKBWriter_setByteOrder_r(g->h, w, GEOS_WKB_NDR);
    GEOSWKBWriter_setOutputDimension_r(g->h, w, 2);
    unsigned char *buf = GEOSWKBWriter_write_r(g->h, w, G(x), len);
    GEOSWKBWriter_destroy_r(g->h, w);
    if (!buf) return NULL;
    /* GEOS's allocation, handed back as the C library's */
    unsigned char *copy = fm_xmalloc(*len ? *len : 1);
    for (size_t i = 0; i < *len; i++) copy[i] = buf[i];
    GEOSFree_r(g->h, buf);
    return copy;
}

void geo_free(struct geo_ctx *g, struct geo *x)
{
    if (x) GEOSGeom_destroy_r(g->h, (GEOSGeometry *)(void *)x);
}

int geo_interiors_meet(struct geo_ctx *g, const struct geo *a, const struct geo *b)
{
    char r = GEOSRelatePattern_r(g->h, G(a), G(b), "T********");
    return r == 2 ? -1 : r;
}

int geo_utm_srid(const double box[4])
{
    double lon = (box[0] + box[2]) / 2, lat = (box[1] + box[3]) / 2;
    int zone = (int)floor((lon + 180.0) / 6.0) + 1;
    if (zone < 1) zone = 1;
    if (zone > 60) zone = 60;
    return (lat >= 0 ? 32600 : 32700) + zone;
}

/* WGS84 -> srid, or back, made on first use and kept. Each direction is
 * its own transformation from one CRS to the other, as SpatiaLite's
 * ST_Transform makes them (not the inverse of the other: the last bits
 * differ). */
static PJ *zone_pj(struct geo_ctx *g, int srid, int back)
{
    for (int i = 0; i < ZONES_KEPT; i++)
        if (g->zone[i].pj && g->zone[i].srid == srid && g->zone[i].back == back)
            return g->zone[i].pj;
    char utm[24];
    snprintf(utm, sizeof utm, "EPSG:%d", srid);
    PJ *raw = back ? proj_create_crs_to_crs(g->pj, utm, "EPSG:4326", NULL)
                   : proj_create_crs_to_crs(g->pj, "EPSG:4326", utm, NULL);
    if (!raw) return NULL;
    PJ *pj = proj_normalize_for_visualization(g->pj, raw); /* lon/lat, as SpatiaLite */
    proj_destroy(raw);
    if (!pj) return NULL;
    unsigned i = g->next++ % ZONES_KEPT;
    if (g->zone[i].pj) proj_destroy(g->zone[i].pj);
    g->zone[i].srid = srid;
    g->zone[i].back = back;
    g->zone[i].pj = pj;
    return pj;
}

static int project_xy(double *x, double *y, void *ctx)
{
    PJ_COORD c = proj_trans(ctx, PJ_FWD, proj_coord(*x, *y, 0, 0));
    if (!isfinite(c.xy.x) || !isfinite(c.xy.y)) return 0;
    *x = c.xy.x;
    *y = c.xy.y;
    return 1;
}

fm_rc geo_project(struct geo_ctx *g, const struct geo *x, int srid, int to_wgs84,
                   struct geo **out, struct fm_err *err)
{
    *out = NULL;
    PJ *pj = zone_pj(g, srid, to_wgs84);
    if (!pj) return fm_fail(err, FM_EINTERNAL, NULL, "no transformation to EPSG:%d", srid);
    GEOSGeometry *p = GEOSGeom_transformXY_r(g->h, G(x), project_xy, pj);
    if (!p) return fm_fail(err, FM_EINVAL, NULL, "the geometry cannot be projected to EPSG:%d",
                           srid);
    *out = OUT(p);
    return FM_OK;
}

double geo_distance(struct geo_ctx *g, const struct geo *a, const struct geo *b)
{
    double d;
    return GEOSDistance_r(g->h, G(a), G(b), &d) ? d : -1;
}

fm_rc geo_corridor(struct geo_ctx *g, const struct geo *route_utm, double half, int srid,
                    struct geo **out, struct fm_err *err)
{
    *out = NULL;
    GEOSGeometry *buf = GEOSBuffer_r(g->h, G(route_utm), half, 8);
    if (!buf) return fm_fail(err, FM_EINVAL, NULL, "the corridor cannot be drawn");
    fm_rc rc = geo_project(g, OUT(buf), srid, 1, out, err);
    GEOSGeom_destroy_r(g->h, buf);
    return rc;
}

struct geo *geo_intersection(struct geo_ctx *g, const struct geo *a, const struct geo *b)
{
    GEOSGeometry *x = GEOSIntersection_r(g->h, G(a), G(b));
    if (x && GEOSisEmpty_r(g->h, x) != 0) {
        GEOSGeom_destroy_r(g->h, x);
        x = NULL;
    }
    return OUT(x);
}

struct geo *geo_shortest_line(struct geo_ctx *g, const struct geo *a, const struct geo *b)
{
    GEOSCoordSequence *cs = GEOSNearestPoints_r(g->h, G(a), G(b));
    return cs ? OUT(GEOSGeom_createLineString_r(g->h, cs)) : NULL;
}

struct geo *geo_buffer(struct geo_ctx *g, const struct geo *x, double r, int segs)
{
    return OUT(GEOSBuffer_r(g->h, G(x), r, segs));
}

struct geo_prep *geo_prepare(struct geo_ctx *g, const struct geo *x)
{
    return (struct geo_prep *)(void *)GEOSPrepare_r(g->h, G(x));
}

int geo_prep_intersects(struct geo_ctx *g, const struct geo_prep *p, const struct geo *y)
{
    char r = GEOSPreparedIntersects_r(g->h, (const GEOSPreparedGeometry *)(const void *)p, G(y));
    return r == 2 ? -1 : r;
}

void geo_prep_free(struct geo_ctx *g, struct geo_prep *p)
{
    if (p) GEOSPreparedGeom_destroy_r(g->h, (const GEOSPreparedGeometry *)(const void *)p);
}

/* ---- GeoJSON ------------------------------------------------------------ */

/* v with 15 decimals, trailing zeros and a bare point cut, "-0" as "0". */
static void json_num(struct fm_buf *b, double v)
{
    char t[48];
    int n = snprintf(t, sizeof t, "%.15f", v);
    if (n <= 0 || (size_t)n >= sizeof t) n = snprintf(t, sizeof t, "%.17g", v);
    else if (strchr(t, '.')) {
        while (n > 0 && t[n - 1] == '0') n--;
        if (n > 0 && t[n - 1] == '.') n--;
        t[n] = 0;
    }
    if (!strcmp(t, "-0")) n = snprintf(t, sizeof t, "0");
    fm_buf_put(b, t, (size_t)n);
}

static int json_seq(struct geo_ctx *g, struct fm_buf *b, const GEOSCoordSequence *cs, int one)
{
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(g->h, cs, &n)) return 0;
    if (!one) FM_BUF_LIT(b, "[");
    for (unsigned i = 0; i < n; i++) {
        double x, y;
        if (!GEOSCoordSeq_getXY_r(g->h, cs, i, &x, &y)) return 0;
        if (i) FM_BUF_LIT(b, ",");
        FM_BUF_LIT(b, "[");
        json_num(b, x);
        FM_BUF_LIT(b, ",");
        json_num(b, y);
        FM_BUF_LIT(b, "]");
        if (one) break;
    }
    if (!one) FM_BUF_LIT(b, "]");
    return 1;
}

/* The coordinates array of a point, line or polygon. */
static int json_coords(struct geo_ctx *g, struct fm_buf *b, const GEOSGeometry *x)
{
    int t = GEOSGeomTypeId_r(g->h, x);
    if (GEOSisEmpty_r(g->h, x) == 1) {
        FM_BUF_LIT(b, "[]");
        return 1;
    }
    if (t == GEOS_POINT) return json_seq(g, b, GEOSGeom_getCoordSeq_r(g->h, x), 1);
    if (t == GEOS_LINESTRING || t == GEOS_LINEARRING)
        return json_seq(g, b, GEOSGeom_getCoordSeq_r(g->h, x), 0);
    if (t != GEOS_POLYGON) return 0;
    int holes = GEOSGetNumInteriorRings_r(g->h, x);
    if (holes < 0) return 0;
    FM_BUF_LIT(b, "[");
    if (!json_coords(g, b, GEOSGetExteriorRing_r(g->h, x))) return 0;
    for (int i = 0; i < holes; i++) {
        FM_BUF_LIT(b, ",");
        if (!json_coords(g, b, GEOSGetInteriorRingN_r(g->h, x, i))) return 0;
    }
    FM_BUF_LIT(b, "]");
    return 1;
}

static int json_geom(struct geo_ctx *g, struct fm_buf *b, const GEOSGeometry *x)
{
    static const char *const names[] = {
        [GEOS_POINT] = "Point",           [GEOS_LINESTRING] = "LineString",
        [GEOS_LINEARRING] = "LineString", [GEOS_POLYGON] = "Polygon",
        [GEOS_MULTIPOINT] = "MultiPoint", [GEOS_MULTILINESTRING] = "MultiLineString",
        [GEOS_MULTIPOLYGON] = "MultiPolygon", [GEOS_GEOMETRYCOLLECTION] = "GeometryCollection",
    };
    int t = GEOSGeomTypeId_r(g->h, x);
    if (t < 0 || t > GEOS_GEOMETRYCOLLECTION) return 0;
    FM_BUF_LIT(b, "{\"type\":\"");
    fm_buf_put(b, names[t], strlen(names[t]));
    if (t <= GEOS_POLYGON) {
        FM_BUF_LIT(b, "\",\"coordinates\":");
        if (!json_coords(g, b, x)) return 0;
        FM_BUF_LIT(b, "}");
        return 1;
    }
    if (t == GEOS_GEOMETRYCOLLECTION)
        FM_BUF_LIT(b, "\",\"geometries\":[");
    else
        FM_BUF_LIT(b, "\",\"coordinates\":[");
    int n = GEOSGetNumGeometries_r(g->h, x);
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *part = GEOSGetGeometryN_r(g->h, x, i);
        if (i) FM_BUF_LIT(b, ",");
        if (!(t == GEOS_GEOMETRYCOLLECTION ? json_geom(g, b, part) : json_coords(g, b, part)))
            return 0;
    }
    FM_BUF_LIT(b, "]}");
    return 1;
}

char *geo_to_geojson(struct geo_ctx *g, const struct geo *x)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    if (!json_geom(g, &b, G(x))) {
        fm_buf_cleanup(&b);
        return NULL;
    }
    return fm_buf_take(&b, NULL);
}

/* ---- positions between WGS 84 and a UTM zone, per thread (geom.h) ------- */

static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_ctx_free(void *arg)
{
    geo_ctx_free(arg);
}

static void thread_key_init(void)
{
    pthread_key_create(&thread_key, thread_ctx_free);
}

/* This thread's context, made on first use, freed when the thread ends. */
static struct geo_ctx *thread_ctx(void)
{
    pthread_once(&thread_once, thread_key_init);
    struct geo_ctx *g = pthread_getspecific(thread_key);
    if (!g) {
        g = geo_ctx_new();
        pthread_setspecific(thread_key, g);
    }
    return g;
}

int geo_utm_xy(int srid, int to_wgs84, double *x, double *y)
{
    PJ *pj = zone_pj(thread_ctx(), srid, to_wgs84);
    if (!pj) return -1;
    PJ_COORD out = proj_trans(pj, PJ_FWD, proj_coord(*x, *y, 0, 0));
    proj_errno_reset(pj);
    if (!isfinite(out.xy.x) || !isfinite(out.xy.y)) return -1;
    *x = out.xy.x, *y = out.xy.y;
    return 0;
}

int geo_utm_bounds(int srid, const double in[4], double out[4])
{
    struct geo_ctx *g = thread_ctx();
    PJ *pj = zone_pj(g, srid, 1);
    if (!pj) return -1;
    /* the lon/lat box around the UTM box's edges, 21 points a side */
    int ok = proj_trans_bounds(g->pj, pj, PJ_FWD, in[0], in[1], in[2], in[3], &out[0], &out[1],
                               &out[2], &out[3], 21);
    proj_errno_reset(pj);
    return ok && isfinite(out[0]) && isfinite(out[1]) && isfinite(out[2]) && isfinite(out[3])
               ? 0
               : -1;
}
