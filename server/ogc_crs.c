/* ogc_crs.c - CRS84, EPSG:4326, EPSG:3857 and the UTM zones for OGC API -
 * Features Part 2 (see ogc_crs.h). EPSG:3857 is the spherical Mercator of
 * the WGS 84 semi-major axis: x = R lon, y = R ln tan(pi/4 + lat/2), the
 * formula PROJ applies for it; latitudes beyond +-85.06 are clamped
 * there. The UTM zones are PROJ's (EPSG:4326 to EPSG:326xx/327xx,
 * normalised to lon/lat in and easting/northing out) by data/geom.c's
 * geo_utm_xy and geo_utm_bounds (only data/ includes proj.h): one PROJ
 * context per thread with the transformations it made.
 * tests/interop/crs.sh compares both with PROJ through ogr2ogr. */
#include "ogc_crs.h"

#include "geom.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define R_WGS84 6378137.0
#define MERC_MAX 20037508.342789244 /* R pi */
#define MERC_LAT 85.0511287798066
#define URI_EPSG "http://www.opengis.net/def/crs/EPSG/0/"
#define URI_CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

static int is_utm(int c)
{
    return (c > SRV_UTM_NORTH && c <= SRV_UTM_NORTH + 60) ||
           (c > SRV_UTM_SOUTH && c <= SRV_UTM_SOUTH + 60);
}

static int offered(long c)
{
    return c == SRV_EPSG4326 || c == SRV_EPSG3857 || is_utm((int)c);
}

fm_rc srv_crs_parse(const char *s, const char *param, enum srv_crs *c, struct fm_err *err)
{
    *c = SRV_CRS84;
    char code[64];
    size_t n = strlen(s);
    /* [EPSG:3857], the safe CURIE form */
    if (n >= 2 && n < sizeof code + 2 && s[0] == '[' && s[n - 1] == ']') {
        memcpy(code, s + 1, n - 2);
        code[n - 2] = '\0';
        s = code;
    }
    if (!strcmp(s, URI_CRS84) || !strcasecmp(s, "OGC:CRS84")) return FM_OK;
    const char *digits = !strncmp(s, URI_EPSG, strlen(URI_EPSG)) ? s + strlen(URI_EPSG)
                         : !strncasecmp(s, "EPSG:", 5)           ? s + 5
                                                                  : NULL;
    long v = 0;
    if (digits && *digits && strspn(digits, "0123456789") == strlen(digits) &&
        strlen(digits) <= 5 && fm_parse_long(digits, 1, 99999, &v) == FM_OK && offered(v)) {
        *c = (enum srv_crs)v;
        return FM_OK;
    }
    return fm_fail(err, FM_EINVAL, param,
                   "%s must be one of %s, " URI_EPSG "4326, " URI_EPSG "3857 or a UTM zone of"
                   " WGS 84, " URI_EPSG "32601 to 32660 (north) and 32701 to 32760 (south); or"
                   " [EPSG:3857], EPSG:32636 ...",
                   param, URI_CRS84);
}

/* ---- URIs ------------------------------------------------------------------ */

static char utm_uris[120][48];
static pthread_once_t uris_once = PTHREAD_ONCE_INIT;

static void uris_init(void)
{
    for (int i = 0; i < 120; i++)
        snprintf(utm_uris[i], sizeof utm_uris[i], URI_EPSG "%d",
                 (i < 60 ? SRV_UTM_NORTH : SRV_UTM_SOUTH) + i % 60 + 1);
}

const char *srv_crs_uri(enum srv_crs c)
{
    if (c == SRV_EPSG4326) return URI_EPSG "4326";
    if (c == SRV_EPSG3857) return URI_EPSG "3857";
    if (is_utm((int)c)) {
        pthread_once(&uris_once, uris_init);
        int i = (int)c - SRV_UTM_NORTH;
        return utm_uris[i <= 60 ? i - 1 : 60 + (int)c - SRV_UTM_SOUTH - 1];
    }
    return URI_CRS84;
}

json_t *srv_crs_list(void)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string(URI_CRS84));
    json_array_append_new(a, json_string(srv_crs_uri(SRV_EPSG4326)));
    json_array_append_new(a, json_string(srv_crs_uri(SRV_EPSG3857)));
    for (int base = SRV_UTM_NORTH; base <= SRV_UTM_SOUTH; base += SRV_UTM_SOUTH - SRV_UTM_NORTH)
        for (int z = 1; z <= 60; z++)
            json_array_append_new(a, json_string(srv_crs_uri((enum srv_crs)(base + z))));
    return a;
}

/* Eastings and northings a UTM zone can hold: its own 6 degrees and far
 * beyond, both hemispheres; nothing a client means lies outside */
static int utm_plausible(double e, double n)
{
    return e >= -1e6 && e <= 2e6 && n >= -1e7 && n <= 2e7;
}

static int utm_xy(int code, int inverse, double *x, double *y)
{
    if (inverse && !utm_plausible(*x, *y)) return -1;
    double ox = *x, oy = *y;
    if (geo_utm_xy(code, inverse, &ox, &oy) || fabs(ox) > 1e8 || fabs(oy) > 1e8) return -1;
    *x = ox, *y = oy;
    return 0;
}

/* ---- positions ----------------------------------------------------------------- */

/* Rounds to 1/per: the nearest double to the decimal (a millimetre). */
static double round_to(double v, double per)
{
    return round(v * per) / per;
}

/* lon, lat into c; -1 when c has no such position */
static int from_crs84(enum srv_crs c, double *x, double *y)
{
    double lon = *x, lat = *y;
    if (c == SRV_EPSG4326) {
        *x = lat, *y = lon;
    } else if (c == SRV_EPSG3857) {
        if (lat > MERC_LAT) lat = MERC_LAT;
        if (lat < -MERC_LAT) lat = -MERC_LAT;
        *x = round_to(R_WGS84 * lon * M_PI / 180.0, 1000.0);
        *y = round_to(R_WGS84 * log(tan(M_PI / 4.0 + lat * M_PI / 360.0)), 1000.0);
    } else if (is_utm((int)c)) {
        if (utm_xy((int)c, 0, x, y)) return -1;
        *x = round_to(*x, 1000.0), *y = round_to(*y, 1000.0);
    }
    return 0;
}

int srv_crs_to_crs84(enum srv_crs c, double *x, double *y)
{
    if (!isfinite(*x) || !isfinite(*y)) return -1;
    if (c == SRV_EPSG4326) {
        double t = *x;
        *x = *y, *y = t;
    } else if (c == SRV_EPSG3857) {
        if (fabs(*x) > MERC_MAX + 1 || fabs(*y) > MERC_MAX + 1) return -1;
        double lon = *x / R_WGS84 * 180.0 / M_PI;
        *y = (2.0 * atan(exp(*y / R_WGS84)) - M_PI / 2.0) * 180.0 / M_PI;
        *x = fmax(-180, fmin(180, lon));
    } else if (is_utm((int)c)) {
        if (utm_xy((int)c, 1, x, y)) return -1;
    }
    return *x >= -180 && *x <= 180 && *y >= -90 && *y <= 90 ? 0 : -1;
}

static int position(json_t *pos, enum srv_crs c)
{
    json_t *jx = json_array_get(pos, 0), *jy = json_array_get(pos, 1);
    if (!json_is_number(jx) || !json_is_number(jy)) return 0;
    double x = json_number_value(jx), y = json_number_value(jy);
    if (from_crs84(c, &x, &y)) return -1;
    json_array_set_new(pos, 0, json_real(x));
    json_array_set_new(pos, 1, json_real(y));
    return 0;
}

/* Every position under coordinates (nested arrays ending in numbers). */
static int coordinates(json_t *a, enum srv_crs c, int depth)
{
    if (!json_is_array(a) || depth > 8) return 0;
    if (json_is_number(json_array_get(a, 0))) return position(a, c);
    size_t i;
    json_t *v;
    int bad = 0;
    json_array_foreach(a, i, v) bad |= coordinates(v, c, depth + 1);
    return bad;
}

static int geometry(json_t *g, enum srv_crs c, int depth)
{
    if (!json_is_object(g) || depth > 4) return 0;
    int bad = coordinates(json_object_get(g, "coordinates"), c, 0);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(g, "geometries"), i, v) bad |= geometry(v, c, depth + 1);
    return bad;
}

int srv_crs_feature(json_t *feature, enum srv_crs c)
{
    if (c == SRV_CRS84) return 0;
    if (!geometry(json_object_get(feature, "geometry"), c, 0)) return 0;
    json_object_set_new(feature, "geometry", json_null());
    return -1;
}

/* ---- bbox ----------------------------------------------------------------------- */

fm_rc srv_crs_bbox(const char *s, enum srv_crs c, double out[4], struct fm_err *err)
{
    double v[4];
    int n = 0;
    const char *p = s;
    const char *form = c == SRV_CRS84     ? "minlon,minlat,maxlon,maxlat"
                       : c == SRV_EPSG4326 ? "minlat,minlon,maxlat,maxlon (EPSG:4326's axis order)"
                                           : "minx,miny,maxx,maxy in metres";
    while (n < 5) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || !isfinite(d)) break;
        if (n < 4) v[n] = d;
        n++;
        p = end;
        if (*p != ',') break;
        p++;
    }
    const char *name = srv_crs_uri(c);
    if (n != 4 || *p)
        return fm_fail(err, FM_EINVAL, "bbox", "with bbox-crs=%s, bbox is 4 numbers: %s", name,
                       form);
    if (v[0] > v[2] || v[1] > v[3])
        return fm_fail(err, FM_EINVAL, "bbox", "bbox is upside down: %s", form);
    if (c == SRV_EPSG4326) {
        out[0] = v[1], out[1] = v[0], out[2] = v[3], out[3] = v[2];
    } else if (c == SRV_EPSG3857) {
        for (int i = 0; i < 4; i++)
            if (fabs(v[i]) > MERC_MAX + 1)
                return fm_fail(err, FM_EINVAL, "bbox", "bbox is outside EPSG:3857's +-%.0f m",
                               MERC_MAX);
        for (int i = 0; i < 4; i += 2) {
            out[i] = v[i], out[i + 1] = v[i + 1];
            srv_crs_to_crs84(c, &out[i], &out[i + 1]);
        }
    } else if (is_utm((int)c)) {
        if (!utm_plausible(v[0], v[1]) || !utm_plausible(v[2], v[3]))
            return fm_fail(err, FM_EINVAL, "bbox",
                           "bbox is outside the area of %s (eastings -1000 km to 2000 km,"
                           " northings -10000 km to 20000 km)", name);
        /* the lon/lat box around the UTM box's edges (data/geom.c) */
        if (geo_utm_bounds((int)c, v, out))
            return fm_fail(err, FM_EINVAL, "bbox", "bbox is outside the area of %s", name);
    } else {
        memcpy(out, v, sizeof v);
    }
    if (out[0] < -180 || out[2] > 180 || out[1] < -90 || out[3] > 90 || out[0] > out[2])
        return fm_fail(err, FM_EINVAL, "bbox", "bbox is outside -180..180, -90..90 (%s)", form);
    return FM_OK;
}
